#!/usr/bin/env bash
# Installs the Debian packages the build needs (only those missing), configures and builds.
# Idempotent: a second run installs nothing and rebuilds only what changed.
#
#   scripts/bootstrap.sh                  full build (harness + LibTorch core + tests) in build/
#   scripts/bootstrap.sh --harness-only   harness + CLI only (no LibTorch) in build-harness/
#   options: --build-dir DIR  --no-tests  --target T (repeatable)  --jobs N
set -euo pipefail
cd "$(dirname "$0")/.."

harness_only=0; build_dir=""; tests=ON; targets=(); jobs=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --harness-only) harness_only=1 ;;
    --build-dir) build_dir="$2"; shift ;;
    --no-tests) tests=OFF ;;
    --target) targets+=("$2"); shift ;;
    --jobs) jobs="$2"; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "bootstrap: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

pkgs=(cmake ninja-build g++ ccache git pkg-config libfmt-dev libyaml-cpp-dev libsqlite3-dev
      libboost-dev libboost-filesystem-dev nlohmann-json3-dev gnuplot-nox)
[ "$tests" = ON ] && pkgs+=(libgtest-dev)
# libtorch-dev pulls in the reference BLAS; OpenBLAS takes over libblas.so.3 by its higher
# alternatives priority and makes CPU matmuls ~30x faster (tests, cpu-profile runs).
[ "$harness_only" = 0 ] && pkgs+=(libtorch-dev libopenblas0-pthread)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$harness_only" = 1 ]; then
  build_dir=${build_dir:-build-harness}; torch=OFF
else
  build_dir=${build_dir:-build}; torch=ON
fi

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DJENGA_WITH_TORCH=$torch -DJENGA_BUILD_TESTS=$tests -DJENGA_BUILD_BENCH=$tests >/dev/null
start=$(date +%s)
ninja -C "$build_dir" -j "$jobs" "${targets[@]}"
echo "bootstrap: built $build_dir in $(( $(date +%s) - start )) s"
