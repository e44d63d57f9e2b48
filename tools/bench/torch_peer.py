"""PyTorch CPU peer for `make bench`: the fmnist_cnn architecture, inference latency and
training throughput, for comparison with adascale on the same machine.

Model (NCHW here; same layers and sizes as tools/reference/make_keras_fixtures.py fmnist_cnn):
  Conv 32 3×3 same → BN → ReLU → MaxPool 2 → Conv 64 3×3 same → BN → ReLU → MaxPool 2
  → Flatten → Dense 64 ReLU → Dropout 0.3 → Dense 10        (220,618 parameters)

Prints one JSON object per line with --json:
  {"peer": "pytorch", "bench": "infer", "batch": 1|64, "median_ms": ..., ...}
  {"peer": "pytorch", "bench": "train", "batch": 64, "images_per_second": ..., ...}

Usage: python torch_peer.py --threads 2 --seconds 20 --json
"""

import argparse
import gzip
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

FMNIST = Path("/usr/share/datasets/fashion-mnist")


def fmnist_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32, eps=1e-3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64, eps=1e-3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(7 * 7 * 64, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 10),
    )


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def training_data(source, rng):
    """[60000, 1, 28, 28] float32 in [0, 1] and int64 labels (random data of that shape if asked
    or if the Fashion-MNIST files are missing)."""
    images, labels = FMNIST / "train-images-idx3-ubyte.gz", FMNIST / "train-labels-idx1-ubyte.gz"
    if source == "fmnist" and images.exists():
        x = read_idx(images).astype(np.float32)[:, None] / 255.0
        return torch.from_numpy(x), torch.from_numpy(read_idx(labels).astype(np.int64)), "fmnist"
    x = rng.random((60000, 1, 28, 28), dtype=np.float32)
    return torch.from_numpy(x), torch.from_numpy(rng.integers(0, 10, 60000)), "random"


def inference_latency(model, batch, seconds, max_reps=2000, warmup=10):
    """Median milliseconds of one forward pass at `batch`, over up to `seconds`."""
    model.eval()
    x = torch.rand(batch, 1, 28, 28)
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            model(x)
        deadline = time.perf_counter() + seconds
        while len(times) < max_reps and (len(times) < 5 or time.perf_counter() < deadline):
            start = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), len(times)


def training_throughput(model, x, y, seconds, max_steps, batch=64, warmup=5):
    """Images per second of Adam training steps at `batch` (after `warmup` steps)."""
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    order = torch.randperm(len(x))
    steps, loss, start = 0, float("nan"), None
    deadline = None
    while steps < max_steps + warmup:
        if steps == warmup:
            start = time.perf_counter()
            deadline = start + seconds
        i = (steps * batch) % (len(x) - batch)
        idx = order[i: i + batch]
        opt.zero_grad(set_to_none=True)
        out = loss_fn(model(x[idx]), y[idx])
        out.backward()
        opt.step()
        steps += 1
        if deadline is not None and time.perf_counter() >= deadline:
            break
    elapsed = time.perf_counter() - start
    timed = steps - warmup
    loss = float(out.detach())
    return timed * batch / elapsed, timed, elapsed, loss


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20, help="training time budget")
    parser.add_argument("--max-steps", type=int, default=3000, help="training step cap")
    parser.add_argument("--infer-seconds", type=float, default=3,
                        help="time budget per inference batch size")
    parser.add_argument("--data", choices=["fmnist", "random"], default="fmnist")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--json", action="store_true", help="JSON lines instead of text")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = fmnist_cnn()
    params = sum(p.numel() for p in model.parameters())
    params += sum(b.numel() for n, b in model.named_buffers() if "running" in n)
    common = {"peer": "pytorch", "torch": torch.__version__, "threads": args.threads,
              "params": params}
    results = []
    for batch in (1, 64):
        median, reps = inference_latency(model, batch, args.infer_seconds)
        results.append({**common, "bench": "infer", "batch": batch,
                        "median_ms": round(median, 4), "reps": reps})
    x, y, source = training_data(args.data, np.random.default_rng(args.seed))
    ips, steps, elapsed, loss = training_throughput(model, x, y, args.seconds, args.max_steps)
    results.append({**common, "bench": "train", "batch": 64, "optimizer": "adam",
                    "data": source, "images_per_second": round(ips, 1), "steps": steps,
                    "seconds": round(elapsed, 2), "last_loss": round(loss, 4)})
    for r in results:
        if args.json:
            print(json.dumps(r), flush=True)
        elif r["bench"] == "infer":
            print(f"infer batch {r['batch']:>2}: {r['median_ms']:.3f} ms median "
                  f"({r['reps']} reps, {args.threads} threads)")
        else:
            print(f"train batch 64: {r['images_per_second']:.0f} images/s "
                  f"({r['steps']} steps in {r['seconds']} s, {source} data, loss {r['last_loss']})")


if __name__ == "__main__":
    main()
