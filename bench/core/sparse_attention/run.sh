#!/usr/bin/env bash
# Block-sparse flash attention vs dense SDPA, in one device call: builds the benchmark and the
# attention tests against python3's torch (scripts/gpu_build.sh), runs the CUDA tests, then the
# benchmark. Writes into $OUT: build.log, tests.log, sparse_attention.jsonl (one line per
# measurement, see sparse_attention.cpp) and sparse_attention.md (the table).
#   bench/core/sparse_attention/run.sh [--no-tests] [--no-build] [bench options, e.g. --seqs 8192,65536]
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=${OUT:-/tmp/jenga-sparse-attention}; mkdir -p "$out"
build_dir=${BUILD_DIR:-build-gpu}; tests=1; build=1; args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-tests) tests=0 ;;
    --no-build) build=0 ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ $build = 1 ]; then
  scripts/gpu_build.sh --build-dir "$build_dir" --no-tests --target bench_sparse_attention --target test_core_attention \
    > "$out/build.log" 2>&1 || { tail -n 40 "$out/build.log"; echo "run.sh: build failed (see build.log)"; exit 1; }
  grep '^gpu_build:' "$out/build.log"
fi
rc=0
if [ $tests = 1 ]; then
  "$build_dir/tests/test_core_attention" --gtest_color=no > "$out/tests.log" 2>&1 || rc=1
  grep -E '^\[  (PASSED|FAILED|SKIPPED) |^\[==========\]|Failure|error' "$out/tests.log" | head -n 60
fi
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader > "$out/device.txt" 2>&1 || true
"$build_dir/bench/bench_sparse_attention" --out "$out/sparse_attention.jsonl" "${args[@]}" > /dev/null || rc=1
python3 "$(dirname "$0")/summarize.py" "$out/sparse_attention.jsonl" | tee "$out/sparse_attention.md"
exit $rc
