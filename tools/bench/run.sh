#!/usr/bin/env bash
# make bench: adascale against its peers on this machine, in one run, same thread count.
#
#   tools/bench/run.sh   (defaults: THREADS=2 ROUNDS=5 BENCH_SECONDS=15 INFER_SECONDS=2
#                         ONNX_ROUNDS=5 ONNX_SECONDS=1 TORCH_VARIANTS=eager,jit-freeze,compile;
#                         PEER=path overrides the PyTorch peer script)
#
# 0. a load sampler (tools/bench/loadmon.py) records, every second until the end, how many cores
#    processes other than this run's used; report.py marks every measurement during which they
#    used ≥ 0.25 cores on average or ≥ 0.5 in any second as unreliable (BENCH_OTHERS_MEAN,
#    BENCH_OTHERS_PEAK);
# 1. OpenBLAS sgemm peak (1024³) and the model's GEMM shapes, 1 and THREADS threads;
# 2. ROUNDS alternating rounds (odd rounds adascale first, even rounds the peer first) of training
#    throughput, BENCH_SECONDS s each after 5 warm-up steps:
#    - AdaBench train: adascale's Trainer.fit as `adascale train` runs it (Adam lr 0.001,
#      β 0.9/0.999, ε 1e-7, batch 64, shuffled Fashion-MNIST, no augmentation); round 1 writes
#      the epochs' shuffle order to $OUT/order.bin;
#    - tools/bench/torch_peer.py train: PyTorch, same optimizer settings, batches in that order;
# 3. ROUNDS alternating rounds of inference latency at batch 1 and 64, INFER_SECONDS s each:
#    AdaBench infer, and torch_peer.py infer for each of TORCH_VARIANTS (eager; jit.freeze of a
#    trace + optimize_for_inference, channels_last; torch.compile, channels_last);
# 4. the depthwise kernel (SIMD path vs the general loop, AdaBench depthwise);
# 5. with OPERATORS=1, batch-1 latency vs MACs of the CNN's prune-channels, low-rank and
#    depthwise-separable rewrites;
# 6. the adaptation loop's switching cost (AdaBench switch) on BUNDLE or a demo bundle;
# 7. onnxruntime vs adascale: batch-1 and batch-64 latency of every variant of ONNX_BUNDLE
#    (default BUNDLE, else bundles/fmnist, else the demo bundle of 6): ONNX_ROUNDS rounds, each
#    variant in turn: AdaBench infer on vNN.h5, then tools/bench/onnx_peer.py on vNN.onnx (the
#    shipped file, or exported now), ONNX_SECONDS s per batch size, THREADS threads each;
# then tools/bench/report.py prints every row as median [min–max] over the rounds, with the load
# verdict, and writes .build/bench/results.json (and onnx.txt).
#
# The peer runs in tools/bench/.venv (created here with torch==2.13.0+cpu, which pip resolves
# from the machine's local wheel folder); when that fails the peer is skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/../.."

THREADS="${THREADS:-2}"
SECONDS_PER_RUN="${BENCH_SECONDS:-15}"
INFER_SECONDS="${INFER_SECONDS:-2}"
ROUNDS="${ROUNDS:-5}"
ONNX_ROUNDS="${ONNX_ROUNDS:-5}"
ONNX_SECONDS="${ONNX_SECONDS:-1}"
TORCH_VARIANTS="${TORCH_VARIANTS:-eager,jit-freeze,compile}"
ARCH="recipes/models/fmnist_cnn.yaml"
OUT=".build/bench"
VENV="tools/bench/.venv"
PEER="${PEER:-tools/bench/torch_peer.py}"
mkdir -p "$OUT"
OURS="$OUT/adascale.jsonl"
PEER_OUT="$OUT/pytorch.jsonl"
ONNX_OUT="$OUT/onnx.jsonl"
LOAD_OUT="$OUT/load.jsonl"
ORDER="$OUT/order.bin"
: >"$OURS"
: >"$PEER_OUT"
: >"$ONNX_OUT"
: >"$LOAD_OUT"
STARTED="$(date +%s)"

if ! build_log="$(swift build -c release --product AdaBench 2>&1)"; then
  echo "$build_log"
  exit 1
fi
BENCH="$(swift build -c release --show-bin-path)/AdaBench"
load() { cut -d' ' -f1 /proc/loadavg; }
LOAD_BEFORE="$(load)"

# Load sampler: this shell and its descendants are "ours"; everything else is load.
python3 tools/bench/loadmon.py sample --root $$ --out "$LOAD_OUT" &
SAMPLER=$!
trap 'kill "$SAMPLER" 2>/dev/null || true' EXIT

# The peer's Python environment.
PEER_NOTE=""
PYTHON=""
if [[ ! -f "$PEER" ]]; then
  PEER_NOTE="$PEER is not in this checkout"
elif [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c "import torch, numpy" 2>/dev/null; then
  PYTHON="$VENV/bin/python"
else
  echo "bench: creating $VENV with torch==2.13.0+cpu and numpy (once)…"
  if python3 -m venv "$VENV" >/dev/null 2>&1 \
    && "$VENV/bin/pip" install -q "torch==2.13.0+cpu" numpy >"$OUT/pip.log" 2>&1 \
    && "$VENV/bin/python" -c "import torch, numpy" 2>/dev/null; then
    PYTHON="$VENV/bin/python"
  else
    PEER_NOTE="could not install torch==2.13.0+cpu into $VENV (see $OUT/pip.log)"
  fi
fi
[[ -n "$PEER_NOTE" ]] && echo "bench: PyTorch peer skipped: $PEER_NOTE"
peer() { OMP_NUM_THREADS="$THREADS" "$PYTHON" "$PEER" "$@" --threads "$THREADS" --json >>"$PEER_OUT"; }

echo "bench: sgemm peak and model GEMM shapes (threads 1,$THREADS), load $LOAD_BEFORE"
"$BENCH" gemm --arch "$ARCH" --threads "1,$THREADS" --seconds 0.5 --json >>"$OURS"

# Training: the order file holds enough epochs for the faster side at up to 10,000 images/s.
ORDER_EPOCHS="$(python3 -c "import math, sys; print(math.ceil(float(sys.argv[1]) * 10000 / 60000) + 1)" "$SECONDS_PER_RUN")"
ours_train() {
  local write=()
  [[ "$1" == 1 ]] && write=(--write-order "$ORDER" --order-epochs "$ORDER_EPOCHS")
  "$BENCH" train --arch "$ARCH" --batch 64 --threads "$THREADS" --seconds "$SECONDS_PER_RUN" \
    "${write[@]}" --json >>"$OURS"
}
peer_train() {
  [[ -n "$PYTHON" ]] || return 0
  peer train --order "$ORDER" --seconds "$SECONDS_PER_RUN" || echo "bench: the PyTorch training peer failed in round $1"
}
for round in $(seq "$ROUNDS"); do
  echo "bench: training round $round/$ROUNDS: adascale Trainer.fit and PyTorch, ${SECONDS_PER_RUN} s each (load $(load))"
  if ((round % 2 == 1)); then
    ours_train "$round"
    peer_train "$round"
  else
    peer_train "$round"
    ours_train "$round"
  fi
done

ours_infer() {
  for batch in 1 64; do
    "$BENCH" infer --arch "$ARCH" --batch "$batch" --threads "$THREADS" --seconds "$INFER_SECONDS" --json >>"$OURS"
  done
}
peer_infer() {
  [[ -n "$PYTHON" ]] || return 0
  peer infer --variants "$TORCH_VARIANTS" --batches 1,64 --seconds "$INFER_SECONDS" \
    || echo "bench: the PyTorch inference peer failed in round $1"
}
for round in $(seq "$ROUNDS"); do
  echo "bench: inference round $round/$ROUNDS: adascale and PyTorch ($TORCH_VARIANTS), batch 1 and 64 (load $(load))"
  if ((round % 2 == 1)); then
    ours_infer
    peer_infer "$round"
  else
    peer_infer "$round"
    ours_infer
  fi
done

echo "bench: depthwise 3×3 on MobileNetV2(0.35) shapes, SIMD path vs general loop (load $(load))"
"$BENCH" depthwise --json >>"$OURS"

# OPERATORS=1: batch-1 latency against MACs for the CNN fixture and its prune-channels, low-rank
# and depthwise-separable rewrites (no fine-tuning: latency depends on the shapes only). The full
# table with accuracy is tools/operators_table.sh (docs/operators.md, "Measured").
if [[ "${OPERATORS:-0}" == 1 ]]; then
  swift build -c release --product adascale >/dev/null
  ADASCALE="$(swift build -c release --show-bin-path)/adascale"
  CNN="Tests/Fixtures/keras/fmnist_cnn.h5"
  echo "bench: operators on $CNN: batch-1 latency vs MACs, $THREADS threads (load $(load))"
  printf '  %-22s %10s %10s\n' operator MACs "ms"
  for op in original prune-channels:0.5 low-rank:0.25 depthwise-separable; do
    model="$CNN"
    probe="$op"
    [[ "$op" == original ]] && probe="quantize:8"
    macs="$("$ADASCALE" apply --model "$CNN" --op "$probe" --output "$OUT/op.h5" --json \
      | python3 -c "import json,sys; r=json.load(sys.stdin); print(r['before' if '$op' == 'original' else 'after']['macs'])")"
    [[ "$op" != original ]] && model="$OUT/op.h5"
    ms="$("$BENCH" infer --model "$model" --batch 1 --threads "$THREADS" --seconds 3 --json \
      | python3 -c "import json,sys; print('%.3f' % json.load(sys.stdin)['value'])")"
    printf '  %-22s %10s %10s\n' "$op" "$macs" "$ms"
  done
fi

# Switching cost of the adaptation loop (select + swap, variants loaded; target ≤ 1 ms) on
# BUNDLE, or on a bundle made once by `adascale compress` on recipes/fmnist_quick.yaml
# (tools/demo_adapt.sh --make-bundle).
SWITCH_BUNDLE="${BUNDLE:-$OUT/demo-bundle}"
swift build -c release --product adascale >/dev/null
if [[ -f "$SWITCH_BUNDLE/manifest.json" ]] || tools/demo_adapt.sh --make-bundle "$SWITCH_BUNDLE" >/dev/null; then
  echo "bench: switching cost on $SWITCH_BUNDLE (load $(load))"
  "$BENCH" switch --bundle "$SWITCH_BUNDLE" --trace recipes/traces/commute.csv --decisions 20000 | tee -a "$OURS" | grep -v '^{'
else
  echo "bench: switching cost skipped: no bundle (set BUNDLE=dir)"
fi

# onnxruntime vs adascale on the bundle's variants (section 7 above).
ONNX_BUNDLE="${ONNX_BUNDLE:-${BUNDLE:-bundles/fmnist}}"
[[ -f "$ONNX_BUNDLE/manifest.json" ]] || ONNX_BUNDLE="$SWITCH_BUNDLE"
ORT_NOTE=""
if [[ -f "$ONNX_BUNDLE/manifest.json" ]]; then
  ONNX_PY="$(. tools/reference/venv.sh && onnx_python)" || ONNX_PY=""
  if [[ -n "$ONNX_PY" ]]; then
    ADASCALE="$(swift build -c release --show-bin-path)/adascale"
    mkdir -p "$OUT/onnx"
    for h5 in "$ONNX_BUNDLE"/variants/v[0-9][0-9].h5; do
      onnx="${h5%.h5}.onnx"
      if [[ ! -f "$onnx" ]]; then
        "$ADASCALE" export --model "$h5" --output "$OUT/onnx/$(basename "$h5" .h5).onnx" >/dev/null
      fi
    done
    for round in $(seq "$ONNX_ROUNDS"); do
      echo "bench: onnxruntime round $round/$ONNX_ROUNDS: $ONNX_BUNDLE's variants, batch 1 and 64, $THREADS threads (load $(load))"
      for h5 in "$ONNX_BUNDLE"/variants/v[0-9][0-9].h5; do
        name="$(basename "$h5" .h5)"
        onnx="${h5%.h5}.onnx"
        [[ -f "$onnx" ]] || onnx="$OUT/onnx/$name.onnx"
        for batch in 1 64; do
          "$BENCH" infer --model "$h5" --batch "$batch" --threads "$THREADS" --seconds "$ONNX_SECONDS" --json \
            | python3 -c "import json,sys; r=json.load(sys.stdin); r['detail']['variant']='$name'; print(json.dumps(r))" \
            >>"$ONNX_OUT"
        done
        "$ONNX_PY" tools/bench/onnx_peer.py --model "$onnx" --label "$name" --batches 1,64 \
          --threads "$THREADS" --seconds "$ONNX_SECONDS" --json >>"$ONNX_OUT"
      done
    done
  else
    ORT_NOTE="no Python with onnxruntime (tools/reference/venv.sh onnx_python)"
  fi
else
  ORT_NOTE="$ONNX_BUNDLE/manifest.json not found (make compress, or ONNX_BUNDLE=dir)"
fi
[[ -n "$ORT_NOTE" ]] && echo "bench: onnxruntime peer skipped: $ORT_NOTE"

kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
python3 tools/bench/report.py --ours "$OURS" --peer "$PEER_OUT" --peer-note "$PEER_NOTE" \
  --onnx "$ONNX_OUT" --onnx-note "$ORT_NOTE" --samples "$LOAD_OUT" --threads "$THREADS" \
  --load "$LOAD_BEFORE → $(load)" --seconds "$(($(date +%s) - STARTED))" --out "$OUT/results.json"
