#!/usr/bin/env bash
# `make check-bundle [BUNDLE=bundles/fmnist]`: real Keras (3.15.1, JAX) opens every variant of a
# bundle written by `adascale compress` and scores it on the Fashion-MNIST test split; each
# accuracy must match the manifest's within TOLERANCE (default 0.003 = 0.3 points).
#
# Uses keras_eval.py (keras.models.load_model + model.evaluate) on the first
# manifest.dataset.test_examples test images, the same ones the pipeline scored, prepared as the
# manifest's `preprocessing` says (resize, channels, mode) at each variant's own `input_shape`
# (smaller for a variant at a lower resolution). Exits 1 on any mismatch or load failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bundle="${1:-bundles/fmnist}"
tolerance="${TOLERANCE:-0.003}"
[ -f "$bundle/manifest.json" ] || { echo "error: $bundle/manifest.json not found (run make compress first)" >&2; exit 1; }
. "$here/venv.sh"
py="$(keras_python)"
"$py" - "$bundle" "$tolerance" "$here/keras_eval.py" <<'PY'
import json, subprocess, sys
bundle, tolerance, evaluator = sys.argv[1], float(sys.argv[2]), sys.argv[3]
manifest = json.load(open(f"{bundle}/manifest.json"))
limit = manifest["dataset"]["test_examples"]
failed = []
print(f"{'variant':8} {'manifest':>9} {'keras':>9} {'diff pts':>9}  file")
prep = manifest.get("preprocessing") or {}
for v in manifest["variants"]:
    args = [sys.executable, evaluator, f"{bundle}/{v['file']}", "--split", "test", "--limit", str(limit),
            "--preprocess", prep.get("mode", "unit")]
    shape = v.get("input_shape") or prep.get("input_shape")
    if shape and len(shape) == 3 and shape[:2] != [28, 28]:
        args += ["--resize", str(shape[0]), str(shape[1])]
    if prep.get("channels"):
        args += ["--channels", str(prep["channels"])]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        print(f"{v['id']:8} keras could not load/score it:\n{out.stderr}")
        failed.append(v["id"])
        continue
    keras = json.loads(out.stdout)["accuracy"]
    diff = (keras - v["accuracy"]) * 100
    ok = abs(keras - v["accuracy"]) <= tolerance
    print(f"{v['id']:8} {v['accuracy']*100:8.2f}% {keras*100:8.2f}% {diff:+9.2f}  {v['file']}{'' if ok else '  MISMATCH'}")
    if not ok:
        failed.append(v["id"])
print(f"{len(manifest['variants']) - len(failed)}/{len(manifest['variants'])} variants load in Keras and match the manifest within {tolerance*100:.1f} points")
sys.exit(1 if failed else 0)
PY
