"""Broken and unsupported model files, for adascale's error paths.

Reads the good files in Tests/Fixtures/keras/ (run make_keras_fixtures.py first) and writes
Tests/Fixtures/bad/ (or --out) plus its README.md, one line per file naming what is broken.

Run with KERAS_BACKEND=jax:  python make_bad_fixtures.py [--good DIR] [--out DIR]
"""

import argparse
import os
import shutil
import zipfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

SEED = 1234
REPO = Path(__file__).resolve().parents[2]
CONV_OPS_LAYER = "model_weights/{0}/conv_ops/{0}/kernel"


def truncated(good, out):
    data = (good / "conv_ops.h5").read_bytes()
    (out / "truncated.h5").write_bytes(data[: len(data) // 2])
    return f"the first {len(data) // 2} of {len(data)} bytes of keras/conv_ops.h5"


def not_hdf5(good, out):
    (out / "not_hdf5.h5").write_text("This is a text file, not HDF5.\nconv_ops.h5 lives elsewhere.\n")
    return "a plain text file with an .h5 name"


def unknown_layer(good, out):
    keras.utils.set_random_seed(SEED)
    model = keras.Sequential([keras.Input((6, 4), name="input"),
                              layers.GRU(3, name="gru"),
                              layers.Dense(2, name="dense")], name="recurrent")
    model.save(out / "unknown_layer.h5")
    return "a real Keras 3 model whose layer `gru` is a GRU (class_name \"GRU\"), unsupported"


def shared_nested(good, out):
    keras.utils.set_random_seed(SEED)
    inner = keras.Sequential([keras.Input((5,)), layers.Dense(5, activation="relu", name="inner_dense1"),
                              layers.Dense(5, name="inner_dense2")], name="inner")
    x = keras.Input((5,), name="input")
    y = layers.Dense(2, name="outer_dense")(inner(inner(x)))
    keras.Model(x, y, name="shared").save(out / "shared_nested.h5")
    return ("a Functional model that calls its nested Sequential `inner` twice (a shared layer, "
            "unsupported; nested models used once load)")


def missing_weight(good, out):
    path = out / "missing_weight.h5"
    shutil.copy(good / "conv_ops.h5", path)
    key = CONV_OPS_LAYER.format("conv_same_s2")
    with h5py.File(path, "r+") as f:
        del f[key]
    return f"conv_ops.h5 without dataset `{key}` (still listed in the layer's weight_names)"


def wrong_shape(good, out):
    path = out / "wrong_shape.h5"
    shutil.copy(good / "conv_ops.h5", path)
    key = CONV_OPS_LAYER.format("conv_valid")
    with h5py.File(path, "r+") as f:
        old = f[key].shape
        del f[key]
        f.create_dataset(key, data=np.ones((3, 3, 3, 5), dtype="float32"))
    return f"conv_ops.h5 with `{key}` of shape [3, 3, 3, 5] instead of {list(old)}"


def nan_weights(good, out):
    path = out / "nan_weights.h5"
    shutil.copy(good / "conv_ops.h5", path)
    key = CONV_OPS_LAYER.format("conv_1x1")
    with h5py.File(path, "r+") as f:
        f[key][0, 0, 1, 2] = np.nan
    return f"conv_ops.h5 with a NaN at [0, 0, 1, 2] of `{key}`"


def wrong_input(good, out):
    with h5py.File(good / "conv_ops.io.h5") as src, h5py.File(out / "wrong_input.io.h5", "w") as f:
        x = src["x"][()]
        f.create_dataset("x", data=np.concatenate([x, x[..., :1]], axis=-1))  # 4 channels
        f.create_dataset("y", data=src["y"][()])
    return "conv_ops input/output pair whose `x` is [4, 16, 16, 4]; conv_ops expects [N, 16, 16, 3]"


def corrupt_keras(good, out):
    rng = np.random.default_rng(SEED)
    with zipfile.ZipFile(good / "conv_ops.keras") as src, \
            zipfile.ZipFile(out / "corrupt.keras", "w", zipfile.ZIP_DEFLATED) as dst:
        for name in ("metadata.json", "config.json"):
            dst.writestr(name, src.read(name))
        dst.writestr("model.weights.h5", rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return ("conv_ops.keras with its config.json and metadata.json, but `model.weights.h5` is "
            "4096 random bytes")


MAKERS = [("truncated.h5", truncated), ("not_hdf5.h5", not_hdf5),
          ("unknown_layer.h5", unknown_layer), ("shared_nested.h5", shared_nested),
          ("missing_weight.h5", missing_weight), ("wrong_shape.h5", wrong_shape),
          ("nan_weights.h5", nan_weights), ("wrong_input.io.h5", wrong_input),
          ("corrupt.keras", corrupt_keras)]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--good", type=Path, default=REPO / "Tests/Fixtures/keras")
    parser.add_argument("--out", type=Path, default=REPO / "Tests/Fixtures/bad")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    lines = ["# Broken fixtures", "",
             "Made by `tools/reference/make_bad_fixtures.py` from the good files in "
             "`../keras/`. Every reader must reject each with an `AdaError` naming the file and "
             "the path below (never crash, never load silently).", ""]
    for name, make in MAKERS:
        lines.append(f"- `{name}`: {make(args.good, args.out)}.")
        print(name)
    (args.out / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
