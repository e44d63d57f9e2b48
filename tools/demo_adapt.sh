#!/usr/bin/env bash
# The adaptation loop, live: `adascale run` streams batches through a bundle while a CPU hog
# starts and stops, and prints per batch which variant ran, why, and predicted vs measured ms.
#
#   tools/demo_adapt.sh BUNDLE [--slo-ms N] [--accuracy-floor A] [--batch 16] [--period-ms 20]
#                              [--hogs H] [--phase 6]
#   tools/demo_adapt.sh --make-bundle DIR      # a quick real bundle (adascale compress, ~2 min)
#
# Timeline (phase S seconds each, default 6): idle → H busy-loop processes (default: one per
# core) → idle. The hogs are `sh -c 'while :; do :; done'` loops started and killed by their PID.
# The run streams batches every P ms (default 20) over the fixture input (64 Fashion-MNIST
# images) until the three phases are over. At the end: batches per phase and variant, switches,
# and the share of batches over the SLO. See docs/runtime.md ("A live demo").
#
# ADASCALE=path overrides the binary (default: release build, built here).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-1}"; }
[[ $# -ge 1 ]] || usage
[[ "$1" == -h || "$1" == --help ]] && usage 0

if [[ -z "${ADASCALE:-}" ]]; then
  swift build -c release --product adascale >/dev/null
  ADASCALE="$(swift build -c release --show-bin-path)/adascale"
fi
CNN="Tests/Fixtures/keras/fmnist_cnn.h5"
INPUT="Tests/Fixtures/keras/fmnist_cnn.io.h5"

# --make-bundle DIR: a real bundle from `adascale compress` on recipes/fmnist_quick.yaml (the
# Keras-trained CNN fixture, a one-epoch supernet, a short search; about 2 minutes), written to
# DIR instead of the recipe's output directory.
make_bundle() {
  local dir="$1"
  local work
  work="$(mktemp -d)"
  sed "s#^  directory: bundles/fmnist-quick#  directory: $dir#" recipes/fmnist_quick.yaml >"$work/recipe.yaml"
  echo "demo: adascale compress --recipe recipes/fmnist_quick.yaml (output $dir)" >&2
  "$ADASCALE" compress --recipe "$work/recipe.yaml" --overwrite --no-compare-random >&2
  rm -rf "$work"
  echo "demo bundle: $dir" >&2
}

if [[ "$1" == --make-bundle ]]; then
  [[ $# -eq 2 ]] || usage
  make_bundle "$2"
  exit 0
fi

BUNDLE="$1"
shift
SLO=""
FLOOR=""
BATCH=16
PERIOD=20
HOGS="$(nproc)"
PHASE=6
while [[ $# -gt 0 ]]; do
  case "$1" in
    --slo-ms) SLO="$2"; shift 2 ;;
    --accuracy-floor) FLOOR="$2"; shift 2 ;;
    --batch) BATCH="$2"; shift 2 ;;
    --period-ms) PERIOD="$2"; shift 2 ;;
    --hogs) HOGS="$2"; shift 2 ;;
    --phase) PHASE="$2"; shift 2 ;;
    *) usage ;;
  esac
done

OUT="$(mktemp -d)"
HOG_PIDS=()
stop_hogs() {
  for pid in "${HOG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${HOG_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  HOG_PIDS=()
}
trap 'stop_hogs; rm -rf "$OUT"' EXIT

# Enough passes over the 64 images to outlast the three phases.
examples=64
batches_per_pass=$(((examples + BATCH - 1) / BATCH))
passes=$((PHASE * 3 * 1000 / PERIOD / batches_per_pass + 2))
args=(run --bundle "$BUNDLE" --input "$INPUT" --output "$OUT/y.h5" --batch "$BATCH" --period-ms "$PERIOD"
  --repeat "$passes" --eager)
[[ -n "$SLO" ]] && args+=(--slo-ms "$SLO")
[[ -n "$FLOOR" ]] && args+=(--accuracy-floor "$FLOOR")

echo "demo: $ADASCALE ${args[*]}"
echo "demo: phases of ${PHASE}s: idle → $HOGS CPU hog(s) → idle"
# Each output line is stamped with the time it arrived ($EPOCHREALTIME, no fork per line).
"$ADASCALE" "${args[@]}" > >(while IFS= read -r line; do echo "$EPOCHREALTIME $line"; done >"$OUT/run.log") &
RUN_PID=$!
mark() { echo "$EPOCHREALTIME $1" >>"$OUT/phases"; }
mark idle
sleep "$PHASE"
for _ in $(seq "$HOGS"); do
  sh -c 'while :; do :; done' &
  HOG_PIDS+=($!)
done
mark hog
echo "demo: started $HOGS hog(s): ${HOG_PIDS[*]}"
sleep "$PHASE"
stop_hogs
mark "idle again"
echo "demo: stopped the hogs"
sleep "$PHASE"
kill "$RUN_PID" 2>/dev/null || true
wait "$RUN_PID" 2>/dev/null || true
sleep 0.2

# The per-batch lines around each switch, then a summary per phase.
python3 - "$OUT/run.log" "$OUT/phases" <<'PY'
import sys, re, collections
log, phases = sys.argv[1], sys.argv[2]
marks = [(float(l.split(" ", 1)[0]), l.split(" ", 1)[1].strip()) for l in open(phases)]
def phase(t):
    name = marks[0][1]
    for at, n in marks:
        if t >= at:
            name = n
    return name
stats = collections.OrderedDict((n, {"n": 0, "late": 0, "ms": [], "variants": collections.Counter()}) for _, n in marks)
switches, printed = 0, 0
for raw in open(log):
    stamp, line = raw.split(" ", 1)
    m = re.match(r"\s*(\d+)\s+(\S+)\s+([\d.]+)\s+([\d.]+) ms\s+([\d.]+) ms\s+(ok|LATE)", line)
    if not m:
        print(line.rstrip())
        continue
    name = phase(float(stamp))
    s = stats[name]
    s["n"] += 1; s["late"] += m[6] == "LATE"; s["ms"].append(float(m[5])); s["variants"][m[2]] += 1
    if "switched" in line or s["n"] == 1:
        switches += "switched" in line
        print(f"[{name}] {line.rstrip()}")
print(f"\nswitches: {switches}")
for name, s in stats.items():
    if not s["n"]:
        continue
    ms = sorted(s["ms"])
    print(f"{name:>10}: {s['n']} batches, variants {dict(s['variants'])}, measured median {ms[len(ms)//2]:.3f} ms, "
          f"p95 {ms[int(0.95 * (len(ms) - 1))]:.3f} ms, over the SLO {100 * s['late'] / s['n']:.1f}%")
PY
