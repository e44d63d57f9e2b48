#!/usr/bin/env bash
# `make check-exits [BUNDLE=bundles/fmnist]`: real Keras (3.15.1, JAX) loads every multi-exit
# variant of a bundle, each output matches `adascale predict` within 1e-4 of its scale, and the
# exits computed offline from Keras' outputs and the manifest's thresholds give the manifest's
# test accuracy per operating point (check_exits.py says how).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bundle="${1:-bundles/fmnist}"
adascale="${ADASCALE:-.build/release/adascale}"
[ -f "$bundle/manifest.json" ] || { echo "error: $bundle/manifest.json not found (run make compress first)" >&2; exit 1; }
[ -x "$adascale" ] || { echo "error: $adascale not found (run make build first)" >&2; exit 1; }
. "$here/venv.sh"
py="$(keras_python)"
"$py" "$here/check_exits.py" "$bundle" "$adascale" --tolerance "${TOLERANCE:-0.003}"
