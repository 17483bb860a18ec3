#!/usr/bin/env bash
# Main job, no GPU needed: build the harness, index the committed logs/, draw every figure and
# table declared in experiments/, and print where each paper figure/table landed.
set -euo pipefail
cd "$(dirname "$0")"
t0=$(date +%s)
scripts/bootstrap.sh --harness-only --no-tests --target jenga
jenga=build-harness/bin/jenga
"$jenga" ingest
"$jenga" status
if "$jenga" --help 2>&1 | grep -q '^  plot'; then
  "$jenga" plot --all
  "$jenga" table --all
else
  echo "RUNME-a: figures and tables: 'jenga plot' / 'jenga table' are not built yet (issue 3)"
fi
echo "RUNME-a: done in $(( $(date +%s) - t0 )) s"
