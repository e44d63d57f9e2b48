#!/usr/bin/env python3
"""adascale's Ray driver (docs/scale.md).

Started by `adascale compress` as a child process; speaks JSON lines: requests on stdin, events on
stdout, its own log on stderr. The protocol is documented in docs/scale.md ("Protocol") and
Sources/AdaPipeline/RayProtocol.swift. Every task runs an adascale command as a subprocess on
some node: `adascale search-worker …` (op `evaluate`) or `adascale compress …` / `adascale
profile …` (op `run`), so the scores are computed by the same Swift code as the local search.

Devices: a node started with the custom resource `adascale-device:NAME` (`ray start …
--resources '{"adascale-device:raspberry-pi-4": 1}'`) is that device. `ready` lists the devices
the cluster offers; a `run` job with `"resources": {"adascale-device:NAME": 1}` runs on such a
node only (`adascale profile --backend ray`: each device profiled on itself, one job at a time).

Retries: a task whose Ray worker process dies (or whose adascale child is killed by a signal) is
retried up to --max-retries times; an adascale error (non-zero exit) is not retried, it is
reported as an `error` (evaluate) or a failed job (run).
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time


# Protocol lines go to the original standard output; anything else printed to standard output
# (Ray prints some messages there, e.g. "(raylet) A worker died …") is sent to standard error.
PROTOCOL = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr


# ADASCALE_RAY_TRACE=FILE appends every protocol line, in ("<") and out (">"), to FILE
# (message sizes in docs/scale.md were measured this way).
TRACE = open(os.environ["ADASCALE_RAY_TRACE"], "a", buffering=1) if os.environ.get("ADASCALE_RAY_TRACE") else None


def emit(event):
    line = json.dumps(event, sort_keys=True)
    PROTOCOL.write(line + "\n")
    PROTOCOL.flush()
    if TRACE:
        TRACE.write("> " + line + "\n")


def log(message):
    print("ray driver: " + message, file=sys.stderr, flush=True)


def reach(address, timeout):
    """None when address (host:port) accepts a TCP connection within timeout seconds, else the last error."""
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + timeout
    last = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return last or "timed out"
        try:
            with socket.create_connection((host, int(port)), timeout=max(0.1, min(2.0, left))):
                return None
        except (OSError, ValueError) as e:
            last = e
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


def _die_with_parent():
    # The adascale child dies with the Ray worker that started it (SIGKILL on parent death).
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


def run_child(argv, cwd=None, env=None):
    """Runs argv in cwd with env added; (returncode, stdout, stderr). A child killed by a signal
    raises (retried)."""
    env = dict(os.environ, **(env or {}))
    p = subprocess.run(argv, capture_output=True, text=True, preexec_fn=_die_with_parent, env=env, cwd=cwd)
    if p.returncode < 0:
        raise RuntimeError(f"{os.path.basename(argv[0])} killed by signal {-p.returncode}")
    return p.returncode, p.stdout, p.stderr


DEVICE = "adascale-device:"


def tail(text, lines=8):
    return "\n".join(text.strip().splitlines()[-lines:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--address", required=True, help="the Ray head's GCS address, host:port")
    ap.add_argument("--max-retries", type=int, default=3)
    ap.add_argument("--max-in-flight", type=int, default=0, help="tasks at once (0: the cluster's CPUs)")
    ap.add_argument("--connect-timeout", type=float, default=5.0)
    args = ap.parse_args()

    problem = reach(args.address, args.connect_timeout)
    if problem is not None:
        emit({"event": "error", "message": f"cannot reach the Ray cluster at {args.address}: {problem} "
              f"(tried for {args.connect_timeout:g} s)"})
        return 1
    try:
        import ray
    except ImportError as e:
        emit({"event": "error", "message": f"ray is not installed for {sys.executable} ({e}): make ray-venv"})
        return 1
    try:
        ray.init(address=args.address, log_to_driver=False, logging_level="WARNING")
    except Exception as e:  # noqa: BLE001 - any failure to connect is reported the same way
        emit({"event": "error", "message": f"cannot connect to the Ray cluster at {args.address}: {e}"})
        return 1

    @ray.remote(num_cpus=1)
    def score(argv, genomes, cwd):
        started = time.monotonic()
        # The worker runs its BLAS single-threaded whatever this says; one thread per task slot.
        code, out, err = run_child(argv + ["--genomes", json.dumps(genomes)], cwd, {"OPENBLAS_NUM_THREADS": "1"})
        node = ray.util.get_node_ip_address()
        if code != 0:
            return {"error": f"exit {code} on {node}: {tail(err)}"}
        lines = out.strip().splitlines()
        try:
            bits = json.loads(lines[-1])["bits"]
        except (IndexError, KeyError, ValueError):
            return {"error": f"no result line from the worker on {node}: {tail(out + err)}"}
        if len(bits) != len(genomes):
            return {"error": f"{len(bits)} results for {len(genomes)} genomes on {node}"}
        return {"bits": bits, "node": node, "seconds": time.monotonic() - started}

    @ray.remote(num_cpus=1)
    def run_job(argv, cwd, env):
        started = time.monotonic()
        code, out, err = run_child(argv, cwd, env)
        return {"status": code, "stdout": out, "stderr": tail(err, 40),
                "node": ray.util.get_node_ip_address(), "node_id": ray.get_runtime_context().get_node_id(),
                "seconds": time.monotonic() - started}

    resources = ray.cluster_resources()
    cpus = resources.get("CPU", 0)
    nodes = len([n for n in ray.nodes() if n.get("Alive")])
    in_flight = args.max_in_flight or max(1, int(cpus))
    devices = sorted(k.removeprefix(DEVICE) for k in resources if k.startswith(DEVICE))
    emit({"event": "ready", "nodes": nodes, "cpus": cpus, "devices": devices})
    log(f"connected to {args.address}: {nodes} node{'s' if nodes != 1 else ''}, {cpus:g} CPUs; {in_flight} tasks in flight, "
        f"max_retries {args.max_retries}")

    def stream(batch, items, submit, finish):
        """Submits items (at most in_flight at once), hands each result to finish as it arrives."""
        queue = list(enumerate(items))
        pending = {}
        while queue or pending:
            while queue and len(pending) < in_flight:
                i, item = queue.pop(0)
                pending[submit(item)] = (i, item)
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                i, item = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as e:  # noqa: BLE001 - retries exhausted or the task was lost
                    result = {"error": f"task failed after {args.max_retries} retries: {e}"}
                if not finish(i, item, result):
                    for other in pending:
                        ray.cancel(other, force=True)
                    return
        emit({"event": "done", "batch": batch})

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        if TRACE:
            TRACE.write("< " + line + "\n")
        try:
            req = json.loads(line)
        except ValueError:
            emit({"event": "error", "message": f"not JSON: {line[:200]}"})
            continue
        op = req.get("op")
        batch = req.get("batch")
        if op == "shutdown":
            break
        if op == "evaluate":
            genomes = req["genomes"]
            # chunk 0 (auto): one task per slot in flight, the genomes spread evenly.
            chunk = int(req.get("chunk") or 0)
            if chunk <= 0:
                chunk = max(1, -(-len(genomes) // in_flight))
            chunks = [(start, genomes[start:start + chunk]) for start in range(0, len(genomes), chunk)]

            def submit_chunk(item):
                return score.options(max_retries=args.max_retries, retry_exceptions=True).remote(
                    req["argv"], item[1], req.get("cwd"))

            def finish_chunk(_, item, result):
                start, _genomes = item
                if "error" in result:
                    emit({"event": "error", "batch": batch, "index": start, "message": result["error"]})
                    return False
                for k, bits in enumerate(result["bits"]):
                    emit({"event": "result", "batch": batch, "index": start + k, "bits": bits,
                          "node": result["node"], "seconds": result["seconds"]})
                return True

            stream(batch, chunks, submit_chunk, finish_chunk)
        elif op == "run":
            # A job needing a resource no node has would wait for ever (Ray queues infeasible
            # tasks): it fails at once instead.
            offered = ray.cluster_resources()
            jobs = []
            for i, job in enumerate(req["jobs"]):
                missing = [k for k, v in (job.get("resources") or {}).items() if offered.get(k, 0) < v]
                if missing:
                    emit({"event": "job", "batch": batch, "index": i, "status": -1, "stdout": "",
                          "stderr": f"no node of the cluster at {args.address} offers {', '.join(missing)}",
                          "node": "", "seconds": 0})
                else:
                    jobs.append((i, job))

            def submit_job(item):
                _, job = item
                return run_job.options(max_retries=args.max_retries, retry_exceptions=True,
                                       resources=job.get("resources") or {}).remote(
                    job["argv"], req.get("cwd"), req.get("env"))

            def finish_job(_, item, result):
                if "error" in result:
                    result = {"status": -1, "stdout": "", "stderr": result["error"], "node": "?", "seconds": 0}
                emit(dict(result, event="job", batch=batch, index=item[0]))
                return True

            stream(batch, jobs, submit_job, finish_job)
        else:
            emit({"event": "error", "batch": batch, "message": f"unknown op {op!r}"})
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
