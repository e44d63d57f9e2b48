"""Load sampler for `make bench`: once a second, how much CPU *other* processes took.

  python3 loadmon.py sample --root PID --out load.jsonl [--interval 1]

runs until PID exits (or SIGTERM) and writes one JSON object per line:

  {"t": 1796000000.123, "load1": 2.31, "busy": 1.98, "ours": 1.95, "others": 0.03, "steal": 0.0}

- t: Unix time at the end of the sample's interval;
- load1: the 1-minute load average (/proc/loadavg), for the record (it counts our own threads);
- busy: cores busy over the interval, all of the machine (/proc/stat: everything but idle and
  iowait, steal included), in cores (2.0 = both cores of a 2-core machine);
- ours: cores used by PID and all its descendants, the sampler included (/proc/PID/stat utime +
  stime of every live process of the tree, plus cutime + cstime, which hold the time of the
  tree's exited children once reaped, so short-lived children are counted);
- others: busy − ours (never below 0): other processes, and the hypervisor's steal;
- steal: the part of busy the hypervisor took (already inside others).

`windows(samples, t0, t1)` and `verdict(...)` are used by report.py: a measurement whose timed
part ran from t0 to t1 is **unreliable** when other processes used, on average over the samples
covering it, at least OTHERS_MEAN cores, or at least OTHERS_PEAK cores in any one of them, so
load that starts in the middle of a measurement counts, not only load present at its start.
"""

import argparse
import json
import os
import signal
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")
OTHERS_MEAN = float(os.environ.get("BENCH_OTHERS_MEAN", "0.25"))
OTHERS_PEAK = float(os.environ.get("BENCH_OTHERS_PEAK", "0.5"))


def machine_jiffies():
    """(busy, steal) jiffies of all CPUs since boot."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return user + nice + system + irq + softirq + steal, steal


def processes():
    """{pid: (ppid, utime + stime + cutime + cstime)} of every process now."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                text = f.read()
        except OSError:
            continue
        rest = text[text.rfind(")") + 2:].split()      # fields from 3 (state) on
        ppid = int(rest[1])
        cpu = int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
        out[int(name)] = (ppid, cpu)
    return out


def tree_jiffies(root, procs):
    children = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in procs:
            total += procs[pid][1]
        stack.extend(children.get(pid, []))
    return total


def sample(args):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    out = open(args.out, "a", buffering=1)
    busy0, steal0 = machine_jiffies()
    ours0 = tree_jiffies(args.root, processes())
    t_prev = time.monotonic()
    while not stop and os.path.exists(f"/proc/{args.root}"):
        time.sleep(args.interval)
        now = time.monotonic()
        busy1, steal1 = machine_jiffies()
        procs = processes()
        ours1 = tree_jiffies(args.root, procs)
        span = (now - t_prev) * HZ
        with open("/proc/loadavg") as f:
            load1 = float(f.read().split()[0])
        busy = (busy1 - busy0) / span
        ours = max(0, ours1 - ours0) / span
        out.write(json.dumps({"t": round(time.time(), 3), "load1": load1, "busy": round(busy, 3),
                              "ours": round(ours, 3), "others": round(max(0.0, busy - ours), 3),
                              "steal": round((steal1 - steal0) / span, 3)}) + "\n")
        busy0, steal0, ours0, t_prev = busy1, steal1, ours1, now


def read(path):
    samples = []
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("{"):
                    samples.append(json.loads(line))
    except OSError:
        pass
    return samples


def window(samples, t0, t1):
    """The samples whose one-second interval overlaps [t0, t1] (at least the first one ending
    after t1, for windows shorter than a sample)."""
    inside = [s for s in samples if t0 < s["t"] and s["t"] - 1.0 < t1]
    if not inside:
        later = [s for s in samples if s["t"] >= t1]
        inside = later[:1]
    return inside


def verdict(samples, t0, t1):
    """Load during one measurement: mean and peak of `others`, load average at start and peak,
    and whether it is reliable."""
    w = window(samples, t0, t1)
    if not w:
        return {"samples": 0, "reliable": None}
    others = [s["others"] for s in w]
    mean = sum(others) / len(others)
    return {"samples": len(w), "othersMean": round(mean, 3), "othersPeak": round(max(others), 3),
            "load1Start": w[0]["load1"], "load1Max": max(s["load1"] for s in w),
            "reliable": mean < OTHERS_MEAN and max(others) < OTHERS_PEAK}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--root", type=int, required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    if args.command == "sample":
        sample(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
