#!/usr/bin/env bash
# `make compress [RECIPE=recipes/<name>.yaml] [ARGS=...]`: the AdaScale pipeline for one recipe.
#
# Runs `adascale compress --recipe RECIPE` (docs/recipes.md): trains the recipe's baseline when
# it names an architecture, trains the supernet, searches it and writes the bundle the recipe
# names (docs/bundle.md). Running it again resumes from the work directory; an existing bundle
# is replaced (--overwrite) so `make compress` can be rerun. Extra flags go in ARGS, e.g.
# ARGS=--measure-overhead, ARGS=--fresh, or ARGS="--budget 10m" (a wall-clock budget for the run,
# overriding the recipe's budget:; --budget none runs every epoch and generation).
set -euo pipefail
cd "$(dirname "$0")/.."
recipe="${1:-recipes/fmnist.yaml}"
shift || true
if [ ! -f "$recipe" ]; then
  echo "error: recipe $recipe not found (recipes available: $(ls recipes/*.yaml | tr '\n' ' '))" >&2
  exit 1
fi
exec .build/release/adascale compress --recipe "$recipe" --overwrite "$@"
