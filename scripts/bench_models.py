#!/usr/bin/env python3
"""The quantized models of docs/benchmarks.md, as rtlgen native JSON with every weight already
on its type's grid (so rtlgen, da4ml and alkaid read exactly the same numbers).

- jet_qkeras: the shared QKeras jet tagger 16-64-32-32-5 (keras/qkeras_3layer.*): QDense weights
  and biases quantized_bits(6, 0) -> fixed<6,1> (round half even, clip, as QKeras does), inputs
  and dense results fixed<16,6> (hls4ml's default), quantized_relu(6, 0) -> ufixed<6,0,RND,SAT>.
  The final softmax is left out (the peers reject softmax).
- muon_student: examples/muon_recal (5-8-8-8-8-3, fixed<18,6> data) with fixed<10,3> weights and
  biases, RND instead of RND_CONV (the peers have round-half-up only).
- jet_hls: the same jet tagger at hls4ml's default types (everything fixed<16,6>).
- muon_baseline: the 16-wide muon network 5-16-16-16-16-3 (seeded illustrative weights).
- keras_bnn: examples/keras_bnn, a binary network (the peers take no binary layers).
- atlas_student: examples/atlas_rpc_student (the ATLAS RPC CNN student, 4-bit weights) with RND
  instead of RND_CONV in its ReLUs (the peers round half up only).

    python bench_models.py QKERAS_DIR OUTDIR      (needs h5py and numpy)
"""

import json
import sys
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def on_grid(a, frac, width):
    """Round half to even onto 2^-frac, clip to a signed width-bit code, as floats."""
    codes = np.clip(np.round(np.asarray(a, dtype=np.float64) * 2.0 ** frac), -(2 ** (width - 1)), 2 ** (width - 1) - 1)
    return codes / 2.0 ** frac


def dense(name, k, b, kt, kf, kw, out_t):
    return {"name": name, "op": "dense", "units": int(k.shape[1]),
            "kernel": on_grid(k, kf, kw).tolist(), "bias": on_grid(b, kf, kw).tolist(),
            "kernel_type": kt, "bias_type": kt, "accum_type": "auto", "output_type": out_t}


def jet(qdir):
    f = h5py.File(Path(qdir) / "qkeras_3layer_weights.h5", "r")
    layers = []
    for i, n in enumerate(["fc1", "fc2", "fc3", "output"]):
        k = f["%s/%s/kernel:0" % (n, n)][()]
        b = f["%s/%s/bias:0" % (n, n)][()]
        layers.append(dense(n, k, b, "fixed<6,1>", 5, 6, "fixed<16,6>"))
        if n != "output":
            layers.append({"name": "relu%d" % (i + 1), "op": "relu", "output_type": "ufixed<6,0,RND,SAT>"})
    return {"format": "rtlgen-model", "version": 1, "name": "jet_qkeras",
            "input": {"name": "jet", "size": 16, "type": "fixed<16,6>"}, "layers": layers}


def muon():
    m = json.load(open(ROOT / "examples/muon_recal/model.json"))
    for l in m["layers"]:
        if "output_type" in l:
            l["output_type"] = l["output_type"].replace("RND_CONV", "RND")
        if l["op"] == "dense":
            l["kernel_type"] = l["bias_type"] = "fixed<10,3>"
            l["kernel"] = on_grid(np.array(l["kernel"]), 7, 10).tolist()
            l["bias"] = on_grid(np.array(l["bias"]), 7, 10).tolist()
    m["name"] = "muon_student"
    return m


def jet_hls(qdir):
    """The same jet tagger at hls4ml's default types: weights, biases, data and ReLUs fixed<16,6>."""
    m = jet(qdir)
    f = h5py.File(Path(qdir) / "qkeras_3layer_weights.h5", "r")
    for l in m["layers"]:
        if l["op"] == "dense":
            n = l["name"]
            l["kernel"] = on_grid(f["%s/%s/kernel:0" % (n, n)][()], 10, 16).tolist()
            l["bias"] = on_grid(f["%s/%s/bias:0" % (n, n)][()], 10, 16).tolist()
            l["kernel_type"] = l["bias_type"] = "fixed<16,6>"
        else:
            l["output_type"] = "fixed<16,6>"
    m["name"] = "jet_hls"
    return m


def muon_baseline():
    """The 16-wide muon baseline 5-16-16-16-16-3: fixed<18,6> data, fixed<10,3> weights (seeded
    Glorot-uniform, illustrative like examples/muon_recal), RND + SAT dense outputs."""
    rng = np.random.default_rng(20261125)
    sizes = [5, 16, 16, 16, 16, 3]
    layers = []
    for k in range(5):
        n_in, n_out = sizes[k], sizes[k + 1]
        lim = (6.0 / (n_in + n_out)) ** 0.5
        last = k == 4
        layers.append(dense("fc%d" % (k + 1), rng.uniform(-lim, lim, (n_in, n_out)), rng.uniform(-lim, lim, n_out),
                            "fixed<10,3>", 7, 10, "fixed<18,6>" if last else "fixed<18,6,RND,SAT>"))
        if not last:
            layers.append({"name": "relu%d" % (k + 1), "op": "relu", "output_type": "ufixed<17,5,RND,SAT>"})
    return {"format": "rtlgen-model", "version": 1, "name": "muon_baseline",
            "input": {"name": "muon", "size": 5, "type": "fixed<18,6>"}, "layers": layers}


def bnn():
    """examples/keras_bnn (binary dense layers, batchnorm + sign): rtlgen only."""
    m = json.load(open(ROOT / "examples/keras_bnn/model.json"))
    m["name"] = "keras_bnn"
    return m


def atlas_student():
    """examples/atlas_rpc_student with round-half-up ReLUs (quantized_relu rounds half to even)."""
    m = json.load(open(ROOT / "examples/atlas_rpc_student/model.json"))
    for l in m["layers"]:
        if "output_type" in l:
            l["output_type"] = l["output_type"].replace("RND_CONV", "RND")
    m["name"] = "atlas_student"
    return m


def main():
    qdir, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for m in (jet(qdir), muon(), jet_hls(qdir), muon_baseline(), bnn(), atlas_student()):
        (out / (m["name"] + ".json")).write_text(json.dumps(m) + "\n")
        print(out / (m["name"] + ".json"))


if __name__ == "__main__":
    main()
