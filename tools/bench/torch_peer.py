"""PyTorch CPU peer for `make bench`: the fmnist_cnn architecture, training throughput and
inference latency, for comparison with adascale on the same machine in the same run.

Model (NCHW; same layers and sizes as recipes/models/fmnist_cnn.yaml and
tools/reference/make_keras_fixtures.py fmnist_cnn; batch-norm with Keras's eps 1e-3 and
momentum 0.99, i.e. torch momentum 0.01):
  Conv 32 3×3 same → BN → ReLU → MaxPool 2 → Conv 64 3×3 same → BN → ReLU → MaxPool 2
  → Flatten → Dense 64 ReLU → Dropout 0.3 → Dense 10        (220,618 parameters)

  train   training throughput as AdaBench train runs adascale's Trainer: Adam with Keras's
          defaults (lr 0.001, betas 0.9/0.999, eps 1e-7; torch.optim.Adam's default CPU
          implementation: foreach and fused both off, the single-tensor loop), mean softmax
          cross-entropy (nn.CrossEntropyLoss), batch 64, no augmentation, Fashion-MNIST kept as
          uint8 and converted x/255 per batch, batches taken in the order AdaBench wrote (--order: Int32 LE, one permutation of the 60,000 examples
          per epoch; the last batch of an epoch has 32 examples, as adascale's). Images/s =
          examples of the timed steps ÷ wall time from the end of the warm-up steps to the end of
          the last step (whole steps: batch gathering, forward, loss, backward, Adam).
  infer   median latency at batch 1 and 64 of each --variants entry:
            eager         model.eval(), torch.inference_mode(), NCHW contiguous input
            jit-freeze    torch.jit.freeze(torch.jit.trace(model)) then
                          torch.jit.optimize_for_inference, channels_last input
            compile       torch.compile(model) (inductor, default mode), channels_last input,
                          under torch.inference_mode(); compiled once per batch size before timing
          A variant that fails to build or run is reported with its error, not timed.

Prints one JSON object per line (t0/t1: Unix time of the timed part, for the load samples):
  {"peer": "pytorch", "bench": "train", "images_per_second": ..., ...}
  {"peer": "pytorch", "bench": "infer", "variant": "eager", "batch": 1, "median_ms": ..., ...}

Usage: python torch_peer.py train --order .build/bench/order.bin --seconds 20 --threads 2
       python torch_peer.py infer --variants eager,jit-freeze,compile --seconds 2 --threads 2
"""

import argparse
import gzip
import hashlib
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

FMNIST = Path(os.environ.get("ADASCALE_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))

VARIANT_NAMES = {
    "eager": "eager, NCHW, inference_mode",
    "jit-freeze": "jit.freeze(jit.trace) + optimize_for_inference, channels_last",
    "compile": "torch.compile (inductor, default mode), channels_last, inference_mode",
}


def fmnist_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32, eps=1e-3, momentum=0.01), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(7 * 7 * 64, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 10),
    )


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def environment(threads):
    """What every record carries about the peer's runtime."""
    return {"peer": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(), "requested_threads": threads,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "")}


def read_order(path, count):
    """[epochs, count] int64 visiting orders; each row must be a permutation of 0..<count."""
    raw = Path(path).read_bytes()
    order = np.frombuffer(raw, dtype="<i4").astype(np.int64)
    if order.size == 0 or order.size % count:
        raise SystemExit(f"{path}: {order.size} indices is not a whole number of {count}-example epochs")
    order = order.reshape(-1, count)
    for e, row in enumerate(order):
        if not np.array_equal(np.sort(row), np.arange(count)):
            raise SystemExit(f"{path}: epoch {e} is not a permutation of 0..<{count}")
    return order, hashlib.sha256(raw).hexdigest()


def train(args):
    images = read_idx(FMNIST / "train-images-idx3-ubyte.gz")
    labels = torch.from_numpy(read_idx(FMNIST / "train-labels-idx1-ubyte.gz").astype(np.int64))
    x8 = torch.from_numpy(images.copy())[:, None]            # [60000, 1, 28, 28] uint8
    order, digest = read_order(args.order, len(x8))
    order = torch.from_numpy(order)
    torch.manual_seed(args.seed)
    model = fmnist_cnn()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(args.beta1, args.beta2),
                           eps=args.eps)
    loss_fn = nn.CrossEntropyLoss()
    steps_per_epoch = (len(x8) + args.batch - 1) // args.batch
    ends, sizes, losses = [], [], []
    deadline, t0 = None, None
    step = 0
    exhausted = False
    while True:
        epoch, s = divmod(step, steps_per_epoch)
        if epoch >= len(order):
            exhausted = True
            break
        idx = order[epoch, s * args.batch: (s + 1) * args.batch]
        xb = x8[idx].float().div_(255)
        yb = labels[idx]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        ends.append(time.perf_counter())
        sizes.append(len(idx))
        losses.append(float(loss.detach()))
        step += 1
        if step == args.warmup:
            deadline = ends[-1] + args.seconds
            t0 = time.time()
        if deadline is not None and step - args.warmup >= 5 and ends[-1] >= deadline:
            break
    timed = len(ends) - args.warmup
    wall = ends[-1] - ends[args.warmup - 1]
    n = sum(sizes[args.warmup:])
    step_ms = [(b - a) * 1e3 for a, b in zip(ends[args.warmup - 1:], ends[args.warmup:])]
    record = {**environment(args.threads), "bench": "train", "batch": args.batch,
              "optimizer": f"torch.optim.Adam lr {args.lr} betas ({args.beta1}, {args.beta2}) "
                           f"eps {args.eps} (defaults: on CPU neither foreach nor fused, "
                           "the single-tensor loop)",
              "loss": "nn.CrossEntropyLoss (mean over the batch)", "augmentation": "none",
              "data": "fashion-mnist", "order_sha256": digest, "order_epochs": len(order),
              "order_exhausted": exhausted, "warmup_steps": args.warmup,
              "images_per_second": round(n / wall, 1), "steps": timed, "images": n,
              "seconds": round(wall, 3), "median_step_ms": round(statistics.median(step_ms), 3),
              "min_step_ms": round(min(step_ms), 3), "first_loss": round(losses[0], 4),
              "last_loss": round(losses[-1], 4), "t0": round(t0, 3), "t1": round(time.time(), 3)}
    emit(record, args.json, f"train batch {args.batch}: {record['images_per_second']:.0f} images/s "
                            f"({timed} steps in {wall:.2f} s, loss {losses[0]:.3f} → {losses[-1]:.3f})")


def build_variant(name, model, batch):
    """A callable running one forward pass on a ready input, and that input."""
    model.eval()
    x = torch.rand(batch, 1, 28, 28, generator=torch.Generator().manual_seed(4))
    if name == "eager":
        return model, x
    x = x.contiguous(memory_format=torch.channels_last)
    if name == "jit-freeze":
        with torch.no_grad():
            m = torch.jit.freeze(torch.jit.trace(model, x))
            m = torch.jit.optimize_for_inference(m)
        return m, x
    if name == "compile":
        m = torch.compile(model.to(memory_format=torch.channels_last))
        with torch.inference_mode():
            m(x)                                       # compiles for this batch size
        return m, x
    raise SystemExit(f"unknown variant {name}")


def latency(fn, x, seconds, max_reps=5000, warmup=10):
    """Milliseconds of each forward pass over up to `seconds` (at least 5)."""
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            fn(x)
        end = time.perf_counter() + seconds
        while len(times) < max_reps and (len(times) < 5 or time.perf_counter() < end):
            start = time.perf_counter()
            fn(x)
            times.append((time.perf_counter() - start) * 1e3)
    return times


def infer(args):
    torch.manual_seed(args.seed)
    base = fmnist_cnn()
    params = sum(p.numel() for p in base.parameters())
    params += sum(b.numel() for n, b in base.named_buffers() if "running" in n)
    for variant in args.variants.split(","):
        for batch in [int(b) for b in args.batches.split(",")]:
            common = {**environment(args.threads), "bench": "infer", "variant": variant,
                      "variant_name": VARIANT_NAMES.get(variant, variant), "batch": batch,
                      "params": params}
            started = time.perf_counter()
            try:
                fn, x = build_variant(variant, base, batch)
                build_s = time.perf_counter() - started
                t0 = time.time()
                times = latency(fn, x, args.seconds)
            except Exception as e:                      # a variant this machine cannot run
                emit({**common, "error": f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"},
                     args.json, f"infer {variant} batch {batch}: failed: {e}")
                continue
            q = np.percentile(times, [10, 90])
            record = {**common, "median_ms": round(statistics.median(times), 4),
                      "p10_ms": round(float(q[0]), 4), "p90_ms": round(float(q[1]), 4),
                      "reps": len(times), "build_seconds": round(build_s, 2),
                      "t0": round(t0, 3), "t1": round(time.time(), 3)}
            emit(record, args.json, f"infer {variant} batch {batch:>2}: {record['median_ms']:.3f} ms "
                                    f"median ({len(times)} reps, built in {build_s:.1f} s)")


def emit(record, as_json, text):
    print(json.dumps(record) if as_json else text, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("train", "infer"):
        p = sub.add_parser(name)
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--seconds", type=float, default=20 if name == "train" else 2)
        p.add_argument("--seed", type=int, default=1234)
        p.add_argument("--json", action="store_true", help="JSON lines instead of text")
    t = sub.choices["train"]
    t.add_argument("--order", required=True, help="epoch orders written by AdaBench train --write-order")
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--warmup", type=int, default=5)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--beta1", type=float, default=0.9)
    t.add_argument("--beta2", type=float, default=0.999)
    t.add_argument("--eps", type=float, default=1e-7)
    i = sub.choices["infer"]
    i.add_argument("--variants", default="eager,jit-freeze,compile")
    i.add_argument("--batches", default="1,64")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train(args) if args.command == "train" else infer(args)


if __name__ == "__main__":
    main()
