#!/usr/bin/env bash
# Live replay of every sample trace (recipes/traces/*.csv) against a bundle: per trace, the
# adaptive policy and each fixed variant, measured, with the simulator's figures beside them
# (docs/runtime.md, "Live replay").
#
#   tools/replay_traces.sh [BUNDLE] [--speed S] [--limit N] [--json DIR]
#
# BUNDLE defaults to bundles/fmnist (`make compress`). --speed 2 (default) replays the traces
# twice as fast as recorded: about 3 minutes for all five. Inputs: the first --limit (default
# 2048) Fashion-MNIST test images, with their labels. --json DIR writes DIR/<trace>.json instead.
# ADASCALE=path overrides the binary (default: the release build, built here).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ "${1:-}" == -h || "${1:-}" == --help ]] && { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
BUNDLE="bundles/fmnist"
if [[ $# -gt 0 && "$1" != --* ]]; then BUNDLE="$1"; shift; fi
SPEED=2
LIMIT=2048
JSON=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --speed) SPEED="$2"; shift 2 ;;
    --limit) LIMIT="$2"; shift 2 ;;
    --json) JSON="$2"; shift 2 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
done
[[ -f "$BUNDLE/manifest.json" ]] || { echo "error: $BUNDLE/manifest.json not found: run make compress first" >&2; exit 1; }
if [[ -z "${ADASCALE:-}" ]]; then
  swift build -c release --product adascale >/dev/null
  ADASCALE="$(swift build -c release --show-bin-path)/adascale"
fi
[[ -n "$JSON" ]] && mkdir -p "$JSON"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for trace in recipes/traces/*.csv; do
  name="$(basename "$trace" .csv)"
  echo
  echo "== $name"
  args=(replay --bundle "$BUNDLE" --trace "$trace" --dataset fashion-mnist --limit "$LIMIT" --speed "$SPEED")
  if [[ -n "$JSON" ]]; then
    "$ADASCALE" "${args[@]}" --json >"$JSON/$name.json"
    echo "$JSON/$name.json"
  else
    "$ADASCALE" "${args[@]}" 2>/dev/null
  fi
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
