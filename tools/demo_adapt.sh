#!/usr/bin/env bash
# The adaptation loop, live: `adascale run` streams batches through a bundle while a CPU hog
# starts and stops, and prints per batch which variant ran, why, and predicted vs measured ms.
#
#   tools/demo_adapt.sh BUNDLE [--slo-ms N] [--accuracy-floor A] [--batch 16] [--period-ms 20]
#                              [--hogs H] [--phase 6]
#   tools/demo_adapt.sh --make-bundle DIR      # a small demo bundle from the committed CNN fixture
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

# --make-bundle DIR: four variants of the CNN fixture (original; 25%, 50% and 75% of the
# channels pruned, each fine-tuned for one epoch by distillation), each evaluated on 2000 Fashion-MNIST test images and profiled on this host; the
# manifest and lookup table are written in the bundle format (docs/runtime.md). Not a search:
# a stand-in until `adascale compress` bundles exist.
make_bundle() {
  local dir="$1"
  local work
  work="$(mktemp -d)"
  mkdir -p "$dir/variants"
  local specs=("v3:" "v2:prune-channels:0.25" "v1:prune-channels:0.5" "v0:prune-channels:0.75")
  for spec in "${specs[@]}"; do
    local id="${spec%%:*}" ops="${spec#*:}"
    if [[ -z "$ops" ]]; then
      cp "$CNN" "$dir/variants/$id.h5"
    else
      local args=()
      IFS=',' read -ra list <<<"$ops"
      for op in "${list[@]}"; do args+=(--op "$op"); done
      echo "demo: $id = ${ops//,/ + } (1 epoch of distillation on 5000 images)" >&2
      "$ADASCALE" apply --model "$CNN" "${args[@]}" --finetune-epochs 1 --dataset fashion-mnist --limit 5000 \
        --output "$dir/variants/$id.h5" --json >"$work/$id.apply.json"
    fi
    echo "demo: $id: evaluating and profiling" >&2
    "$ADASCALE" eval --model "$dir/variants/$id.h5" --dataset fashion-mnist --limit 2000 --json >"$work/$id.eval.json"
    "$ADASCALE" profile --model "$dir/variants/$id.h5" --budget-ms 20 --json >"$work/$id.profile.json"
  done
  python3 - "$dir" "$work" <<'PY'
import json, sys, datetime
d, work = sys.argv[1], sys.argv[2]
ops = {"v3": "base", "v2": "prune-channels:0.25", "v1": "prune-channels:0.5", "v0": "prune-channels:0.75"}
variants, rows = [], []
for vid in ["v0", "v1", "v2", "v3"]:
    ev = json.load(open(f"{work}/{vid}.eval.json"))
    pr = json.load(open(f"{work}/{vid}.profile.json"))
    host = next(x for x in pr["devices"] if x["device"] == "host")
    mem = pr["memory"]["batch_1"]
    latency = pr["total"]["measured_ms"]
    genome = {"blocks": [{"block": "all", "branch": ops[vid], "width": 1, "bits": 32}], "exit": "main"}
    variants.append({
        "id": vid, "file": f"variants/{vid}.h5", "genome": genome,
        "genome_key": f"all={ops[vid]}@1/32 exit=main", "accuracy": ev["accuracy"],
        "search_accuracy": ev["accuracy"], "latency_ms": latency,
        "predicted_latency_ms": pr["total"]["predicted_ms"], "params": sum(l.get("params", 0) for l in pr["layers"]),
        "macs": sum(l["macs"] for l in pr["layers"]), "weight_bytes": mem["weight_bytes"],
        "peak_memory_bytes": mem["peak_working_bytes"], "energy_mj": host["energy_mj"]})
    rows.append({"variant": vid, "device": "host", "source": "measured", "context": "nominal",
                 "latency_ms": latency, "latency_std_ms": pr["total"].get("measured_sd_ms") or 0.0,
                 "energy_mj": host["energy_mj"], "memory_bytes": mem["peak_working_bytes"],
                 "accuracy": ev["accuracy"], "feasible": True})
manifest = {
    "format": "adascale-bundle", "format_version": 1, "tool_version": "demo",
    "created_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "source": {"file": "Tests/Fixtures/keras/fmnist_cnn.h5", "sha256": "", "params": variants[-1]["params"],
               "macs": variants[-1]["macs"], "accuracy": variants[-1]["accuracy"], "latency_ms": variants[-1]["latency_ms"]},
    "recipe": {"name": "demo", "file": "tools/demo_adapt.sh", "sha256": ""}, "seed": 0,
    "host": {"cpu": "", "cores": 0, "blas": "OpenBLAS", "threads": 1},
    "dataset": {"name": "fashion-mnist", "train_examples": 5000, "validation_examples": 0, "test_examples": 2000},
    "timings": {"baseline_s": 0, "supernet_s": 0, "search_s": 0, "emit_s": 0, "total_s": 0},
    "search": {"algorithm": "none", "evaluations": 0, "generations": 0, "pareto_size": 4, "hypervolume": 0},
    "devices": ["host"], "contexts": [{"name": "nominal", "context": {"cpu_share": 1, "frequency_scale": 1, "thermal": "nominal"}}],
    "variants": variants}
json.dump(manifest, open(f"{d}/manifest.json", "w"), indent=2)
json.dump({"format": "adascale-lut", "format_version": 1, "energy_modelled": True, "rows": rows},
          open(f"{d}/lut.json", "w"), indent=2)
for v in variants:
    print(f"  {v['id']}: accuracy {v['accuracy']:.4f}, {v['latency_ms']:.3f} ms, {v['peak_memory_bytes']} B")
PY
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
