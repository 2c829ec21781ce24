#!/usr/bin/env bash
# Creates (once) a Python venv with Keras 3 (jax backend) and hls4ml 1.3, for the Keras 3 importer
# check (Tests/hls4ml/importers_keras3.py). Prints the venv's python; exit 3: PyPI unreachable.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.cache/venv-keras3"
PY="$VENV/bin/python"
PKGS=("keras>=3.5" "jax" "scipy" "h5py" "hls4ml==1.3.0" "pyyaml")
if [ -x "$PY" ] && KERAS_BACKEND=jax "$PY" -c "import keras, jax, hls4ml; assert keras.__version__.startswith('3')" 2>/dev/null; then
    echo "$PY"; exit 0
fi
mkdir -p "$ROOT/.cache"; rm -rf "$VENV"
python3 -m venv "$VENV" >&2
if ! "$VENV/bin/pip" install -q --disable-pip-version-check "${PKGS[@]}" >&2; then
    if ! "$VENV/bin/pip" download -q --no-deps -d "$ROOT/.cache/pypi-probe" "six" >/dev/null 2>&1; then
        echo "keras3-venv: PyPI cannot be reached" >&2; rm -rf "$VENV"; exit 3
    fi
    echo "keras3-venv: pip install failed" >&2; exit 1
fi
echo "$PY"
