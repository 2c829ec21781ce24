#!/usr/bin/env bash
# Creates (once) a Python virtual environment with FuseSoC, used only to check that the generated
# .core files run through FuseSoC itself (the product never needs Python). Prints the fusesoc path.
#
#   FS=$(scripts/fusesoc-venv.sh)     # exit 0: ready; exit 3: PyPI unreachable (callers skip)
set -euo pipefail

FUSESOC_VERSION="2.4.3"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.cache/venv-fusesoc"
FS="$VENV/bin/fusesoc"

if [ -x "$FS" ] && "$FS" --version 2>/dev/null | grep -q "$FUSESOC_VERSION"; then echo "$FS"; exit 0; fi
command -v python3 >/dev/null 2>&1 || { echo "fusesoc-venv: python3 not found" >&2; exit 1; }
mkdir -p "$ROOT/.cache"
rm -rf "$VENV"
python3 -m venv "$VENV" >&2 || { echo "fusesoc-venv: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
if ! "$VENV/bin/pip" install -q --disable-pip-version-check "fusesoc==$FUSESOC_VERSION" >&2; then
    if ! "$VENV/bin/pip" download -q --no-deps -d "$ROOT/.cache/pypi-probe" "six" >/dev/null 2>&1; then
        echo "fusesoc-venv: PyPI cannot be reached" >&2; rm -rf "$VENV"; exit 3
    fi
    echo "fusesoc-venv: pip install fusesoc==$FUSESOC_VERSION failed" >&2; exit 1
fi
echo "$FS"
