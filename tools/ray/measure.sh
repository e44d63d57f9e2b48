#!/usr/bin/env bash
# The figures of docs/scale.md, in one run on a loopback Ray cluster (2 CPUs):
#   make ray-measure   (RAY_TEST_CMD=tools/ray/measure.sh tools/ray/ray_test.sh)
# 1. recipes/fmnist_quick.yaml once locally (trains the supernet, warms the latency table);
# 2. its search again (search checkpoint deleted, all else reused) with the local backend, with
#    Ray at 1 task in flight and at 2, each with one candidate per task and with --ray-chunk auto
#    (a generation's candidates spread over the tasks in flight); candidates/s from the manifest
#    (search evaluations / search seconds); archives and bundles compared with the local one's;
# 3. per-candidate cost of `adascale search-worker` (load vs scoring), also on other recipes'
#    supernets (PROBES), sizes of what nodes read and of the protocol messages (ADASCALE_RAY_TRACE).
# Needs ADASCALE_RAY_ADDRESS (set by ray_test.sh) and a release build. Output in $MEASURE_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="$PWD/.build/release/adascale"
OUT="${MEASURE_DIR:-/tmp/adascale-measure}"
mkdir -p "$OUT"
R="$OUT/fmnist_quick.yaml"
WORK="$OUT/quick.work"
sed -e "s#file: Tests/Fixtures#file: $PWD/Tests/Fixtures#" -e "s#directory: bundles/fmnist-quick#directory: $OUT/quick#" \
  recipes/fmnist_quick.yaml > "$R"
COMMON=(--recipe "$R" --no-compare-random --overwrite --latency-cache "$OUT/latency" --progress plain --json)
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; ray $(tools/ray/.venv/bin/python -c 'import ray; print(ray.__version__)')"

run() {  # run NAME ARGS…: one compress; prints NAME, evaluations, search seconds, candidates/s, load
  local name=$1
  shift
  local before after
  before=$(cut -d' ' -f1-3 /proc/loadavg)
  "$BIN" compress "${COMMON[@]}" "$@" > "$OUT/$name.json" 2> "$OUT/$name.log"
  after=$(cut -d' ' -f1-3 /proc/loadavg)
  cp "$WORK"/search-*.json "$OUT/search-$name.json"
  python3 - "$OUT/$name.json" "$name" "$before" "$after" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
n, s = m["search"]["evaluations"], m["timings"]["search_s"]
print(f"{sys.argv[2]:<22} {n:>3} evaluations  search {s:7.2f} s  {n / s:6.2f} candidates/s  "
      f"total {m['timings']['total_s']:6.1f} s  load {sys.argv[3]} -> {sys.argv[4]}")
PY
}

echo "== prepare: supernet + first search (local)"
run prepare
MODES=(local ray-1 ray-2 ray-1-auto ray-2-auto)
for mode in "${MODES[@]}"; do
  rm -f "$WORK"/search-*.json
  case $mode in
    local) run local ;;
    ray-*)
      tasks=${mode#ray-}
      tasks=${tasks%%-*}
      chunk=1
      [[ $mode == *auto ]] && chunk=auto
      ADASCALE_RAY_TRACE="$OUT/trace-$mode.jsonl" run "$mode" --backend ray --ray-address "$ADASCALE_RAY_ADDRESS" \
        --ray-tasks "$tasks" --ray-chunk "$chunk"
      ;;
  esac
done
echo "== seconds per Ray task (start of the adascale child to its result; from the traces)"
for mode in "${MODES[@]}"; do
  [[ $mode == ray-* ]] || continue
  python3 - "$OUT/trace-$mode.jsonl" "$mode" <<'PY'
import json, sys
tasks = {}
for line in open(sys.argv[1]):
    if line.startswith("> ") and '"result"' in line:
        e = json.loads(line[2:])
        tasks[(e["batch"], e["seconds"])] = e["seconds"]  # one entry per task (its genomes share it)
s = sorted(tasks.values())
print(f"{sys.argv[2]:<14} {len(s)} tasks: mean {sum(s) / len(s):.2f} s, median {s[len(s) // 2]:.2f} s, "
      f"min {s[0]:.2f} s, max {s[-1]:.2f} s")
PY
done

echo "== same archive (genomes, objective bits, order) and bundle variants as the local backend?"
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
def archive(mode):
    return [(a["genome"], a["evaluation"]["objectives"], a["evaluation"].get("constraintViolation")) for a in json.load(open(f"{out}/search-{mode}.json"))["archive"]]
def variants(mode):
    m = json.load(open(f"{out}/{mode}.json"))
    return [(v["id"], v["genome_key"], v["accuracy"], v.get("search_accuracy"), v["params"], v["macs"]) for v in m["variants"]]
ref_a, ref_v = archive("local"), variants("local")
for mode in ["prepare", "ray-1", "ray-2", "ray-1-auto", "ray-2-auto"]:
    a, v = archive(mode), variants(mode)
    print(f"{mode:<14} archive {len(a)} entries: {'identical' if a == ref_a else 'DIFFERENT'}; "
          f"variants {len(v)}: {'identical' if v == ref_v else 'DIFFERENT'}")
front = json.load(open(f"{out}/local.json"))["variants"]
print("bundle variants (local):", [(v["id"], v["genome_key"], round(v["accuracy"], 4)) for v in front])
PY

echo "== search-worker cost (fmnist_quick: 2000 validation examples, 512 calibration)"
SOURCE="$PWD/Tests/Fixtures/keras/fmnist_cnn.h5"
GENOMES=$(python3 -c "import json,sys; a=json.load(open('$OUT/search-local.json'))['archive']; print(json.dumps([x['genome'] for x in a[:12]]))")
ONE=$(python3 -c "import json; print(json.dumps(json.loads('$GENOMES')[:1]))")
for g in "$ONE" "$GENOMES"; do
  OPENBLAS_NUM_THREADS=1 "$BIN" search-worker --recipe "$R" --source "$SOURCE" --supernet "$WORK/supernet" \
    --genomes "$g" | python3 -c "import json,sys; o=json.load(sys.stdin); n=len(o['bits']); print(f'{n:>2} genomes: load {o[\"load_seconds\"]:.2f} s, scoring {o[\"score_seconds\"]:.2f} s ({o[\"score_seconds\"]/n:.3f} s per candidate)')"
done
# PROBES="label:recipe:work-directory …": search-worker cost on other recipes' supernets.
for probe in ${PROBES:-}; do
  IFS=: read -r label recipe pwork <<< "$probe"
  src=$(ls "$pwork"/baseline-*.h5 2> /dev/null | head -1 || true)
  [ -n "$src" ] || src=$(sed -n 's/^ *file: *//p' "$recipe" | head -1)
  echo "== search-worker cost ($label: $recipe; source $src)"
  PG=$(python3 -c "import json,glob; a=json.load(open(glob.glob('$pwork/search-*.json')[0]))['archive']; print(json.dumps([x['genome'] for x in a[:8]]))")
  for g in "$(python3 -c "import json; print(json.dumps(json.loads('$PG')[:1]))")" "$PG"; do
    OPENBLAS_NUM_THREADS=1 "$BIN" search-worker --recipe "$recipe" --source "$src" --supernet "$pwork/supernet" \
      --genomes "$g" | python3 -c "import json,sys; o=json.load(sys.stdin); n=len(o['bits']); print(f'{n:>2} genomes: load {o[\"load_seconds\"]:.2f} s, scoring {o[\"score_seconds\"]:.2f} s ({o[\"score_seconds\"]/n:.3f} s per candidate)')"
  done
  du -b "$pwork/supernet/checkpoint.adackpt" "$src"
done

echo "== sizes: what every node reads, and the protocol messages (ray-2)"
du -b "$WORK/supernet/checkpoint.adackpt" "$SOURCE" "$R" "$BIN"
du -bc /usr/share/datasets/fashion-mnist/* | tail -1
python3 - "$OUT/trace-ray-2.jsonl" <<'PY'
import json, sys
reqs, results = [], []
for line in open(sys.argv[1]):
    d, body = line[0], line[2:].strip()
    o = json.loads(body)
    if d == "<" and o.get("op") == "evaluate":
        reqs.append((len(body), len(o["genomes"])))
    elif d == ">" and o.get("event") == "result":
        results.append(len(body))
n = sum(g for _, g in reqs)
print(f"evaluate requests: {len(reqs)}, {sum(b for b, _ in reqs)} bytes for {n} genomes "
      f"({sum(b for b, _ in reqs) / n:.0f} bytes per genome incl. the worker command)")
print(f"result events: {len(results)}, mean {sum(results) / len(results):.0f} bytes")
PY
