"""rtlgen from Python: a thin front end of the ``rtlgen`` binary for notebooks.

Every figure comes from the binary (``rtlgen build``, ``predict``, ``sim``, ``synth``); this
package only writes the files the binary reads (the model, a config, a ``.npy`` input) and reads
back what it writes (exact decimal CSV, report.json). Errors of the binary (exit 2 with one line
naming the file and field; exit 1 for a failed simulation or tool run) become ``RtlgenError``.

    import rtlgen
    hw = rtlgen.convert(keras_model, config=hls_config, output_dir="build/model")
    y = hw.predict(x)
    hw.build()
    hw.report["latency_cycles"]
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import weakref
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

__all__ = ["RtlgenError", "RtlgenModel", "convert", "find_binary", "run"]
__version__ = "0.1.0"

PathLike = Union[str, "os.PathLike[str]"]

# Keys of an hls4ml HLSConfig section (what hls4ml.utils.config_from_keras_model returns) and of a
# whole hls4ml configuration file; anything else is rtlgen's own settings (docs/usage.md).
_HLS_SECTION_KEYS = {"Model", "LayerType", "LayerName"}
_HLS_FILE_KEYS = {"HLSConfig", "KerasJson", "KerasH5", "KerasModel", "OnnxModel", "OutputDir", "ProjectName",
                  "ClockPeriod", "IOType", "Backend", "Part", "XilinxPart"}


class RtlgenError(Exception):
    """The rtlgen binary failed. ``message`` is its one-line message (without the
    ``rtlgen: error:`` prefix); ``returncode`` its exit status (2: bad input or usage,
    1: a simulation mismatch or a failed tool run); ``command`` what was run."""

    def __init__(self, message: str, returncode: int = 2, command: Optional[Sequence[str]] = None,
                 stderr: str = ""):
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.command = list(command) if command else []
        self.stderr = stderr


def _repo_binary(start: Path) -> Optional[str]:
    for d in [start, *start.parents]:
        cand = d / ".build" / "release" / "rtlgen"
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return None


def find_binary() -> str:
    """The rtlgen executable: ``$RTLGEN``, else the repository's ``.build/release/rtlgen``
    (searched from this package's folder, then from the working directory, upwards), else
    ``rtlgen`` on ``PATH``."""
    env = os.environ.get("RTLGEN")
    if env:
        path = shutil.which(env) or env
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise RtlgenError(f"RTLGEN={env}: not an executable file", returncode=2)
        return os.path.abspath(path)
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        found = _repo_binary(start)
        if found:
            return found
    found = shutil.which("rtlgen")
    if found:
        return found
    raise RtlgenError("rtlgen binary not found: set RTLGEN, run `make build` in the repository "
                      "(.build/release/rtlgen) or put rtlgen on PATH", returncode=2)


def _one_line(stderr: str) -> str:
    """The binary's error line (``rtlgen: error: ...``), else the last non-empty line."""
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    for l in lines:
        if l.startswith("rtlgen: error:"):
            return l[len("rtlgen: error:"):].strip()
    for l in reversed(lines):
        if not l.startswith("rtlgen: warning:"):
            return l[len("Error: "):] if l.startswith("Error: ") else l
    return "rtlgen failed without a message"


def run(*args: str, cwd: Optional[PathLike] = None) -> subprocess.CompletedProcess:
    """Runs ``rtlgen ARGS``; a non-zero exit raises RtlgenError with the binary's message."""
    cmd = [find_binary(), *map(str, args)]
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RtlgenError(_one_line(p.stderr), returncode=p.returncode, command=cmd, stderr=p.stderr)
    return p


def _parse_csv(text: str) -> np.ndarray:
    """rtlgen's output CSV (exact decimals, one sample per line) as float64, 2-D."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        rows.append([float(c) for c in line.split(",")])
    if not rows:
        return np.zeros((0, 0), dtype=np.float64)
    return np.array(rows, dtype=np.float64)


def _is_keras_model(obj: Any) -> bool:
    return hasattr(obj, "save") and hasattr(obj, "layers") and hasattr(obj, "get_config")


def _save_keras(model: Any, folder: Path) -> Path:
    """Saves an in-memory Keras model as a file rtlgen reads: a full-model .h5 (Keras 2) or a
    .keras archive (Keras 3)."""
    major = 2
    try:
        import keras  # noqa: F401
        major = int(str(getattr(keras, "__version__", "2")).split(".")[0])
    except Exception:
        pass
    if major >= 3:
        path = folder / "model.keras"
        model.save(str(path))
    else:
        path = folder / "model.h5"
        model.save(str(path), save_format="h5")
    return path


def _config_text(config: Mapping[str, Any]) -> str:
    """The config file rtlgen reads, as YAML (JSON is YAML, so no YAML library is needed):
    an hls4ml HLSConfig section becomes an hls4ml configuration ``{HLSConfig: ...}``, a whole
    hls4ml configuration is written as given, anything else is rtlgen's own settings."""
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict (an hls4ml HLSConfig or rtlgen settings), not {type(config).__name__}")
    keys = set(config)
    if keys & _HLS_FILE_KEYS:
        doc: Any = dict(config)
    elif keys and keys <= _HLS_SECTION_KEYS:
        doc = {"HLSConfig": dict(config)}
    else:
        doc = dict(config)

    def plain(v: Any) -> Any:
        if isinstance(v, Mapping):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, np.generic):
            return v.item()
        return v

    return json.dumps(plain(doc), indent=1, default=str) + "\n"


class RtlgenModel:
    """A model as rtlgen sees it; ``convert`` makes one. Paths: ``model_path`` (the file given
    to the binary), ``config_path`` (the config written for it, or None), ``output_dir``."""

    def __init__(self, model_path: str, config_path: Optional[str], output_dir: Optional[str], workdir: str):
        self.model_path = model_path
        self.config_path = config_path
        self.output_dir = output_dir
        self.workdir = workdir
        self._built = False

    def __repr__(self) -> str:
        return f"RtlgenModel({self.model_path!r}, output_dir={self.output_dir!r})"

    def _config_args(self) -> list:
        return ["--config", self.config_path] if self.config_path else []

    def _npy(self, x: Any, name: str) -> str:
        a = np.asarray(x)
        if a.ndim == 1:
            a = a.reshape(1, -1)
        if a.ndim != 2:
            raise ValueError(f"expected inputs of shape (samples, features), got shape {a.shape}")
        if a.dtype == np.bool_ or a.dtype.kind not in "fiu":
            a = a.astype(np.float64)
        path = os.path.join(self.workdir, name)
        np.save(path, np.ascontiguousarray(a))
        return path

    def predict(self, x: Any) -> np.ndarray:
        """The bit-exact golden model (``rtlgen predict``) on x (samples x features): float64
        array of the exact outputs. A 1-D x is one sample (the result is then 1-D too)."""
        one = np.ndim(x) == 1
        inp = self._npy(x, "predict-in.npy")
        out = os.path.join(self.workdir, "predict-out.csv")
        run("predict", self.model_path, *self._config_args(), "--input", inp, "--output", out)
        y = _parse_csv(Path(out).read_text())
        return y[0] if one else y

    def build(self, **options: Any) -> str:
        """``rtlgen build`` into output_dir (or the binary's default folder, which then becomes
        output_dir). Options: lang="verilog"|"vhdl"|"both", top=..., clock_period=NS.
        Returns the folder."""
        args = ["build", self.model_path, *self._config_args()]
        if self.output_dir:
            args += ["--out", self.output_dir]
        for k, v in options.items():
            if v is None:
                continue
            if k not in ("lang", "top", "clock_period"):
                raise TypeError(f"build() got an unexpected option {k!r} (lang, top, clock_period)")
            args += ["--" + k.replace("_", "-"), str(v)]
        p = run(*args)
        m = re.search(r"^rtlgen: wrote (.*): \d+ modules", p.stdout, re.M)
        if not self.output_dir:
            if not m:
                raise RtlgenError(f"rtlgen build did not say where it wrote: {p.stdout.strip()}", returncode=1)
            self.output_dir = m.group(1)
        self._built = True
        return self.output_dir

    def _ensure_built(self) -> str:
        if not self._built:
            self.build()
        return self.output_dir  # type: ignore[return-value]

    @property
    def report(self) -> dict:
        """report.json of the build (built first if needed), as a dict."""
        d = self._ensure_built()
        return json.loads(Path(d, "report.json").read_text())

    @property
    def report_html(self) -> str:
        """Path of report.html of the build (built first if needed)."""
        return os.path.join(self._ensure_built(), "report.html")

    def sim(self, x: Any, simulator: str = "both") -> np.ndarray:
        """Simulates the built RTL (``rtlgen sim``; verilator and/or ghdl) on x; every output bit
        is compared with the golden model by the binary (a mismatch raises RtlgenError, exit 1).
        Returns the RTL's outputs as float64 (1-D for a 1-D x)."""
        one = np.ndim(x) == 1
        d = self._ensure_built()
        inp = self._npy(x, "sim-in.npy")
        out = os.path.join(self.workdir, "sim-out.csv")
        run("sim", d, "--input", inp, "--output", out, "--simulator", simulator)
        y = _parse_csv(Path(out).read_text())
        return y[0] if one else y

    def synth(self) -> dict:
        """``rtlgen synth`` (Yosys, synth_xilinx for UltraScale+) on the build: the figures it adds
        to report.json ("lut", "ff", "dsp", ...)."""
        d = self._ensure_built()
        run("synth", d)
        return self.report.get("synthesis", {})


def convert(model: Any, config: Optional[Mapping[str, Any]] = None,
            output_dir: Optional[PathLike] = None) -> RtlgenModel:
    """A model for rtlgen.

    model: a file ``rtlgen build`` takes (native JSON, Keras .h5 / .keras / JSON, an hls4ml
    configuration .yml, ONNX) or an in-memory Keras model (saved to a temporary file).
    config: an hls4ml HLSConfig dict (``{"Model": ..., "LayerName": ...}`` as
    ``hls4ml.utils.config_from_keras_model`` returns), a whole hls4ml configuration dict, or
    rtlgen's settings (``{"clock_period_ns": 4.0, "reuse_factor": 2, ...}``).
    output_dir: where ``build()`` writes (default: the binary's, ``rtlgen-out/NAME``).

    The model is read once here (``rtlgen vectors --count 1``), so a bad file or config raises RtlgenError
    now, naming the file.
    """
    workdir = tempfile.mkdtemp(prefix="rtlgen-py-")
    obj = None
    try:
        if _is_keras_model(model):
            model_path = str(_save_keras(model, Path(workdir)))
        elif isinstance(model, (str, os.PathLike)):
            model_path = os.path.abspath(os.fspath(model))
        else:
            raise TypeError(f"model must be a file path or a Keras model, not {type(model).__name__}")
        config_path = None
        if config is not None:
            config_path = os.path.join(workdir, "config.yml")
            Path(config_path).write_text(_config_text(config))
        out = os.path.abspath(os.fspath(output_dir)) if output_dir is not None else None
        obj = RtlgenModel(model_path, config_path, out, workdir)
        # Read the model now so that a bad file or config fails at convert(), as hls4ml does.
        run("vectors", model_path, *obj._config_args(), "--count", "1")
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    weakref.finalize(obj, shutil.rmtree, workdir, True)
    return obj
