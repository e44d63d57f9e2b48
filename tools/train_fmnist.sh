#!/usr/bin/env bash
# The training acceptance check: "the Fashion-MNIST CNN trained from scratch reaches ≥ 90% test
# accuracy within 10 epochs; its .h5 loads in real Keras and Keras scores it the same".
#
#   tools/train_fmnist.sh [adascale train options…]
#
# Builds the release binary, then runs
#   adascale train --arch recipes/models/fmnist_cnn.yaml --dataset fashion-mnist \
#     --epochs 10 --batch-size 64 --seed 1 --output out/fmnist_cnn.h5
# with the options given here appended (the last occurrence wins: a quick check is
# `tools/train_fmnist.sh --epochs 1 --limit 10000`). Then it scores the saved .h5 on all 10,000
# test images with `adascale eval` and with real Keras 3 (tools/reference/keras_eval.py), prints
# both accuracies and their difference, and exits 0 only when adascale's accuracy is at least
# MIN_ACCURACY (default 0.90) and the two differ by at most ACCURACY_TOLERANCE (default 0.001,
# i.e. 10 images). About 10 × 30–60 s on two quiet cores.
#
# Environment: ADASCALE (binary; skips the build), MIN_ACCURACY, ACCURACY_TOLERANCE,
# REFERENCE_PYTHON (see tools/reference/venv.sh).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
min_accuracy="${MIN_ACCURACY:-0.90}"
tolerance="${ACCURACY_TOLERANCE:-0.001}"

output=out/fmnist_cnn.h5
previous=""
for arg in "$@"; do  # where the model goes, if the caller chose
  case "$arg" in --output=*) output="${arg#--output=}" ;; esac
  if [ "$previous" = --output ]; then output="$arg"; fi
  previous="$arg"
done
mkdir -p "$(dirname "$output")"

if [ -n "${ADASCALE:-}" ]; then
  bin="$ADASCALE"
else
  swift build -c release -j 2 2>&1 | grep -E "error|warning: |Compiling adascale|Build complete" || true
  bin=.build/release/adascale
fi
[ -x "$bin" ] || { echo "error: $bin was not built" >&2; exit 1; }

. tools/reference/venv.sh
py="$(keras_python)"

echo "== adascale train (seed 1, batch 64) $*"
start=$SECONDS
"$bin" train --arch recipes/models/fmnist_cnn.yaml --dataset fashion-mnist --epochs 10 --batch-size 64 --seed 1 \
  --output "$output" "$@"
train_seconds=$((SECONDS - start))

echo "== test accuracy of $output on the 10,000 Fashion-MNIST test images"
ada_json="$("$bin" eval --model "$output" --dataset fashion-mnist --json)"
keras_json="$("$py" tools/reference/keras_eval.py "$output")"
"$py" - "$ada_json" "$keras_json" "$min_accuracy" "$tolerance" "$train_seconds" <<'PY'
import json, sys
ada, keras = json.loads(sys.argv[1]), json.loads(sys.argv[2])
minimum, tolerance, seconds = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
a, k, n = ada["accuracy"], keras["accuracy"], keras["examples"]
diff = abs(a - k)
print(f"adascale eval : accuracy {a * 100:6.2f}%  loss {ada['loss']:.4f}  ({ada['examples']} images)")
print(f"Keras {keras['keras_version']:<8}: accuracy {k * 100:6.2f}%  loss {keras['loss']:.4f}  ({n} images, {keras['backend']})")
print(f"difference    : {diff * 100:.2f} pp ({round(diff * n)} images)")
print(f"training time : {seconds} s")
reached, same = a >= minimum, diff <= tolerance + 1e-12
print(f"acceptance    : {'PASS' if reached and same else 'FAIL'} "
      f"(accuracy {'≥' if reached else '<'} {minimum * 100:.0f}%; Keras loads the .h5 and "
      f"{'agrees' if same else 'disagrees'} within {tolerance * 100:.2f} pp)")
sys.exit(0 if reached and same else 1)
PY
