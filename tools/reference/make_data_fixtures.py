"""Image resizing and `preprocess_input` conventions, computed by real Keras (3, JAX backend).

Writes Tests/Fixtures/data/preprocess.h5 (or --out FILE), which adascale's data tests
(Tests/AdaNNTests/ImageResizeTests.swift, PreprocessModeTests.swift) compare against:

  resize/<case>/x          uint8 [N, H, W, C]  seeded random pixels
  resize/<case>/bilinear   float32 keras.ops.image.resize(x, size, "bilinear", antialias=False)
  resize/<case>/nearest    float32 keras.ops.image.resize(x, size, "nearest")
  resize/<case>/pad        float32 keras.ops.image.pad_images(x, top, left, H', W') with
                           top = (H' - H) // 2, left = (W' - W) // 2 (only when H' ≥ H, W' ≥ W)
  (attribute `size` = [H', W'] on each case group)
  preprocess/x             uint8 [2, 4, 5, 3]
  preprocess/<mode>        float32 keras.applications.imagenet_utils.preprocess_input(x, mode)
                           for mode in tf, torch, caffe (x as float32 0–255, channels-last)

Run:  KERAS_BACKEND=jax python make_data_fixtures.py [--out FILE]
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.applications import imagenet_utils  # noqa: E402

SEED = 20240614
REPO = Path(__file__).resolve().parents[2]
# name: (input shape [N, H, W, C], output size [H', W'])
RESIZE_CASES = {
    "fmnist_to_32": ((1, 28, 28, 1), (32, 32)),  # Fashion-MNIST into a 32×32 model
    "down": ((2, 9, 10, 3), (4, 6)),  # shrinking both axes (antialias off)
    "mixed": ((1, 9, 10, 3), (13, 7)),  # one axis up, one down
    "up_odd": ((1, 5, 7, 2), (11, 16)),  # non-integer factors
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(REPO / "Tests/Fixtures/data/preprocess.h5"))
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    with h5py.File(args.out, "w") as f:
        f.attrs["keras_version"] = keras.__version__
        f.attrs["backend"] = keras.backend.backend()
        for name, (shape, size) in RESIZE_CASES.items():
            x = rng.integers(0, 256, size=shape, dtype=np.uint8)
            g = f.create_group(f"resize/{name}")
            g.attrs["size"] = np.array(size, dtype=np.int64)
            g.create_dataset("x", data=x)
            xf = x.astype(np.float32)
            for method in ("bilinear", "nearest"):
                y = keras.ops.image.resize(xf, size, interpolation=method, antialias=False)
                g.create_dataset(method, data=np.asarray(y, dtype=np.float32))
            (h, w), (th, tw) = shape[1:3], size
            if th >= h and tw >= w:
                y = keras.ops.image.pad_images(
                    xf, top_padding=(th - h) // 2, left_padding=(tw - w) // 2,
                    target_height=th, target_width=tw)
                g.create_dataset("pad", data=np.asarray(y, dtype=np.float32))
        x = rng.integers(0, 256, size=(2, 4, 5, 3), dtype=np.uint8)
        f.create_dataset("preprocess/x", data=x)
        for mode in ("tf", "torch", "caffe"):
            y = imagenet_utils.preprocess_input(x.astype(np.float32), mode=mode)
            f.create_dataset(f"preprocess/{mode}", data=np.asarray(y, dtype=np.float32))
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
