#!/usr/bin/env bash
# Regenerates every committed fixture under Tests/Fixtures/ with real Keras and PyTorch.
#   tools/reference/make_fixtures.sh [--no-keras2] [--no-fmnist]
# Creates tools/reference/.venv (and .venv-keras2 for the Keras 2 files) when missing.
# Needs python3 (3.11) and the Debian package dataset-fashion-mnist.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
keras2=1
fmnist=1
for arg in "$@"; do
  case "$arg" in
    --no-keras2) keras2=0 ;;
    --no-fmnist) fmnist=0 ;;
    *) echo "usage: $0 [--no-keras2] [--no-fmnist]" >&2; exit 2 ;;
  esac
done

. "$here/venv.sh"  # make_venv

if [ "$fmnist" = 1 ] && [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  echo "Fashion-MNIST is missing: apt-get install -y dataset-fashion-mnist (or pass --no-fmnist)" >&2
  exit 1
fi

venv="$here/.venv"
make_venv "$venv" "$here/requirements.txt"

models=(mlp conv_ops depthwise_ops dag mobilenet_tiny)
if [ "$fmnist" = 1 ]; then models+=(fmnist_cnn); fi
echo "== Keras 3 models: ${models[*]}"
"$venv/bin/python" "$here/make_keras_fixtures.py" --only "${models[@]}"
echo "== nested models and keras.applications patterns"
"$venv/bin/python" "$here/make_keras_app_fixtures.py"

if [ "$keras2" = 1 ]; then
  echo "== Keras 2 (tf_keras) models"
  make_venv "$here/.venv-keras2" "$here/requirements-keras2.txt"
  "$here/.venv-keras2/bin/python" "$here/make_keras2_fixtures.py"
fi

echo "== broken files"
"$venv/bin/python" "$here/make_bad_fixtures.py"
echo "== gradients and optimizer steps"
"$venv/bin/python" "$here/make_grad_fixtures.py"
echo "== dataset preparation: image resize and preprocess_input modes"
"$venv/bin/python" "$here/make_data_fixtures.py"

du -sh "$repo/Tests/Fixtures"
