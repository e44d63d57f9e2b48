#!/usr/bin/env bash
# Plans a variant over a chain of emulated devices, runs the chain on loopback (one `mdi serve`
# process per worker, paced to its device, links shaped), and prints the planner's throughput
# next to the measured one (docs/mdi.md, "Validation").
#
#   tools/mdi_loopback.sh BUNDLE VARIANT DEVICES MBPS MS [N] [EXTRA `mdi run` ARGS…]
#   tools/mdi_loopback.sh bundles/mobilenetv2-fmnist v08 raspberry-pi-4,raspberry-pi-4 100 0.2 2000
#
# EXITS=drop-1 runs with that early-exit operating point (EXITS=drop-0,drop-1,drop-2: plan with
# the first, serve and run with all for threshold adaptation); FEATURES=int8 sends 8-bit features.
# ADASCALE (default: the release build) names the binary. Every worker started here is ended by
# its pid on exit.
set -euo pipefail
bundle=$1 variant=$2 devices=$3 mbps=$4 ms=$5 n=${6:-1000}
shift $(( $# < 6 ? $# : 6 ))
A=${ADASCALE:-$(swift build -c release --show-bin-path)/adascale}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

opts=(--features "${FEATURES:-float32}")
planopts=("${opts[@]}")
[ -n "${EXITS:-}" ] && planopts+=(--exits "${EXITS%%,*}")
# The simulation admits as the run does: --rate or --window from the run's arguments.
sim=(--simulate "$n")
args=("$@")
for (( i=0; i<${#args[@]}; i++ )); do
  case "${args[$i]}" in --rate|--window) sim+=("${args[$i]}" "${args[$((i+1))]}");; esac
done
[ -n "${EXITS:-}" ] && opts+=(--exits "$EXITS")
"$A" mdi plan --bundle "$bundle" --variant "$variant" --devices "$devices" --link-mbps "$mbps" --link-ms "$ms" \
  --pipelined-links --json "${planopts[@]}" "${sim[@]}" > "$work/plan.json"
cuts=$(python3 -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["plan"]["cut_after"]))' "$work/plan.json")
predicted=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["plan"]; print("%.1f/s (stages %s ms)" % (p["throughput"], ", ".join("%.3f" % s["stage_ms"] for s in p["stages"])))' "$work/plan.json")
IFS=, read -r -a devs <<< "$devices"
common=(--bundle "$bundle" --variant "$variant" --cut-after "$cuts" --link-mbps "$mbps" --link-ms "$ms" "${opts[@]}")
next=""
for (( k=${#devs[@]}-1; k>=1; k-- )); do
  log="$work/w$k.log"
  "$A" mdi serve "${common[@]}" --segment "$k" --device "${devs[$k]}" ${next:+--next "$next"} > "$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do grep -q "^listening on" "$log" && break; sleep 0.1; done
  next=$(grep -o "127.0.0.1:[0-9]*" "$log" | head -1)
  [ -n "$next" ] || { cat "$log"; exit 1; }
done
echo "cut after: $cuts"
echo "predicted: $predicted"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["simulated"]; l=r["latency_ms"]; print("simulated: %.1f/s, latency ms p50 %.3f p90 %.3f p99 %.3f" % (r["throughput"], l["p50"], l["p90"], l["p99"]))' "$work/plan.json"
"$A" mdi run "${common[@]}" --next "$next" --devices "$devices" --dataset fashion-mnist --limit "$n" "$@"
