#!/usr/bin/env bash
# Block-sparse flash attention vs dense SDPA, in one device call: builds the worker and the
# attention tests against python3's torch (scripts/gpu_build.sh), runs the CUDA tests, then the
# worker's attention-bench task (the measurement experiments/sparse-attention.yaml runs through
# the harness) at each length. Writes into $OUT: build.log, tests.log, sparse_attention.jsonl (the
# task's records) and sparse_attention.md (the tables, summarize.py).
#   bench/core/sparse_attention/run.sh [--no-tests] [--no-build] [--seqs 8192,16384,32768,65536]
#     [--params '{"densities": [0.1], "block_q": 128, "backward": false}']   # attention-bench params
# JENGA_SPARSE_ATTENTION_KERNEL=mma.sync measures the portable forward instead of wgmma.
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=${OUT:-/tmp/jenga-sparse-attention}; mkdir -p "$out"
build_dir=${BUILD_DIR:-build-gpu}; tests=1; build=1; seqs=8192,16384,32768,65536; params='{}'
while [ $# -gt 0 ]; do
  case "$1" in
    --no-tests) tests=0 ;;
    --no-build) build=0 ;;
    --seqs) seqs="$2"; shift ;;
    --params) params="$2"; shift ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ $build = 1 ]; then
  scripts/gpu_build.sh --build-dir "$build_dir" --no-tests --target jenga-worker --target test_core_attention \
    > "$out/build.log" 2>&1 || { tail -n 40 "$out/build.log"; echo "run.sh: build failed (see build.log)"; exit 1; }
  grep '^gpu_build:' "$out/build.log"
fi
rc=0
if [ $tests = 1 ]; then
  "$build_dir/tests/test_core_attention" --gtest_color=no > "$out/tests.log" 2>&1 || rc=1
  grep -E '^\[  (PASSED|FAILED|SKIPPED) |^\[==========\]|Failure|error' "$out/tests.log" | head -n 60
fi
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader > "$out/device.txt" 2>&1 || true
: > "$out/sparse_attention.jsonl"
for S in ${seqs//,/ }; do
  p=$(python3 -c 'import json,sys; p=json.loads(sys.argv[1]); p["seq_len"]=int(sys.argv[2]); print(json.dumps(p))' "$params" "$S") || exit 2
  "$build_dir/bin/jenga-worker" attention-bench --params "$p" >> "$out/sparse_attention.jsonl" || rc=1
done
python3 "$(dirname "$0")/summarize.py" "$out/sparse_attention.jsonl" | tee "$out/sparse_attention.md"
exit $rc
