#!/usr/bin/env bash
# Predicted vs measured batch-1 latency on MobileNet-class models (make latency-check).
#
# For each model: fold batch-norm (what the bundle ships and measures), then
#   adascale profile --model FOLDED --json --no-cache
# which times every op signature alone, calibrates the context terms and times the whole model
# end to end, all in the same interleaved rounds, and predicts the model from the per-op table.
# Each model is profiled REPEATS times (separate sessions: this machine is shared, and a burst of
# load in one session moves the end-to-end figure more than the per-op ones); the table shows
# the medians of predicted and of measured, and their error. Prints model → nodes, predicted
# ms, measured ms, error %; exits 1 when any |error| > LIMIT %.
#
# Models: the committed fixture mobilenet_tiny.h5; recipes/models/mobilenet_fmnist*.yaml
# (one training step on 64 images: an .h5 with real batch-norm statistics); real
# keras.applications MobileNetV2(alpha=0.35) and MobileNet(alpha=0.25) at 32×32×3 saved by
# Keras (tools/reference/make_latency_models.py, with the reference venv; skipped with a note
# when it cannot be made); and operator-made variants of the MobileNetV2.
#
# Environment: ADASCALE (binary), LIMIT (default 15), REPEATS (default 3), BUDGET_MS (per
# signature, default 100), THREADS (default 1), WORK (keep files there; Keras models already
# in it are reused), SKIP_KERAS=1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"
bin="${ADASCALE:-$repo/.build/release/adascale}"
limit="${LIMIT:-15}"
budget="${BUDGET_MS:-100}"
threads="${THREADS:-1}"
repeats="${REPEATS:-3}"
if [ -n "${WORK:-}" ]; then
  work="$WORK"
  mkdir -p "$work"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/adascale-latency.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi
[ -x "$bin" ] || { echo "error: $bin not found (run make build)"; exit 1; }

models=()  # label=path.h5
models+=("mobilenet_tiny=Tests/Fixtures/keras/mobilenet_tiny.h5")
for arch in recipes/models/mobilenet_fmnist*.yaml; do
  name="$(basename "$arch" .yaml)"
  "$bin" train --arch "$arch" --dataset fashion-mnist --limit 64 --epochs 1 --seed 0 \
    --output "$work/$name.h5" >/dev/null 2>&1 || { echo "error: could not make $name.h5"; exit 1; }
  models+=("$name=$work/$name.h5")
done
if [ -z "${SKIP_KERAS:-}" ]; then
  # shellcheck source=reference/venv.sh
  . "$here/reference/venv.sh"
  if { [ -f "$work/mobilenetv2_035.h5" ] && [ -f "$work/mobilenet_025.h5" ]; } \
    || { py="$(keras_python 2>/dev/null)" \
      && "$py" "$here/reference/make_latency_models.py" "$work" >"$work/keras.log" 2>&1; }; then
    models+=("keras_mobilenetv2_0.35=$work/mobilenetv2_035.h5" "keras_mobilenet_0.25=$work/mobilenet_025.h5")
    for op in prune-channels:0.5 prune-channels:0.75 low-rank:0.25 quantize:8; do
      if "$bin" apply --model "$work/mobilenetv2_035.h5" --op "$op" --output "$work/v2-$op.h5" >/dev/null 2>&1; then
        models+=("keras_mobilenetv2_0.35+$op=$work/v2-$op.h5")
      else
        echo "note: $op does not apply to the Keras MobileNetV2; skipped"
      fi
    done
  else
    echo "note: no Keras reference environment (see $work/keras.log); Keras MobileNets skipped"
  fi
fi

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "host: $cpu, $(nproc) cores; budget $budget ms per signature, $threads thread(s), median of $repeats runs"
echo "load average before: $(cut -d ' ' -f 1-3 /proc/loadavg)"
printf '%-40s %6s %13s %12s %8s\n' model nodes "predicted ms" "measured ms" "error %"
failed=0
for entry in "${models[@]}"; do
  label="${entry%%=*}"
  path="${entry#*=}"
  folded="$work/$(echo "$label" | tr -c 'A-Za-z0-9_.\n' '_')-folded.h5"
  if ! "$bin" apply --model "$path" --op fold-batch-norm --output "$folded" >/dev/null 2>&1; then
    folded="$path"  # nothing to fold
  fi
  runs=()
  for ((k = 0; k < repeats; k++)); do
    "$bin" profile --model "$folded" --json --no-cache --budget-ms "$budget" --threads "$threads" \
      >"$work/profile.json" 2>/dev/null
    runs+=("$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(len(r["layers"]), r["total"]["predicted_ms"], r["total"]["measured_ms"])' "$work/profile.json")")
  done
  line="$(printf '%s\n' "${runs[@]}" | python3 -c '
import statistics, sys
rows = [l.split() for l in sys.stdin if l.strip()]
p = statistics.median(float(r[1]) for r in rows)
m = statistics.median(float(r[2]) for r in rows)
print(rows[0][0], "%.4f" % p, "%.4f" % m, "%.1f" % (100 * (p - m) / m))')"
  read -r nodes predicted measured error <<<"$line"
  printf '%-40s %6s %13s %12s %8s\n' "$label" "$nodes" "$predicted" "$measured" "$error"
  if python3 -c "import sys; sys.exit(0 if abs(float('$error')) <= float('$limit') else 1)"; then :; else
    failed=$((failed + 1))
  fi
done
echo "load average after: $(cut -d ' ' -f 1-3 /proc/loadavg)"
if [ "$failed" -gt 0 ]; then
  echo "FAIL: $failed model(s) off by more than $limit %"
  exit 1
fi
echo "all within $limit %"
