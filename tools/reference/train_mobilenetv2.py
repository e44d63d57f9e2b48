"""Trains keras.applications.MobileNetV2(alpha=0.35) on Fashion-MNIST at 32×32 RGB with real Keras.

The model a user would bring: `keras.applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3),
weights=None, classes=10)`, unchanged, trained by Keras 3 (JAX backend). The data is Fashion-MNIST
resized the way a Keras user resizes (`keras.ops.image.resize`, bilinear, no antialiasing) from
28×28 to 32×32, grey repeated into 3 channels, scaled with MobileNetV2's own
`preprocess_input` (mode "tf": x / 127.5 − 1). `recipes/mobilenetv2_fmnist.yaml` feeds adascale
the same data with `dataset.resize`, `dataset.channels` and `dataset.preprocess`.

Only the first 55,000 training images are trained on: the recipe holds the last 5,000 out as the
validation split that scores search candidates, so they must be unseen here too.

    KERAS_BACKEND=jax XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \
        python tools/reference/train_mobilenetv2.py --output recipes/models/keras/mobilenetv2_035_fmnist32.h5

(one XLA thread: on 2 busy cores XLA's thread pool made steps 3× slower). The committed model:
3 epochs, 1,979 s on 2 shared cores (AMD EPYC, load 8–11), test accuracy 85.72 % in Keras —
and 85.72 % (loss 0.3859, same as Keras) in `adascale eval --resize 32x32 --channels 3
--preprocess tf`.

Writes the model (legacy .h5, uncompiled: no optimizer state) and `<output stem>.json` with the
test accuracy Keras measures on all 10,000 test images, the seed, epochs and timings.
"""

import argparse
import gzip
import json
import os
import time

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402

FMNIST = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def prepare(images, size):
    """uint8 [N, 28, 28] → float32 [N, size, size, 3] in [−1, 1], as the recipe does it."""
    x = images.astype("float32")[..., None]
    out = []
    for start in range(0, len(x), 5000):
        out.append(np.asarray(keras.ops.image.resize(x[start : start + 5000], (size, size), interpolation="bilinear")))
    x = np.concatenate(out)
    x = np.repeat(x, 3, axis=-1)
    return keras.applications.mobilenet_v2.preprocess_input(x)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output", required=True)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--alpha", type=float, default=0.35)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--train", type=int, default=55000, help="first N training images trained on")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--seed", type=int, default=1234)
    args = p.parse_args()

    keras.utils.set_random_seed(args.seed)
    x_train = prepare(read_idx(f"{FMNIST}/train-images-idx3-ubyte.gz")[: args.train], args.size)
    y_train = read_idx(f"{FMNIST}/train-labels-idx1-ubyte.gz")[: args.train].astype("int32")
    x_test = prepare(read_idx(f"{FMNIST}/t10k-images-idx3-ubyte.gz"), args.size)
    y_test = read_idx(f"{FMNIST}/t10k-labels-idx1-ubyte.gz").astype("int32")

    model = keras.applications.MobileNetV2(
        alpha=args.alpha, input_shape=(args.size, args.size, 3), weights=None, classes=10)
    # keras.applications builds MobileNetV2's batch-norms with momentum 0.999, tuned for long
    # ImageNet runs: after a few epochs their moving statistics still hold much of their initial
    # values. 0.99 (Keras' own default) suits a short run.
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.99
    steps = args.epochs * ((len(x_train) + args.batch_size - 1) // args.batch_size)
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(3e-3, steps)),
        loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    started = time.time()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=2)
    seconds = time.time() - started
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    print(f"test accuracy {accuracy:.4f}, loss {loss:.4f}, {seconds:.0f} s")

    # Saved without optimizer state (a third of the size): written once, reloaded uncompiled, and
    # written again.
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    model.save(args.output)
    keras.models.load_model(args.output, compile=False).save(args.output)
    again = keras.models.load_model(args.output, compile=False)
    assert np.allclose(again.predict(x_test[:64], verbose=0), model.predict(x_test[:64], verbose=0), atol=1e-6)
    info = {
        "model": "keras.applications.MobileNetV2",
        "alpha": args.alpha,
        "input": [args.size, args.size, 3],
        "params": int(model.count_params()),
        "data": "fashion-mnist, bilinear resize 28→%d, grey→RGB, preprocess_input (tf: x/127.5-1)" % args.size,
        "train_examples": args.train,
        "epochs": args.epochs,
        "optimizer": "Adam, cosine decay from 3e-3, batch %d" % args.batch_size,
        "batch_norm_momentum": 0.99,
        "seed": args.seed,
        "test_accuracy": float(accuracy),
        "test_loss": float(loss),
        "train_seconds": round(seconds, 1),
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
    }
    with open(os.path.splitext(args.output)[0] + ".json", "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
