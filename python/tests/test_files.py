"""rtlgen.convert on model files: predict is exactly `rtlgen predict` (same inputs through a
.npy file, exact decimals parsed to float64), build writes the folder with report.json and
report.html, settings dicts reach the binary, and the binary's errors become RtlgenError with
its one-line message naming the file."""
import json
import os

import numpy as np
import pytest

import rtlgen

MUON = "examples/muon_recal/model.json"


def csv_floats(text):
    return np.array([[float(c) for c in l.split(",")] for l in text.splitlines() if l.strip()], dtype=np.float64)


def test_predict_equals_cli_on_edge_inputs(root, cli, tmp_path):
    model = os.path.join(root, MUON)
    # The binary's own test inputs (edge, off-grid and out-of-range values), as float64.
    x = csv_floats(cli("vectors", model, "--count", "500", "--seed", "3").stdout)
    np.save(tmp_path / "x.npy", x)
    want_text = cli("predict", model, "--input", tmp_path / "x.npy").stdout
    hw = rtlgen.convert(model)
    y = hw.predict(x)
    assert y.dtype == np.float64 and y.shape == (500, 3)
    assert np.array_equal(y, csv_floats(want_text))
    # Exact decimals: every output is a multiple of 2^-12 (fixed<18,6>) and prints back as the CLI wrote it.
    assert np.all(y * 4096 == np.round(y * 4096))
    # One sample as a 1-D array gives one 1-D row.
    assert np.array_equal(hw.predict(x[7]), y[7])


def test_build_report_and_settings(root, tmp_path):
    out = tmp_path / "muon3ns"
    hw = rtlgen.convert(os.path.join(root, MUON), config={"clock_period_ns": 3.0}, output_dir=out)
    assert hw.build() == str(out)
    r = hw.report
    assert r["clock_period_ns"] == 3.0 and r["model"] == "muon_recal"
    assert r["latency_cycles"] > json.load(open(os.path.join(root, "rtl/muon_recal/report.json")))["latency_cycles"]
    assert [l["name"] for l in r["layers"]][:2] == ["fc1", "relu1"]
    assert os.path.isfile(out / "report.html") and hw.report_html == str(out / "report.html")
    assert os.path.isfile(out / "rtl" / "verilog" / "muon_recal.v")


def test_reuse_factor_setting_changes_ii(root, tmp_path):
    hw = rtlgen.convert(os.path.join(root, MUON), config={"reuse_factor": 4}, output_dir=tmp_path / "rf4")
    assert hw.report["initiation_interval"] == 4


def test_errors_carry_the_binary_message(root, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "rtlgen-model", "version": 1, "name": "m", "input": {"size": 2, "type": "fixed<8,2>"}, '
                   '"layers": [{"name": "a", "op": "relu", "output_type": "fixed<99999,2>"}]}')
    with pytest.raises(rtlgen.RtlgenError) as e:
        rtlgen.convert(bad)
    assert e.value.returncode == 2
    assert str(bad) in e.value.message and "layers[0].output_type" in e.value.message
    assert "\n" not in e.value.message and not e.value.message.startswith("rtlgen:")
    with pytest.raises(rtlgen.RtlgenError) as e:
        rtlgen.convert(tmp_path / "missing.json")
    assert "missing.json" in e.value.message
    with pytest.raises(rtlgen.RtlgenError) as e:
        rtlgen.convert(os.path.join(root, MUON), config={"clock_period_ns": 0.01})
    assert "clock_period_ns" in e.value.message
    hw = rtlgen.convert(os.path.join(root, MUON))
    with pytest.raises(rtlgen.RtlgenError) as e:
        hw.predict(np.zeros((4, 7)))
    assert e.value.returncode == 2 and "5" in e.value.message


def test_binary_lookup(monkeypatch, tmp_path, rtlgen_bin):
    monkeypatch.setenv("RTLGEN", str(tmp_path / "nope"))
    with pytest.raises(rtlgen.RtlgenError) as e:
        rtlgen.find_binary()
    assert "RTLGEN" in e.value.message
    monkeypatch.setenv("RTLGEN", rtlgen_bin)
    assert rtlgen.find_binary() == os.path.abspath(rtlgen_bin)
