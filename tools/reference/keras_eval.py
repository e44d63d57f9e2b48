#!/usr/bin/env python3
"""Scores a Keras model on Fashion-MNIST with real Keras and prints the result as JSON.

Usage: keras_eval.py MODEL.h5 [--split test|train] [--limit N] [--data-dir DIR] [--batch-size 256]
                     [--resize H W] [--channels 3] [--preprocess unit|tf|torch|caffe|raw]

Loads MODEL with `keras.models.load_model` (JAX backend), compiles it with Keras' own
`sparse_categorical_crossentropy` loss and `accuracy` metric, and runs `model.evaluate` on the
split (images / 255 as float32 [N, 28, 28, 1], read from the gzip'd IDX files in DIR, default
$ADASCALE_FASHION_MNIST_DIR or /usr/share/datasets/fashion-mnist). The model must end in a
softmax (probabilities), as `adascale eval` also assumes for its loss.

With --resize / --channels / --preprocess the pixels (0–255) are prepared the way a Keras user
does and as a bundle's manifest records it: `keras.ops.image.resize` (bilinear, no antialias),
grey repeated into 3 channels, then `preprocess_input(mode=…)` (`unit` = x / 255, `raw` = x).

Prints one JSON object: {"model", "split", "examples", "accuracy", "loss", "keras_version",
"backend", "seconds"}. Exit 0, or 2 when a file cannot be read.
Used by tools/reference/check_interop.sh and tools/train_fmnist.sh to compare with
`adascale eval --json`.
"""
import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def read_idx(path):
    """An IDX file of unsigned bytes (magic 00 00 08 rank), gzip'd or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[:3] != b"\x00\x00\x08":
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def find(directory, name):
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{directory / name}.gz (or without .gz) not found")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--split", choices=sorted(FILES), default="test")
    parser.add_argument("--limit", type=int, help="use only the first N examples")
    parser.add_argument("--data-dir", type=Path, default=Path(
        os.environ.get("ADASCALE_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")))
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--resize", type=int, nargs=2, metavar=("H", "W"))
    parser.add_argument("--channels", type=int)
    parser.add_argument("--preprocess", default="unit", choices=["unit", "tf", "torch", "caffe", "raw"])
    args = parser.parse_args()

    try:
        images_name, labels_name = FILES[args.split]
        x = read_idx(find(args.data_dir, images_name))
        y = read_idx(find(args.data_dir, labels_name)).astype(np.int64)
    except (OSError, ValueError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 2
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    import keras

    x = x.astype(np.float32)[..., None]
    if args.resize:
        x = np.asarray(keras.ops.image.resize(x, tuple(args.resize), interpolation="bilinear"))
    if args.channels and args.channels != x.shape[-1]:
        x = np.repeat(x, args.channels, axis=-1)
    if args.preprocess == "unit":
        x = x / 255.0
    elif args.preprocess != "raw":
        x = keras.applications.imagenet_utils.preprocess_input(x, mode=args.preprocess)

    model = keras.models.load_model(args.model, compile=False)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    result = model.evaluate(x, y, batch_size=args.batch_size, verbose=0, return_dict=True)
    print(json.dumps({
        "model": args.model, "split": args.split, "examples": int(len(y)),
        "accuracy": float(result["accuracy"]), "loss": float(result["loss"]),
        "keras_version": keras.__version__, "backend": keras.backend.backend(),
        "seconds": round(time.perf_counter() - start, 2),
    }, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
