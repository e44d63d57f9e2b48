#!/usr/bin/env python3
"""How well validation predicts test for a bundle's early-exit operating points (docs/exits.md,
"Validation predicts test"), recomputed in real Keras from the multi-exit files.

Usage: exits_sampling.py BUNDLE [--data-dir DIR] [--strata 4]

Runs every `variants[].exits.file` (Keras 3, JAX) on the validation split (the last
`dataset.validation_examples` training images, which compress never trains on) and on the test
split, then prints:
1. per operating point: validation and test accuracy (they must equal the manifest's), the
   shares of swapped inputs (right under exactly one of the point and the static variant) on
   both splits, the error of the paired prediction `static_test + (point_val − static_val)`, its
   sampling sd `√((s − δ²)(1/n_val + 1/n_test))` and the error in sd units; then the largest
   error, RMS and mean over the bundle;
2. "unfitted": the same paired error for thresholds fitted to nothing (8 uniform values from 0.5
   to 0.99, starting at each exit) — a mean away from 0 is a shift between the splits, not the
   calibration's selection;
3. "label-free": the test change predicted from which test inputs each point swaps against the
   static variant's answer (no test labels), with the rate of "point right" per stratum (exit
   taken × confidence quantiles of exit and final output) learnt on validation.
Fashion-MNIST with `preprocessing.mode: unit` only. Exit 1 on a mismatch with the manifest.
"""
import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from check_exits import confidence  # noqa: E402
from keras_eval import FILES, find, read_idx  # noqa: E402


def outputs(model, x, kind):
    outs = model.predict(x, batch_size=512, verbose=0)
    outs = outs if isinstance(outs, list) else [outs]
    probs = [bool((o >= 0).all() and np.allclose(o.sum(axis=1), 1, atol=1e-3)) for o in outs]
    return [confidence(o, kind, p) for o, p in zip(outs, probs)], np.stack([o.argmax(axis=1) for o in outs])


def taken(thresholds, conf, n):
    k = len(thresholds)
    t = np.full(n, k)
    for j in reversed(range(k)):
        if thresholds[j] is not None:
            t = np.where(conf[j] >= thresholds[j], j, t)
    return t


def change(thresholds, conf, pred, y):
    """Per input: +1 only the point is right, −1 only the static variant, else 0; and the exit."""
    t = taken(thresholds, conf, len(y))
    answer = pred[t, np.arange(len(y))]
    k = len(thresholds)
    return (answer == y).astype(int) - (pred[k] == y).astype(int), t, answer != pred[k]


def label_free(thresholds, val, test, strata):
    (cv, pv, yv), (ct, pt) = val, test
    k = len(thresholds)
    sv, tv, dv = change(thresholds, cv, pv, yv)
    tt = taken(thresholds, ct, ct[0].shape[0])
    dt = pt[tt, np.arange(len(tt))] != pt[k]
    if not dv.any():
        return 0.0
    ce_v = np.choose(tv, cv)
    ce_t = np.choose(tt, ct)
    qe = np.quantile(ce_v[dv], np.linspace(0, 1, strata + 1)[1:-1])
    qf = np.quantile(cv[k][dv], np.linspace(0, 1, strata + 1)[1:-1])
    key_v = tv * 10000 + np.searchsorted(qe, ce_v) * 100 + np.searchsorted(qf, cv[k])
    key_t = tt * 10000 + np.searchsorted(qe, ce_t) * 100 + np.searchsorted(qf, ct[k])
    overall = sv[dv].mean()
    total = 0.0
    for key in np.unique(key_t[dt]):
        here = dv & (key_v == key)
        rate = (sv[here].sum() + 5 * overall) / (here.sum() + 5)  # shrunk towards the overall rate
        total += rate * (dt & (key_t == key)).sum()
    return total / len(tt)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--strata", type=int, default=4)
    parser.add_argument("--data-dir", type=Path, default=Path(
        os.environ.get("ADASCALE_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")))
    args = parser.parse_args()
    import keras

    manifest = json.load(open(args.bundle / "manifest.json"))
    if (manifest.get("preprocessing") or {}).get("mode", "unit") != "unit":
        print("error: only preprocessing mode 'unit' (x / 255) is supported", file=sys.stderr)
        return 1
    nv = manifest["dataset"]["validation_examples"]
    nt = manifest["dataset"]["test_examples"]
    xtr = read_idx(find(args.data_dir, FILES["train"][0]))[-nv:].astype(np.float32)[..., None] / 255
    yv = read_idx(find(args.data_dir, FILES["train"][1]))[-nv:].astype(np.int64)
    xte = read_idx(find(args.data_dir, FILES["test"][0]))[:nt].astype(np.float32)[..., None] / 255
    yt = read_idx(find(args.data_dir, FILES["test"][1]))[:nt].astype(np.int64)
    errors, zs, unfitted, free, mismatches = [], [], [], [], 0
    for v in manifest["variants"]:
        plan = v.get("exits")
        if not plan:
            continue
        model = keras.models.load_model(args.bundle / plan["file"], compile=False)
        cv, pv = outputs(model, xtr, plan["confidence"])
        ct, pt = outputs(model, xte, plan["confidence"])
        k = len(plan["exits"])
        static_v, static_t = float((pv[k] == yv).mean()), float((pt[k] == yt).mean())
        for p in plan["operating_points"]:
            th = p["thresholds"]
            sv, _, _ = change(th, cv, pv, yv)
            st, _, _ = change(th, ct, pt, yt)
            acc_v, acc_t = static_v + sv.mean(), static_t + st.mean()
            if abs(acc_v - p["validation_accuracy"]) > 1e-4 or abs(acc_t - p["test_accuracy"]) > 3e-3:
                mismatches += 1
            delta, swaps = sv.mean(), np.abs(sv).mean()
            error = st.mean() - delta
            sd = np.sqrt(max(swaps - delta ** 2, 0) * (1 / nv + 1 / nt))
            errors.append(error)
            zs.append(error / sd if sd > 0 else 0.0)
            free.append(st.mean() - label_free(th, (cv, pv, yv), (ct, pt), args.strata))
            print(f"{v['id']} {p['name']:11} validation {acc_v * 100:6.2f}% test {acc_t * 100:6.2f}% "
                  f"swapped {swaps * 100:5.2f}% / {np.abs(st).mean() * 100:5.2f}%  "
                  f"error {error * 100:+.2f} sd {sd * 100:.2f} ({errors[-1] / sd if sd else 0:+.2f} sd)")
        for u in [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99]:
            for first in range(k):
                th = [None] * first + [u] * (k - first)
                unfitted.append(change(th, ct, pt, yt)[0].mean() - change(th, cv, pv, yv)[0].mean())

    def summary(name, e):
        e = np.array(e) * 100
        print(f"{name}: {len(e)} points, largest error {np.abs(e).max():.2f}, RMS {np.sqrt((e ** 2).mean()):.2f}, "
              f"mean {e.mean():+.2f}, over 0.5: {(np.abs(e) > 0.5).sum()}")
    if not errors:
        print(f"error: no variant of {args.bundle} has early exits", file=sys.stderr)
        return 1
    summary("paired prediction", errors)
    z = np.array(zs)
    print(f"  in sd units: largest {np.abs(z).max():.2f}, RMS {np.sqrt((z ** 2).mean()):.2f}")
    summary("unfitted thresholds", unfitted)
    summary("label-free test-side prediction", free)
    if mismatches:
        print(f"error: {mismatches} operating points differ from the manifest", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
