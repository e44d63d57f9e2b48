# Reference Python environments, shared by make_fixtures.sh, check_interop.sh and
# tools/train_fmnist.sh. Source it (`. tools/reference/venv.sh`); it defines:
#
#   make_venv DIR REQUIREMENTS   create DIR with $PYTHON (default python3) when missing, then
#                                pip-install REQUIREMENTS (plus --find-links /opt/wheels when that
#                                folder exists: the CPU-only torch wheel lives there)
#   keras_python                 print the path of a Python that runs Keras 3 (JAX) + h5py:
#                                $REFERENCE_PYTHON if set; else tools/reference/.venv (updated
#                                with make_venv); else a prepared /opt/refvenv with the same pins;
#                                else a new tools/reference/.venv (make_venv)
#   onnx_python                  print the path of a Python with onnx, onnxruntime, h5py, numpy
#                                (requirements-onnx.txt): $ONNX_PYTHON if set; else keras_python's
#                                when it has them; else tools/reference/.venv-onnx (make_venv)
#
# Keras scripts need KERAS_BACKEND=jax; this file exports it.

reference_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export KERAS_BACKEND=jax
export TF_CPP_MIN_LOG_LEVEL=2

pip_extra=()
if [ -d /opt/wheels ]; then pip_extra=(--find-links /opt/wheels); fi

make_venv() {  # make_venv DIR REQUIREMENTS
  if [ ! -x "$1/bin/python" ]; then "${PYTHON:-python3}" -m venv "$1"; fi
  "$1/bin/pip" install --quiet "${pip_extra[@]}" -r "$2"
}

keras_python() {
  if [ -n "${REFERENCE_PYTHON:-}" ]; then echo "$REFERENCE_PYTHON"; return; fi
  local venv="$reference_dir/.venv"
  if [ ! -x "$venv/bin/python" ] && [ -x /opt/refvenv/bin/python ] \
    && /opt/refvenv/bin/python -c "import keras, jax, h5py" 2>/dev/null; then
    echo /opt/refvenv/bin/python
    return
  fi
  make_venv "$venv" "$reference_dir/requirements.txt" >&2 || return 1
  echo "$venv/bin/python"
}

onnx_python() {
  if [ -n "${ONNX_PYTHON:-}" ]; then echo "$ONNX_PYTHON"; return; fi
  local py
  py="$(keras_python 2>/dev/null)" || py=""
  if [ -n "$py" ] && "$py" -c "import onnx, onnxruntime, h5py" 2>/dev/null; then
    echo "$py"
    return
  fi
  local venv="$reference_dir/.venv-onnx"
  make_venv "$venv" "$reference_dir/requirements-onnx.txt" >&2 || return 1
  echo "$venv/bin/python"
}
