#!/usr/bin/env bash
# What a CI training job runs (docs/ci.md): compress a recipe non-interactively, compare the new
# bundle with the previous one, apply the recipe's gates, and write a job summary and a JUnit
# file. Exit code: 0 passed, 1 user error, 2 internal error, 3 a gate failed.
#
#   tools/ci_compress.sh [--recipe R] [--previous DIR] [--reports DIR]
#
# --recipe    default recipes/fmnist_quick.yaml (about 2 minutes).
# --previous  the last bundle (a CI artifact); default: the recipe's output directory as it was
#             before this run, kept as <output>.previous. Without one there is nothing to diff.
# --reports   where summary.md and gates.xml go (default: <output>.reports).
# Caches: ADASCALE_CACHE_DIR (default .cache/adascale here) holds the per-op latency table; the
# recipe's work directory (<output>.work) holds the baseline, the supernet checkpoint and the
# search state, each keyed by what it depends on. Cache both between jobs (docs/ci.md).
# ADASCALE=path overrides the binary (default: the release build, built here).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ "${1:-}" == -h || "${1:-}" == --help ]] && { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
RECIPE=recipes/fmnist_quick.yaml
PREVIOUS=""
REPORTS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --recipe) RECIPE="$2"; shift 2 ;;
    --previous) PREVIOUS="$2"; shift 2 ;;
    --reports) REPORTS="$2"; shift 2 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
done
export ADASCALE_CACHE_DIR="${ADASCALE_CACHE_DIR:-$PWD/.cache/adascale}"
if [[ -z "${ADASCALE:-}" ]]; then
  swift build -c release --product adascale >/dev/null
  ADASCALE="$(swift build -c release --show-bin-path)/adascale"
fi
OUTPUT="$(sed -n 's/^  directory: *//p' "$RECIPE" | head -n 1)"
[[ -n "$OUTPUT" ]] || { echo "error: $RECIPE: output.directory not found" >&2; exit 1; }
REPORTS="${REPORTS:-$OUTPUT.reports}"
if [[ -z "$PREVIOUS" && -f "$OUTPUT/manifest.json" ]]; then
  rm -rf "$OUTPUT.previous"
  cp -r "$OUTPUT" "$OUTPUT.previous"
  PREVIOUS="$OUTPUT.previous"
fi
mkdir -p "$REPORTS"
start=$(date +%s)
"$ADASCALE" compress --recipe "$RECIPE" --overwrite --progress plain
echo "ci: compress took $(( $(date +%s) - start )) s (cache $ADASCALE_CACHE_DIR, work directory $OUTPUT.work)"
if [[ -z "$PREVIOUS" ]]; then
  echo "ci: no previous bundle to compare with: gates not checked (keep $OUTPUT as the next job's --previous)"
  exit 0
fi
set +e
"$ADASCALE" diff "$PREVIOUS" "$OUTPUT" --recipe "$RECIPE" --markdown "$REPORTS/summary.md" --junit "$REPORTS/gates.xml"
code=$?
set -e
echo "ci: summary $REPORTS/summary.md, JUnit $REPORTS/gates.xml; diff exit code $code"
exit $code
