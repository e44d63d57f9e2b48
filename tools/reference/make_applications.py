"""Builds keras.applications families with real Keras 3 (JAX) for check_applications.sh.

Usage: make_applications.py OUT [--only FAMILY ...] [--size 32]

For each family, writes OUT/FAMILY.h5 (legacy), OUT/FAMILY.keras and OUT/FAMILY.io.h5 (`x`: 4
inputs, `y`: Keras's predictions) and prints one JSON line {"family", "params", "layers",
"input"}. Weights: random init (weights=None, seed 1234), then BatchNorm statistics, biases and
Normalization statistics perturbed as in make_keras_fixtures.py, so outputs depend on the input.
Inputs are pixels in [0, 255] (each example at its own brightness) for the families that
rescale inside the model (MobileNetV3, EfficientNet), else uniform in [-1, 1].
Run with KERAS_BACKEND=jax.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("KERAS_BACKEND", "jax")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_keras_app_fixtures import all_layers, randomize_normalization  # noqa: E402
from make_keras_fixtures import SEED, randomize_batchnorm, randomize_biases  # noqa: E402

A = keras.applications
CLASSES = 10


def transfer(size):
    """The transfer-learning pattern: a MobileNetV2 base used as a layer, then a new head."""
    base = A.MobileNetV2(include_top=False, weights=None, input_shape=(size, size, 3))
    inp = keras.Input((size, size, 3))
    x = base(inp)
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Dense(CLASSES, activation="softmax")(x)
    return keras.Model(inp, out, name="transfer_mobilenetv2")


FAMILIES = {
    "MobileNet": lambda s: A.MobileNet(input_shape=(s, s, 3), weights=None, classes=CLASSES),
    "MobileNetV2": lambda s: A.MobileNetV2(input_shape=(s, s, 3), weights=None, classes=CLASSES),
    "MobileNetV3Small": lambda s: A.MobileNetV3Small(input_shape=(s, s, 3), weights=None,
                                                     classes=CLASSES),
    "MobileNetV3Large": lambda s: A.MobileNetV3Large(input_shape=(s, s, 3), weights=None,
                                                     classes=CLASSES),
    "ResNet50": lambda s: A.ResNet50(input_shape=(s, s, 3), weights=None, classes=CLASSES),
    "DenseNet121": lambda s: A.DenseNet121(input_shape=(s, s, 3), weights=None, classes=CLASSES),
    "EfficientNetB0": lambda s: A.EfficientNetB0(input_shape=(s, s, 3), weights=None,
                                                 classes=CLASSES),
    "EfficientNetV2B0": lambda s: A.EfficientNetV2B0(input_shape=(s, s, 3), weights=None,
                                                     classes=CLASSES),
    "NestedTransfer": transfer,
}
PIXEL_INPUTS = {"MobileNetV3Small", "MobileNetV3Large", "EfficientNetB0", "EfficientNetV2B0"}


def build(family, size, out):
    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    model = FAMILIES[family](size)
    leaves = SimpleNamespace(layers=all_layers(model))
    randomize_batchnorm(leaves, rng)
    randomize_biases(leaves, rng)
    randomize_normalization(leaves.layers, rng)
    shape = (4, size, size, 3)
    if family in PIXEL_INPUTS:
        brightness = np.linspace(0.25, 1.0, 4).reshape(4, 1, 1, 1)
        x = rng.uniform(0, 255, shape) * brightness
    else:
        x = rng.uniform(-1, 1, shape)
    x = x.astype("float32")
    y = np.asarray(model.predict(x, verbose=0), dtype="float32")
    model.save(out / f"{family}.h5")
    model.save(out / f"{family}.keras")
    with h5py.File(out / f"{family}.io.h5", "w") as f:
        f["x"] = x
        f["y"] = y
    print(json.dumps({"family": family, "params": int(model.count_params()),
                      "layers": len(leaves.layers), "input": list(shape[1:])}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--only", nargs="*", choices=list(FAMILIES))
    parser.add_argument("--size", type=int, default=32)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for family in args.only or list(FAMILIES):
        build(family, args.size, args.out)


if __name__ == "__main__":
    main()
