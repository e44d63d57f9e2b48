"""The `make bench` table: reads the JSON lines AdaBench, the PyTorch peer and the onnxruntime
peer printed during one run of tools/bench/run.sh, and the load samples taken during it; prints
one row per measure and writes everything to one JSON file.

  python3 report.py --ours ours.jsonl --peer peer.jsonl --onnx onnx.jsonl --samples load.jsonl \\
                    --out .build/bench/results.json

Every row gives, per side, the **median [min–max] over the rounds** and the number of rounds; a
row where adascale is slower stays in the table (ratio < 1). Ratios are of the medians, > 1
means adascale is faster:
  training   ours images/s ÷ peer images/s
  inference  peer median ms ÷ ours median ms     (each round's figure is that run's median)
  GEMM       our training GFLOP/s ÷ sgemm 1024³ peak at the same thread count, same run

Load: each measurement's timed part (t0–t1 in its record) is matched with the samples of
tools/bench/loadmon.py; it is unreliable when other processes used ≥ BENCH_OTHERS_MEAN cores on
average (default 0.25) or ≥ BENCH_OTHERS_PEAK in any one-second sample (default 0.5) during it.
A row is unreliable when any of its measurements is, and the run when any row is.
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import loadmon


def read_lines(path):
    if not path or not Path(path).exists():
        return []
    records = []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return records


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def window_of(record):
    """(t0, t1) of a record's timed part, from AdaBench's detail or a peer's top level."""
    d = record.get("detail", record)
    try:
        return float(d["t0"]), float(d["t1"])
    except (KeyError, TypeError, ValueError):
        return None


class Side:
    """One side of a row: the value of each round and the load during each."""

    def __init__(self, records, value, samples):
        self.records = records
        self.values = [value(r) for r in records]
        self.verdicts = []
        for r in records:
            w = window_of(r)
            self.verdicts.append(loadmon.verdict(samples, *w) if w and samples else
                                 {"samples": 0, "reliable": None})

    @property
    def median(self):
        return statistics.median(self.values) if self.values else None

    def summary(self):
        if not self.values:
            return {"n": 0}
        return {"median": self.median, "min": min(self.values), "max": max(self.values),
                "n": len(self.values), "values": self.values, "load": self.verdicts}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True)
    parser.add_argument("--peer")
    parser.add_argument("--peer-note", default="")
    parser.add_argument("--onnx")
    parser.add_argument("--onnx-note", default="")
    parser.add_argument("--samples")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--load", default="", help="load averages before/after, for the record")
    parser.add_argument("--seconds", default="", help="duration of the run")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    ours = read_lines(args.ours)
    peer = read_lines(args.peer)
    onnx = read_lines(args.onnx)
    samples = loadmon.read(args.samples) if args.samples else []
    t = str(args.threads)

    blas = next((r["detail"].get("blasCore") for r in ours if "blasCore" in r.get("detail", {})), "?")
    torch_env = next((r for r in peer if "torch" in r), {})
    ort_version = next((r.get("version") for r in onnx if r.get("peer") == "onnxruntime"), None)
    machine = {
        "cpu": cpu_model(), "cores": os.cpu_count(), "blasCore": blas,
        "openblasNumThreads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
        "adascaleThreads": args.threads,
        "torch": torch_env.get("torch"), "torchThreads": torch_env.get("threads"),
        "torchInteropThreads": torch_env.get("interop_threads"),
        "torchCpuCapability": torch_env.get("cpu_capability"),
        "onnxruntime": ort_version, "onnxruntimeThreads": args.threads if ort_version else None,
    }

    rows = []

    def row(measure, unit, ours_side, peer_label, peer_exact, peer_side, direction, note=""):
        ratio = None
        if ours_side.median and peer_side is not None and peer_side.median:
            ratio = (ours_side.median / peer_side.median if direction == "ours / peer"
                     else peer_side.median / ours_side.median)
        verdicts = ours_side.verdicts + (peer_side.verdicts if peer_side else [])
        bad = sum(1 for v in verdicts if v.get("reliable") is False)
        unknown = sum(1 for v in verdicts if v.get("reliable") is None)
        rows.append({
            "measure": measure, "unit": unit, "adascale": ours_side.summary(),
            "peer": {"label": peer_label, "exact": peer_exact,
                     **(peer_side.summary() if peer_side else {"n": 0})},
            "ratio": ratio, "ratioMeaning": direction, "note": note,
            "unreliableMeasurements": bad, "unsampledMeasurements": unknown,
            "measurements": len(verdicts), "reliable": bad == 0 and unknown == 0 and bool(verdicts),
            "machine": machine,
        })

    # Training through the real Trainer vs PyTorch.
    train = [r for r in ours if r["bench"] == "train" and r["metric"] == "images_per_second"]
    peer_train = [r for r in peer if r.get("bench") == "train"]
    exact = (peer_train[0]["optimizer"] + ", " + peer_train[0]["loss"] + f", torch {peer_train[0]['torch']}"
             if peer_train else "")
    digests = {r["detail"].get("orderSha256") for r in train if r["detail"].get("orderSha256")}
    peer_digests = {r.get("order_sha256") for r in peer_train}
    note = ""
    if peer_train:
        note = ("same shuffle order (sha256 " + next(iter(peer_digests))[:12] + ")"
                if digests and peer_digests == digests else
                f"shuffle orders DIFFER: adascale {sorted(digests)}, peer {sorted(peer_digests)}")
        if any(r.get("order_exhausted") for r in peer_train):
            note += "; the peer ran out of written epochs"
    row("train images/s, batch 64", "images/s",
        Side(train, lambda r: r["value"], samples),
        "torch eager, Adam", exact, Side(peer_train, lambda r: r["images_per_second"], samples),
        "ours / peer", note)

    # Inference: adascale vs each PyTorch variant, at batch 1 and 64.
    peer_infer = [r for r in peer if r.get("bench") == "infer"]
    variants = list(dict.fromkeys(r["variant"] for r in peer_infer)) or ["eager"]
    labels = {"eager": "torch eager", "jit-freeze": "torch jit.freeze+ofi, CL",
              "compile": "torch.compile, CL"}
    for batch in (1, 64):
        mine = [r for r in ours if r["bench"] == "infer" and r["detail"].get("batch") == str(batch)]
        for v in variants:
            runs = [r for r in peer_infer if r["variant"] == v and r["batch"] == batch]
            ok = [r for r in runs if "median_ms" in r]
            failed = [r["error"] for r in runs if "error" in r]
            exact = next((r["variant_name"] for r in runs), v)
            row(f"infer batch {batch}, median ms", "ms", Side(mine, lambda r: r["value"], samples),
                labels.get(v, v), f"torch {torch_env.get('torch')} {exact}",
                Side(ok, lambda r: r["median_ms"], samples), "peer / ours",
                f"failed in {len(failed)} round(s): {failed[0]}" if failed else "")

    # onnxruntime vs adascale on the bundle's variants.
    ort_rows = []
    names = sorted({r["model"] for r in onnx if r.get("peer") == "onnxruntime"})
    for name in names:
        for batch in (1, 64):
            mine = [r for r in onnx if r.get("bench") == "infer" and r.get("detail", {}).get("variant") == name
                    and r["detail"].get("batch") == str(batch)]
            theirs = [r for r in onnx if r.get("peer") == "onnxruntime" and r["model"] == name
                      and r["batch"] == batch]
            row(f"infer {name} batch {batch}, median ms", "ms", Side(mine, lambda r: r["value"], samples),
                "onnxruntime", f"onnxruntime {ort_version}, CPU provider, ORT_ENABLE_ALL, "
                f"{args.threads} intra-op threads, sequential; the variant's .onnx (int8 QDQ where it is 8-bit)",
                Side(theirs, lambda r: r["median_ms"], samples), "peer / ours")
            ort_rows.append(rows[-1])

    # Efficiency against the machine's sgemm peak.
    peak = [r["value"] for r in ours
            if r["bench"] == "gemm" and r["metric"] == "peak" and r["detail"].get("threads") == t]
    gflops = [r for r in ours if r["bench"] == "train" and r["metric"] == "gflops"]
    peak_best = max(peak) if peak else None
    gf = Side(gflops, lambda r: r["value"], samples)
    if gflops:
        rows.append({
            "measure": "train GFLOP/s ÷ sgemm peak", "unit": "GFLOP/s",
            "adascale": gf.summary(), "peer": {"label": "sgemm 1024³ peak", "exact": f"OpenBLAS sgemm 1024³, {t} threads, same run",
                                               "median": peak_best, "n": len(peak)},
            "ratio": gf.median / peak_best if peak_best else None, "ratioMeaning": "fraction of peak",
            "note": "", "unreliableMeasurements": sum(v.get("reliable") is False for v in gf.verdicts),
            "unsampledMeasurements": sum(v.get("reliable") is None for v in gf.verdicts),
            "measurements": len(gf.verdicts),
            "reliable": all(v.get("reliable") for v in gf.verdicts), "machine": machine})

    reliable = all(r["reliable"] for r in rows) and bool(samples)
    others = [s["others"] for s in samples]
    print_table(args, machine, rows, ort_rows, samples, others, reliable, ours, peer)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "threads": args.threads, "machine": machine,
        "reliable": reliable,
        "loadRule": {"othersMeanCores": loadmon.OTHERS_MEAN, "othersPeakCores": loadmon.OTHERS_PEAK},
        "load": {"loadavg": args.load, "samples": len(samples),
                 "othersMean": round(statistics.mean(others), 3) if others else None,
                 "othersMax": max(others) if others else None},
        "seconds": args.seconds, "peerNote": args.peer_note, "onnxNote": args.onnx_note, "rows": rows,
        "raw": {"adascale": ours, "pytorch": peer, "onnx": onnx, "loadSamples": samples},
    }, indent=2) + "\n")
    if ort_rows:
        with open(out.parent / "onnx.txt", "w") as f:
            for r in ort_rows:
                f.write(format_row(r) + "\n")
    print(f"  written: {out}" + (f" and {out.parent / 'onnx.txt'}" if ort_rows else ""))


def fmt(v, unit):
    if v is None:
        return "—"
    return f"{v:,.0f}" if unit == "images/s" else f"{v:,.1f}" if unit == "GFLOP/s" else f"{v:.3f}"


def spread(side, unit):
    if not side.get("n"):
        return "—"
    if "min" not in side:
        return fmt(side.get("median"), unit)
    return f"{fmt(side['median'], unit)} [{fmt(side['min'], unit)}–{fmt(side['max'], unit)}]"


def format_row(r):
    ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}×"
    n = f"{r['adascale'].get('n', 0)}+{r['peer'].get('n', 0)}"
    if r["reliable"]:
        load = "ok"
    elif r["unreliableMeasurements"]:
        load = f"UNRELIABLE {r['unreliableMeasurements']}/{r['measurements']}"
    else:
        load = "unsampled"
    line = (f"  {r['measure']:32s} {spread(r['adascale'], r['unit']):>27s}  {r['peer']['label']:25s}"
            f" {spread(r['peer'], r['unit']):>27s} {ratio:>7s} {n:>5s}  {load}")
    return line + (f"\n      note: {r['note']}" if r["note"] else "")


def print_table(args, m, rows, ort_rows, samples, others, reliable, ours, peer):
    print()
    print(f"make bench — {m['cpu']}, {m['cores']} cores, OpenBLAS {m['blasCore']}, adascale "
          f"{m['adascaleThreads']} threads; torch {m['torch']} ({m['torchThreads']} threads, "
          f"{m['torchInteropThreads']} inter-op, {m['torchCpuCapability']})"
          + (f"; onnxruntime {m['onnxruntime']} ({m['onnxruntimeThreads']} threads)" if m["onnxruntime"] else ""))
    if others:
        print(f"  load average {args.load}; other processes {statistics.mean(others):.2f} cores on "
              f"average, {max(others):.2f} at most ({len(samples)} one-second samples)"
              + (f"; run took {args.seconds} s" if args.seconds else ""))
    bad = sum(r["unreliableMeasurements"] for r in rows)
    total = sum(r["measurements"] for r in rows)
    if reliable:
        print("  RESULT: reliable — other processes stayed under "
              f"{loadmon.OTHERS_MEAN} cores (mean) and {loadmon.OTHERS_PEAK} (peak) in every measurement")
    else:
        print(f"  RESULT: UNRELIABLE — other processes used ≥ {loadmon.OTHERS_MEAN} cores (mean) or "
              f"≥ {loadmon.OTHERS_PEAK} (one-second peak) during {bad} of {total} measurements"
              + ("" if samples else " (no load samples)"))
    if not peer:
        print(f"  PyTorch peer skipped: {args.peer_note or 'no results'}")
    if args.onnx_note:
        print(f"  onnxruntime peer skipped: {args.onnx_note}")
    print(f"  {'measure':32s} {'adascale median [min–max]':>27s}  {'peer':25s} "
          f"{'peer median [min–max]':>27s} {'ratio':>7s} {'n':>5s}  load")
    for r in rows:
        print(format_row(r))
    print("  ratio > 1: adascale faster (throughput ours/peer, latency peer/ours, medians); "
          "n = rounds adascale+peer")
    print("  peers:")
    for label, exact in dict.fromkeys((r["peer"]["label"], r["peer"]["exact"]) for r in rows):
        print(f"    {label}: {exact}")
    for batch in (1, 64):
        torch_rows = [r for r in rows if r["measure"] == f"infer batch {batch}, median ms"
                      and r["peer"].get("median") is not None]
        if len(torch_rows) > 1:
            fastest = min(torch_rows, key=lambda r: r["peer"]["median"])
            print(f"  fastest PyTorch variant at batch {batch}: {fastest['peer']['label']} "
                  f"({fmt(fastest['peer']['median'], 'ms')} ms median; adascale "
                  f"{fmt(fastest['adascale'].get('median'), 'ms')} ms)")
    peak = [r["value"] for r in ours if r["bench"] == "gemm" and r["metric"] == "peak"]
    if peak:
        by = {r["detail"]["threads"]: r["value"] for r in ours if r["bench"] == "gemm" and r["metric"] == "peak"}
        print("  sgemm 1024³ peak: " + ", ".join(f"{v:.1f} GFLOP/s at {k} thread(s)" for k, v in by.items()))
    dw = next((r for r in ours if r["bench"] == "depthwise" and r["metric"] == "total"), None)
    if dw:
        w = window_of(dw)
        v = loadmon.verdict(samples, *w) if w and samples else {}
        print(f"  depthwise 3×3, MobileNetV2(0.35) shapes, batch 1, 1 thread: general loop "
              f"{float(dw['detail']['generalUs']):.1f} µs, SIMD over channels "
              f"{float(dw['detail']['simdUs']):.1f} µs: {dw['value']:.2f}× (one run)"
              + ("" if v.get("reliable", True) else " UNRELIABLE"))


if __name__ == "__main__":
    main()
