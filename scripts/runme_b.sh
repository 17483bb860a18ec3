#!/usr/bin/env bash
# Shared body of RUNME-b-<profile>.sh: build the worker for this machine's GPU, run every
# experiment of the profile (resuming: runs whose log already ends ok are skipped), then draw the
# figures and tables exactly as RUNME-a.sh does.
#   scripts/runme_b.sh PROFILE [--quick] [--memory-cap GIB] [--only "fig12 fig13 ..."] [--build-dir DIR]
# Builds against python3's torch with CUDA when it has one (scripts/gpu_build.sh, build-gpu/),
# else Debian's LibTorch (scripts/bootstrap.sh, build/). Logs land in logs/<experiment>/.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n '2,7p' "$0"; exit 2; }
profile=$1; shift
quick=(); cap=(); only=all; build_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=(--quick) ;;
    --memory-cap) cap=(--memory-cap "$2"); shift ;;
    --only) only="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "runme_b: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -f "configs/profiles/$profile.yaml" ] || { echo "runme_b: no profile configs/profiles/$profile.yaml" >&2; exit 2; }
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  build_dir=${build_dir:-build-gpu}
  scripts/gpu_build.sh --no-tests --build-dir "$build_dir"
else
  if [ "$profile" != cpu ]; then
    echo "runme_b: profile $profile needs a CUDA GPU and python3's torch with CUDA (none found here); try profile cpu" >&2
    exit 1
  fi
  build_dir=${build_dir:-build}
  scripts/bootstrap.sh --no-tests --build-dir "$build_dir"
fi
jenga=$build_dir/bin/jenga
if [ "$profile" != cpu ]; then
  scripts/prepare_accuracy.sh || echo "runme_b: the accuracy experiments (fig15, table6, table7) will fail without it" >&2
fi
# shellcheck disable=SC2086
"$jenga" run $only --profile "$profile" "${quick[@]}" "${cap[@]}" || echo "runme_b: some runs did not end ok (see jenga status); plotting what there is" >&2
./RUNME-a.sh --jenga "$jenga"
