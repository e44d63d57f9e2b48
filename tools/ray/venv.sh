#!/usr/bin/env bash
# Installs Ray (pinned) into tools/ray/.venv unless it is there already.
set -euo pipefail
cd "$(dirname "$0")"
RAY_VERSION=2.60.0
if [ -x .venv/bin/python ] && .venv/bin/python -c "import ray, sys; sys.exit(ray.__version__ != '$RAY_VERSION')" 2>/dev/null; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/pip install -q "ray==$RAY_VERSION"
.venv/bin/python -c "import ray; print('ray', ray.__version__, 'in tools/ray/.venv')"
