#!/usr/bin/env bash
# Main job, no GPU needed: build the harness, index the committed logs/, draw every figure and
# table declared in experiments/, and print where each paper figure/table landed.
#
#   ./RUNME-a.sh                      this repository; builds build-harness/ (--harness-only)
#   options: --root DIR       read experiments/, configs/, logs/ under DIR and write results.sqlite,
#                             output_figures/ and tables/ there (default: this repository)
#            --jenga PATH     use this jenga binary and build nothing
#            --build-dir DIR  where to build (default: build-harness)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here; jenga=""; build_dir=build-harness
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$(cd "$2" && pwd); shift ;;
    --jenga) jenga="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "RUNME-a: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
t0=$(date +%s%N)
if [ -z "$jenga" ]; then
  "$here/scripts/bootstrap.sh" --harness-only --no-tests --build-dir "$build_dir" --target jenga
  case "$build_dir" in /*) jenga=$build_dir/bin/jenga ;; *) jenga=$here/$build_dir/bin/jenga ;; esac
fi
j=("$jenga" --root "$root")
"${j[@]}" ingest
"${j[@]}" status
status=0
if "$jenga" --help 2>&1 | grep -q '^  plot'; then
  echo; echo "== figures (output_figures/<group>/<id>.{png,pdf}; .dat data, .gp script, .sources.txt runs)"
  "${j[@]}" plot --all --no-ingest || status=$?
  echo; echo "== tables (tables/<id>.{md,csv,tex}; .sources.txt runs)"
  "${j[@]}" table --all --no-ingest || status=$?
  echo; echo "== where each paper figure and table landed (under $root)"
  "${j[@]}" plot --list
  echo
  "${j[@]}" table --list
  if [ -f "$root/configs/paper/reference.yaml" ]; then
    echo; echo "== results summary: ours beside the paper and the HF+PEFT anchor"
    mkdir -p "$root/docs"
    "${j[@]}" report --results --out "$root/docs/results.md" || status=$?
  fi
else
  echo "RUNME-a: figures and tables: 'jenga plot' / 'jenga table' are not built yet (issue 3)"
fi
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "RUNME-a: done in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s"
exit "$status"
