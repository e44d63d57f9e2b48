#!/usr/bin/env python3
"""Checks that a Keras file written by adascale loads in real Keras and predicts the reference.

Usage: check_keras_loads.py MODEL.h5 IO.h5 [--expected Y.h5] [--rtol 1e-4]

MODEL.h5  a model file (legacy .h5, .keras) — typically written by KerasModelWriter.
IO.h5     an HDF5 file with the input `x` and the expected output(s): `y` for one output, or
          `y0`, `y1`, … for several (in model-output order).
Y.h5      with --expected: read the expected output(s) from this file instead of IO.h5 (e.g.
          what `adascale predict --input IO.h5 --output Y.h5` wrote); `x` still comes from IO.h5.

Loads MODEL with `keras.models.load_model` (JAX backend), predicts on `x`, and compares each
output with the expected one: |got - want| <= rtol * max|want| (+1e-6). Prints one line per
output and exits 0 when all match, 1 otherwise (2 when a file cannot be read).
Used by `make interop`.
"""
import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import h5py  # noqa: E402
import numpy as np  # noqa: E402


def expected_outputs(io):
    if "y" in io:
        return [np.asarray(io["y"])]
    ys, i = [], 0
    while f"y{i}" in io:
        ys.append(np.asarray(io[f"y{i}"]))
        i += 1
    return ys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("io")
    parser.add_argument("--expected", help="file holding y (or y0, y1, …) instead of IO")
    parser.add_argument("--rtol", type=float, default=1e-4)
    args = parser.parse_args()

    import keras

    try:
        model = keras.models.load_model(args.model, compile=False)
    except Exception as e:  # noqa: BLE001 - report any loader failure
        print(f"FAIL {args.model}: keras cannot load it: {type(e).__name__}: {e}")
        return 1
    try:
        with h5py.File(args.io, "r") as io:
            x = np.asarray(io["x"], dtype=np.float32)
        with h5py.File(args.expected or args.io, "r") as ys:
            wants = expected_outputs(ys)
    except (OSError, KeyError) as e:
        print(f"ERROR {args.io}: {e}")
        return 2
    if not wants:
        print(f"ERROR {args.expected or args.io}: no y / y0 dataset")
        return 2

    got = model.predict(x, verbose=0)
    gots = got if isinstance(got, (list, tuple)) else [got]
    if len(gots) != len(wants):
        print(f"FAIL {args.model}: {len(gots)} outputs, expected {len(wants)}")
        return 1
    ok = True
    for i, (g, w) in enumerate(zip(gots, wants)):
        g = np.asarray(g, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        if g.shape != w.shape:
            print(f"FAIL {args.model} output {i}: shape {g.shape}, expected {w.shape}")
            ok = False
            continue
        scale = float(np.max(np.abs(w))) if w.size else 0.0
        bound = args.rtol * scale + 1e-6
        err = np.abs(g - w)
        worst = int(np.argmax(err)) if err.size else 0
        max_err = float(err.flat[worst]) if err.size else 0.0
        status = "ok" if max_err <= bound else "FAIL"
        ok &= status == "ok"
        print(f"{status} {args.model} output {i}: shape {g.shape}, max |err| {max_err:.3g} "
              f"(bound {bound:.3g}, worst element {worst})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
