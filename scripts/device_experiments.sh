#!/usr/bin/env bash
# One call of the device tool: build for the GPU (a no-op when build-gpu/ is warm), optionally run
# the tests, then run experiments through the harness until a deadline, and hand the logs back as
# one tarball under $OUT. Logs accumulate in build-gpu/device-logs/ (ignored, so they survive
# between warm calls and the next call resumes: runs whose log ends ok are skipped).
#   device: scripts/device_experiments.sh --profile h200 [--deadline 540] [--tests] [--cap GIB] \
#           [--reference] [--bench 'CMD'] -- fig12 fig14 ... [--filter model=llama2-7b]
# --reference: scripts/prepare_accuracy.sh once the build is done (pre-trains the reference model
# through the harness, its log among the others; carry datasets/build/<corpus>/*.linux-doc-8k.bin
# and datasets/build/longbench-synth: the device reaches no registry). Meanwhile --tests and then
# --bench CMD (output in $OUT/bench.log) run on the last GPU.
# Locally: tar -xzf <files_at>/device-logs.tar.gz -C logs --strip-components=1
set -uo pipefail
cd "$(dirname "$0")/.."
t_start=$(date +%s)
profile=""; deadline=540; tests=0; cap=(); reference=0; bench=
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift ;;
    --deadline) deadline="$2"; shift ;;
    --tests) tests=1 ;;
    --reference) reference=1 ;;
    --bench) bench="$2"; shift ;;
    --cap) cap=(--memory-cap "$2"); shift ;;
    --) shift; break ;;
    *) echo "device_experiments: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$profile" ] && [ $# -gt 0 ] || { sed -n '2,8p' "$0"; exit 2; }
out=${OUT:-/tmp/jenga-device}; mkdir -p "$out"
logs=build-gpu/device-logs

build_args=(--no-tests)
scripts/gpu_build.sh "${build_args[@]}" >"$out/gpu_build.log" 2>&1 || { tail -n 40 "$out/gpu_build.log"; exit 1; }
grep '^gpu_build:' "$out/gpu_build.log"
mkdir -p "$logs"
last_gpu=$(( $(nvidia-smi -L | wc -l) - 1 ))
pre_pid=""
if [ $reference = 1 ]; then
  ( scripts/prepare_accuracy.sh --profile "$profile" --build-dir build-gpu -- --logs "$logs" --db build-gpu/device.sqlite \
      >"$out/prepare.log" 2>&1
    cp checkpoints/ref-llama/pretrain.json "$out/" 2>/dev/null ) &
  pre_pid=$!
fi
# While the reference model trains (on the first GPU), tests and benchmarks take the last one.
side_env=(); [ -n "$pre_pid" ] && side_env=(env CUDA_VISIBLE_DEVICES=$last_gpu)
if [ $tests = 1 ]; then
  t0=$(date +%s)
  "${side_env[@]}" ctest --test-dir build-gpu -j 4 --timeout 300 --output-on-failure >"$out/ctest.log" 2>&1; rc=$?
  grep -E 'tests passed|tests failed|\*\*\*Failed|Not Run' "$out/ctest.log" | head -n 20
  echo "device_experiments: tests rc=$rc in $(( $(date +%s) - t0 )) s"
fi
if [ -n "$bench" ]; then
  t0=$(date +%s)
  "${side_env[@]}" bash -c "$bench" >"$out/bench.log" 2>&1; rc=$?
  echo "device_experiments: bench rc=$rc in $(( $(date +%s) - t0 )) s"; tail -n 5 "$out/bench.log"
fi
if [ -n "$pre_pid" ]; then
  wait "$pre_pid"
  echo "device_experiments: prepare_accuracy done after $(( $(date +%s) - t_start )) s: $(tail -n 1 "$out/prepare.log")"
fi
left=$(( deadline - ($(date +%s) - t_start) ))
if [ $left -gt 30 ]; then
  # SIGINT at the deadline: the harness stops its worker (ends as `killed`) and keeps every
  # finished run; the next call resumes.
  timeout -s INT -k 30 "$left" build-gpu/bin/jenga --logs "$logs" --db build-gpu/device.sqlite \
    run "$@" --profile "$profile" "${cap[@]}" >"$out/run.log" 2>&1
  echo "device_experiments: jenga run rc=$? after $(( $(date +%s) - t_start )) s"
  grep -vE '^\s*$' "$out/run.log" | grep -v '\r' | tail -n 25
  build-gpu/bin/jenga --logs "$logs" --db build-gpu/device.sqlite status 2>&1 | tail -n 15
else
  echo "device_experiments: no time left for runs (${left} s)"
fi
[ -d "$logs" ] && tar -czf "$out/device-logs.tar.gz" -C build-gpu device-logs
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
