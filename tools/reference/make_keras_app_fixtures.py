"""Nested models and keras.applications patterns, made by real Keras 3 (JAX backend).

Writes into Tests/Fixtures/keras/ (or --out), for each model NAME, the same five files as
make_keras_fixtures.py (NAME.h5, NAME.keras, NAME.weights.h5, NAME.config.json, NAME.io.h5):

  nested_transfer    transfer learning: a frozen functional base called on a rescaled input, then
                     a conv whose name `head_conv` collides with a base layer's, then a Sequential
                     head (GAP + Dense) as the model's output
  nested_deep        Sequential > Sequential > two Sequentials with equal layer names, one frozen
  mobilenet_v3_tiny  a MobileNetV3 block built with keras.src.applications.mobilenet_v3's own
                     functions: hard_swish, hard_sigmoid = ReLU(6)(x + 3) * (1/6) (ops with
                     constants), squeeze-excite Multiply [N,1,1,C] x [N,H,W,C], residual Add
  efficientnet_tiny  keras.src.applications.efficientnet.EfficientNet with width 0.25 and two
                     small stages: Rescaling + Normalization (adapted statistics), swish, SE with
                     Reshape, stochastic-depth Dropout(noise_shape=(None, 1, 1, 1)), top Dropout
  broadcast_ops      broadcasting Add/Multiply (SE gate, channel gate, lower rank, 3 inputs),
                     Normalization (weights, config mean/variance, invert), per-channel Rescaling,
                     ops with constants (x + c, c - x, x / c, x * c), Dropout with noise_shape

Weights: random init (seed 1234), then random biases, BatchNorm and Normalization statistics and
per-model kernel gains, as in make_keras_fixtures.py, every nested layer included.

Run with KERAS_BACKEND=jax:  python make_keras_app_fixtures.py [--out DIR] [--only NAME ...]
"""

import argparse
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402
from keras.src.applications import efficientnet as E  # noqa: E402
from keras.src.applications import mobilenet_v3 as M3  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_keras_fixtures as base_fixtures  # noqa: E402
from make_keras_fixtures import (  # noqa: E402
    BATCH, REPO, SEED, randomize_batchnorm, randomize_biases, save_all, scale_kernels)

_strict_round_trip = base_fixtures.check_round_trip


def tolerant_round_trip(model, out, x, y, full):
    """Like make_keras_fixtures.check_round_trip, but Keras 3.15.1 cannot reload its own legacy
    .h5 of a model with ops on constants (`x + 3.0`: "Only input tensors may be passed as
    positional arguments"); then only the .keras and .weights.h5 round trips are checked (the
    .h5 is still written by Keras and read by adascale)."""
    try:
        _strict_round_trip(model, out, x, y, full)
    except ValueError as e:
        if not ("Only input tensors may be passed" in str(e) or "Unknown layer" in str(e)):
            raise
        print(f"   {model.name}: Keras cannot reload its own .h5 (ops with constants); checking .keras")
        keras_only = keras.models.load_model(out / f"{model.name}.keras", compile=False)
        np.testing.assert_array_equal(np.asarray(keras_only.predict(x, verbose=0)), np.asarray(y))
        if full:
            config = json.loads((out / f"{model.name}.config.json").read_text())
            fresh = keras.saving.deserialize_keras_object(config)
            fresh.load_weights(out / f"{model.name}.weights.h5")
            np.testing.assert_array_equal(np.asarray(fresh.predict(x, verbose=0)), np.asarray(y))


base_fixtures.check_round_trip = tolerant_round_trip


def all_layers(model):
    """Every leaf layer, nested models included."""
    out = []
    for layer in model.layers:
        out += all_layers(layer) if isinstance(layer, keras.Model) else [layer]
    return out


# ---------------------------------------------------------------- models


def nested_transfer():
    x = keras.Input((16, 16, 3), name="image")
    h = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(x)
    h = layers.BatchNormalization(name="stem_bn")(h)
    h = layers.ReLU(6.0, name="stem_relu")(h)
    d = layers.DepthwiseConv2D(3, padding="same", name="dw")(h)
    d = layers.BatchNormalization(name="dw_bn")(d)
    h = layers.Add(name="block_add")([h, d])
    h = layers.Conv2D(12, 1, activation="relu", name="head_conv")(h)
    base = keras.Model(x, h, name="tiny_base")
    inp = keras.Input((16, 16, 3), name="input")
    y = layers.Rescaling(0.5, offset=0.1, name="rescale")(inp)
    y = base(y)
    y = layers.Conv2D(8, 1, name="head_conv")(y)  # same name as a base layer
    head = keras.Sequential([
        layers.GlobalAveragePooling2D(name="gap"),
        layers.Dense(5, activation="softmax", name="predictions"),
    ], name="seq_head")  # a Sequential as the model's output
    return keras.Model(inp, head(y), name="nested_transfer"), [base]


def nested_deep():
    def block(name, first):
        stack = [keras.Input((8, 8, 3 if first else 6))] if first else []
        return keras.Sequential(stack + [
            layers.Conv2D(6, 3, padding="same", name="conv"),
            layers.BatchNormalization(name="bn"),
            layers.ReLU(name="relu"),
        ], name=name)
    a, b = block("block_a", True), block("block_b", False)
    stack = keras.Sequential([a, b], name="stack")
    model = keras.Sequential([
        keras.Input((8, 8, 3), name="input"), stack,
        layers.GlobalAveragePooling2D(name="gap"),
        layers.Dense(4, activation="softmax", name="predictions"),
    ], name="nested_deep")
    return model, [a]


def mobilenet_v3_tiny():
    x = keras.Input((16, 16, 3), name="input")
    h = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescaling")(x)
    h = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False, name="conv")(h)
    h = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name="conv_bn")(h)
    h = M3.hard_swish(h)
    h = M3._inverted_res_block(h, 2, 8, 3, 1, 0.25, M3.hard_swish, 1)  # SE, residual Add
    h = layers.GlobalAveragePooling2D(keepdims=True)(h)
    h = layers.Conv2D(16, 1, name="conv_2")(h)
    h = M3.hard_swish(h)
    h = layers.Dropout(0.2)(h)
    h = layers.Conv2D(5, 1, name="logits")(h)
    h = layers.Flatten()(h)
    y = layers.Activation("softmax", name="predictions")(h)
    return keras.Model(x, y, name="mobilenet_v3_tiny"), []


EFFICIENT_BLOCKS = [
    dict(kernel_size=3, repeats=1, filters_in=32, filters_out=16, expand_ratio=1, id_skip=True,
         strides=1, se_ratio=0.25),
    dict(kernel_size=3, repeats=1, filters_in=16, filters_out=24, expand_ratio=6, id_skip=True,
         strides=2, se_ratio=0.25),
]


def efficientnet_tiny():
    model = E.EfficientNet(0.25, 1.0, 32, blocks_args=EFFICIENT_BLOCKS, include_top=True, classes=5,
                           weights=None, input_shape=(32, 32, 3), name="efficientnet_tiny")
    return model, []


def broadcast_ops():
    x = keras.Input((6, 6, 4), name="input")
    h = layers.Normalization(axis=-1, name="norm_adapted")(x)
    h = layers.Normalization(axis=-1, mean=[0.1, -0.2, 0.3, 0.0], variance=[1.5, 0.5, 2.0, 1.0],
                             name="norm_config")(h)
    h = layers.Rescaling([0.5, 1.0, 2.0, -1.0], offset=[0.1, 0.0, -0.1, 0.2], name="rescale_channels")(h)
    h = layers.Conv2D(4, 3, padding="same", name="conv")(h)
    gate = layers.GlobalAveragePooling2D(keepdims=True, name="gap_keep")(h)  # 1x1x4
    se = layers.Multiply(name="mul_se")([h, gate])
    se_first = layers.Multiply(name="mul_gate_first")([gate, h])
    ch = layers.Conv2D(1, 1, activation="sigmoid", name="channel_gate")(h)  # 6x6x1
    mul_ch = layers.Multiply(name="mul_channel")([h, ch])
    vec = layers.GlobalAveragePooling2D(name="gap")(h)  # [4], lower rank
    add_low = layers.Add(name="add_lower_rank")([h, vec])
    add3 = layers.Add(name="add3_broadcast")([se, gate, ch])
    t = layers.Add(name="sum")([se_first, mul_ch, add_low, add3])
    t = layers.Normalization(axis=-1, invert=True, name="norm_invert")(t)
    t = t + 3.0
    t = 3.0 - t
    t = t / 2.0
    t = t * 0.5
    t = layers.Dropout(0.3, noise_shape=(None, 1, 1, 1), name="stochastic_depth")(t)
    t = layers.GlobalAveragePooling2D(name="pool")(t)
    y = layers.Dense(3, activation="softmax", name="predictions")(t)
    return keras.Model(x, y, name="broadcast_ops"), []


# ---------------------------------------------------------------- weights

# (kernel gain, head gain, head layer), chosen so that softmax rows depend visibly on the input.
GAINS = {
    "nested_transfer": (1.5, 3.0, "predictions"),
    "nested_deep": (1.0, 1.0, "predictions"),
    "mobilenet_v3_tiny": (1.0, 1.0, "logits"),
    "efficientnet_tiny": (2.0, 0.3, "predictions"),
    "broadcast_ops": (1.0, 3.0, "predictions"),
}


def randomize_normalization(leaves, rng):
    for layer in leaves:
        if isinstance(layer, layers.Normalization) and layer.input_mean is None:
            for v in layer.weights:
                short = v.path.split("/")[-1]
                if short == "mean":
                    v.assign(rng.normal(0.0, 0.3, v.shape).astype("float32"))
                elif short == "variance":
                    v.assign(rng.uniform(0.5, 2.0, v.shape).astype("float32"))
            layer.finalize_state()  # call() reads copies made from the variables


MODELS = ["nested_transfer", "nested_deep", "mobilenet_v3_tiny", "efficientnet_tiny",
          "broadcast_ops"]


def make(name, out, rng):
    keras.utils.set_random_seed(SEED)
    model, frozen = globals()[name]()
    leaves = SimpleNamespace(layers=all_layers(model))
    randomize_batchnorm(leaves, rng)
    randomize_biases(leaves, rng)
    randomize_normalization(leaves.layers, rng)
    scale_kernels(leaves, *GAINS[name])
    if name in ("efficientnet_tiny", "mobilenet_v3_tiny"):
        # Small shifts: with N(0, 0.3) betas and biases these tiny nets' pooled features are
        # mostly constants and the outputs hardly depend on the input.
        for layer in leaves.layers:
            for v in layer.weights:
                if v.path.split("/")[-1] in ("beta", "moving_mean", "bias"):
                    v.assign(v.numpy() * 0.1)
    for m in frozen:
        m.trainable = False  # changes the legacy .h5 weight order of the enclosing group
    shape = (BATCH,) + tuple(model.input_shape[1:])
    x = rng.normal(0.0, 1.0, shape).astype("float32")
    if name in ("efficientnet_tiny", "mobilenet_v3_tiny"):
        # Raw pixels (the model rescales), each example at its own brightness so that the
        # globally pooled features, and so the outputs, differ between examples.
        brightness = np.linspace(0.25, 1.0, BATCH).reshape((BATCH,) + (1,) * (len(shape) - 1))
        x = (rng.uniform(0, 255, shape) * brightness).astype("float32")
    # Size budget: the two application patterns get .h5, .keras and .io.h5 only (their
    # .weights.h5 equals the one inside the .keras).
    y = save_all(model, out, x, full=name not in ("efficientnet_tiny", "mobilenet_v3_tiny"))
    print(f"   {name}: per-class spread of y {np.std(np.asarray(y), axis=0).round(3).tolist()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "Tests/Fixtures/keras")
    parser.add_argument("--only", nargs="*", choices=MODELS, help="models to make (default: all)")
    args = parser.parse_args()
    assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"
    args.out.mkdir(parents=True, exist_ok=True)
    wanted = args.only or MODELS
    for i, name in enumerate(MODELS):
        if name in wanted:
            make(name, args.out, np.random.default_rng(SEED + 100 + i))


if __name__ == "__main__":
    main()
