#!/usr/bin/env bash
# make ray-test: Ray 2.60.0 into tools/ray/.venv, a cluster on 127.0.0.1, the Ray tests
# (adascaleTests.RayBackendTests), then `ray stop` whatever happened (trap). The cluster: a head
# with 2 CPUs that is the device loop-a, and (RAY_TEST_NODES=2, the default) a second node with
# 1 CPU that is the device loop-b, so per-device profiling has two devices to place jobs on.
#
# Ray's GCS and raylet gRPC servers listen on all interfaces whatever --node-ip-address says, so
# when it can this runs in its own network namespace (unshare -n, or -rn unprivileged), where
# loopback is the only interface; otherwise on the host (a warning says so).
# Env: RAY_TEST_PORT (6390), RAY_TEST_NODES (2; 1: the head alone), RAY_TEST_FILTER (adascaleTests.RayBackendTests), RAY_TEST_CMD (instead
# of the tests: any command, run with ADASCALE_RAY_ADDRESS set; tools/ray/measure.sh uses it).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${ADASCALE_RAY_NETNS:-}" ]; then
  for flag in -n -rn; do
    if unshare "$flag" true 2>/dev/null; then
      exec unshare "$flag" env ADASCALE_RAY_NETNS=1 bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
    fi
  done
  echo "warning: no network namespace (unshare): Ray's servers listen on all interfaces while the tests run" >&2
fi
tools/ray/venv.sh
port="${RAY_TEST_PORT:-6390}"
trap 'tools/ray/cluster.sh stop' EXIT
tools/ray/cluster.sh start "$port" 2 loop-a
if [ "${RAY_TEST_NODES:-2}" -ge 2 ]; then
  tools/ray/cluster.sh add-node "$port" 1 loop-b
fi
export ADASCALE_RAY_ADDRESS="127.0.0.1:$port"
if [ -n "${RAY_TEST_CMD:-}" ]; then
  bash -c "$RAY_TEST_CMD"
else
  # Bounded: the four tests take a few minutes on 2 loaded cores.
  timeout 1800 .build/debug/adascalePackageTests.xctest "${RAY_TEST_FILTER:-adascaleTests.RayBackendTests}"
fi
