#!/usr/bin/env bash
# Builds everything against python3's torch (2.x + CUDA) and runs the tests, in one go, on a GPU
# machine with no registry access (our H100 image: Ubuntu 24.04, torch 2.11 + CUDA 13).
#   scripts/gpu_build.sh [--build-dir DIR] [--no-tests] [--target T]...
# What such a machine may lack is brought as Debian packages under .dev/ (see README "GPU build"):
#   .dev/libsqlite3-dev_*.deb  -> unpacked to /tmp/jenga-deps when sqlite3.h is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=build-gpu; tests=1; targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift ;;
    --no-tests) tests=0 ;;
    --target) targets+=("$2"); shift ;;
    *) echo "gpu_build: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

extra=()
if [ ! -f /usr/include/sqlite3.h ]; then
  deb=$(ls .dev/libsqlite3-dev_*.deb 2>/dev/null | head -n 1 || true)
  [ -n "$deb" ] || { echo "gpu_build: sqlite3.h missing and no .dev/libsqlite3-dev_*.deb to unpack" >&2; exit 1; }
  mkdir -p /tmp/jenga-deps && dpkg -x "$deb" /tmp/jenga-deps
  lib=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* 2>/dev/null | head -n 1 || true)
  [ -n "$lib" ] || lib=/tmp/jenga-deps/usr/lib/x86_64-linux-gnu/libsqlite3.a
  extra+=(-DSQLite3_INCLUDE_DIR=/tmp/jenga-deps/usr/include -DSQLite3_LIBRARY="$lib")
fi
torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
export PATH=/usr/local/cuda/bin:$PATH
t0=$(date +%s)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_prefix" \
  -DJENGA_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a "${extra[@]}"
t1=$(date +%s)
ninja -k 0 -C "$build_dir" "${targets[@]}"  # -k 0: every compile error in one call
t2=$(date +%s)
echo "gpu_build: configure $((t1 - t0)) s, build $((t2 - t1)) s ($(nproc) cores)"
if [ $tests = 1 ]; then
  ctest --test-dir "$build_dir" --output-on-failure -j 4 --timeout 600
  echo "gpu_build: tests $(( $(date +%s) - t2 )) s"
fi
