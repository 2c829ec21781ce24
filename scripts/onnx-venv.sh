#!/usr/bin/env bash
# Creates (once) a Python virtual environment for the ONNX / QONNX parity test (test oracles
# only: the product never needs Python): qonnx (its reference execution, execute_onnx), onnx,
# onnxruntime, and hls4ml 1.3 (its ONNX front end and C++ emulation). Prints the python path.
#
#   PY=$(scripts/onnx-venv.sh)     # exit 0: ready; anything else: failed (callers fail loudly)
set -euo pipefail

HLS4ML_VERSION="1.3.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.cache/venv-onnx"
PY="$VENV/bin/python"
CHECK="import hls4ml, qonnx, onnx, onnxruntime, numpy; assert hls4ml.__version__.startswith('$HLS4ML_VERSION')"

if [ -x "$PY" ] && "$PY" -c "$CHECK" 2>/dev/null; then
    echo "$PY"; exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "onnx-venv: python3 not found" >&2; exit 1; }
mkdir -p "$ROOT/.cache"
rm -rf "$VENV"
python3 -m venv "$VENV" >&2 || { echo "onnx-venv: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
if ! "$VENV/bin/pip" install -q --disable-pip-version-check "hls4ml==$HLS4ML_VERSION" qonnx onnx onnxruntime numpy >&2; then
    echo "onnx-venv: pip install hls4ml==$HLS4ML_VERSION qonnx onnx onnxruntime numpy FAILED (is PyPI reachable?)" >&2
    rm -rf "$VENV"; exit 1
fi
"$PY" -c "$CHECK" >&2 || { echo "onnx-venv: the installed packages do not import" >&2; exit 1; }
echo "$PY"
