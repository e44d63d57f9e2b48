#!/usr/bin/env python3
"""Runs adascale's libFuzzer targets (Fuzz/, built by `make fuzz`) and prints one line per target:
executions, seconds, exec/s, coverage (cov/ft), crashes. Exit status 1 when any target found a
crash that is not contained (see below), else 0.

    tools/fuzz/run.py --seconds 60                    # every target, 60 s each (make fuzz)
    tools/fuzz/run.py --seconds 3600 --runs 1000000 fuzz-trace fuzz-frame   # a long run

Each target keeps its corpus in .build-fuzz/run/corpus/<target> (seeded from Fuzz/corpus/<target>
and, for the HDF5 and zip readers, from files in Tests/Fixtures) and writes crashing inputs to
.build-fuzz/run/artifacts/<target>/ (not .build-fuzz/artifacts: SwiftPM empties that).

The targets that reach the HDF5 C library (fuzz-h5, fuzz-keras, fuzz-dataset-h5) run in
libFuzzer's fork mode with -ignore_crashes=1: a crash of a child is recorded and fuzzing goes on.
Every crashing input is then run again alone and classified by the top frames of its stack:
"hdf5" when the faulting frame is inside libhdf5 (a bug we cannot fix; the CLI contains it by
decoding files from elsewhere in a child process, which --verify checks with `adascale inspect`
exiting 1), "ours" otherwise. Only "ours" makes the exit status 1. The other targets run
in-process and stop at the first crash.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, ".build-fuzz/release")
FIX = os.path.join(ROOT, "Tests/Fixtures")

# target: (max_len, extra seed files from the fixtures, runs in fork mode)
TARGETS = {
    "fuzz-h5": (65536, ["keras/mlp.h5", "keras/keras2_seq.h5", "keras/mlp.io.h5", "grad/small_net.h5"], True),
    "fuzz-keras": (65536, ["keras/mlp.keras", "keras/dag.keras"], True),
    "fuzz-config": (16384, ["keras/dag.config.json", "keras/conv_ops.config.json"], False),
    "fuzz-recipe": (8192, [], False),
    "fuzz-manifest": (16384, [], False),
    "fuzz-lut": (16384, [], False),
    "fuzz-trace": (8192, [], False),
    "fuzz-dataset-h5": (65536, ["data/preprocess.h5", "keras/mlp.io.h5"], True),
    "fuzz-idx": (4096, [], False),
    "fuzz-frame": (4096, [], False),
}

HDF5_TARGETS = {t for t, (_, _, fork) in TARGETS.items() if fork}


def seed(target):
    corpus = os.path.join(ROOT, ".build-fuzz/run/corpus", target)
    os.makedirs(corpus, exist_ok=True)
    sources = glob.glob(os.path.join(ROOT, "Fuzz/corpus", target.removeprefix("fuzz-"), "*"))
    sources += [os.path.join(FIX, f) for f in TARGETS[target][1]]
    for s in sources:
        if os.path.isfile(s):
            shutil.copy(s, os.path.join(corpus, "seed-" + os.path.basename(s)))
    return corpus


def parse_progress(text):
    """Last `#N ... cov: C ft: F ... exec/s: E` figures libFuzzer printed (normal or fork mode)."""
    execs = cov = ft = None
    for m in re.finditer(r"#(\d+):?\s+(?:\w+\s+)?cov: (\d+) ft: (\d+)", text):
        execs, cov, ft = int(m.group(1)), int(m.group(2)), int(m.group(3))
    m = re.findall(r"stat::number_of_executed_units: (\d+)", text)
    if m:
        execs = int(m[-1])
    crashes = 0
    m = re.findall(r"crash: (\d+)", text)  # fork mode: oom/timeout/crash: a/b/c
    f = re.findall(r"oom/timeout/crash: (\d+)/(\d+)/(\d+)", text)
    if f:
        crashes = int(f[-1][2])
    return execs, cov, ft, crashes, f[-1] if f else None


def classify(target, artifact):
    """Runs one crashing (or hanging) input alone; 'hdf5' when the faulting frame (for a hang: the
    frame libFuzzer's timeout caught) is in libhdf5."""
    binary = os.path.join(BIN, target)
    env = dict(os.environ, ASAN_OPTIONS="symbolize=1:detect_leaks=0", SWIFT_BACKTRACE="enable=no")
    try:
        p = subprocess.run([binary, artifact, "-timeout=5"], capture_output=True, text=True, env=env,
                           timeout=60, start_new_session=True)
    except subprocess.TimeoutExpired:
        return "hang when run alone", ""
    # "#1 0x… in H5C_protect (/lib/…/libhdf5_serial.so.103+0x8d9fc)", or with no symbol:
    # "#1 0x…  (/lib/…/libhdf5_serial.so.103+0x2bf257)" (function "").
    frames = re.findall(r"^\s+#(\d+) 0x[0-9a-f]+\s+(?:in (\S+)\s+)?\(?([^\s()]+)", p.stderr, re.M)
    if "out-of-memory (used:" in p.stderr:
        # Over the RSS limit: the first stack is wherever the main thread was when the limit was
        # seen (often libFuzzer's own allocation); the stacks after it are where the memory was
        # allocated. Classify by those.
        starts = [i for i, f in enumerate(frames) if f[0] == "0"]
        if len(starts) > 1:
            frames = frames[starts[1]:]
    if p.returncode == 0:
        return "flaky (no crash when run alone)", p.stderr
    if not frames and "stack-overflow" in p.stderr:
        # ASan prints no frames for a stack overflow (the report itself runs out of stack, or
        # the unwinder gives up 15,000 frames down): take the top frames from gdb instead.
        frames = gdb_frames(binary, artifact, env)
    for _, func, obj in frames[:12]:
        if ("compiler-rt" in obj or "libclang_rt" in obj or func.startswith(("__asan", "__interceptor",
                "__sanitizer", "fuzzer::")) or "libc.so" in obj):
            continue
        return ("hdf5" if "libhdf5" in obj else "ours"), p.stderr
    return "ours", p.stderr


def gdb_frames(binary, artifact, env):
    """The top frames of a crash as gdb sees it (the signal stays a signal: handle_segv=0), in
    classify's (number, function, object) form; [] without gdb."""
    if not shutil.which("gdb"):
        return []
    genv = dict(env, ASAN_OPTIONS=env.get("ASAN_OPTIONS", "") + ":handle_segv=0")
    try:
        p = subprocess.run(["gdb", "-batch", "-ex", "run", "-ex", "bt 20", "--args", binary, artifact],
                           capture_output=True, text=True, env=genv, timeout=120, start_new_session=True)
    except subprocess.TimeoutExpired:
        return []
    # "#4  0x00007ffff558431e in H5MM_strdup () from /lib/…/libhdf5_serial.so.103"
    # "#1  0x0000555556 in Allocate () at /home/build-user/llvm-project/compiler-rt/…"
    return [(n, f, o) for n, f, o in re.findall(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \([^)]*\) (?:from|at) (\S+)",
                                                  p.stdout, re.M)]


def verify_cli(target, artifact, cli):
    """The CLI on the input: `adascale inspect FILE` (models) or `adascale eval`'s dataset decoding
    (`decode-check dataset` run the way the CLI runs it, in a child) must exit 1."""
    path = artifact + (".keras" if target == "fuzz-keras" else ".h5")
    shutil.copy(artifact, path)
    kind = {"fuzz-h5": "model", "fuzz-keras": "model", "fuzz-dataset-h5": "dataset"}[target]
    args = [cli, "inspect", path] if kind == "model" else [cli, "eval", "--model",
            os.path.join(FIX, "keras/mlp.h5"), "--dataset", path]
    env = dict(os.environ, ADASCALE_DECODE_TIMEOUT_S="5")
    p = subprocess.run(args, capture_output=True, text=True, timeout=180, env=env)
    return p.returncode, p.stderr.strip().splitlines()[-1:] if p.stderr else []


def classify_all(targets, cli):
    """Every artifact of `targets`, classified (and, for HDF5, checked with the CLI)."""
    failed = False
    for t in targets:
        artifacts = os.path.join(ROOT, ".build-fuzz/run/artifacts", t) + "/"
        counts = {}
        for f in sorted(os.listdir(artifacts)) if os.path.isdir(artifacts) else []:
            if not f.startswith(("crash-", "timeout-", "oom-", "leak-")) or "." in f:
                continue
            what = f.split("-")[0]
            kind, _ = classify(t, artifacts + f)
            if kind == "hdf5" and t in HDF5_TARGETS and os.path.exists(cli):
                status, _ = verify_cli(t, artifacts + f, cli)
                kind = f"hdf5, CLI exit {status}" + ("" if status in (0, 1) else " (NOT contained)")
                failed |= status not in (0, 1)
            else:
                failed |= kind != "hdf5"
            counts[f"{what}: {kind}"] = counts.get(f"{what}: {kind}", 0) + 1
            print(f"{t} {f}: {kind}", flush=True)
        print(f"{t}: " + (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing"), flush=True)
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--runs", type=int, default=-1, help="stop a target after this many executions")
    ap.add_argument("--verify", default=os.path.join(ROOT, ".build/debug/adascale"),
                    help="adascale binary that must exit 1 on the HDF5-contained crashes")
    ap.add_argument("--classify-only", action="store_true",
                    help="run nothing; classify every crash and hang already in the targets' artifacts")
    ap.add_argument("--no-classify", action="store_true", help="leave classification to --classify-only")
    ap.add_argument("targets", nargs="*")
    a = ap.parse_args()
    targets = a.targets or list(TARGETS)
    if a.classify_only:
        return classify_all(targets, a.verify)
    results = []
    failed = False
    for t in targets:
        max_len, _, fork = TARGETS[t]
        corpus = seed(t)
        artifacts = os.path.join(ROOT, ".build-fuzz/run/artifacts", t) + "/"
        os.makedirs(artifacts, exist_ok=True)
        log = os.path.join(ROOT, ".build-fuzz/run", t + ".log")
        cmd = ["nice", "-n", "19", os.path.join(BIN, t), corpus, f"-max_len={max_len}",
               f"-max_total_time={a.seconds}", f"-runs={a.runs}", f"-timeout={1 if fork else 20}",
               "-rss_limit_mb=4096",
               f"-artifact_prefix={artifacts}", "-print_final_stats=1"]
        if fork:
            cmd += ["-fork=1", "-ignore_crashes=1", "-ignore_timeouts=1", "-ignore_ooms=1"]
        before = set(os.listdir(artifacts))
        started = time.time()
        # A Swift runtime trap would otherwise spend seconds in the backtracer per crash.
        env = dict(os.environ, FUZZ_BUNDLE_SEED=os.path.join(ROOT, "Fuzz/seed-bundle"), SWIFT_BACKTRACE="enable=no")
        # allocator_may_return_null: a huge malloc HDF5 asks for on a damaged file fails as glibc's
        # would (HDF5 handles NULL) instead of being an ASan "allocation-size-too-big" report.
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0" + (":allocator_may_return_null=1" if fork else ""))
        with open(log, "w") as out:
            print("$ " + " ".join(cmd), file=out, flush=True)
            p = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        seconds = time.time() - started
        text = open(log, errors="replace").read()
        execs, cov, ft, fork_crashes, _ = parse_progress(text)
        new = sorted(set(os.listdir(artifacts)) - before)
        kinds = {}
        for f in ([] if a.no_classify else new):
            path = artifacts + f
            if not f.startswith(("crash-", "leak-", "oom-", "timeout-")):
                continue
            if f.startswith(("crash-", "timeout-", "oom-")) and t in HDF5_TARGETS:
                kind, _ = classify(t, path)
                if kind == "hdf5" and os.path.exists(a.verify):
                    status, last = verify_cli(t, path, a.verify)
                    what = {"crash": "crash", "timeout": "hang", "oom": "oom"}[f.split("-")[0]]
                    kind = f"{what} in hdf5, CLI exit {status}" + ("" if status in (0, 1) else " (NOT contained)")
                    if status not in (0, 1):
                        failed = True
                elif kind != "hdf5":
                    failed = True
            else:
                kind = f.split("-")[0]
                failed = True
            kinds[kind] = kinds.get(kind, 0) + 1
        if p.returncode != 0 and not fork:
            failed = True
        rate = (execs or 0) / max(seconds, 1e-9)
        found = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
        results.append((t, execs, seconds, rate, cov, ft, found))
        print(f"{t:16} execs {execs} in {seconds:.0f} s ({rate:.0f}/s) cov {cov} ft {ft} "
              f"crashes: {found}  [log {os.path.relpath(log, ROOT)}]", flush=True)
    print("\n| target | execs | s | exec/s | cov | ft | crashes |\n|---|---|---|---|---|---|---|")
    for t, execs, s, rate, cov, ft, found in results:
        print(f"| {t} | {execs} | {s:.0f} | {rate:.0f} | {cov} | {ft} | {found} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
