#!/usr/bin/env python3
"""The two quantized models of docs/benchmarks.md, as rtlgen native JSON with every weight already
on its type's grid (so rtlgen, da4ml and alkaid read exactly the same numbers).

- jet_qkeras: the shared QKeras jet tagger 16-64-32-32-5 (keras/qkeras_3layer.*): QDense weights
  and biases quantized_bits(6, 0) -> fixed<6,1> (round half even, clip, as QKeras does), inputs
  and dense results fixed<16,6> (hls4ml's default), quantized_relu(6, 0) -> ufixed<6,0,RND,SAT>.
  The final softmax is left out (the peers reject softmax).
- muon_student: examples/muon_recal (5-8-8-8-8-3, fixed<18,6> data) with fixed<10,3> weights and
  biases, RND instead of RND_CONV (the peers have round-half-up only).

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


def main():
    qdir, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for m in (jet(qdir), muon()):
        (out / (m["name"] + ".json")).write_text(json.dumps(m) + "\n")
        print(out / (m["name"] + ".json"))


if __name__ == "__main__":
    main()
