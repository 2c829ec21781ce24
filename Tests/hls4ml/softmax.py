#!/usr/bin/env python3
"""Bit-exactness of rtlgen's stable softmax with hls4ml's own.

For each case, builds a one-layer hls4ml model (InputLayer -> Softmax, Vivado backend,
io_parallel) with `ModelGraph.from_layer_list`, compiles its C++ with g++ (no Vivado, no
TensorFlow), predicts on N inputs, runs `rtlgen predict` on the equivalent rtlgen model with the
same inputs (as exact decimals), and compares every output exactly. Exit 1 on any difference.

Run with any python3 (it re-runs itself in the venv that scripts/hls4ml-venv.sh sets up; the
only skip, printed as "SKIP: ...", is when PyPI cannot be reached); `make hls4ml-softmax` does:

    python3 Tests/hls4ml/softmax.py --rtlgen .build/release/rtlgen [--count 10000]

Inputs are codes of the input type (on its grid, so no input rounding is involved): uniformly
random over the whole range (the spread often exceeds 2^(I-1), so max - x wraps in hls4ml's
narrower difference type), close clusters (realistic logits), ties and extreme values.
hls4ml's build folders go under .cache/hls4ml-softmax/.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from fractions import Fraction

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hls4ml_venv  # noqa: E402
from fixed_text import exact_decimal  # noqa: E402

hls4ml_venv.enter("hls4ml softmax comparison")
import numpy as np  # noqa: E402  (from the venv)
CACHE = os.path.join(ROOT, ".cache", "hls4ml-softmax")

# hls4ml's model-wide default precision; the softmax sum uses it (model_default_t) unless the
# layer's accum precision is configured, despite the fixed<18,8,RND,SAT> default listed for it.
MODEL_PRECISION = "ap_fixed<16,6>"

# name, n, input type, output type, Precision entries (result, accum), layer type keys
# (exp_table_t, inv_table_t, inv_inp_t; hls4ml's default is fixed<18,8,RND,SAT> for each),
# table_size, and rtlgen fields that differ from the straight translation.
CASES = [
    # The jet tagger's softmax: 5 logits in fixed<16,6>, hls4ml's default types. rtlgen's
    # default (auto, exact) accumulator gives the same numbers: the sum of 5 entries <= 1 never
    # leaves fixed<16,6>.
    dict(name="jet5_default", n=5, input="ap_fixed<16,6>", result="ap_fixed<16,6>",
         prec={}, types={}, table_size=1024, rtlgen={"accum_type": "auto"}),
    # The same with the accumulator hls4ml really uses spelled out in rtlgen.
    dict(name="jet5_explicit_accum", n=5, input="ap_fixed<16,6>", result="ap_fixed<16,6>",
         prec={}, types={}, table_size=1024, rtlgen={}),
    # A narrow input: hls4ml cuts the exp table to 2^(W-1) = 128 entries; other table types,
    # a rounding and saturating unsigned output, 8 inputs.
    dict(name="n8_fixed8_t256", n=8, input="ap_fixed<8,3>", result="ap_ufixed<12,1,AP_RND_CONV,AP_SAT>",
         prec={}, types={"exp_table_t": "ap_fixed<14,2,AP_RND_CONV,AP_SAT>",
                         "inv_table_t": "ap_ufixed<16,6,AP_RND,AP_SAT>"},
         table_size=256, rtlgen={}),
    # An explicit narrow saturating accumulator (the sum of 12 entries saturates near 4), an
    # unsigned input, a small table (its 1/0 entry is read often), another inverse-table input
    # type and a wrapping output.
    dict(name="n12_ufixed12_sat_accum", n=12, input="ap_ufixed<12,4>", result="ap_fixed<10,2>",
         prec={"accum": "ap_fixed<12,3,AP_RND,AP_SAT>"},
         types={"exp_table_t": "ap_fixed<12,2,AP_TRN,AP_SAT>", "inv_inp_t": "ap_fixed<14,5,AP_RND,AP_SAT>"},
         table_size=64, rtlgen={}),
]


def hls_to_rtlgen_type(t):
    return t.replace("ap_", "").replace("AP_", "")


def parse_type(t):
    """(signed, W, I) of an ap_fixed/ap_ufixed spelling."""
    s = t.replace(" ", "")
    signed = not s.startswith("ap_ufixed")
    args = s[s.index("<") + 1:-1].split(",")
    return signed, int(args[0]), int(args[1])


def make_inputs(case, count, seed):
    signed, w, i = parse_type(case["input"])
    n = case["n"]
    lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if signed else (0, (1 << w) - 1)
    rng = np.random.default_rng(seed)
    codes = np.empty((count, n), dtype=np.int64)
    for k in range(count):
        kind = k % 10
        if kind < 4:  # uniform over the whole range
            row = rng.integers(lo, hi + 1, n)
        elif kind < 8:  # a cluster: spread up to 2^(I-1) (a few units), around a random centre
            spread = 1 << max(1, w - 2 - rng.integers(0, 3))
            c = rng.integers(lo, hi + 1)
            row = np.clip(c + rng.integers(-spread, spread + 1, n), lo, hi)
        elif kind == 8:  # ties: few distinct values
            vals = rng.integers(lo, hi + 1, 2)
            row = vals[rng.integers(0, 2, n)]
        else:  # extremes and all-equal rows
            row = rng.choice(np.array([lo, hi, 0, lo + 1, hi - 1]), n) if rng.integers(0, 2) else np.full(n, rng.integers(lo, hi + 1))
        codes[k] = row
    frac = w - i
    return codes, frac


def decimal(code, frac):
    return exact_decimal(Fraction(int(code), 1 << frac) if frac >= 0 else Fraction(int(code) << -frac))


def hls4ml_predict(case, x):
    import hls4ml

    key = hashlib.sha256(json.dumps({k: case[k] for k in ("n", "input", "result", "prec", "types", "table_size")},
                                    sort_keys=True).encode()).hexdigest()[:12]
    out_dir = os.path.join(CACHE, "%s-%s" % (case["name"], key))
    layers = [
        {"name": "x", "class_name": "InputLayer", "input_shape": [case["n"]]},
        {"name": "softmax", "class_name": "Softmax", "activation": "softmax", "inputs": ["x"], "axis": -1},
    ]
    config = hls4ml.utils.config.create_config(output_dir=out_dir, project_name="smx", backend="Vivado")
    prec = {"result": case["result"]}
    prec.update(case["prec"])
    config["IOType"] = "io_parallel"
    config["HLSConfig"] = {
        "Model": {"Precision": MODEL_PRECISION, "ReuseFactor": 1, "Strategy": "Latency"},
        "LayerName": {
            "x": {"Precision": {"result": case["input"]}},
            "softmax": dict({"Precision": prec, "table_size": case["table_size"], "implementation": "stable"},
                            **case["types"]),
        },
    }
    model = hls4ml.model.ModelGraph.from_layer_list(config, layers)
    model.compile()
    y = model.predict(np.ascontiguousarray(x.astype(np.float64)))
    return np.asarray(y, dtype=np.float64).reshape(x.shape[0], -1)


def rtlgen_model(case):
    layer = {"name": "softmax", "op": "softmax", "implementation": "stable",
             "table_size": case["table_size"], "output_type": hls_to_rtlgen_type(case["result"])}
    for k, f in (("exp_table_t", "exp_table_type"), ("inv_table_t", "inv_table_type"), ("inv_inp_t", "inv_inp_type")):
        if k in case["types"]:
            layer[f] = hls_to_rtlgen_type(case["types"][k])
    layer["accum_type"] = hls_to_rtlgen_type(case["prec"].get("accum", MODEL_PRECISION))
    layer.update(case["rtlgen"])
    return {"format": "rtlgen-model", "version": 1, "name": "smx_" + case["name"],
            "input": {"name": "x", "size": case["n"], "type": hls_to_rtlgen_type(case["input"])},
            "layers": [layer]}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rtlgen", default=os.path.join(ROOT, ".build", "release", "rtlgen"))
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--only", default=None, help="run only the case with this name")
    args = p.parse_args()
    os.makedirs(CACHE, exist_ok=True)
    failed = 0
    for ci, case in enumerate(CASES):
        if args.only and case["name"] != args.only:
            continue
        t0 = time.time()
        codes, frac = make_inputs(case, args.count, 1000 + ci)
        x = codes.astype(np.float64) / float(2 ** frac)
        y_hls = hls4ml_predict(case, x)
        model_path = os.path.join(CACHE, case["name"] + ".json")
        csv_path = os.path.join(CACHE, case["name"] + ".csv")
        with open(model_path, "w") as f:
            json.dump(rtlgen_model(case), f, indent=1)
        with open(csv_path, "w") as f:
            for row in codes:
                f.write(",".join(decimal(c, frac) for c in row) + "\n")
        r = subprocess.run([args.rtlgen, "predict", model_path, "--input", csv_path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL %s: rtlgen predict exited %d: %s" % (case["name"], r.returncode, r.stderr.strip()))
            failed += 1
            continue
        rows = [ln for ln in r.stdout.split("\n") if ln]
        y_rt = np.array([[float(Fraction(v)) for v in ln.split(",")] for ln in rows], dtype=np.float64)
        if y_rt.shape != y_hls.shape:
            print("FAIL %s: shapes differ: rtlgen %s, hls4ml %s" % (case["name"], y_rt.shape, y_hls.shape))
            failed += 1
            continue
        diff = np.nonzero(np.any(y_rt != y_hls, axis=1))[0]
        argmax_agree = np.mean(np.argmax(y_rt, axis=1) == np.argmax(y_hls, axis=1))
        if len(diff):
            k = diff[0]
            print("FAIL %s: %d of %d samples differ; first: sample %d input %s\n  rtlgen %s\n  hls4ml %s"
                  % (case["name"], len(diff), len(codes), k, list(x[k]), list(y_rt[k]), list(y_hls[k])))
            failed += 1
        else:
            print("ok   %s: %d samples x %d outputs bit-exact with hls4ml %s (%.0f s)"
                  % (case["name"], len(codes), case["n"], __import__("hls4ml").__version__, time.time() - t0))
    if failed:
        print("hls4ml softmax: %d case(s) FAILED" % failed)
        return 1
    print("hls4ml softmax: all cases bit-exact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
