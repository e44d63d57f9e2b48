#!/usr/bin/env python3
"""Turns a crashing input found by mutate.py into a small regression record: the committed file
it was made from, its length, and the fewest byte edits that still reproduce the failure.

    tools/faults/minimize.py --bin /tmp/adascale-old --base Tests/Fixtures/keras/mlp.h5 \
        --crash /tmp/adascale-mutate-crashes/mlp.h5.1.198.crash.h5 [--command "inspect FILE"] \
        [--hang-seconds 5]

Prints one JSON object, for Tests/Fixtures/fuzz/regressions.json. Edits are reverted one at a
time (greedily) while the command still crashes (or still hangs with --hang-seconds).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--base", required=True)
    p.add_argument("--crash", required=True)
    p.add_argument("--command", default="inspect FILE")
    p.add_argument("--hang-seconds", type=float, default=None)
    p.add_argument("--repeat", type=int, default=3, help="runs per check (HDF5 crashes can be flaky)")
    a = p.parse_args()
    base = open(a.base, "rb").read()
    crash = open(a.crash, "rb").read()
    size = len(crash)
    edits = [(i, crash[i]) for i in range(min(size, len(base))) if base[i] != crash[i]]
    suffix = "".join(os.path.basename(a.base).partition(".")[1:])
    work = tempfile.mkdtemp()
    target = os.path.join(work, "m" + suffix)

    def fails(es):
        b = bytearray(base[:size])
        for i, v in es:
            b[i] = v
        open(target, "wb").write(b)
        args = [a.bin] + [target if w == "FILE" else w for w in a.command.split()]
        for _ in range(a.repeat):
            try:
                r = subprocess.run(args, capture_output=True, timeout=a.hang_seconds or 60,
                                   env=dict(os.environ, ADASCALE_DECODE_IN_PROCESS="1"))
                if r.returncode < 0 or r.returncode >= 128:
                    return True
            except subprocess.TimeoutExpired:
                if a.hang_seconds:
                    return True
        return False

    if not fails(edits):
        print("the input does not fail with this binary", file=sys.stderr)
        return 1
    k = 0
    while k < len(edits):
        trial = edits[:k] + edits[k + 1:]
        if fails(trial):
            edits = trial
        else:
            k += 1
    rel = os.path.relpath(a.base, "Tests/Fixtures")
    print(json.dumps({"base": rel, "size": size, "edits": [[i, v] for i, v in edits],
                      "command": a.command}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
