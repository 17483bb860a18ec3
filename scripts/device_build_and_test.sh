#!/usr/bin/env bash
# One call of the device tool: build against python3's torch + CUDA, run every test, then the
# environment check on the GPU. Full logs under $OUT when set.
#   device: scripts/device_build_and_test.sh     (carry .dev for the SQLite header)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/jenga-device}; mkdir -p "$out"
scripts/gpu_build.sh "$@" 2>&1 | tee "$out/gpu_build.log" | grep -E '^gpu_build:|tests passed|tests failed|FAILED|Error|error:' ; rc=${PIPESTATUS[0]}
./hello_world.sh --no-build --build-dir build-gpu 2>&1 | tee "$out/hello_world.log"; hw=${PIPESTATUS[0]}
echo "device_build_and_test: build+tests rc=$rc hello_world rc=$hw"
exit $(( rc != 0 || hw != 0 ))
