#!/usr/bin/env bash
# `make interop`: real Keras (3.15.1, JAX) reads what adascale writes and agrees with it.
#
#   tools/reference/check_interop.sh        (after `make build`; ADASCALE=path overrides the binary)
#
# 1. trains the Fashion-MNIST CNN from recipes/models/fmnist_cnn.yaml for 1 epoch (--limit 5000);
# 2. Keras loads that .h5 and predicts, on Tests/Fixtures/keras/fmnist_cnn.io.h5's inputs, what
#    `adascale predict` predicts (check_keras_loads.py: 1e-4 relative to the output scale);
# 3. every single-output Keras fixture is re-saved by adascale (`adascale train --model X
#    --epochs 1 --limit 64` on random data of the model's shape: the only command that writes
#    models) and checked the same way; multi-output fixtures are reported as skipped;
# 4. Keras scores the trained CNN on the Fashion-MNIST test set (keras_eval.py) and its accuracy
#    must equal `adascale eval`'s within ACCURACY_TOLERANCE (default 0.001 = 10 of 10,000 images);
# 5. every compression operator (and some chains) is applied to the CNN and MobileNet-tiny
#    fixtures with `adascale apply`, and Keras must predict what `adascale predict` predicts on
#    each result (all outputs, early exits included);
# 6. tools/reference/check_onnx.sh: every fixture, operator result (same list) and variant of
#    BUNDLE (default bundles/fmnist) exported to ONNX, checked by onnx.checker and run by
#    onnxruntime against `adascale predict`.
#
# The reference Python comes from tools/reference/venv.sh (`keras_python`). Exits 1 on any
# mismatch, with a summary of what failed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
bin="${ADASCALE:-$repo/.build/release/adascale}"
tolerance="${ACCURACY_TOLERANCE:-0.001}"
fixtures=Tests/Fixtures/keras
if [ ! -x "$bin" ]; then echo "error: $bin not found; run make build first" >&2; exit 1; fi

. "$here/venv.sh"
py="$(keras_python)"
work="$(mktemp -d "${TMPDIR:-/tmp}/adascale-interop.XXXXXX")"
trap 'rm -rf "$work"' EXIT
failed=()
fail() { echo "FAIL $1"; failed+=("$1"); }
# keras_agrees LABEL MODEL.h5 FIXTURE PRED.h5: adascale predicts FIXTURE.io.h5's inputs into
# PRED.h5, and Keras must load MODEL.h5 and predict the same.
keras_agrees() {
  if ! "$bin" predict --model "$2" --input "$fixtures/$3.io.h5" --output "$4" >/dev/null; then
    fail "$1: adascale predict"
    return
  fi
  "$py" "$here/check_keras_loads.py" "$2" "$fixtures/$3.io.h5" --expected "$4" || fail "$1: Keras disagrees"
}
json_field() { "$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
echo "adascale: $bin"
echo "python:   $py ($("$py" -c 'import keras; print("keras", keras.__version__)' 2>/dev/null))"

echo
echo "== 1. train fmnist_cnn from recipes/models/fmnist_cnn.yaml: 1 epoch, --limit 5000"
cnn="$work/fmnist_cnn.h5"
start=$SECONDS
"$bin" train --arch recipes/models/fmnist_cnn.yaml --dataset fashion-mnist --epochs 1 --limit 5000 \
  --batch-size 64 --seed 1 --output "$cnn"
echo "($((SECONDS - start)) s)"

echo
echo "== 2. Keras loads it and predicts what adascale predicts on $fixtures/fmnist_cnn.io.h5"
keras_agrees "trained fmnist_cnn" "$cnn" fmnist_cnn "$work/fmnist_cnn.pred.h5"

echo
echo "== 3. Keras fixtures re-saved by adascale (train --epochs 1 --limit 64 on random data)"
mkdir -p "$work/resaved"
for model in mlp conv_ops depthwise_ops mobilenet_tiny fmnist_cnn keras2_seq dag keras2_dag \
  nested_transfer nested_deep mobilenet_v3_tiny efficientnet_tiny broadcast_ops; do
  src="$fixtures/$model.h5"
  out="$work/resaved/$model.h5"
  if ! "$bin" inspect --json "$src" >"$work/$model.inspect.json"; then fail "$model: adascale inspect"; continue; fi
  # A dataset of 64 random examples shaped like the model's input, labels for its one output.
  status=0
  "$py" - "$work/$model.inspect.json" "$work/$model.data.h5" <<'PY' || status=$?
import json, sys
import h5py, numpy as np
info = json.load(open(sys.argv[1]))
shapes = {layer["name"]: layer["outputShape"] for layer in info["layers"]}
outputs = [shapes[o] for o in info["outputs"]]
if len(outputs) != 1 or len(outputs[0]) != 1:
    print(f"SKIP {info['file']}: outputs {outputs}; adascale train (the only command that writes "
          "models) needs exactly one [classes] output")
    sys.exit(3)
rng = np.random.default_rng(1)
with h5py.File(sys.argv[2], "w") as f:
    for split, n in (("train", 64), ("test", 16)):
        f[f"x_{split}"] = rng.uniform(0, 1, [n] + info["inputShape"]).astype(np.float32)
        f[f"y_{split}"] = rng.integers(0, outputs[0][0], n)
PY
  if [ "$status" = 3 ]; then continue; fi
  if [ "$status" != 0 ]; then fail "$model: could not make its random dataset"; continue; fi
  if ! "$bin" train --model "$src" --dataset "$work/$model.data.h5" --epochs 1 --limit 64 --seed 1 \
    --output "$out" >"$work/$model.train.log" 2>&1; then
    cat "$work/$model.train.log"
    fail "$model: adascale train --model $src"
    continue
  fi
  keras_agrees "$model re-saved by adascale" "$out" "$model" "$work/$model.pred.h5"
done

echo
echo "== 4. Fashion-MNIST test set: Keras' accuracy of the trained CNN vs adascale eval's"
"$bin" eval --model "$cnn" --dataset fashion-mnist --json >"$work/adascale_eval.json"
"$py" "$here/keras_eval.py" "$cnn" >"$work/keras_eval.json"
ada_acc="$(json_field "$work/adascale_eval.json" accuracy)"
ada_loss="$(json_field "$work/adascale_eval.json" loss)"
keras_acc="$(json_field "$work/keras_eval.json" accuracy)"
keras_loss="$(json_field "$work/keras_eval.json" loss)"
examples="$(json_field "$work/keras_eval.json" examples)"
verdict="$("$py" -c '
import sys
a, k, tol = map(float, sys.argv[1:4])
print(f"difference {abs(a - k) * 100:.2f} pp ({round(abs(a - k) * int(sys.argv[4]))} images), tolerance {tol * 100:.2f} pp")
sys.exit(0 if abs(a - k) <= tol + 1e-12 else 1)' "$ada_acc" "$keras_acc" "$tolerance" "$examples")" && same=1 || same=0
printf '%-9s accuracy %.4f  loss %.4f  (%s test images)\n' adascale "$ada_acc" "$ada_loss" "$examples"
printf '%-9s accuracy %.4f  loss %.4f\n' Keras "$keras_acc" "$keras_loss"
echo "$verdict"
if [ "$same" != 1 ]; then fail "Keras and adascale score the trained CNN differently"; fi

echo
echo "== 5. every operator's output (adascale apply, no fine-tuning): Keras predicts what adascale predicts"
mkdir -p "$work/ops"
while IFS='|' read -r model args; do
  slug="$(echo "$model $args" | tr -c 'A-Za-z0-9.\n' '_')"
  out="$work/ops/$slug.h5"
  # shellcheck disable=SC2086
  if ! "$bin" apply --model "$fixtures/$model.h5" $args --output "$out" >"$work/ops/$slug.log" 2>&1; then
    cat "$work/ops/$slug.log"
    fail "$model $args: adascale apply"
    continue
  fi
  echo "-- $model $args"
  keras_agrees "$model $args" "$out" "$model" "$work/ops/$slug.pred.h5"
done < <(grep -v '^#' "$here/operator_cases.txt")

echo
echo "== 6. ONNX: onnx.checker and onnxruntime on every exported fixture, operator result and bundle variant"
"$here/check_onnx.sh" || fail "ONNX export (tools/reference/check_onnx.sh; its summary is above)"

echo
if [ "${#failed[@]}" -gt 0 ]; then
  echo "interop: ${#failed[@]} failure(s):"
  printf '  - %s\n' "${failed[@]}"
  exit 1
fi
echo "interop: ok"
