#!/usr/bin/env bash
# A Ray cluster on loopback for tests and measurements (docs/scale.md):
#   tools/ray/cluster.sh start [PORT [CPUS [DEVICE]]]  ray start --head on 127.0.0.1:PORT (default 6390,
#                                                      2 CPUs); DEVICE: the node offers adascale-device:DEVICE
#   tools/ray/cluster.sh add-node PORT CPUS DEVICE     one more node on this machine, joined to the head
#                                                      at 127.0.0.1:PORT, offering adascale-device:DEVICE
#   tools/ray/cluster.sh stop                          ray stop (the cluster's own command): every node
# Ray comes from tools/ray/.venv (tools/ray/venv.sh makes it).
set -euo pipefail
cd "$(dirname "$0")/../.."
RAY=tools/ray/.venv/bin/ray
case "${1:-}" in
  start)
    port="${2:-6390}"
    cpus="${3:-2}"
    resources=()
    [ -n "${4:-}" ] && resources=(--resources="{\"adascale-device:$4\": 1}")
    # Everything on 127.0.0.1; no dashboard. RAY_TMPDIR keeps its files under /tmp/adascale-ray.
    "$RAY" start --head --node-ip-address=127.0.0.1 --port="$port" --num-cpus="$cpus" "${resources[@]}" \
      --include-dashboard=false --dashboard-host=127.0.0.1 --disable-usage-stats \
      --temp-dir=/tmp/adascale-ray >/tmp/adascale-ray-start.log 2>&1 \
      || { cat /tmp/adascale-ray-start.log >&2; exit 1; }
    echo "ray cluster on 127.0.0.1:$port ($cpus CPUs${4:+, device $4})"
    ;;
  add-node)
    port="$2"
    cpus="$3"
    "$RAY" start --address="127.0.0.1:$port" --node-ip-address=127.0.0.1 --num-cpus="$cpus" \
      --resources="{\"adascale-device:$4\": 1}" --disable-usage-stats >/tmp/adascale-ray-node.log 2>&1 \
      || { cat /tmp/adascale-ray-node.log >&2; exit 1; }
    echo "ray node joined 127.0.0.1:$port ($cpus CPUs, device $4)"
    ;;
  stop)
    "$RAY" stop --force >/dev/null 2>&1 || true
    echo "ray stopped"
    ;;
  *)
    echo "usage: $0 start [PORT [CPUS [DEVICE]]] | add-node PORT CPUS DEVICE | stop" >&2
    exit 2
    ;;
esac
