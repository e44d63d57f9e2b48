"""Keras 2 legacy HDF5 files, made by real tf_keras (Keras 2.x on TensorFlow).

Keras 2 names weights `<layer>/kernel:0` and writes its own model_config dialect
(`batch_input_shape`, `inbound_nodes` as nested lists), which adascale's reader must accept.
Writes into Tests/Fixtures/keras/ (or --out):
  keras2_seq.h5, keras2_seq.io.h5   Sequential: Conv2D, BatchNormalization, MaxPooling2D, Dense
  keras2_dag.h5, keras2_dag.io.h5   Functional: Rescaling, two branches, Add/Multiply/Concatenate,
                                    DepthwiseConv2D, SeparableConv2D, ReLU(6), two outputs
`.io.h5` holds `x` [4, ...] float32 and `y` (or `y0`, `y1`) from model.predict(x).

Run in a venv with requirements-keras2.txt:  python make_keras2_fixtures.py [--out DIR]
"""

import argparse
from pathlib import Path

import h5py
import numpy as np
import tf_keras as keras
from tf_keras import layers

SEED = 1234
BATCH = 4
REPO = Path(__file__).resolve().parents[2]


def keras2_seq():
    return keras.Sequential(
        [
            keras.Input((12, 12, 3)),
            layers.Conv2D(4, 3, activation="relu", name="conv1"),  # 10x10x4
            layers.BatchNormalization(name="bn1"),
            layers.MaxPooling2D(2, name="pool1"),  # 5x5x4
            layers.Conv2D(6, 3, strides=2, padding="same", use_bias=False, name="conv2"),  # 3x3x6
            layers.BatchNormalization(center=False, name="bn2"),
            layers.Activation("relu", name="relu2"),
            layers.Flatten(name="flatten"),  # 54
            layers.Dense(8, activation="relu", name="fc1"),
            layers.Dropout(0.2, name="dropout"),
            layers.Dense(4, activation="softmax", name="fc2"),
        ],
        name="keras2_seq",
    )


def keras2_dag():
    x = keras.Input((8, 8, 3), name="input")
    r = layers.Rescaling(1.0 / 255, offset=-0.5, name="rescale")(x)
    a = layers.Conv2D(4, 3, padding="same", activation="relu", name="branch_a")(r)
    b = layers.Conv2D(4, 1, activation="tanh", name="branch_b")(r)
    s = layers.Add(name="add")([a, b])
    m = layers.Multiply(name="multiply")([a, b])
    c = layers.Concatenate(name="concat")([s, m])  # 8x8x8
    d = layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=1,
                               name="depthwise")(c)  # 4x4x8
    d = layers.BatchNormalization(name="bn")(d)
    d = layers.ReLU(6.0, name="relu6")(d)
    p = layers.SeparableConv2D(6, 3, padding="same", activation="swish", name="separable")(d)
    g = layers.GlobalAveragePooling2D(name="gap")(p)
    out1 = layers.Dense(3, activation="softmax", name="out_class")(g)
    out2 = layers.Dense(2, name="out_reg")(layers.Flatten(name="flatten")(d))
    return keras.Model(x, [out1, out2], name="keras2_dag")


def randomize(model, rng):
    """Random biases and non-default BatchNorm variables, so every weight matters."""
    for layer in model.layers:
        for v in layer.weights:
            short = v.name.split("/")[-1].split(":")[0]
            n = v.shape
            value = {
                "bias": lambda: rng.normal(0.0, 0.2, n),
                "gamma": lambda: rng.uniform(0.5, 1.5, n),
                "beta": lambda: rng.normal(0.0, 0.3, n),
                "moving_mean": lambda: rng.normal(0.0, 0.3, n),
                "moving_variance": lambda: rng.uniform(0.5, 2.0, n),
            }.get(short)
            if value is not None:
                v.assign(value().astype("float32"))


# (gain on every kernel, extra gain on the head's kernel, head name): outputs must visibly
# depend on the input (softmax rows neither uniform nor saturated).
GAINS = {"keras2_seq": (1.0, 1.0, "fc2"), "keras2_dag": (2.0, 5.0, "out_class")}


def scale_kernels(model, gain, head_gain, head):
    for layer in model.layers:
        g = gain * (head_gain if layer.name == head else 1.0)
        for v in layer.weights:
            if "kernel" in v.name.split("/")[-1]:
                v.assign(v.numpy() * g)


def make(build, out, rng):
    keras.utils.set_random_seed(SEED)
    model = build()
    randomize(model, rng)
    scale_kernels(model, *GAINS[model.name])
    shape = (BATCH,) + tuple(model.input_shape[1:])
    x = (rng.uniform(0, 255, shape) if model.name == "keras2_dag"
         else rng.normal(0.0, 1.0, shape)).astype("float32")
    model.save(out / f"{model.name}.h5")
    y = model.predict(x, verbose=0)
    ys = y if isinstance(y, list) else [y]
    back = keras.models.load_model(out / f"{model.name}.h5", compile=False).predict(x, verbose=0)
    for a, b in zip(back if isinstance(back, list) else [back], ys):
        np.testing.assert_array_equal(a, b)
    with h5py.File(out / f"{model.name}.io.h5", "w") as f:
        f.create_dataset("x", data=x)
        if len(ys) == 1:
            f.create_dataset("y", data=ys[0].astype("float32"))
        else:
            for i, yi in enumerate(ys):
                f.create_dataset(f"y{i}", data=yi.astype("float32"))
        f.attrs["model"] = model.name
        f.attrs["keras_version"] = keras.__version__
        f.attrs["seed"] = SEED
    print(f"{model.name}: {model.count_params()} params, y {[v.shape for v in ys]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "Tests/Fixtures/keras")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    make(keras2_seq, args.out, np.random.default_rng(SEED + 100))
    make(keras2_dag, args.out, np.random.default_rng(SEED + 101))


if __name__ == "__main__":
    main()
