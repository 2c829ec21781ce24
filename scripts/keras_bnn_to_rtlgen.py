#!/usr/bin/env python3
"""Convert hls4ml's example binary network (keras_bnn.json + keras_bnn_weights.h5, Keras 2.2.4,
BinaryNet-style BinaryDense layers) to an rtlgen native model (examples/keras_bnn/model.json).

Used until the Keras importer lands. Needs h5py and numpy (the product itself does not use Python):
    pip install h5py numpy
    scripts/keras_bnn_to_rtlgen.py [KERAS_DIR] [OUT_JSON]

Conversion (see examples/keras_bnn/README.md):
- BinaryDense kernels are real latent weights; they are binarized as the BinaryNet Keras code
  does at inference: w_b = 2 * round_half_even(clip((w + 1) / 2, 0, 1)) - 1 (w = 0 -> -1; H = 1).
- The first layer sees the real-valued input, typed fixed<16,6> (hls4ml's default precision); its
  sum of +-x is exact in fixed<21,11>. Later layers see +-1 (bipolar) values: XNOR + popcount,
  exact in int<8> / int<7>.
- BatchNormalization + binary_tanh pairs are written as batchnorm (gamma, beta, moving mean and
  variance, epsilon) followed by sign; rtlgen folds each pair into exact integer thresholds.
- The last BatchNormalization (the model output) stays a batchnorm with declared scale, bias and
  output types.
- Every float64 parameter is written as its shortest round-trip decimal (Python repr).
"""
import json
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "models", "hls4ml-example-models", "keras")
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "examples", "keras_bnn", "model.json")

INPUT_TYPE = "fixed<16,6>"
# Output types of the binary_dense layers: exact for their input ranges.
DENSE_OUT = ["fixed<21,11>", "int<8>", "int<7>", "int<7>"]
FINAL_BN = {"scale_type": "fixed<18,2,RND_CONV>", "bias_type": "fixed<18,6,RND_CONV>",
            "output_type": "fixed<16,6,RND_CONV,SAT>"}


def num(x):
    return repr(float(x))


def binarize(w):
    return (2 * np.round(np.clip((w + 1) / 2, 0, 1)) - 1).astype(int)


def main():
    with open(os.path.join(SRC, "keras_bnn.json")) as f:
        arch = json.load(f)
    layers = arch["config"]["layers"] if isinstance(arch["config"], dict) else arch["config"]
    h5 = h5py.File(os.path.join(SRC, "keras_bnn_weights.h5"), "r")
    n_in = layers[0]["config"]["batch_input_shape"][1]
    out = []
    dense_k = 0
    for i, l in enumerate(layers):
        cls, cfg, name = l["class_name"], l["config"], l["config"]["name"]
        if cls == "BinaryDense":
            assert not cfg.get("use_bias", False) and cfg.get("H", 1.0) == 1.0
            k = binarize(np.array(h5[name][name]["kernel:0"]))
            out.append({"name": "fc%d" % (dense_k + 1), "op": "binary_dense", "units": int(k.shape[1]),
                        "kernel": k.tolist(), "output_type": DENSE_OUT[dense_k]})
            dense_k += 1
        elif cls == "BatchNormalization":
            g = h5[name][name]
            p = {"gamma": g["gamma:0"], "beta": g["beta:0"], "mean": g["moving_mean:0"], "variance": g["moving_variance:0"]}
            bn = {"name": "bn%d" % dense_k, "op": "batchnorm"}
            for key, v in p.items():
                bn[key] = [num(x) for x in np.array(v)]
            bn["epsilon"] = num(cfg["epsilon"])
            if i == len(layers) - 1:
                bn.update(FINAL_BN)
            out.append(bn)
        elif cls == "Activation":
            assert cfg["activation"] == "binary_tanh", cfg["activation"]
            out.append({"name": "sign%d" % dense_k, "op": "sign"})
        else:
            raise SystemExit("unexpected layer %s" % cls)

    # Hand-written JSON so that numbers keep their decimal text and kernels stay one row per line.
    def val(v):
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, str) and not (v[:1].isdigit() or v[:1] == "-"):
            return json.dumps(v)
        return str(v)

    lines = ['{"format": "rtlgen-model", "version": 1, "name": "keras_bnn",',
             ' "description": "hls4ml example-models keras_bnn (16-64-32-32-5 binary network), converted by scripts/keras_bnn_to_rtlgen.py",',
             ' "input": {"name": "x", "size": %d, "type": "%s"},' % (n_in, INPUT_TYPE),
             ' "layers": [']
    body = []
    for l in out:
        parts = []
        for key, v in l.items():
            if key == "kernel":
                parts.append('"kernel": [\n    ' + ",\n    ".join(val(r) for r in v) + "]")
            else:
                parts.append("%s: %s" % (json.dumps(key), val(v)))
        body.append("  {" + ",\n   ".join(parts) + "}")
    lines.append(",\n".join(body))
    lines.append(" ]}")
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s: %d layers" % (OUT, len(out)))


if __name__ == "__main__":
    main()
