#!/usr/bin/env bash
# `tools/reference/check_exits.sh [BUNDLE]` (default bundles/fmnist): real Keras (JAX) opens every
# multi-exit file of a bundle (`variants/<id>_exits.h5`, docs/exits.md) and checks, on the
# Fashion-MNIST test split prepared as `x / 255` (the default recipe's preprocessing):
#   - the last output equals the static variant's output (`variants/<id>.h5`) exactly;
#   - replaying each operating point's thresholds (leave at the first exit whose max-softmax or
#     entropy confidence reaches its threshold) gives the manifest's `test_accuracy` within
#     TOLERANCE (default 0.003 = 0.3 points).
# Exits 1 on any mismatch or load failure. Variants at another resolution are skipped.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bundle="${1:-bundles/fmnist}"
tolerance="${TOLERANCE:-0.003}"
[ -f "$bundle/manifest.json" ] || { echo "error: $bundle/manifest.json not found" >&2; exit 1; }
. "$here/venv.sh"
py="$(keras_python)"
"$py" - "$bundle" "$tolerance" <<'PY'
import gzip, json, sys
import numpy as np, keras
bundle, tolerance = sys.argv[1], float(sys.argv[2])
manifest = json.load(open(f"{bundle}/manifest.json"))
root = "/usr/share/datasets/fashion-mnist"
with gzip.open(f"{root}/t10k-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1).astype("float32") / 255.0
with gzip.open(f"{root}/t10k-labels-idx1-ubyte.gz") as f:
    y = np.frombuffer(f.read(), np.uint8, offset=8)
n = manifest["dataset"]["test_examples"]
x, y = x[:n], y[:n]
failed = []
def confidence(p, kind):
    if kind == "max-softmax":
        return p.max(1)
    h = -(p * np.log(np.where(p > 0, p, 1))).sum(1)
    return np.clip(1 - h / np.log(p.shape[1]), 0, 1)
for v in manifest["variants"]:
    plan = v.get("exits")
    if not plan or (v.get("input_shape") or [28, 28])[:2] != [28, 28]:
        continue
    multi = keras.saving.load_model(f"{bundle}/{plan['file']}", compile=False)
    static = keras.saving.load_model(f"{bundle}/{v['file']}", compile=False)
    outs = multi.predict(x, verbose=0, batch_size=256)
    outs = outs if isinstance(outs, list) else [outs]
    same = float(np.abs(outs[-1] - static.predict(x, verbose=0, batch_size=256)).max())
    if len(outs) != len(plan["exits"]) + 1 or same != 0:
        failed.append(v["id"])
    print(f"{v['id']}: {len(outs) - 1} exits, last output vs static max |diff| {same}")
    preds = np.stack([o.argmax(1) for o in outs])
    conf = [confidence(o, plan["confidence"]) for o in outs[:-1]]
    for p in plan["operating_points"]:
        at = np.full(len(y), len(outs) - 1)
        for k in reversed(range(len(p["thresholds"]))):
            t = p["thresholds"][k]
            if t is not None:
                at = np.where(conf[k] >= np.float32(t), k, at)
        acc = float((preds[at, np.arange(len(y))] == y).mean())
        ok = abs(acc - p["test_accuracy"]) <= tolerance
        if not ok:
            failed.append(f"{v['id']} {p['name']}")
        print(f"  {p['name']:11} keras {acc:.4f} manifest {p['test_accuracy']:.4f} {'ok' if ok else 'MISMATCH'}")
if failed:
    print("failed:", ", ".join(failed))
    sys.exit(1)
PY
