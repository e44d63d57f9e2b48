#!/usr/bin/env bash
# Regenerates Tests/Fixtures/onnx/*.io.h5, the onnxruntime outputs the ONNX export tests compare
# with (Tests/AdaONNXTests/ONNXExporterTests.swift). Run after changing ONNXExportCase or when the
# pinned onnx/onnxruntime (requirements-onnx.txt) change:
#
#   tools/reference/make_onnx_fixtures.sh
#
# 1. builds the tests and runs ONNXExporterTests.testRecordFixtureInputs with
#    ADASCALE_ONNX_RECORD set: every case's export and seeded input into a temporary folder;
# 2. make_onnx_fixtures.py checks each export with onnx.checker and runs it with onnxruntime.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
. "$here/venv.sh"
py="$(onnx_python)"
record="$(mktemp -d "${TMPDIR:-/tmp}/adascale-onnx-record.XXXXXX")"
trap 'rm -rf "$record"' EXIT
swift build --build-tests -j "${JOBS:-2}"
ADASCALE_ONNX_RECORD="$record" .build/debug/adascalePackageTests.xctest \
  AdaONNXTests.ONNXExporterTests/testRecordFixtureInputs
rm -f Tests/Fixtures/onnx/*.io.h5
"$py" "$here/make_onnx_fixtures.py" "$record" Tests/Fixtures/onnx
