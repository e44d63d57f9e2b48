#!/usr/bin/env bash
# `make compress`: the AdaScale pipeline entry point.
#
# The compression pipeline (supernet training, search, bundle) is issue #6 and is not built yet.
# Until it lands this script does the part that exists: it evaluates the default model — a
# Fashion-MNIST CNN trained by real Keras (tools/reference/make_keras_fixtures.py) — with
# adascale on the Fashion-MNIST test set, and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
recipe="${1:-recipes/default.yaml}"
bin=.build/release/adascale
model=Tests/Fixtures/keras/fmnist_cnn.h5

echo "adascale compress: recipe $recipe"
echo "note: the compression pipeline (supernet, search, bundle) is not implemented yet (issue #6)."
echo "      Evaluating the default model on Fashion-MNIST instead."
"$bin" inspect "$model"
"$bin" eval --model "$model" --dataset fashion-mnist
