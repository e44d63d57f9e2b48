"""Reference models and outputs made by real Keras 3 (JAX backend).

Writes into Tests/Fixtures/keras/ (or --out), for each small model NAME:
  NAME.h5           legacy HDF5 (model.save("NAME.h5"))
  NAME.keras        Keras 3 zip (config.json + metadata.json + model.weights.h5)
  NAME.weights.h5   Keras 3 weights-only file (model.save_weights)
  NAME.config.json  the config.json found inside NAME.keras, byte for byte
  NAME.io.h5        x: float32 input [4, ...]; y (or y0, y1, ...): model.predict(x)
and for the trained Fashion-MNIST CNN only fmnist_cnn.h5, fmnist_cnn.keras,
fmnist_cnn.io.h5 and fmnist_cnn.json (size budget).

Run with KERAS_BACKEND=jax:  python make_keras_fixtures.py [--out DIR] [--only NAME ...]
"""

import argparse
import gzip
import json
import os
import time
import zipfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

SEED = 1234
BATCH = 4
FMNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FMNIST_EPOCHS = 4
REPO = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- models


def mlp():
    """Dense stack: every fused Dense activation, no-bias and linear Dense, Dropout."""
    x = keras.Input((20,), name="input")
    h = layers.Dense(16, activation="relu", name="dense_relu")(x)
    h = layers.Dropout(0.25, name="dropout")(h)
    h = layers.Dense(12, activation="tanh", name="dense_tanh")(h)
    h = layers.Dense(10, use_bias=False, name="dense_nobias_linear")(h)
    h = layers.Dense(8, activation="sigmoid", name="dense_sigmoid")(h)
    h = layers.Dense(6, activation="linear", name="dense_linear")(h)
    y = layers.Dense(5, activation="softmax", name="dense_softmax")(h)
    return keras.Model(x, y, name="mlp")


def conv_ops():
    """Conv2D options, BatchNorm variants, pooling valid/same with strides != pool, ZeroPadding."""
    return keras.Sequential(
        [
            keras.Input((16, 16, 3), name="input"),
            layers.ZeroPadding2D(((1, 2), (0, 1)), name="zero_pad"),  # 19x17
            layers.Conv2D(6, 3, padding="valid", activation="relu", name="conv_valid"),  # 17x15
            layers.BatchNormalization(name="bn"),
            layers.MaxPooling2D(3, strides=2, padding="same", name="max_pool_same"),  # 9x8
            layers.Conv2D(8, 3, padding="same", dilation_rate=2, use_bias=False,
                          name="conv_dilated_nobias"),  # 9x8
            layers.BatchNormalization(center=False, name="bn_no_center"),
            layers.AveragePooling2D(2, strides=1, padding="valid", name="avg_pool_valid"),  # 8x7
            layers.Conv2D(8, 3, strides=2, padding="same", activation="relu",
                          name="conv_same_s2"),  # 4x4
            layers.BatchNormalization(scale=False, name="bn_no_scale"),
            layers.Conv2D(6, (2, 3), strides=(1, 2), padding="valid", name="conv_2x3_s12"),  # 3x1
            layers.ZeroPadding2D(1, name="zero_pad_sym"),  # 5x3
            layers.MaxPooling2D(2, strides=1, padding="valid", name="max_pool_valid"),  # 4x2
            layers.AveragePooling2D(3, strides=2, padding="same", name="avg_pool_same"),  # 2x1
            layers.Conv2D(5, 1, name="conv_1x1"),  # 2x1x5
            layers.BatchNormalization(center=False, scale=False, epsilon=1e-2, momentum=0.9,
                                      name="bn_plain"),
            layers.Flatten(name="flatten"),  # 10
            layers.Dense(4, activation="softmax", name="dense_softmax"),
        ],
        name="conv_ops",
    )


ACTIVATIONS = ["relu", "relu6", "sigmoid", "tanh", "swish", "silu", "hard_sigmoid",
               "hard_swish", "hard_silu", "gelu", "elu", "softplus", "linear"]


def depthwise_ops():
    """DepthwiseConv2D/SeparableConv2D options, ReLU options, every Activation, global pools."""
    x = keras.Input((16, 16, 4), name="input")
    h = layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2,
                               name="dw_s2_same_m2")(x)  # 8x8x8
    h = layers.ReLU(max_value=6.0, name="relu_max6")(h)
    h = layers.DepthwiseConv2D(3, padding="same", dilation_rate=2, activation="relu6",
                               name="dw_dilated_relu6")(h)  # 8x8x8
    h = layers.DepthwiseConv2D(3, padding="valid", use_bias=False, name="dw_valid_nobias")(h)  # 6x6x8
    h = layers.ReLU(negative_slope=0.1, name="relu_leaky")(h)
    h = layers.SeparableConv2D(6, 3, padding="same", depth_multiplier=2, activation="gelu",
                               name="sep_same_m2_gelu")(h)  # 6x6x6
    h = layers.ReLU(threshold=0.5, name="relu_threshold")(h)
    h = layers.SeparableConv2D(8, 3, strides=2, padding="valid", use_bias=False,
                               name="sep_s2_valid_nobias")(h)  # 2x2x8
    h = layers.ReLU(max_value=6.0, negative_slope=0.2, threshold=0.3, name="relu_all")(h)
    t = layers.SeparableConv2D(8, 3, padding="same", dilation_rate=2, activation="swish",
                               name="sep_dilated_swish")(x)  # 16x16x8 (second branch)
    t = layers.MaxPooling2D(4, name="max_pool")(t)  # 4x4x8
    pooled = []
    for i, name in enumerate(ACTIVATIONS):
        a = layers.Activation(name, name=f"act_{name}")(t)
        if i % 3 == 0:
            p = layers.GlobalAveragePooling2D(name=f"gap_{name}")(a)
        elif i % 3 == 1:
            p = layers.GlobalMaxPooling2D(name=f"gmp_{name}")(a)
        else:
            p = layers.GlobalAveragePooling2D(keepdims=True, name=f"gap_keep_{name}")(a)
            p = layers.Flatten(name=f"flatten_{name}")(p)
        pooled.append(p)
    k = layers.GlobalMaxPooling2D(keepdims=True, name="gmp_keep")(h)  # 1x1x8
    pooled.append(layers.Reshape((8,), name="reshape_gmp_keep")(k))
    pooled.append(layers.GlobalAveragePooling2D(name="gap_trunk")(h))
    z = layers.Concatenate(name="concat")(pooled)  # 15 * 8
    z = layers.Dense(6, name="logits")(z)
    y = layers.Softmax(name="softmax")(z)
    return keras.Model(x, y, name="depthwise_ops")


def dag():
    """Rescaling, Add/Multiply (2 and 3 inputs), Concatenate on channel/H/W axes, Reshape, 2 outputs."""
    x = keras.Input((8, 8, 3), name="input")
    r = layers.Rescaling(1.0 / 255, offset=-0.5, name="rescale")(x)
    a = layers.Conv2D(4, 3, padding="same", activation="relu", name="branch_a")(r)
    b = layers.Conv2D(4, 1, activation="tanh", name="branch_b")(r)
    c = layers.Conv2D(4, 3, padding="same", name="branch_c")(r)
    add2 = layers.Add(name="add")([a, b])
    add3 = layers.Add(name="add3")([a, b, c])
    mul = layers.Multiply(name="multiply")([add2, c])
    mul3 = layers.Multiply(name="multiply3")([a, b, c])
    cat_c = layers.Concatenate(axis=-1, name="concat_channels")([add2, mul, add3])  # 8x8x12
    cat_h = layers.Concatenate(axis=1, name="concat_h")([mul3, add3])  # 16x8x4
    cat_w = layers.Concatenate(axis=-2, name="concat_w")([cat_h, cat_h])  # 16x16x4
    head1 = layers.GlobalAveragePooling2D(name="gap")(cat_c)
    out1 = layers.Dense(3, activation="softmax", name="out_class")(head1)
    s = layers.Conv2D(2, 1, name="squeeze")(cat_w)  # 16x16x2
    s = layers.Reshape((32, 16), name="reshape")(s)
    s = layers.Dense(4, name="dense_3d")(s)  # 32x4 (Dense on the last axis)
    out2 = layers.Reshape((-1,), name="out_flat")(s)  # 128
    return keras.Model(x, [out1, out2], name="dag")


def _inverted_residual(h, expand, out, stride, name):
    inp = h
    cin = h.shape[-1]
    h = layers.Conv2D(expand, 1, use_bias=False, name=f"{name}_expand")(h)
    h = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name=f"{name}_expand_BN")(h)
    h = layers.ReLU(6.0, name=f"{name}_expand_relu")(h)
    if stride == 2:
        h = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"{name}_pad")(h)
    h = layers.DepthwiseConv2D(3, strides=stride, padding="same" if stride == 1 else "valid",
                               use_bias=False, name=f"{name}_depthwise")(h)
    h = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name=f"{name}_depthwise_BN")(h)
    h = layers.ReLU(6.0, name=f"{name}_depthwise_relu")(h)
    h = layers.Conv2D(out, 1, use_bias=False, name=f"{name}_project")(h)
    h = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name=f"{name}_project_BN")(h)
    if stride == 1 and cin == out:
        h = layers.Add(name=f"{name}_add")([inp, h])
    return h


def mobilenet_tiny():
    """MobileNetV2-style net with keras.applications naming."""
    x = keras.Input((16, 16, 3), name="input")
    h = layers.ZeroPadding2D(((0, 1), (0, 1)), name="Conv1_pad")(x)
    h = layers.Conv2D(4, 3, strides=2, padding="valid", use_bias=False, name="Conv1")(h)  # 8x8x4
    h = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name="bn_Conv1")(h)
    h = layers.ReLU(6.0, name="Conv1_relu")(h)
    h = _inverted_residual(h, expand=8, out=4, stride=1, name="block_1")  # residual
    h = _inverted_residual(h, expand=8, out=6, stride=2, name="block_2")  # 4x4x6
    h = layers.GlobalAveragePooling2D(name="global_average_pooling2d")(h)
    y = layers.Dense(5, activation="softmax", name="predictions")(h)
    return keras.Model(x, y, name="mobilenet_tiny")


def fmnist_cnn():
    return keras.Sequential(
        [
            keras.Input((28, 28, 1), name="input"),
            layers.Conv2D(32, 3, padding="same", name="conv1"),
            layers.BatchNormalization(name="bn1"),
            layers.ReLU(name="relu1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 3, padding="same", name="conv2"),
            layers.BatchNormalization(name="bn2"),
            layers.ReLU(name="relu2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(64, activation="relu", name="fc1"),
            layers.Dropout(0.3, name="dropout"),
            layers.Dense(10, activation="softmax", name="fc2"),
        ],
        name="fmnist_cnn",
    )


# ---------------------------------------------------------------- helpers


def randomize_batchnorm(model, rng):
    """Non-default gamma/beta/moving stats so every BatchNorm variable matters."""
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            for v in layer.weights:
                n = v.shape[0]
                short = v.path.split("/")[-1]
                if short == "gamma":
                    value = rng.uniform(0.5, 1.5, n)
                elif short == "beta":
                    value = rng.normal(0.0, 0.3, n)
                elif short == "moving_mean":
                    value = rng.normal(0.0, 0.3, n)
                elif short == "moving_variance":
                    value = rng.uniform(0.5, 2.0, n)
                else:
                    raise ValueError(f"unexpected BatchNorm variable {v.path}")
                v.assign(value.astype("float32"))


def randomize_biases(model, rng):
    """Random biases (Keras initialises them to zero, which would hide a missing bias add)."""
    for layer in model.layers:
        for v in layer.weights:
            if v.path.split("/")[-1] == "bias":
                v.assign(rng.normal(0.0, 0.2, v.shape).astype("float32"))


def save_all(model, out, x, full=True):
    """Writes NAME.h5, NAME.keras, [NAME.weights.h5, NAME.config.json,] NAME.io.h5."""
    name = model.name
    model.save(out / f"{name}.h5")
    model.save(out / f"{name}.keras")
    if full:
        model.save_weights(out / f"{name}.weights.h5")
        with zipfile.ZipFile(out / f"{name}.keras") as z:
            (out / f"{name}.config.json").write_bytes(z.read("config.json"))
    y = model.predict(x, verbose=0)
    with h5py.File(out / f"{name}.io.h5", "w") as f:
        f.create_dataset("x", data=x.astype("float32"))
        if isinstance(y, (list, tuple)):
            for i, yi in enumerate(y):
                f.create_dataset(f"y{i}", data=np.asarray(yi, dtype="float32"))
        else:
            f.create_dataset("y", data=np.asarray(y, dtype="float32"))
        f.attrs["model"] = name
        f.attrs["keras_version"] = keras.__version__
        f.attrs["seed"] = SEED
    check_round_trip(model, out, x, y, full)
    outs = [np.asarray(v).shape for v in (y if isinstance(y, (list, tuple)) else [y])]
    print(f"{name}: {model.count_params()} params, x {x.shape}, y {outs}")
    return y


# (gain on every kernel, extra gain on the head layer's kernel, head layer name), chosen so
# that outputs visibly depend on the input: softmax rows are neither uniform nor saturated.
GAINS = {
    "mlp": (1.5, 1.0, "dense_softmax"),
    "conv_ops": (1.0, 6.0, "dense_softmax"),
    "depthwise_ops": (1.0, 3.0, "logits"),
    "dag": (1.0, 6.0, "out_class"),
    "mobilenet_tiny": (2.0, 1.0, "predictions"),
}


def scale_kernels(model, gain, head_gain, head):
    for layer in model.layers:
        g = gain * (head_gain if layer.name == head else 1.0)
        for v in layer.weights:
            if "kernel" in v.path.split("/")[-1]:
                v.assign(v.numpy() * g)


def check_round_trip(model, out, x, y, full):
    """Each written file, loaded back by Keras, must predict exactly y."""
    name = model.name
    loaded = [keras.models.load_model(out / f"{name}.h5", compile=False),
              keras.models.load_model(out / f"{name}.keras", compile=False)]
    if full:
        config = json.loads((out / f"{name}.config.json").read_text())
        fresh = keras.saving.deserialize_keras_object(config)
        fresh.load_weights(out / f"{name}.weights.h5")
        loaded.append(fresh)
    expected = y if isinstance(y, (list, tuple)) else [y]
    for m in loaded:
        got = m.predict(x, verbose=0)
        got = got if isinstance(got, (list, tuple)) else [got]
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def make_small(name, out, rng):
    keras.utils.set_random_seed(SEED)
    model = globals()[name]()
    randomize_batchnorm(model, rng)
    randomize_biases(model, rng)
    scale_kernels(model, *GAINS[name])
    shape = (BATCH,) + tuple(model.input_shape[1:])
    if name == "dag":
        x = rng.uniform(0, 255, shape)  # raw pixels; the model rescales
    else:
        x = rng.normal(0.0, 1.0, shape)
    x = x.astype("float32")
    if name == "mlp":
        # Compile and take one Adam step so the files also carry optimizer state and a
        # training config, as users' files do; readers must skip them.
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, np.arange(BATCH) % 5, batch_size=BATCH, epochs=1, verbose=0)
    save_all(model, out, x)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fmnist():
    def images(name):
        return (read_idx(FMNIST_DIR / name).astype("float32") / 255.0)[..., None]

    def labels(name):
        return read_idx(FMNIST_DIR / name).astype("int32")

    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


def make_fmnist(out):
    keras.utils.set_random_seed(SEED)
    xtr, ytr, xte, yte = load_fmnist()
    model = fmnist_cnn()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.time()
    model.fit(xtr, ytr, batch_size=64, epochs=FMNIST_EPOCHS, verbose=2)
    seconds = time.time() - start
    _, acc = model.evaluate(xte, yte, batch_size=256, verbose=0)
    # An uncompiled copy, so the files hold no optimizer state (size budget).
    plain = fmnist_cnn()
    plain.set_weights(model.get_weights())
    save_all(plain, out, xte[:64], full=False)
    info = {
        "test_accuracy": float(acc),
        "params": int(plain.count_params()),
        "trainable_params": int(sum(int(np.prod(v.shape)) for v in plain.trainable_weights)),
        "epochs": FMNIST_EPOCHS,
        "batch_size": 64,
        "optimizer": "Adam(learning_rate=1e-3)",
        "seed": SEED,
        "train_seconds": round(seconds, 1),
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
    }
    (out / "fmnist_cnn.json").write_text(json.dumps(info, indent=2) + "\n")
    print("fmnist_cnn:", info)


SMALL = ["mlp", "conv_ops", "depthwise_ops", "dag", "mobilenet_tiny"]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "Tests/Fixtures/keras")
    parser.add_argument("--only", nargs="*", choices=SMALL + ["fmnist_cnn"],
                        help="models to make (default: all)")
    args = parser.parse_args()
    assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"
    args.out.mkdir(parents=True, exist_ok=True)
    wanted = args.only or SMALL + ["fmnist_cnn"]
    for i, name in enumerate(SMALL):
        if name in wanted:
            make_small(name, args.out, np.random.default_rng(SEED + i))
    if "fmnist_cnn" in wanted:
        make_fmnist(args.out)


if __name__ == "__main__":
    main()
