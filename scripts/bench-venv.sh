#!/usr/bin/env bash
# Creates (once) the virtual environments of the benchmark peers under .cache/ and prints
# "da4ml=PYTHON alkaid=PYTHON" (each a venv's python with numpy and h5py).
#
#   eval "$(scripts/bench-venv.sh)"     # exit 3: PyPI unreachable (the bench skips the peers)
#
# da4ml 0.6 and its successor alkaid 0.8.2 are installed into separate venvs (same history,
# different package names; kept apart so that neither shadows the other).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mk() { # name pip-spec import-name version-prefix
  local venv="$ROOT/.cache/venv-$1" py="$ROOT/.cache/venv-$1/bin/python"
  if [ -x "$py" ] && "$py" -c "import $3, numpy, h5py; from importlib.metadata import version; assert version('$3').startswith('$4')" 2>/dev/null; then
    echo "$py"; return 0
  fi
  rm -rf "$venv"
  python3 -m venv "$venv" >&2 || { echo "bench-venv: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
  if ! "$venv/bin/pip" install -q --disable-pip-version-check "$2" numpy h5py >&2; then
    rm -rf "$venv"; echo "bench-venv: pip install $2 failed (PyPI unreachable?)" >&2; exit 3
  fi
  echo "$py"
}
D=$(mk peers "da4ml==0.6.0" da4ml 0.6)
A=$(mk alkaid "alkaid==0.8.2" alkaid 0.8.2)
echo "da4ml=$D alkaid=$A"
