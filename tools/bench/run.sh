#!/usr/bin/env bash
# make bench: adascale against its peers on this machine, in one run, same thread count.
#
#   tools/bench/run.sh     (THREADS=2 BENCH_SECONDS=20 ROUNDS=2 by default; PEER=path overrides
#                            the peer script)
#
# 1. OpenBLAS sgemm peak (1024³) and the model's GEMM shapes, 1 and THREADS threads;
# 2. ROUNDS alternating rounds of: adascale training steps (fmnist_cnn, batch 64, BENCH_SECONDS s) and
#    the PyTorch CPU peer (tools/bench/torch_peer.py: inference latency at batch 1 and 64, then
#    BENCH_SECONDS s of training) — alternating so both see the same machine load;
# 3. adascale inference latency at batch 1 and 64, and the depthwise kernel (SIMD path vs the
#    general loop, AdaBench depthwise);
# 4. with OPERATORS=1, batch-1 latency vs MACs of the CNN's prune-channels, low-rank and
#    depthwise-separable rewrites;
# 5. the adaptation loop's switching cost (AdaBench switch) on BUNDLE or a demo bundle;
# 6. onnxruntime vs adascale: batch-1 and batch-64 inference latency of every variant of
#    ONNX_BUNDLE (default BUNDLE, else bundles/fmnist): AdaBench infer on vNN.h5 and
#    tools/bench/onnx_peer.py on vNN.onnx (the shipped file, or exported now), alternating per
#    variant so both see the same load; THREADS threads each; table in .build/bench/onnx.txt;
# then tools/bench/report.py prints the ratios and writes .build/bench/results.json.
#
# The peer runs in tools/bench/.venv (created here with torch==2.13.0+cpu, which pip resolves
# from the machine's local wheel folder); when that fails the peer is skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/../.."

THREADS="${THREADS:-2}"
SECONDS_PER_RUN="${BENCH_SECONDS:-20}"
ROUNDS="${ROUNDS:-2}"
ARCH="recipes/models/fmnist_cnn.yaml"
OUT=".build/bench"
VENV="tools/bench/.venv"
PEER="${PEER:-tools/bench/torch_peer.py}"
mkdir -p "$OUT"
OURS="$OUT/adascale.jsonl"
PEER_OUT="$OUT/pytorch.jsonl"
: >"$OURS"
: >"$PEER_OUT"

if ! build_log="$(swift build -c release --product AdaBench 2>&1)"; then
  echo "$build_log"
  exit 1
fi
BENCH="$(swift build -c release --show-bin-path)/AdaBench"
load() { cut -d' ' -f1 /proc/loadavg; }
LOAD_BEFORE="$(load)"

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

echo "bench: sgemm peak and model GEMM shapes (threads 1,$THREADS), load $LOAD_BEFORE"
"$BENCH" gemm --arch "$ARCH" --threads "1,$THREADS" --seconds 0.5 --json >>"$OURS"

for round in $(seq "$ROUNDS"); do
  echo "bench: round $round/$ROUNDS: adascale training, ${SECONDS_PER_RUN} s (load $(load))"
  "$BENCH" train-step --arch "$ARCH" --batch 64 --threads "$THREADS" \
    --seconds "$SECONDS_PER_RUN" --json >>"$OURS"
  if [[ -n "$PYTHON" ]]; then
    echo "bench: round $round/$ROUNDS: PyTorch peer, ${SECONDS_PER_RUN} s (load $(load))"
    OMP_NUM_THREADS="$THREADS" "$PYTHON" "$PEER" --threads "$THREADS" \
      --seconds "$SECONDS_PER_RUN" --json >>"$PEER_OUT" \
      || echo "bench: the PyTorch peer failed in round $round"
  fi
done

echo "bench: adascale inference latency (load $(load))"
for batch in 1 64; do
  "$BENCH" infer --arch "$ARCH" --batch "$batch" --threads "$THREADS" --seconds 3 --json >>"$OURS"
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

# onnxruntime vs adascale on the bundle's variants (section 6 above).
ONNX_BUNDLE="${ONNX_BUNDLE:-${BUNDLE:-bundles/fmnist}}"
if [[ -f "$ONNX_BUNDLE/manifest.json" ]]; then
  ONNX_PY="$(. tools/reference/venv.sh && onnx_python)" || ONNX_PY=""
  if [[ -n "$ONNX_PY" ]]; then
    ADASCALE="$(swift build -c release --show-bin-path)/adascale"
    ONNX_OUT="$OUT/onnx.jsonl"
    : >"$ONNX_OUT"
    mkdir -p "$OUT/onnx"
    echo "bench: onnxruntime vs adascale on $ONNX_BUNDLE's variants, batch 1 and 64, $THREADS threads (load $(load))"
    for h5 in "$ONNX_BUNDLE"/variants/v[0-9][0-9].h5; do
      name="$(basename "$h5" .h5)"
      onnx="${h5%.h5}.onnx"
      if [[ ! -f "$onnx" ]]; then
        onnx="$OUT/onnx/$name.onnx"
        "$ADASCALE" export --model "$h5" --output "$onnx" >/dev/null
      fi
      for batch in 1 64; do
        "$BENCH" infer --model "$h5" --batch "$batch" --threads "$THREADS" --seconds 3 --json \
          | python3 -c "import json,sys; r=json.load(sys.stdin); r['detail']['variant']='$name'; print(json.dumps(r))" \
          >>"$ONNX_OUT"
      done
      "$ONNX_PY" tools/bench/onnx_peer.py --model "$onnx" --label "$name" --batches 1,64 \
        --threads "$THREADS" --seconds 3 --json >>"$ONNX_OUT"
    done
    "$ONNX_PY" tools/bench/onnx_peer.py table "$ONNX_OUT" | tee "$OUT/onnx.txt"
    echo "  ($("$ONNX_PY" -c 'import onnxruntime as o; print("onnxruntime", o.__version__)'), load $(load))" | tee -a "$OUT/onnx.txt"
  else
    echo "bench: onnxruntime peer skipped: no Python with onnxruntime (tools/reference/venv.sh onnx_python)"
  fi
else
  echo "bench: onnxruntime peer skipped: $ONNX_BUNDLE/manifest.json not found (make compress, or ONNX_BUNDLE=dir)"
fi

python3 tools/bench/report.py --ours "$OURS" --peer "$PEER_OUT" --peer-note "$PEER_NOTE" \
  --threads "$THREADS" --load "$LOAD_BEFORE → $(load)" --out "$OUT/results.json"
