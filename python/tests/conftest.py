"""pytest setup: the rtlgen binary under test (RTLGEN, else the repository's release build) and
the repository root; these tests run in make python-test (scripts/hls4ml-tf-venv.sh's venv)."""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
try:
    import rtlgen  # noqa: F401  (the installed package: pip install ./python)
except ImportError:
    sys.path.insert(0, os.path.join(ROOT, "python"))


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def rtlgen_bin():
    import rtlgen
    return rtlgen.find_binary()


@pytest.fixture(scope="session")
def cli(rtlgen_bin):
    """Runs the binary directly (the reference the package must equal)."""
    def run(*args, check=True):
        p = subprocess.run([rtlgen_bin, *map(str, args)], capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"rtlgen {' '.join(map(str, args))}: exit {p.returncode}: {p.stderr}")
        return p
    return run


def have(tool):
    return shutil.which(tool) is not None
