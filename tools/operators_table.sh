#!/usr/bin/env bash
# The "Measured" table of docs/operators.md: every operator at a moderate setting on the
# Fashion-MNIST CNN and the MobileNet-style model, with params, MACs, batch-1 latency and test
# accuracy before, after compression and after distillation fine-tuning.
#
#   tools/operators_table.sh                   all rows: full splits, EPOCHS=1
#   LIMIT=10000 tools/operators_table.sh       first 10,000 examples of each split
#   ROWS='cnn:quantize:8|mobilenet:*' tools/operators_table.sh   only rows matching a glob
#                                              (several globs separated by |; others keep their
#                                              last result in .build/operators/rows/)
#   WRITE=0 tools/operators_table.sh           print the table, leave docs/operators.md alone
#
# For each model × operator row:
#   1. `adascale apply --op … --dataset fashion-mnist [--limit LIMIT] --json`, no fine-tuning:
#      params, MACs, accuracy of the original and of the compressed model;
#   2. the same with `--finetune-epochs EPOCHS` (distillation, α 0.7, T 4, Adam, batch 64) on a
#      schedule picked by how much the rewrite lost before any training: a row whose compressed
#      model is within HEAVY_PTS (default 10) points of the original gets the gentle schedule
#      (`--lr LR --lr-decay DECAY`, default 0.0003 cosine); one that lost more gets the strong
#      one (`--lr HEAVY_LR --lr-decay cosine`, default 0.003): converged weights barely need to
#      move, a heavy rewrite must relearn features within the epoch;
#   3. `AdaBench infer --model OUT.h5 --batch 1 --seconds LAT_SECONDS`: median batch-1 latency
#      (2 threads) of the fine-tuned file (same architecture as the compressed one).
# By default fine-tuning sees all 60,000 training images and accuracy is on all 10,000 test
# images; `--limit` (LIMIT) cuts both splits. An `early-exit` row also scores each exit output
# with real Keras (tools/reference/venv.sh: keras_python; "no Keras" when none can be had).
#
# Inputs: Tests/Fixtures/keras/fmnist_cnn.h5 (Keras-trained), out/mobilenet_fmnist.h5,
# out/mobilenet_fmnist_wide.h5 and out/mobilenet_fmnist_flat.h5 (`adascale train --arch
# recipes/models/mobilenet_fmnist.yaml …`, `…_wide.yaml`, `…_flat.yaml`, see those files; rows
# keyed `mobilenet`, `mobilenet-wide` and `mobilenet-flat`). Work files go to .build/operators/;
# rows whose operator cannot rewrite the model say why.
set -euo pipefail
cd "$(dirname "$0")/.."

LIMIT="${LIMIT:-}"
EPOCHS="${EPOCHS:-1}"
LR="${LR:-0.0003}"
DECAY="${DECAY:-cosine}"
HEAVY_PTS="${HEAVY_PTS:-10}"
HEAVY_LR="${HEAVY_LR:-0.003}"
LAT_SECONDS="${LAT_SECONDS:-2}"
ROWS="${ROWS:-*}"
WRITE="${WRITE:-1}"
CNN="${CNN:-Tests/Fixtures/keras/fmnist_cnn.h5}"
MOBILENET="${MOBILENET:-out/mobilenet_fmnist.h5}"
WIDE="${WIDE:-out/mobilenet_fmnist_wide.h5}"
FLAT="${FLAT:-out/mobilenet_fmnist_flat.h5}"
OUT=.build/operators
LIMIT_ARGS=()
[[ -n "$LIMIT" ]] && LIMIT_ARGS=(--limit "$LIMIT")
mkdir -p "$OUT"

swift build -c release --product adascale >/dev/null
swift build -c release --product AdaBench >/dev/null
BIN="$(swift build -c release --show-bin-path)"
ADASCALE="$BIN/adascale"
BENCH="$BIN/AdaBench"
. tools/reference/venv.sh
PY="$(keras_python)" || PY=""   # Keras scores the exit outputs; rows say "no Keras" without it

# model key, file, then one operator row per line: a label and the --op arguments.
CNN_ROWS='prune-channels:0.5|--op prune-channels:0.5
low-rank:0.25|--op low-rank:0.25
depthwise-separable|--op depthwise-separable
depthwise-separable:4|--op depthwise-separable:4
fire:0.5|--op fire:0.5
gap-head|--op gap-head
quantize:8|--op quantize:8
quantize:4|--op quantize:4
early-exit:pool1|--op early-exit:pool1
prune-channels:0.5 → quantize:8|--op prune-channels:0.5 --op quantize:8
low-rank:0.25 on conv2,fc1|--op low-rank:0.25 --layers conv2,fc1
depthwise-separable on conv2|--op depthwise-separable --layers conv2
early-exit:pool1:32|--op early-exit:pool1:32
gap-head:hidden|--op gap-head:hidden'
MOBILENET_ROWS='prune-channels:0.5|--op prune-channels:0.5
low-rank:0.5|--op low-rank:0.5
depthwise-separable|--op depthwise-separable
depthwise-separable:4|--op depthwise-separable:4
fire:0.5|--op fire:0.5
gap-head|--op gap-head
quantize:8|--op quantize:8
quantize:4|--op quantize:4
early-exit:block_2|--op early-exit:block_2
prune-channels:0.5 → quantize:8|--op prune-channels:0.5 --op quantize:8
low-rank:0.25 on block_2_pw,block_3_pw|--op low-rank:0.25 --layers block_2_pw,block_3_pw'
WIDE_ROWS='prune-channels:0.25|--op prune-channels:0.25
prune-channels:0.5|--op prune-channels:0.5
low-rank:0.5 on block_1_pw,block_2_pw|--op low-rank:0.5 --layers block_1_pw,block_2_pw
low-rank:0.25 on block_2_pw,block_3_pw|--op low-rank:0.25 --layers block_2_pw,block_3_pw
depthwise-separable|--op depthwise-separable
depthwise-separable:4|--op depthwise-separable:4
quantize:8|--op quantize:8
quantize:4|--op quantize:4
early-exit:block_2|--op early-exit:block_2
prune-channels:0.5 → quantize:8|--op prune-channels:0.5 --op quantize:8'

FLAT_ROWS='gap-head|--op gap-head
gap-head → quantize:8|--op gap-head --op quantize:8'

# One file per row (.build/operators/rows/MODEL.NN.tsv); a run with ROWS replaces only the rows
# it matches, and the table is assembled from every row file present.
ROW_DIR="$OUT/rows"
mkdir -p "$ROW_DIR"

selected() {  # selected KEY:LABEL: whether a glob of ROWS matches
  local glob
  IFS='|' read -ra globs <<<"$ROWS"
  for glob in "${globs[@]}"; do [[ "$1" == $glob ]] && return 0; done
  return 1
}

latency() { "$BENCH" infer --model "$1" --batch 1 --seconds "$LAT_SECONDS" --json | jq -r '.value'; }

# Accuracy of each exit output (after the first) with real Keras, as "a / b".
exit_accuracy() {
  if ! KERAS_BACKEND=jax "$PY" -c "import keras" 2>/dev/null; then echo "no Keras"; return; fi
  KERAS_BACKEND=jax "$PY" - "$1" "${LIMIT:-10000}" <<'PY'
import gzip, sys, numpy as np, keras
path, limit = sys.argv[1], int(sys.argv[2])
d = "/usr/share/datasets/fashion-mnist"
with gzip.open(f"{d}/t10k-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1)[:limit] / 255.0
with gzip.open(f"{d}/t10k-labels-idx1-ubyte.gz") as f:
    y = np.frombuffer(f.read(), np.uint8, offset=8)[:limit]
outs = keras.models.load_model(path, compile=False).predict(x.astype(np.float32), batch_size=256, verbose=0)
print(" / ".join(f"{100 * np.mean(np.argmax(o, 1) == y):.2f}" for o in outs[1:]))
PY
}

run_model() {  # run_model KEY FILE ROWS
  local key="$1" file="$2" rows="$3"
  if [[ ! -f "$file" ]]; then
    echo "operators: $file is missing; $key rows not run" >&2
    printf '%s\t%s\tnot run (no %s)\t\t\t\t\t\t\t\n' "$key" "—" "$file" >"$ROW_DIR/$key.00.tsv"
    return
  fi
  local base="$OUT/$key.base.json"
  if selected "$key:original"; then
    "$ADASCALE" apply --model "$file" --op quantize:8 --dataset fashion-mnist "${LIMIT_ARGS[@]}" \
      --output "$OUT/$key.q8probe.h5" --json >"$base"
    local ms; ms="$(latency "$file")"
    jq -r --arg k "$key" --arg ms "$ms" \
      '[$k, "original", .before.params, .before.macs, $ms, .accuracy.original * 100, "", "", ""] | @tsv' \
      "$base" >"$ROW_DIR/$key.00.tsv"
  fi
  local n=0
  while IFS='|' read -r label args; do
    n=$((n + 1))
    local row; row="$ROW_DIR/$key.$(printf %02d "$n").tsv"
    selected "$key:$label" || continue
    local slug; slug="$(echo "$label" | tr -c 'a-z0-9.\n' '_')"
    echo "operators: $key $label" >&2
    local plain="$OUT/$key.$slug.plain" tuned="$OUT/$key.$slug.tuned"
    # shellcheck disable=SC2086
    if ! "$ADASCALE" apply --model "$file" $args --dataset fashion-mnist "${LIMIT_ARGS[@]}" \
      --output "$plain.h5" --json >"$plain.json" 2>"$plain.err"; then
      local why; why="$(tail -1 "$plain.err" | cut -c1-160)"
      printf '%s\t%s\tn/a: %s\t\t\t\t\t\t\n' "$key" "$label" "$why" >"$row"
      continue
    fi
    local lr="$LR" decay="$DECAY"
    if jq -e --argjson pts "$HEAVY_PTS" '(.accuracy.original - .accuracy.compressed) * 100 > $pts' \
      "$plain.json" >/dev/null; then
      lr="$HEAVY_LR" decay=cosine
    fi
    local t0=$SECONDS
    # shellcheck disable=SC2086
    "$ADASCALE" apply --model "$file" $args --dataset fashion-mnist "${LIMIT_ARGS[@]}" \
      --finetune-epochs "$EPOCHS" --lr "$lr" --lr-decay "$decay" --output "$tuned.h5" --json >"$tuned.json"
    local ft_s=$((SECONDS - t0))
    local ms; ms="$(latency "$tuned.h5")"
    if [[ "$(jq '.layers | length' "$plain.json")" == 0 ]]; then
      label="$label (no eligible layer: model unchanged)"
    fi
    local after; after="$(printf '%.2f' "$(jq -r '.accuracy.compressed * 100' "$tuned.json")")"
    if [[ "$label" == early-exit* ]]; then
      after="$after (exit $(exit_accuracy "$tuned.h5"))"
    fi
    jq -r --arg k "$key" --arg l "$label" --arg ms "$ms" --arg after "$after" --argjson t "$(cat "$tuned.json")" \
      --arg s "$ft_s" --arg lr "$lr$([[ $decay == cosine ]] && echo ' cos')" \
      '[$k, $l, .after.params, .after.macs, $ms, .accuracy.original * 100, .accuracy.compressed * 100,
        $after, ($t.accuracy.compressed - .accuracy.original) * 100, $s, $lr] | @tsv' \
      "$plain.json" >"$row"
  done <<<"$rows"
}

run_model cnn "$CNN" "$CNN_ROWS"
run_model mobilenet "$MOBILENET" "$MOBILENET_ROWS"
run_model mobilenet-wide "$WIDE" "$WIDE_ROWS"
run_model mobilenet-flat "$FLAT" "$FLAT_ROWS"

TABLE="$OUT/table.md"
python3 - "$ROW_DIR" "$EPOCHS" >"$TABLE" <<'PY'
import sys, pathlib
rows, epochs = sys.argv[1], sys.argv[2]
order = {"cnn": 0, "mobilenet": 1, "mobilenet-wide": 2, "mobilenet-flat": 3}
files = sorted(pathlib.Path(rows).glob("*.tsv"), key=lambda p: (order.get(p.name.split(".")[0], 9), p.name))
def num(s, fmt):
    try: return fmt.format(float(s))
    except ValueError: return s
print("| model | operator | params | MACs | batch-1 ms | acc. before | after compression | "
      f"after {epochs} epoch distillation | Δ (pts) | fine-tune s | lr |")
print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for line in (open(f).read() for f in files):
    f = (line.rstrip("\n").split("\t") + [""] * 11)[:11]
    k, op, p, m, ms, a0, a1, a2, d, s, lr = f
    print(f"| {k} | `{op}` | {num(p, '{:,.0f}')} | {num(m, '{:,.0f}')} | {num(ms, '{:.3f}')} | "
          f"{num(a0, '{:.2f}')} | {num(a1, '{:.2f}')} | {num(a2, '{:.2f}')} | {num(d, '{:+.2f}')} | {s} | {lr} |")
PY
cat "$TABLE"

if [[ "$WRITE" == 1 ]]; then
  python3 - docs/operators.md "$TABLE" <<'PY'
import sys, re
doc, table = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read()
begin, end = "<!-- measured:begin -->", "<!-- measured:end -->"
assert begin in text and end in text, "docs/operators.md lacks the measured markers"
head, rest = text.split(begin)
_, tail = rest.split(end)
open(doc, "w").write(head + begin + "\n" + table + end + tail)
PY
  echo "operators: wrote the table into docs/operators.md" >&2
fi
