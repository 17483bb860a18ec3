#!/usr/bin/env bash
# The test command: installs what is missing, builds everything (harness + core + tests) and
# runs every CTest suite. Exit code is CTest's.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
JENGA_REQUIRE_GNUPLOT=1 ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 600
