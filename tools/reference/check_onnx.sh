#!/usr/bin/env bash
# ONNX export checked by onnx.checker and onnxruntime (section 6 of `make interop`; runs alone too):
#
#   tools/reference/check_onnx.sh [BUNDLE]     (after `make build`; ADASCALE=path overrides the binary;
#                                               RESULTS=file.jsonl keeps one JSON line per output)
#
# 1. every Keras fixture: `adascale export --format onnx`, then check_onnx.py compare on the
#    fixture's inputs against `adascale predict` (1e-4 of the output scale);
# 2. every compression operator alone and chained (operator_cases.txt, as in section 5 of
#    check_interop.sh) applied with `adascale apply`, exported and compared the same way (the
#    trained fmnist_cnn's on Fashion-MNIST's 10,000 test images, with accuracies);
# 3. the --layout nchw export of two fixtures (inputs transposed by check_onnx.py's caller);
# 4. every variant of BUNDLE (default bundles/fmnist), static and multi-exit: its shipped
#    variants/vNN.onnx (exported from vNN.h5 when the bundle predates ONNX) on Fashion-MNIST's
#    10,000 test images against `adascale predict`, outputs within 1e-4 of scale, accuracies
#    printed (a quantized variant may instead pass on accuracy within 0.1 points);
# 5. an unsupported model (a conv kernel quantized per input and output channel) must fail
#    with exit code 1, an error naming the layer, and no file.
# Exits 1 on any failure, with the list.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
bin="${ADASCALE:-$repo/.build/release/adascale}"
bundle="${1:-bundles/fmnist}"
fixtures=Tests/Fixtures/keras
if [ ! -x "$bin" ]; then echo "error: $bin not found; run make build first" >&2; exit 1; fi

. "$here/venv.sh"
py="$(onnx_python)"
work="$(mktemp -d "${TMPDIR:-/tmp}/adascale-onnx.XXXXXX")"
trap 'rm -rf "$work"' EXIT
results="${RESULTS:-$work/results.jsonl}"
failed=()
fail() { echo "FAIL $1"; failed+=("$1"); }
echo "python: $py ($("$py" -c 'import onnx, onnxruntime as o; print("onnx", onnx.__version__, "onnxruntime", o.__version__)'))"

# ort_agrees LABEL MODEL.h5 IO.h5 [export options…]: export, predict, compare.
ort_agrees() {
  local label="$1" model="$2" io="$3"
  shift 3
  local slug
  slug="$(echo "$label" | tr -c 'A-Za-z0-9.\n' '_')"
  if ! "$bin" export --model "$model" --format onnx --output "$work/$slug.onnx" "$@" >"$work/$slug.log" 2>&1; then
    cat "$work/$slug.log"
    fail "$label: adascale export"
    return
  fi
  if ! "$bin" predict --model "$model" --input "$io" --output "$work/$slug.pred.h5" >/dev/null; then
    fail "$label: adascale predict"
    return
  fi
  "$py" "$here/check_onnx.py" compare "$work/$slug.onnx" "$io" --expected "$work/$slug.pred.h5" \
    --label "$label" --results "$results" || fail "$label: onnxruntime disagrees"
}

echo
echo "== 1. Keras fixtures"
for model in mlp conv_ops depthwise_ops mobilenet_tiny fmnist_cnn keras2_seq dag keras2_dag \
  nested_transfer nested_deep mobilenet_v3_tiny efficientnet_tiny broadcast_ops; do
  ort_agrees "$model" "$fixtures/$model.h5" "$fixtures/$model.io.h5"
done

"$py" "$here/check_onnx.py" fmnist-test "$work/fmnist_test.h5"

echo
echo "== 2. every operator's output (adascale apply), alone and chained (fmnist_cnn's on Fashion-MNIST's test set)"
while IFS='|' read -r model args; do
  slug="$(echo "$model $args" | tr -c 'A-Za-z0-9.\n' '_')"
  # shellcheck disable=SC2086
  if ! "$bin" apply --model "$fixtures/$model.h5" $args --output "$work/$slug.h5" >"$work/$slug.apply.log" 2>&1 </dev/null; then
    cat "$work/$slug.apply.log"
    fail "$model $args: adascale apply"
    continue
  fi
  io="$fixtures/$model.io.h5"
  if [ "$model" = fmnist_cnn ]; then io="$work/fmnist_test.h5"; fi
  ort_agrees "$model $args" "$work/$slug.h5" "$io" </dev/null
done < <(grep -v '^#' "$here/operator_cases.txt")

echo
echo "== 3. --layout nchw"
for model in conv_ops mobilenet_tiny; do
  "$py" - "$fixtures/$model.io.h5" "$work/$model.nchw.io.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1]) as f, h5py.File(sys.argv[2], "w") as g:
    g["x"] = np.ascontiguousarray(np.asarray(f["x"], np.float32).transpose(0, 3, 1, 2))
PY
  if ! "$bin" export --model "$fixtures/$model.h5" --output "$work/$model.nchw.onnx" --layout nchw >/dev/null \
    || ! "$bin" predict --model "$fixtures/$model.h5" --input "$fixtures/$model.io.h5" \
      --output "$work/$model.nchw.pred.h5" >/dev/null; then
    fail "$model --layout nchw: adascale export/predict"
    continue
  fi
  "$py" "$here/check_onnx.py" compare "$work/$model.nchw.onnx" "$work/$model.nchw.io.h5" \
    --expected "$work/$model.nchw.pred.h5" --label "$model --layout nchw" --results "$results" \
    || fail "$model --layout nchw: onnxruntime disagrees"
done

echo
echo "== 4. variants of $bundle on Fashion-MNIST's test set"
if [ -f "$bundle/manifest.json" ]; then
  for h5 in "$bundle"/variants/*.h5; do
    name="$(basename "$h5" .h5)"
    onnx="${h5%.h5}.onnx"
    if [ ! -f "$onnx" ]; then
      onnx="$work/$name.onnx"
      "$bin" export --model "$h5" --output "$onnx" >/dev/null || { fail "$name: adascale export"; continue; }
      label="$name (exported now)"
    else
      label="$name (shipped)"
    fi
    "$bin" predict --model "$h5" --input "$work/fmnist_test.h5" --output "$work/$name.pred.h5" >/dev/null \
      || { fail "$name: adascale predict"; continue; }
    "$py" "$here/check_onnx.py" compare "$onnx" "$work/fmnist_test.h5" --expected "$work/$name.pred.h5" \
      --label "$label" --results "$results" || fail "$label: onnxruntime disagrees"
  done
else
  echo "SKIP: $bundle/manifest.json not found (make compress writes bundles/fmnist)"
fi

echo
echo "== 5. an unsupported model is refused with exit code 1 and no file"
"$py" - "$fixtures/fmnist_cnn.h5" "$work/unsupported.h5" <<'PY'
# A copy of fmnist_cnn whose conv2 kernel is "quantized" with one scale per (input, output)
# channel (axis 2): valid for adascale, not expressible as ONNX's per-axis DequantizeLinear.
import shutil, sys, h5py, numpy as np
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    found = []
    f["model_weights/conv2"].visit(lambda n: found.append(n) if n.split("/")[-1].startswith("kernel") else None)
    name = "model_weights/conv2/" + found[0]
    w = np.asarray(f[name], np.float32)
    scale = np.abs(w).max(axis=(0, 1)).reshape(-1) / 127
    scale[scale == 0] = 1
    q = np.clip(np.round(w / scale.reshape(w.shape[2], w.shape[3])), -127, 127).astype(np.int8)
    f[name][...] = q.astype(np.float32) * scale.reshape(w.shape[2], w.shape[3]).astype(np.float32)
    g = f.create_group("adascale_quantized")
    g.attrs["format"] = "adascale-quantized"
    g.attrs["version"] = np.int32(1)
    k = g.create_group("conv2/kernel")
    k.attrs["bits"] = np.int32(8)
    k.attrs["axis"] = np.int32(2)
    k["q"] = q
    k["scale"] = scale.astype(np.float32)
PY
status=0
"$bin" export --model "$work/unsupported.h5" --output "$work/unsupported.onnx" >"$work/unsupported.log" 2>&1 || status=$?
cat "$work/unsupported.log"
if [ "$status" != 1 ] || [ -e "$work/unsupported.onnx" ] || ! grep -q "conv2" "$work/unsupported.log"; then
  fail "unsupported model: expected exit 1, an error naming conv2 and no file (exit $status)"
else
  echo "PASS unsupported model refused (exit 1, no file)"
fi

echo
passed="$(grep -c '"pass": true' "$results" || true)"
echo "onnx: $passed outputs within bounds, ${#failed[@]} failure(s)"
if [ "${#failed[@]}" -gt 0 ]; then
  printf '  - %s\n' "${failed[@]}"
  exit 1
fi
echo "onnx: ok"
