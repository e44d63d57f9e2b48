#!/usr/bin/env bash
# kill -9 at RUNS random moments of `adascale compress` (a tiny recipe: Tests/adascaleTests/
# TinyCompress.swift), each followed by a rerun to the end; every bundle must equal an
# uninterrupted run's (genomes, accuracies, every weight bit for bit). Prints a table.
#
#   tools/faults/kill_loop.sh [RUNS=20] [SEED=1]        (make faults KILL_RUNS=20 KILL_SEED=1)
#
# The loop is CompressFaultTests.testKillLoop, which `make test` skips; this script builds the
# tests and runs it with ADASCALE_KILL_LOOP / ADASCALE_KILL_SEED set.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS="${1:-20}"
SEED="${2:-1}"
swift build --build-tests -j "${JOBS:-2}" >/dev/null
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
ADASCALE_KILL_LOOP="$RUNS" ADASCALE_KILL_SEED="$SEED" timeout 3600 \
  .build/debug/adascalePackageTests.xctest adascaleTests.CompressFaultTests/testKillLoop >"$log" 2>&1 || status=$?
grep -E '^(kill loop:|\|)' "$log" || true
grep -E 'error:' "$log" | head -20 || true
tail -n 1 "$log"
exit "$status"
