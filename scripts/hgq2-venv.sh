#!/usr/bin/env bash
# Creates (once) a Python venv with HGQ2 (PyPI hgq2 0.2, heterogeneous-precision quantization on
# Keras 3) on the jax CPU backend, no TensorFlow: the oracle of the HGQ2 importer check
# (scripts/make_hgq2_models.py, Tests/importers/hgq2_parity.py). The product never needs Python.
# Prints the venv's python; exit 3: PyPI unreachable (callers skip).
#
#   PY=$(scripts/hgq2-venv.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.cache/venv-hgq2"
PY="$VENV/bin/python"
PKGS=("hgq2==0.2.0" "keras>=3.5,<4" "jax[cpu]" "h5py")
if [ -x "$PY" ] && KERAS_BACKEND=jax "$PY" -c "import keras, jax, hgq; assert keras.__version__.startswith('3')" 2>/dev/null; then
    echo "$PY"; exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "hgq2-venv: python3 not found" >&2; exit 1; }
mkdir -p "$ROOT/.cache"; rm -rf "$VENV"
python3 -m venv "$VENV" >&2 || { echo "hgq2-venv: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
if ! "$VENV/bin/pip" install -q --disable-pip-version-check "${PKGS[@]}" >&2; then
    if ! "$VENV/bin/pip" download -q --no-deps -d "$ROOT/.cache/pypi-probe" "six" >/dev/null 2>&1; then
        echo "hgq2-venv: PyPI cannot be reached" >&2; rm -rf "$VENV"; exit 3
    fi
    echo "hgq2-venv: pip install ${PKGS[*]} failed" >&2; exit 1
fi
echo "$PY"
