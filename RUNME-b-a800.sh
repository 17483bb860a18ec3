#!/usr/bin/env bash
# Reruns every experiment on a GPU of the a800 profile (configs/profiles/a800.yaml), then draws every
# figure and table from the logs. Options: --quick (fewer steps; a smoke run), --memory-cap GIB
# (emulate a smaller card), --only "fig12 fig13" (a subset). See scripts/runme_b.sh.
exec "$(dirname "$0")/scripts/runme_b.sh" a800 "$@"
