#!/usr/bin/env bash
# Creates (once) a Python virtual environment with the hls4ml package, used only as a test
# oracle (the product never needs Python). Prints the venv's python path on stdout.
#
#   PY=$(scripts/hls4ml-venv.sh)     # exit 0: ready; exit 3: PyPI unreachable (callers skip)
#
# hls4ml's `ModelGraph.from_layer_list` + `compile()` + `predict()` needs only g++ and numpy;
# its Keras converter (`keras_v2_to_hls`, used by Tests/hls4ml/models.py) reads the model files
# with h5py (no TensorFlow).
set -euo pipefail

HLS4ML_VERSION="1.3.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.cache/venv-hls4ml"
PY="$VENV/bin/python"

if [ -x "$PY" ] && "$PY" -c "import hls4ml, numpy, h5py; assert hls4ml.__version__.startswith('$HLS4ML_VERSION')" 2>/dev/null; then
    echo "$PY"; exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "hls4ml-venv: python3 not found" >&2; exit 1; }
mkdir -p "$ROOT/.cache"
rm -rf "$VENV"
python3 -m venv "$VENV" >&2 || { echo "hls4ml-venv: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
if ! "$VENV/bin/pip" install -q --disable-pip-version-check "hls4ml==$HLS4ML_VERSION" numpy h5py >&2; then
    if ! "$VENV/bin/pip" download -q --no-deps -d "$ROOT/.cache/pypi-probe" "six" >/dev/null 2>&1; then
        echo "hls4ml-venv: PyPI cannot be reached" >&2; rm -rf "$VENV"; exit 3
    fi
    echo "hls4ml-venv: pip install hls4ml==$HLS4ML_VERSION failed" >&2; exit 1
fi
echo "$PY"
