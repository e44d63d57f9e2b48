"""Ratios for `make bench`: reads the JSON lines AdaBench and the PyTorch peer printed during
one run of tools/bench/run.sh, prints a table and writes them all to one JSON file.

  python3 report.py --ours ours.jsonl --peer peer.jsonl --out .build/bench/results.json

Ratios (> 1 means adascale is faster):
  training   ours images/s ÷ peer images/s      (best round of each: the machine is shared,
                                                  and the best round is the one least disturbed)
  inference  peer median ms ÷ ours median ms     (batch 1 and 64)
  GEMM       our training GFLOP/s ÷ sgemm 1024³ peak at the same thread count, same run
  depthwise  general depthwise loop µs ÷ multiplier-1 SIMD path µs, same run (AdaBench depthwise)
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path


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


def best(values):
    return max(values) if values else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True)
    parser.add_argument("--peer")
    parser.add_argument("--peer-note", default="")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--load", default="", help="load averages before/after, for the record")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    ours = read_lines(args.ours)
    peer = read_lines(args.peer)
    t = str(args.threads)

    peak = [r["value"] for r in ours
            if r["bench"] == "gemm" and r["metric"] == "peak" and r["detail"].get("threads") == t]
    train = [r for r in ours if r["bench"] == "train-step" and r["metric"] == "images_per_second"]
    gflops = [r["value"] for r in ours if r["bench"] == "train-step" and r["metric"] == "gflops"]
    infer = {int(r["detail"]["batch"]): r["value"] for r in ours if r["bench"] == "infer"}
    peer_train = [r["images_per_second"] for r in peer if r.get("bench") == "train"]
    peer_infer = {}
    for r in peer:
        if r.get("bench") == "infer":
            peer_infer.setdefault(r["batch"], []).append(r["median_ms"])

    ours_ips, peer_ips = best([r["value"] for r in train]), best(peer_train)
    rows = []

    def row(name, mine, theirs, ratio, unit):
        rows.append({"measure": name, "adascale": mine, "pytorch": theirs, "ratio": ratio,
                     "unit": unit})

    row("train images/s (batch 64)", ours_ips, peer_ips,
        ours_ips / peer_ips if ours_ips and peer_ips else None, "ours / peer")
    for batch in (1, 64):
        mine = infer.get(batch)
        theirs = min(peer_infer[batch]) if batch in peer_infer else None
        row(f"infer batch {batch} median ms", mine, theirs,
            theirs / mine if mine and theirs else None, "peer / ours")
    peak_best = best(peak)
    gf = best(gflops)
    row(f"train GFLOP/s vs sgemm 1024³ peak ({t} threads)", gf, None,
        gf / peak_best if gf and peak_best else None, "fraction of peak")

    def fmt(v, digits=1):
        return "—" if v is None else f"{v:,.{digits}f}"

    print()
    print(f"make bench — {t} threads, {platform.node()}, load {args.load}")
    if not peer:
        print(f"  PyTorch peer skipped: {args.peer_note or 'no results'}")
    print(f"  {'measure':46s} {'adascale':>10s} {'pytorch':>10s} {'ratio':>8s}")
    for r in rows:
        digits = 3 if "ms" in r["measure"] else 1
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}×"
        print(f"  {r['measure']:46s} {fmt(r['adascale'], digits):>10s} "
              f"{fmt(r['pytorch'], digits):>10s} {ratio:>8s}  {r['unit']}")
    if peak_best:
        one = best([r["value"] for r in ours if r["bench"] == "gemm" and r["metric"] == "peak"
                    and r["detail"].get("threads") == "1"])
        print(f"  sgemm 1024³ peak: {fmt(peak_best)} GFLOP/s at {t} threads"
              + (f", {fmt(one)} at 1" if one else ""))
    dw = next((r for r in ours if r["bench"] == "depthwise" and r["metric"] == "total"), None)
    if dw:
        print(f"  depthwise 3×3, MobileNetV2(0.35) shapes, batch 1, 1 thread: general loop "
              f"{float(dw['detail']['generalUs']):.1f} µs, SIMD over channels "
              f"{float(dw['detail']['simdUs']):.1f} µs: {dw['value']:.2f}× (same run)")
    if len(train) > 1 or len(peer_train) > 1:
        print("  training rounds, images/s: adascale "
              + ", ".join(fmt(r["value"], 0) for r in train)
              + "; pytorch " + (", ".join(fmt(v, 0) for v in peer_train) or "—"))

    try:
        first_load = float(args.load.split()[0])
    except (ValueError, IndexError):
        first_load = 0.0
    cores = os.cpu_count() or 1
    if first_load >= 0.5 * cores:
        print(f"  note: load {first_load} on {cores} cores — other processes hold CPU time, and"
              " OpenMP-threaded peers (PyTorch) slow down far more than their share when a core"
              " is busy; for a like-for-like ratio rerun when the machine is quiet.")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "threads": args.threads,
        "load": args.load, "peerNote": args.peer_note, "ratios": rows,
        "adascale": ours, "pytorch": peer,
    }, indent=2) + "\n")
    print(f"  written: {out}")


if __name__ == "__main__":
    main()
