#!/usr/bin/env python3
"""Mutation loop over adascale's file readers: mutates small real files and runs a command on
each copy, counting clean errors (exit 1), internal errors (exit 2), accepted files (exit 0),
crashes (a signal, or exit >= 128) and hangs (no answer within --timeout).

    tools/faults/mutate.py --bin .build/debug/adascale --seed 1 --count 200 \
        Tests/Fixtures/keras/mlp.h5 Tests/Fixtures/keras/mlp.keras

Mutations (one per copy, chosen by the seed): flip 1-8 random bits; truncate at a random length;
overwrite 2, 4 or 8 bytes at a random offset with 0x00, 0xff or random bytes (size and offset
fields); zero a random 64-byte run. Files ending .h5/.keras run `adascale inspect FILE`;
`--command` changes that (FILE is replaced by the mutated copy's path).

Crashing inputs are kept in --keep (default /tmp/adascale-mutate-crashes) with the command's
stderr, to be minimised into Tests/Fixtures/fuzz/. Exit status: 1 when any crash or hang was seen.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    b = bytearray(data)
    kind = rng.choice(["bits", "bits", "truncate", "field", "field", "zero"])
    if kind == "bits":
        n = rng.randint(1, 8)
        for _ in range(n):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b), f"flip {n} bits"
    if kind == "truncate":
        n = rng.randrange(len(b))
        return bytes(b[:n]), f"truncate to {n}"
    if kind == "field":
        width = rng.choice([2, 4, 8])
        at = rng.randrange(max(1, len(b) - width))
        fill = rng.choice(["00", "ff", "rand"])
        for k in range(width):
            b[at + k] = 0 if fill == "00" else 0xFF if fill == "ff" else rng.randrange(256)
        return bytes(b), f"{width} bytes at {at} = {fill}"
    at = rng.randrange(max(1, len(b) - 64))
    b[at:at + 64] = bytes(min(64, len(b) - at))
    return bytes(b), f"zero 64 bytes at {at}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+")
    p.add_argument("--bin", default=".build/debug/adascale")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--count", type=int, default=100, help="mutated copies per file")
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--command", default="inspect FILE", help="adascale arguments; FILE = mutated copy")
    p.add_argument("--keep", default="/tmp/adascale-mutate-crashes")
    a = p.parse_args()
    os.makedirs(a.keep, exist_ok=True)
    work = tempfile.mkdtemp(prefix="adascale-mutate-")
    totals = {"ok": 0, "error": 0, "internal": 0, "crash": 0, "hang": 0}
    print(f"{'file':40} {'runs':>5} {'exit 0':>7} {'exit 1':>7} {'exit 2':>7} {'crash':>6} {'hang':>5}")
    try:
        for path in a.files:
            rng = random.Random(f"{a.seed}:{os.path.basename(path)}")
            data = open(path, "rb").read()
            suffix = "".join(os.path.basename(path).partition(".")[1:])
            counts = dict.fromkeys(totals, 0)
            for i in range(a.count):
                mutated, what = mutate(data, rng)
                target = os.path.join(work, f"m{suffix}")
                with open(target, "wb") as f:
                    f.write(mutated)
                args = [a.bin] + [target if w == "FILE" else w for w in a.command.split()]
                try:
                    r = subprocess.run(args, capture_output=True, timeout=a.timeout)
                    code = r.returncode
                    stderr = r.stderr
                except subprocess.TimeoutExpired as e:
                    code = None
                    stderr = e.stderr or b""
                if code is None:
                    kind = "hang"
                elif code < 0 or code >= 128:
                    kind = "crash"
                else:
                    kind = {0: "ok", 1: "error", 2: "internal"}.get(code, "internal")
                counts[kind] += 1
                if kind in ("crash", "hang", "internal"):
                    name = f"{os.path.basename(path)}.{a.seed}.{i}.{kind}"
                    shutil.copy(target, os.path.join(a.keep, name + suffix))
                    with open(os.path.join(a.keep, name + ".txt"), "w") as f:
                        f.write(f"{what}\nexit {code}\n")
                        f.write(stderr.decode("utf-8", "replace")[-4000:])
            for k in totals:
                totals[k] += counts[k]
            print(f"{os.path.basename(path):40} {a.count:5} {counts['ok']:7} {counts['error']:7} "
                  f"{counts['internal']:7} {counts['crash']:6} {counts['hang']:5}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = sum(totals.values())
    print(f"{'total':40} {n:5} {totals['ok']:7} {totals['error']:7} {totals['internal']:7} "
          f"{totals['crash']:6} {totals['hang']:5}")
    print(f"kept crashing/hanging/internal-error inputs in {a.keep}")
    return 1 if totals["crash"] or totals["hang"] else 0


if __name__ == "__main__":
    sys.exit(main())
