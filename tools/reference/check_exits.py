#!/usr/bin/env python3
"""Real Keras against a bundle's multi-exit variants (`make check-exits`).

Usage: check_exits.py BUNDLE ADASCALE [--compare N] [--tolerance 0.003]

For every variant with an exit plan (manifest `variants[].exits`, docs/exits.md):
1. `keras.models.load_model` opens `exits.file` (JAX backend) and runs it on the bundle's test
   examples (the first `dataset.test_examples` of the Fashion-MNIST test split, prepared as the
   manifest's `preprocessing` says, at the variant's `input_shape`);
2. `ADASCALE predict` runs the same file on the first N of them (default 512): every output
   (each exit, then the final one) must match Keras within 1e-4 of that output's scale;
3. from Keras' outputs alone and the manifest's thresholds, every operating point's exits are
   computed offline (an input leaves at the first exit whose confidence — max-softmax or
   1 − normalised entropy — reaches the exit's threshold; null: the exit is not used): the test
   accuracy must match the manifest's within TOLERANCE (0.3 points) and the exit rates within
   0.5 points (a float rounding can move an input that sits on a threshold).
Prints one line per output and per operating point; exits 1 on any mismatch or load failure.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from keras_eval import FILES, find, read_idx  # noqa: E402


def prepared(manifest, shape, data_dir):
    import keras
    limit = manifest["dataset"]["test_examples"]
    x = read_idx(find(data_dir, FILES["test"][0]))[:limit].astype(np.float32)[..., None]
    y = read_idx(find(data_dir, FILES["test"][1]))[:limit].astype(np.int64)
    prep = manifest.get("preprocessing") or {}
    if shape[:2] != list(x.shape[1:3]):
        x = np.asarray(keras.ops.image.resize(x, tuple(shape[:2]), interpolation="bilinear"))
    if shape[2] != x.shape[-1]:
        x = np.repeat(x, shape[2], axis=-1)
    mode = prep.get("mode", "unit")
    if mode == "unit":
        x = x / 255.0
    elif mode != "raw":
        x = keras.applications.imagenet_utils.preprocess_input(x, mode=mode)
    return x.astype(np.float32), y


def confidence(p, kind, is_probability):
    if not is_probability:
        e = np.exp(p - p.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
    if kind == "max-softmax":
        return p.max(axis=1)
    h = -(np.where(p > 0, p * np.log(np.maximum(p, 1e-30)), 0)).sum(axis=1)
    return 1 - h / np.log(p.shape[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("adascale")
    parser.add_argument("--compare", type=int, default=512)
    parser.add_argument("--tolerance", type=float, default=0.003)
    parser.add_argument("--data-dir", type=Path, default=Path(
        os.environ.get("ADASCALE_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")))
    args = parser.parse_args()
    import h5py
    import keras

    manifest = json.load(open(args.bundle / "manifest.json"))
    prep = manifest.get("preprocessing") or {}
    failed = []
    checked = 0
    for v in manifest["variants"]:
        plan = v.get("exits")
        if not plan:
            continue
        checked += 1
        shape = v.get("input_shape") or prep.get("input_shape") or [28, 28, 1]
        x, y = prepared(manifest, shape, args.data_dir)
        path = args.bundle / plan["file"]
        try:
            model = keras.models.load_model(path, compile=False)
        except Exception as e:  # noqa: BLE001
            print(f"{v['id']}: keras could not load {path}: {e}")
            failed.append(v["id"])
            continue
        outs = model.predict(x, batch_size=256, verbose=0)
        outs = outs if isinstance(outs, list) else [outs]
        if len(outs) != len(plan["exits"]) + 1:
            print(f"{v['id']}: keras sees {len(outs)} outputs, the plan {len(plan['exits'])} exits + 1")
            failed.append(v["id"])
            continue
        with tempfile.TemporaryDirectory() as tmp:
            xin, yout = Path(tmp) / "x.h5", Path(tmp) / "y.h5"
            with h5py.File(xin, "w") as f:
                f["x"] = x[:args.compare]
            run = subprocess.run([args.adascale, "predict", "--model", str(path), "--input", str(xin),
                                  "--output", str(yout)], capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{v['id']}: adascale predict failed:\n{run.stderr}")
                failed.append(v["id"])
                continue
            with h5py.File(yout, "r") as f:
                ours = [np.asarray(f[f"y{k}"]) for k in range(len(outs))]
        names = [e["output"] for e in plan["exits"]] + ["final"]
        for k, (name, theirs, mine) in enumerate(zip(names, outs, ours)):
            theirs = theirs[:args.compare]
            scale = float(np.abs(theirs).max()) or 1.0
            err = float(np.abs(theirs - mine).max())
            ok = err <= 1e-4 * scale
            print(f"{v['id']} output {k} {name:28} max |keras − adascale| = {err:.2e} "
                  f"(scale {scale:.3g}){'' if ok else '  MISMATCH'}")
            if not ok:
                failed.append(v["id"])
        # An output is probabilities when it ends in softmax (non-negative rows summing to 1).
        probs = [bool((o >= 0).all() and np.allclose(o.sum(axis=1), 1, atol=1e-3)) for o in outs]
        conf = [confidence(o, plan["confidence"], p) for o, p in zip(outs, probs)]
        for p in plan["operating_points"]:
            taken = np.full(len(y), len(plan["exits"]))
            for k in reversed(range(len(plan["exits"]))):
                t = p["thresholds"][k]
                if t is not None:
                    taken = np.where(conf[k] >= t, k, taken)
            pred = np.stack([o.argmax(axis=1) for o in outs])[taken, np.arange(len(y))]
            acc = float((pred == y).mean())
            rates = [float((taken == k).mean()) for k in range(len(outs))]
            ok = abs(acc - p["test_accuracy"]) <= args.tolerance and all(
                abs(a - b) <= 0.005 for a, b in zip(rates, p["test_exit_rates"]))
            print(f"{v['id']} {p['name']:12} keras offline {acc*100:6.2f}% vs manifest {p['test_accuracy']*100:6.2f}%; "
                  f"exit rates {'/'.join(f'{r*100:.1f}' for r in rates)} vs "
                  f"{'/'.join(f'{r*100:.1f}' for r in p['test_exit_rates'])}{'' if ok else '  MISMATCH'}")
            if not ok:
                failed.append(v["id"])
    if checked == 0:
        print(f"error: no variant of {args.bundle} has early exits", file=sys.stderr)
        return 1
    print(f"{checked - len(set(failed))}/{checked} multi-exit variants load in Keras, match adascale predict "
          f"and the manifest's operating points")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
