"""Shared by the hls4ml comparison scripts: re-run the calling script inside the hls4ml venv.

`enter(label)` returns at once inside the venv. Otherwise it asks scripts/hls4ml-venv.sh for the
venv (creating it once), and replaces the process with the venv's python running the same script
and arguments. The only allowed skip: PyPI cannot be reached (the venv script exits 3), reported
as "SKIP: <label>: ..." with exit status 0; any other failure of the venv script exits 1.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def enter(label, venv_script="hls4ml-venv.sh"):
    """venv_script: scripts/hls4ml-venv.sh (hls4ml, numpy, h5py) or scripts/hls4ml-tf-venv.sh
    (also TensorFlow 2.15, QKeras and pandas, for the importer tests)."""
    if os.environ.get("RTLGEN_IN_HLS4ML_VENV") == "1":
        return
    r = subprocess.run([os.path.join(ROOT, "scripts", venv_script)], stdout=subprocess.PIPE, text=True)
    if r.returncode == 3:
        print("SKIP: %s: PyPI cannot be reached, so hls4ml cannot be installed" % label)
        sys.exit(0)
    if r.returncode != 0:
        print("%s: scripts/%s failed (exit %d)" % (label, venv_script, r.returncode))
        sys.exit(1)
    py = r.stdout.strip().splitlines()[-1]
    script = os.path.abspath(sys.argv[0])
    os.execve(py, [py, script] + sys.argv[1:], dict(os.environ, RTLGEN_IN_HLS4ML_VENV="1"))
