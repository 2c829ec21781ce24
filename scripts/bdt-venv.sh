#!/usr/bin/env bash
# Creates (once) a Python virtual environment with conifer 1.11, XGBoost, scikit-learn and the
# headers conifer's cpp backend compiles against (ap_fixed from hls4ml's templates, hls4ml
# installed without its dependencies; nlohmann-json). Used only by the BDT example scripts and the
# conifer parity test (the product never needs Python). Prints the venv's python path on stdout.
#
#   PY=$(scripts/bdt-venv.sh)     # exit 0: ready; exit 3: PyPI unreachable (callers skip)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.cache/venv-bdt"
PY="$VENV/bin/python"
CHECK='import conifer, xgboost, sklearn, pandas, scipy, nlohmann_json, numpy, importlib.util; from importlib.metadata import version; assert version("conifer") == "1.11" and importlib.util.find_spec("hls4ml")'

if [ -x "$PY" ] && "$PY" -c "$CHECK" 2>/dev/null; then echo "$PY"; exit 0; fi
command -v python3 >/dev/null 2>&1 || { echo "bdt-venv: python3 not found" >&2; exit 1; }
mkdir -p "$ROOT/.cache"
rm -rf "$VENV"
python3 -m venv "$VENV" >&2 || { echo "bdt-venv: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
if ! "$VENV/bin/pip" install -q --disable-pip-version-check "conifer==1.11" "xgboost-cpu>=2,<4" "scikit-learn>=1.3" numpy pandas nlohmann-json >&2 \
   || ! "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps "hls4ml==1.3.0" >&2; then
    if ! "$VENV/bin/pip" download -q --no-deps -d "$ROOT/.cache/pypi-probe" "six" >/dev/null 2>&1; then
        echo "bdt-venv: PyPI cannot be reached" >&2; rm -rf "$VENV"; exit 3
    fi
    echo "bdt-venv: pip install failed" >&2; rm -rf "$VENV"; exit 1
fi
"$PY" -c "$CHECK" >&2 || { echo "bdt-venv: the venv does not import conifer/xgboost/sklearn" >&2; exit 1; }
echo "$PY"
