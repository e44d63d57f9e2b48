#!/usr/bin/env bash
# Issue 13's figures from one script (docs/mdi.md, "The default recipe on three Pis"): the
# default recipe's largest multi-exit variant on emulated Raspberry Pi 4s over loopback, links
# of 20 Mbit/s + 2 ms, int8 features. Prints a Markdown table:
#   - one device alone without exits (measured: `mdi run` with no cut, paced to the Pi) and with
#     exits (modelled: the planner's per-input baseline; `mdi run` decides exits at segment ends);
#   - three devices with exits at drop-0, drop-1, drop-2 and without exits (measured, planned cuts);
#   - a fixed offered rate above the chain's capacity, both admission schemes: threshold
#     adaptation (drop-0,drop-1,drop-2) and rate adaptation (drop-0, --drop-when-full).
#   tools/mdi_mustshow.sh [BUNDLE [VARIANT]]   (default bundles/fmnist v07; N=2000 inputs, RATE=900/s)
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=${1:-bundles/fmnist} variant=${2:-v07} n=${N:-2000} rate=${RATE:-900}
A=${ADASCALE:-$(swift build -c release --show-bin-path)/adascale}
pi=raspberry-pi-4 pi3=raspberry-pi-4,raspberry-pi-4,raspberry-pi-4
link=(--link-mbps 20 --link-ms 2)
field() { grep -oP "$1" <<< "$2" | head -1; }
row() { # label, output of mdi run / mdi_loopback.sh
  local out=$2
  echo "| $1 | $(field 'in [0-9.]+ s: \K[0-9.]+' "$out") | $(field 'accuracy: \K[0-9.]+%' "$out") |" \
    "$(field 'latency ms: p50 \K[0-9.]+' "$out") | $(field '^[0-9]+ of [0-9]+' "$out")$(field ', \K[0-9]+ not admitted' "$out" | sed 's/^/, /') |"
}
modelled=$("$A" mdi plan --bundle "$bundle" --variant "$variant" --exits drop-0 --devices $pi3 "${link[@]}" \
  --features int8 --pipelined-links --json |
  python3 -c 'import json,sys; d=json.load(sys.stdin); b={x["name"]: x["throughput"] for x in d["baselines"]}
print("%.1f" % next(v for k, v in b.items() if "with exits" in k))')
echo "$bundle $variant on emulated $pi devices, 20 Mbit/s + 2 ms links, int8 features, $n Fashion-MNIST test images"
echo
echo "| run | inputs/s | accuracy | p50 ms | answered |"
echo "|---|---|---|---|---|"
row "1 device, no exits (measured)" "$("$A" mdi run --bundle "$bundle" --variant "$variant" --cut-after "" --devices $pi \
  --dataset fashion-mnist --limit "$n" --window 64 2>&1)"
echo "| 1 device, exits at drop-0 (modelled: planner's per-input baseline) | $modelled | – | – | – |"
row "3 devices, exits at drop-0" "$(EXITS=drop-0 FEATURES=int8 ADASCALE=$A tools/mdi_loopback.sh "$bundle" "$variant" $pi3 20 2 "$n" --window 64 2>&1)"
for point in drop-1 drop-2; do
  row "3 devices, exits at $point" "$(EXITS=$point FEATURES=int8 ADASCALE=$A tools/mdi_loopback.sh "$bundle" "$variant" $pi3 20 2 "$n" --window 64 2>&1)"
done
row "3 devices, no exits" "$(FEATURES=int8 ADASCALE=$A tools/mdi_loopback.sh "$bundle" "$variant" $pi3 20 2 "$n" --window 64 2>&1)"
row "3 devices, offered $rate/s, threshold adaptation drop-0,drop-1,drop-2" \
  "$(EXITS=drop-0,drop-1,drop-2 FEATURES=int8 ADASCALE=$A tools/mdi_loopback.sh "$bundle" "$variant" $pi3 20 2 "$n" --window 64 --rate "$rate" --adapt-step 16 2>&1)"
row "3 devices, offered $rate/s, rate adaptation (drop-0, --drop-when-full)" \
  "$(EXITS=drop-0 FEATURES=int8 ADASCALE=$A tools/mdi_loopback.sh "$bundle" "$variant" $pi3 20 2 "$n" --window 64 --rate "$rate" --drop-when-full 2>&1)"
