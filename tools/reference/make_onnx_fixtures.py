#!/usr/bin/env python3
"""Writes Tests/Fixtures/onnx/<case>.io.h5: onnxruntime's outputs for every ONNX test case.

Usage: make_onnx_fixtures.py RECORD_DIR OUT_DIR

RECORD_DIR holds what `ADASCALE_ONNX_RECORD=RECORD_DIR` made the Swift test
ONNXExporterTests.testRecordFixtureInputs write: <case>.onnx (adascale's export) and
<case>.x.h5 (the case's seeded input `x`). For each case the model must pass
onnx.checker.check_model(full_check=True); onnxruntime (CPU, float compute:
session.qdq_matmulnbits_accuracy_level 1, so quantized kernels are dequantized exactly) runs it
on `x`, and OUT_DIR/<case>.io.h5 gets `x` and `y0`, `y1`, … in graph-output order. Nothing here
is random: the inputs and weights come from the Swift side's seeded generators.
Run through tools/reference/make_onnx_fixtures.sh.
"""
import os
import sys

import h5py
import numpy as np
import onnx
import onnxruntime as ort


def main():
    record, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    cases = sorted(f[:-5] for f in os.listdir(record) if f.endswith(".onnx"))
    for case in cases:
        path = os.path.join(record, case + ".onnx")
        onnx.checker.check_model(onnx.load(path), full_check=True)
        options = ort.SessionOptions()
        options.add_session_config_entry("session.qdq_matmulnbits_accuracy_level", "1")
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        with h5py.File(os.path.join(record, case + ".x.h5")) as f:
            x = np.asarray(f["x"], np.float32)
        ys = session.run(None, {session.get_inputs()[0].name: x})
        with h5py.File(os.path.join(out, case + ".io.h5"), "w") as f:
            f["x"] = x
            for i, y in enumerate(ys):
                f[f"y{i}"] = y.astype(np.float32)
        print(f"{case}: x {x.shape} -> " + ", ".join(str(y.shape) for y in ys))
    print(f"{len(cases)} cases, onnx {onnx.__version__}, onnxruntime {ort.__version__}")


if __name__ == "__main__":
    main()
