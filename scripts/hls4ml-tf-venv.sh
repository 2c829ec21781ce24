#!/usr/bin/env bash
# Creates (once) a Python virtual environment with hls4ml 1.3, TensorFlow 2.15 (Keras 2), QKeras
# and pandas: the oracle of the importer tests (hls4ml's QKeras converter needs qkeras, which
# needs TensorFlow; the muon-student Keras files are written with tf.keras). The product never
# needs Python. Prints the venv's python path on stdout.
#
#   PY=$(scripts/hls4ml-tf-venv.sh)     # exit 0: ready; exit 3: PyPI unreachable (callers skip)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.cache/venv-qkeras"
PY="$VENV/bin/python"
PKGS=("hls4ml==1.3.0" "tensorflow-cpu==2.15.1" "qkeras==0.9.0" "pyparsing" "pandas" "h5py" "pyyaml")

if [ -x "$PY" ] && "$PY" -c "import hls4ml, qkeras, pandas, h5py, yaml; assert hls4ml.__version__.startswith('1.3.0')" 2>/dev/null; then
    echo "$PY"; exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "hls4ml-tf-venv: python3 not found" >&2; exit 1; }
mkdir -p "$ROOT/.cache"
rm -rf "$VENV"
python3 -m venv "$VENV" >&2 || { echo "hls4ml-tf-venv: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
if ! "$VENV/bin/pip" install -q --disable-pip-version-check "${PKGS[@]}" >&2; then
    if ! "$VENV/bin/pip" download -q --no-deps -d "$ROOT/.cache/pypi-probe" "six" >/dev/null 2>&1; then
        echo "hls4ml-tf-venv: PyPI cannot be reached" >&2; rm -rf "$VENV"; exit 3
    fi
    echo "hls4ml-tf-venv: pip install ${PKGS[*]} failed" >&2; exit 1
fi
echo "$PY"
