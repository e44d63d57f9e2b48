#!/usr/bin/env bash
# The simulator against loopback runs (docs/mdi.md, "Validation"): five chains, each planned,
# simulated and run on loopback by tools/mdi_loopback.sh, one line per run:
#   label | binary | plan /s | simulated /s | simulated p50 ms | measured /s | measured p50 ms | answered
#
#   tools/mdi_validate.sh [BINARY…]   (default: the release build; give two to compare, alternating)
# ROUNDS (default 2) repeats the whole set. Needs bundles/mobilenetv2-fmnist,
# bundles/mobilenet-wide-exits and bundles/fmnist (make compress with their recipes).
set -euo pipefail
cd "$(dirname "$0")/.."
bins=("$@")
[ ${#bins[@]} -eq 0 ] && bins=("$(swift build -c release --show-bin-path)/adascale")
run() {
  local bin=$1 label=$2
  shift 2
  local out
  out=$(env ADASCALE="$bin" "$@" 2>&1) || { echo "$label | $bin | failed: $(echo "$out" | tail -1)"; return; }
  echo "$label | $bin | $(echo "$out" | grep -oP 'predicted: \K[0-9.]+') |" \
    "$(echo "$out" | grep -oP 'simulated: \K[0-9.]+') | $(echo "$out" | grep -oP 'simulated: .*p50 \K[0-9.]+') |" \
    "$(echo "$out" | grep -oP 'in [0-9.]+ s: \K[0-9.]+') | $(echo "$out" | grep -oP 'latency ms: p50 \K[0-9.]+') |" \
    "$(echo "$out" | grep -oP '^[0-9]+ of [0-9]+ answered')"
}
pi3=raspberry-pi-4,raspberry-pi-4,raspberry-pi-4
for _ in $(seq 1 "${ROUNDS:-2}"); do
  for bin in "${bins[@]}"; do
    run "$bin" "v08 3xPi 20M w64" tools/mdi_loopback.sh bundles/mobilenetv2-fmnist v08 $pi3 20 2 2000 --window 64
    run "$bin" "v08 2xPi 100M w8" tools/mdi_loopback.sh bundles/mobilenetv2-fmnist v08 raspberry-pi-4,raspberry-pi-4 100 0.2 2000 --window 8
    run "$bin" "wide v04 drop-1 int8 3xPi 20M w64" env EXITS=drop-1 FEATURES=int8 \
      tools/mdi_loopback.sh bundles/mobilenet-wide-exits v04 $pi3 20 2 2000 --window 64
    run "$bin" "fmnist v07 drop-0 int8 3xPi 20M w64" env EXITS=drop-0 FEATURES=int8 \
      tools/mdi_loopback.sh bundles/fmnist v07 $pi3 20 2 2000 --window 64
    run "$bin" "wide v04 drop-1 3xPi 1G w32" env EXITS=drop-1 \
      tools/mdi_loopback.sh bundles/mobilenet-wide-exits v04 $pi3 1000 0.1 3000 --window 32
  done
done
