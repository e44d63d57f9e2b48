#!/usr/bin/env python3
"""Checks an ONNX file adascale exported: onnx.checker accepts it and onnxruntime predicts what
`adascale predict` predicted.

Usage:
  check_onnx.py compare MODEL.onnx IO.h5 --expected Y.h5 [--rtol 1e-4] [--accuracy-tolerance 0.001]
                        [--label NAME] [--results RESULTS.jsonl]
  check_onnx.py fmnist-test OUT.h5

compare     MODEL.onnx goes through onnx.checker.check_model(full_check=True), then an
            onnxruntime CPU session (default graph optimisations, as an app gets them) runs on
            `x` of IO.h5. Each output is compared with Y.h5's (`y`, or `y0`, `y1`, … in output
            order): pass when max|ort - adascale| <= rtol * max|adascale| + 1e-6. When IO.h5
            holds `labels`, the accuracy (argmax) of both on every output is printed too. A
            quantized model (one with DequantizeLinear) is also run with float compute
            (session.qdq_matmulnbits_accuracy_level 1), which must meet the bound; its default
            session (int8 activations in MatMulNBits) then passes when the two accuracies agree
            within --accuracy-tolerance (0.001 = 0.1 points). One line per
            output; with --results, one JSON object per output is appended there.
fmnist-test Fashion-MNIST's 10,000 test images as `x` (float32, x / 255, [N, 28, 28, 1]) and
            `labels`, from /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).

Exits 0 when everything passes, 1 otherwise. Used by tools/reference/check_onnx.sh (make interop).
"""
import argparse
import gzip
import json
import sys

import h5py
import numpy as np


def outputs_of(f):
    if "y" in f:
        return [np.asarray(f["y"])]
    ys, i = [], 0
    while f"y{i}" in f:
        ys.append(np.asarray(f[f"y{i}"]))
        i += 1
    return ys


def session(ort, path, accuracy_level=None):
    options = ort.SessionOptions()
    if accuracy_level is not None:
        options.add_session_config_entry("session.qdq_matmulnbits_accuracy_level", str(accuracy_level))
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def compare(args):
    import onnx
    import onnxruntime as ort

    model = onnx.load(args.model)
    onnx.checker.check_model(model, full_check=True)
    quantized = any(n.op_type == "DequantizeLinear" for n in model.graph.node)
    with h5py.File(args.io) as f:
        x = np.asarray(f["x"], dtype=np.float32)
        labels = np.asarray(f["labels"]) if "labels" in f else None
    with h5py.File(args.expected) as f:
        expected = outputs_of(f)
    default = session(ort, args.model)
    feed = {default.get_inputs()[0].name: x}
    got = default.run(None, feed)
    # onnxruntime's default optimisations turn DequantizeLinear + MatMul into MatMulNBits with
    # int8 activations (accuracy level 4); level 1 computes in float: the exact check.
    exact = session(ort, args.model, accuracy_level=1).run(None, feed) if quantized else got
    names = [o.name for o in default.get_outputs()]
    if len(got) != len(expected):
        print(f"FAIL {args.label}: onnxruntime gives {len(got)} outputs, adascale {len(expected)}")
        return 1
    ok = True
    for name, y, y_exact, want in zip(names, got, exact, expected):
        if y.shape != want.shape:
            print(f"FAIL {args.label} {name}: shape {y.shape}, adascale {want.shape}")
            ok = False
            continue
        scale = float(np.abs(want).max())
        bound = args.rtol * scale + 1e-6
        err = float(np.abs(y - want).max())
        err_exact = float(np.abs(y_exact - want).max())
        record = {"label": args.label, "output": name, "max_abs_error": err, "scale": scale,
                  "examples": int(x.shape[0]), "quantized": quantized}
        line = f"max|err| {err:.2e} (bound {args.rtol:g} x scale {scale:.3g})"
        passed = err <= bound
        if quantized:
            record["max_abs_error_float_compute"] = err_exact
            line += f", float-compute session {err_exact:.2e}"
        if y.ndim == 2:
            agree = float((y.argmax(1) == want.argmax(1)).mean())
            record["top1_agreement"] = agree
            line += f", top-1 agreement {agree * 100:.2f}%"
        if labels is not None and y.ndim == 2:
            acc_ort = float((y.argmax(1) == labels).mean())
            acc_ada = float((want.argmax(1) == labels).mean())
            record.update(accuracy_onnxruntime=acc_ort, accuracy_adascale=acc_ada)
            line += f"  accuracy onnxruntime {acc_ort * 100:.2f}% adascale {acc_ada * 100:.2f}%"
        if quantized and not passed:
            # The bound for quantized models: the float-compute session must be exact,
            # and the default one must score the same test accuracy within 0.1 points (without
            # labels only the exact check applies).
            same_accuracy = labels is None or abs(
                record["accuracy_onnxruntime"] - record["accuracy_adascale"]) <= args.accuracy_tolerance + 1e-12
            passed = err_exact <= bound and same_accuracy
        record["pass"] = bool(passed)
        print(f"{'PASS' if passed else 'FAIL'} {args.label} {name}: {line}")
        ok = ok and passed
        if args.results:
            with open(args.results, "a") as r:
                r.write(json.dumps(record) + "\n")
    return 0 if ok else 1


def fmnist_test(args):
    root = "/usr/share/datasets/fashion-mnist"
    with gzip.open(f"{root}/t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1)
    with gzip.open(f"{root}/t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    with h5py.File(args.out, "w") as f:
        f["x"] = (images.astype(np.float32) / np.float32(255))
        f["labels"] = labels.astype(np.int64)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare")
    c.add_argument("model")
    c.add_argument("io")
    c.add_argument("--expected", required=True)
    c.add_argument("--rtol", type=float, default=1e-4)
    c.add_argument("--accuracy-tolerance", type=float, default=0.001)
    c.add_argument("--label", default="")
    c.add_argument("--results")
    t = sub.add_parser("fmnist-test")
    t.add_argument("out")
    args = parser.parse_args()
    return compare(args) if args.command == "compare" else fmnist_test(args)


if __name__ == "__main__":
    sys.exit(main())
