#!/usr/bin/env bash
# Creates (once) the Python virtual environment that REGENERATES the committed Brevitas QONNX test
# models (scripts/make_brevitas_models.py, `make brevitas-models`): torch (CPU use only; PyPI's
# wheel brings its CUDA libraries, about 6 GB) and brevitas. Not used by `make test`: the parity
# test (`make brevitas-parity`) needs only the committed .onnx files and scripts/onnx-venv.sh.
#
#   PY=$(scripts/brevitas-venv.sh)     # exit 0: ready; anything else: failed (callers fail loudly)
set -euo pipefail

BREVITAS_VERSION="0.13"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.cache/venv-brevitas"
PY="$VENV/bin/python"
CHECK="import torch, brevitas, onnx, onnxscript, onnxoptimizer, qonnx, numpy; assert brevitas.__version__.startswith('$BREVITAS_VERSION'), brevitas.__version__"

if [ -x "$PY" ] && "$PY" -c "$CHECK" 2>/dev/null; then
    echo "$PY"; exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "brevitas-venv: python3 not found" >&2; exit 1; }
mkdir -p "$ROOT/.cache"
rm -rf "$VENV"
python3 -m venv "$VENV" >&2 || { echo "brevitas-venv: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
if ! "$VENV/bin/pip" install -q --disable-pip-version-check "brevitas==$BREVITAS_VERSION.*" torch onnx onnxscript onnxoptimizer qonnx numpy >&2; then
    echo "brevitas-venv: pip install brevitas==$BREVITAS_VERSION.* torch onnx onnxscript onnxoptimizer qonnx numpy FAILED (is PyPI reachable?)" >&2
    rm -rf "$VENV"; exit 1
fi
"$PY" -c "$CHECK" >&2 || { echo "brevitas-venv: the installed packages do not import" >&2; exit 1; }
echo "$PY"
