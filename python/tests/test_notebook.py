"""The notebook of the README, end to end: a tiny Keras model made in memory, its hls4ml
configuration (hls4ml.utils.config_from_keras_model when hls4ml is installed, else the same dict
written out), rtlgen.convert, predict == `rtlgen predict` on the saved model and config, build,
report, report.html, and the RTL in Verilator giving the same numbers."""
import json
import os

import numpy as np
import pytest

import rtlgen
from conftest import have

tf = pytest.importorskip("tensorflow")


def tiny_model():
    tf.keras.utils.set_random_seed(7)
    m = tf.keras.Sequential([
        tf.keras.layers.Input(shape=(6,), name="x"),
        tf.keras.layers.Dense(8, activation="relu", name="fc1"),
        tf.keras.layers.Dense(4, name="fc2"),
        tf.keras.layers.Activation("sigmoid", name="out"),
    ], name="tiny")
    m.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(1).normal(size=(256, 6)).astype(np.float32)
    m.fit(x, np.tanh(x[:, :4]), epochs=2, verbose=0)
    return m


def hls_config(model):
    try:
        import hls4ml
        c = hls4ml.utils.config_from_keras_model(model, granularity="model", default_precision="fixed<16,6>")
    except ImportError:
        c = {"Model": {"Precision": {"default": "fixed<16,6>"}, "ReuseFactor": 1, "Strategy": "Latency"}}
    return c


def test_notebook(tmp_path, cli):
    # --- notebook cells ---------------------------------------------------------------
    model = tiny_model()
    config = hls_config(model)
    hw = rtlgen.convert(model, config=config, output_dir=str(tmp_path / "tiny"))
    x = np.random.default_rng(2).normal(scale=2.0, size=(1000, 6))
    y = hw.predict(x)
    hw.build()
    report = hw.report
    # --- checks -------------------------------------------------------------------------
    assert y.shape == (1000, 4) and y.dtype == np.float64
    # The same model and config through the command line, saved independently of the package.
    model.save(str(tmp_path / "tiny.h5"), save_format="h5")
    (tmp_path / "hls.yml").write_text(json.dumps({"HLSConfig": config}))
    np.save(tmp_path / "x.npy", x)
    want = cli("predict", tmp_path / "tiny.h5", "--config", tmp_path / "hls.yml", "--input", tmp_path / "x.npy").stdout
    assert np.array_equal(y, np.array([[float(c) for c in l.split(",")] for l in want.splitlines()]))
    # Fixed point, close to Keras' float result (a sanity check of the conversion, not of rtlgen).
    keras_y = model.predict(x.astype(np.float32), verbose=0)
    assert np.max(np.abs(y - keras_y)) < 0.05
    assert len(np.unique(y)) > 100
    assert report["model"] == "tiny" and report["latency_cycles"] >= 1
    assert [l["op"] for l in report["layers"]] == ["dense", "relu", "dense", "sigmoid"]
    assert os.path.isfile(tmp_path / "tiny" / "report.html")
    if have("verilator"):
        assert np.array_equal(hw.sim(x[:300], simulator="verilator"), y[:300])
