#!/usr/bin/env bash
# make example-app: build Examples/AdaptiveApp — a package that depends on the AdaRuntime product
# alone — and check that it compiled exactly the runtime's dependency chain (no training,
# compression, recipe, YAML or zip module). With a bundle (BUNDLE, default bundles/fmnist) it also
# runs the app on it.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGE=Examples/AdaptiveApp
EXPECTED="AdaBundle AdaCore AdaIO AdaNN AdaProfile AdaRuntime AdaTensor AdaptiveApp Crypto CryptoBoringWrapper"

swift build --package-path "$PACKAGE" -j "${JOBS:-2}"
BIN="$(swift build --package-path "$PACKAGE" --show-bin-path)"
built="$(find "$BIN/Modules" -maxdepth 1 -name '*.swiftmodule' -printf '%f\n' | sed 's/\.swiftmodule$//' | sort | tr '\n' ' ')"
echo "example-app: compiled Swift modules: $built"
extra="$(comm -23 <(tr ' ' '\n' <<<"$built" | sed '/^$/d' | sort) <(tr ' ' '\n' <<<"$EXPECTED" | sort))"
if [[ -n "$extra" ]]; then
  echo "error: the AdaRuntime product pulled in modules outside the runtime's chain: $(echo $extra)" >&2
  exit 1
fi
BUNDLE="${BUNDLE:-bundles/fmnist}"
if [[ -f "$BUNDLE/manifest.json" ]]; then
  "$BIN/AdaptiveApp" "$BUNDLE" --requests 50
else
  echo "example-app: built; no bundle at $BUNDLE to run it on (make compress, or BUNDLE=dir)"
fi
