#!/usr/bin/env bash
# `make applications`: adascale loads and predicts the keras.applications families like real Keras.
#
#   tools/reference/check_applications.sh [FAMILY ...]   (after `make build`; ADASCALE=path
#                                                          overrides the binary, SIZE the input, 32;
#                                                          KEEP=DIR keeps the Keras files there and
#                                                          reuses them on the next run)
#
# make_applications.py builds each family with real Keras 3.15.1 (JAX) at SIZE×SIZE×3,
# weights=None, 10 classes, then perturbs BatchNorm/Normalization statistics and biases so the
# outputs depend on the input, saves FAMILY.h5 and FAMILY.keras and Keras's predictions on 4
# inputs. Then `adascale predict` runs each file and compare_outputs.py checks every output
# within 1e-4 of the output scale (max |err| <= 1e-4 · max |y| + 1e-6). Families: MobileNet,
# MobileNetV2, MobileNetV3Small, MobileNetV3Large, ResNet50, DenseNet121, EfficientNetB0,
# EfficientNetV2B0, NestedTransfer (a MobileNetV2 base used as a layer + GAP + Dense).
#
# Prints a table (family, params, Keras layers, format, max error, output scale, pass/fail) and
# exits 1 on any failure. ~6 min on 2 busy cores, most of it Keras building the models.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
bin="${ADASCALE:-$repo/.build/release/adascale}"
if [ ! -x "$bin" ]; then echo "error: $bin not found; run make build first" >&2; exit 1; fi

. "$here/venv.sh"
py="$(keras_python)"
if [ -n "${KEEP:-}" ]; then
  work="$KEEP"
  mkdir -p "$work"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/adascale-applications.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi

only=()
if [ "$#" -gt 0 ]; then only=(--only "$@"); fi
if [ -z "${KEEP:-}" ] || [ ! -s "$work/families.jsonl" ]; then
  echo "== building the families with Keras $("$py" -c 'import keras; print(keras.__version__)') (JAX)"
  "$py" "$here/make_applications.py" "$work" --size "${SIZE:-32}" "${only[@]}" \
    2> "$work/keras.log" | tee "$work/families.jsonl"
fi

failed=0
printf '\n%-18s %10s %7s  %-6s %10s %8s  %s\n' family params layers format "max err" scale result
"$py" -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["family"], r["params"], r["layers"])' "$work/families.jsonl" > "$work/families.txt"
while read -r family params count; do
  for format in h5 keras; do
    got="$work/$family.$format.y.h5"
    if ! "$bin" predict --model "$work/$family.$format" --input "$work/$family.io.h5" --output "$got" \
      > "$work/$family.$format.log" 2>&1; then
      printf '%-18s %10s %7s  %-6s %10s %8s  FAIL: %s\n' "$family" "$params" "$count" "$format" - - \
        "$(grep -m1 -i error "$work/$family.$format.log" || tail -1 "$work/$family.$format.log")"
      failed=1
      continue
    fi
    read -r err scale ok < <(cd "$here" && "$py" compare_outputs.py "$work/$family.io.h5" "$got" || true)
    printf '%-18s %10s %7s  %-6s %10s %8s  %s\n' "$family" "$params" "$count" "$format" "$err" "$scale" "$ok"
    if [ "$ok" != pass ]; then failed=1; fi
  done
done < "$work/families.txt"
if [ "$failed" = 1 ]; then echo "check_applications: FAILED"; exit 1; fi
echo "check_applications: all families agree with Keras within 1e-4 of the output scale"
