"""Compares adascale's predictions with Keras's: compare_outputs.py IO.h5 GOT.h5 [--rtol 1e-4]

IO.h5 holds Keras's `y` (or y0, y1, …), GOT.h5 what `adascale predict` wrote. Prints one line
`MAX_ERR SCALE pass|FAIL` (or JSON with --json): max |got − want| over all outputs, the output
scale max |want|, and whether max_err <= rtol · scale + 1e-6 (the bound of
check_keras_loads.py). Exit 0/1.
"""

import argparse
import json
import sys

import h5py
import numpy as np

from check_keras_loads import expected_outputs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("io")
    parser.add_argument("got")
    parser.add_argument("--rtol", type=float, default=1e-4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with h5py.File(args.io, "r") as f:
        wants = expected_outputs(f)
    with h5py.File(args.got, "r") as f:
        gots = expected_outputs(f)
    ok = len(wants) == len(gots) and all(g.shape == w.shape for g, w in zip(gots, wants))
    max_err, scale = float("inf"), 0.0
    if ok:
        max_err = max(float(np.max(np.abs(g.astype(np.float64) - w))) for g, w in zip(gots, wants))
        scale = max(float(np.max(np.abs(w))) for w in wants)
        ok = max_err <= args.rtol * scale + 1e-6
    if args.json:
        print(json.dumps({"max_err": max_err, "scale": scale, "ok": ok}))
    else:
        print(f"{max_err:.2e} {scale:.3g} {'pass' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
