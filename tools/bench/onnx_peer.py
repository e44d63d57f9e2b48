"""onnxruntime peer for `make bench`: batch-1 and batch-64 inference latency of an exported
.onnx file, beside adascale's (AdaBench infer) on the same .h5, in the same run.

CPU execution provider, default graph optimisations (ORT_ENABLE_ALL), intra_op_num_threads =
--threads, inter_op 1, sequential execution; uniform [0, 1) inputs; 20 warm-up runs.

Prints one JSON object per line with --json (t0/t1: Unix time of the timed part, for the load
samples; tools/bench/report.py aggregates the rounds into median [min–max]):
  {"peer": "onnxruntime", "bench": "infer", "model": "v01", "batch": 1, "median_ms": ..., ...}

Usage: python onnx_peer.py --model v01.onnx --label v01 --batches 1,64 --threads 2 --seconds 1 --json
"""

import argparse
import json
import statistics
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
    while len(times) < max_reps and (len(times) < 5 or time.perf_counter() < end):
        t = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - t)
    times.sort()
    return (statistics.median(times) * 1000, len(times), times[len(times) // 10] * 1000,
            times[len(times) * 9 // 10] * 1000)


def measure(args):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    for batch in [int(b) for b in args.batches.split(",")]:
        t0 = time.time()
        ms, reps, p10, p90 = latency(session, batch, args.seconds)
        record = {"peer": "onnxruntime", "version": ort.__version__, "bench": "infer", "model": args.label,
                  "batch": batch, "median_ms": ms, "p10_ms": p10, "p90_ms": p90, "reps": reps,
                  "threads": args.threads, "optimization": "ORT_ENABLE_ALL",
                  "t0": round(t0, 3), "t1": round(time.time(), 3)}
        print(json.dumps(record) if args.json else f"{args.label} batch {batch}: {ms:.3f} ms ({reps} reps)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--label", default="model")
    parser.add_argument("--batches", default="1,64")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=1)
    parser.add_argument("--json", action="store_true")
    measure(parser.parse_args())


if __name__ == "__main__":
    main()
