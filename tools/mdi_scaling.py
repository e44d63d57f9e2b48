#!/usr/bin/env python3
"""Chains of 1 to 8 devices, modelled: the planner's best split and the discrete-event
simulation of it per chain length, for a variant and link (docs/mdi.md, "Chains of 2-8 devices").
Every figure is a model (the profiler's device roofline, the planner, ChainSimulator), not a
measurement: `mdi plan` is run once per chain length.

    tools/mdi_scaling.py BUNDLE VARIANT [--exits drop-1] [--device jetson-nano-cpu] \
        [--mbps 20] [--ms 2] [--features int8] [--max 8] [--inputs 5000] [--window 64]

Prints a Markdown table: devices, the planned throughput with exits (and without), the
simulated throughput and p50 latency, the gain over the variant alone on one device with the
same exits, and where the plan cuts. ADASCALE names the binary (default .build/release/adascale).
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def plan(binary, a, n):
    args = [binary, "mdi", "plan", "--bundle", a.bundle, "--variant", a.variant,
            "--devices", ",".join([a.device] * n), "--link-mbps", str(a.mbps), "--link-ms", str(a.ms),
            "--features", a.features, "--pipelined-links", "--simulate", str(a.inputs),
            "--window", str(a.window), "--json"]
    if a.exits:
        args += ["--exits", a.exits]
    p = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        sys.exit(f"mdi plan with {n} devices failed: {p.stderr.strip()}")
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle")
    ap.add_argument("variant")
    ap.add_argument("--exits")
    ap.add_argument("--device", default="jetson-nano-cpu")
    ap.add_argument("--mbps", type=float, default=20)
    ap.add_argument("--ms", type=float, default=2)
    ap.add_argument("--features", default="int8")
    ap.add_argument("--max", type=int, default=8)
    ap.add_argument("--inputs", type=int, default=5000)
    ap.add_argument("--window", type=int, default=64)
    a = ap.parse_args()
    binary = os.environ.get("ADASCALE", os.path.join(ROOT, ".build/release/adascale"))

    rows = []
    alone = None
    for n in range(2, a.max + 1):
        d = plan(binary, a, n)
        if alone is None:
            with_exits = [b for b in d["baselines"] if "with exits" in b["name"]]
            alone = (with_exits or d["baselines"])[0]["throughput"]
            first = d
        p = d["plan"]
        rows.append((n, 1000 / p["bottleneck_ms"], 1000 / d["no_exit_plan"]["bottleneck_ms"] if d.get("no_exit_plan") else None,
                     d["simulated"]["throughput"], d["simulated"]["latency_ms"]["p50"], p["cut_after"],
                     sum(1 for s in p["stages"] if s.get("first_node") is not None)))
    print(f"{a.bundle} {a.variant}{' at ' + a.exits if a.exits else ''} on {a.device} chains, "
          f"{a.mbps:g} Mbit/s + {a.ms:g} ms links, {a.features} features, pipelined links; "
          f"simulated {a.inputs} inputs, window {a.window}; graph {first['graph']}")
    print()
    print("| devices | plan /s | plan without exits /s | simulated /s | simulated p50 ms | × one device | cuts after |")
    print("|---|---|---|---|---|---|---|")
    print(f"| 1 | {alone:.1f} | {[b for b in first['baselines'] if 'no exits' in b['name']][0]['throughput']:.1f} | – | – | 1.00 | – |")
    for n, planned, no_exit, simulated, p50, cuts, _ in rows:
        ne = f"{no_exit:.1f}" if no_exit else "–"
        print(f"| {n} | {planned:.1f} | {ne} | {simulated:.1f} | {p50:.2f} | {simulated / alone:.2f} | {', '.join(cuts)} |")


if __name__ == "__main__":
    main()
