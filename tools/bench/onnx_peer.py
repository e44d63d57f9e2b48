"""onnxruntime peer for `make bench`: batch-1 and batch-64 inference latency of an exported
.onnx file, beside adascale's (AdaBench infer) on the same .h5, in the same run.

Prints one JSON object per line with --json:
  {"peer": "onnxruntime", "bench": "infer", "model": "v01", "batch": 1, "median_ms": ..., ...}

`table FILE.jsonl` prints the side-by-side table from the lines run.sh collected (AdaBench's
`infer` lines carry "variant" in their detail, added by run.sh).

Usage: python onnx_peer.py --model v01.onnx --label v01 --batches 1,64 --threads 2 --seconds 3 --json
       python onnx_peer.py table .build/bench/onnx.jsonl
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np


def latency(session, batch, seconds, max_reps=5000, warmup=20):
    """Median milliseconds of one run at `batch` over up to `seconds` (uniform [0, 1) inputs)."""
    inp = session.get_inputs()[0]
    shape = [batch] + [d for d in inp.shape[1:]]
    x = np.random.default_rng(1).random(shape, dtype=np.float32)
    feed = {inp.name: x}
    for _ in range(warmup):
        session.run(None, feed)
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and len(times) < max_reps:
        t = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, len(times)


def measure(args):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    for batch in [int(b) for b in args.batches.split(",")]:
        ms, reps = latency(session, batch, args.seconds)
        record = {"peer": "onnxruntime", "version": ort.__version__, "bench": "infer", "model": args.label,
                  "batch": batch, "median_ms": ms, "reps": reps, "threads": args.threads}
        print(json.dumps(record) if args.json else f"{args.label} batch {batch}: {ms:.3f} ms ({reps} reps)")


def table(path):
    rows = {}
    for line in open(path):
        r = json.loads(line)
        if r.get("peer") == "onnxruntime":
            rows.setdefault(r["model"], {})[("ort", r["batch"])] = r["median_ms"]
        elif r.get("bench") == "infer" and "variant" in r.get("detail", {}):
            d = r["detail"]
            rows.setdefault(d["variant"], {})[("ada", int(d["batch"]))] = r["value"]
    print(f"  {'variant':8} {'adascale b1':>12} {'onnxrt b1':>10} {'ort/ada':>8}   "
          f"{'adascale b64':>12} {'onnxrt b64':>10} {'ort/ada':>8}   (median ms)")
    for name in sorted(rows):
        v = rows[name]
        cells = []
        for batch in (1, 64):
            a, o = v.get(("ada", batch)), v.get(("ort", batch))
            ratio = f"{o / a:8.2f}" if a and o else f"{'—':>8}"
            cells.append(f"{a if a else float('nan'):12.4f} {o if o else float('nan'):10.4f} {ratio}")
        print(f"  {name:8} " + "   ".join(cells))


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "table":
        return table(sys.argv[2])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--label", default="model")
    parser.add_argument("--batches", default="1,64")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--json", action="store_true")
    measure(parser.parse_args())


if __name__ == "__main__":
    main()
