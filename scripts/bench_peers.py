#!/usr/bin/env python3
"""Generate the same quantized dense/ReLU/conv model with da4ml 0.6 or alkaid 0.8.2 (make bench).

Development tooling only (rtlgen never needs Python). Reads an rtlgen native model JSON whose
weights are already on their types' grids (scripts/bench_models.py writes such files), traces it
with the peer's Python API (input quantized to the input type, exact dense sums, each dense and
ReLU output quantized to the layer's output type with the same rounding and overflow), and
writes the peer's pipelined Verilog. A conv2d layer is traced as what it computes with every
output position in parallel: one constant matrix over the flat (channels-last) image, zeros
outside each window, so the peer's CMVM sees the whole unrolled layer as rtlgen's does (neither
peer converts a QKeras Conv2D model itself: da4ml 0.6 has no Keras front end, alkaid 0.8.2's takes
Keras 3 layers only); flatten is the identity on the flat data. Prints JSON: top module, Verilog files, cycles (the peer's
register ranks from inputs to outputs) and generation time.

    python bench_peers.py da4ml|alkaid MODEL.json OUTDIR --latency-cutoff X
"""

import argparse
import json
import re
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

TYPE_RE = re.compile(r"^(u?)fixed<(-?\d+),(-?\d+)(?:,([A-Z_]+))?(?:,([A-Z_]+))?>$")


def parse_type(t):
    m = TYPE_RE.match(t.replace(" ", ""))
    if not m:
        raise SystemExit("bench_peers: unsupported type %r" % t)
    unsigned, w, i, rnd, ovf = m.groups()
    w, i = int(w), int(i)
    rnd = rnd or "TRN"
    ovf = ovf or "WRAP"
    if rnd not in ("TRN", "RND") or ovf not in ("WRAP", "SAT", "SAT_SYM"):
        raise SystemExit("bench_peers: %s: the peers support TRN/RND and WRAP/SAT/SAT_SYM only" % t)
    k = 0 if unsigned else 1
    # peers' (k, i, f): sign bit, integer bits without the sign, fractional bits
    return dict(k=k, i=i - k, f=w - i, round=rnd, overflow=ovf)


def q(x, t):
    return x.quantize(t["k"], t["i"], t["f"], overflow_mode=t["overflow"], round_mode=t["round"])


def exact(v, t, where):
    """A weight that must already be on t's grid (exact binary fraction)."""
    fr = Fraction(str(v))
    scaled = fr * (2 ** t["f"])
    if scaled.denominator != 1:
        raise SystemExit("bench_peers: %s = %s is not on the grid of its type" % (where, v))
    return float(fr)


def unrolled_conv2d(kernel, shape, strides, padding):
    """The (H*W*Cin) x (OH*OW*Cout) matrix of a 2D convolution on a flat channels-last image
    (Keras rules for `valid` and `same`), and the output shape."""
    h, w, cin = shape
    kh, kw, _, cout = kernel.shape
    sh, sw = strides
    if padding == "valid":
        oh, ow, ph, pw = (h - kh) // sh + 1, (w - kw) // sw + 1, 0, 0
    elif padding == "same":
        oh, ow = -(-h // sh), -(-w // sw)
        ph = max((oh - 1) * sh + kh - h, 0) // 2
        pw = max((ow - 1) * sw + kw - w, 0) // 2
    else:
        raise SystemExit("bench_peers: conv2d padding %r not modelled" % padding)
    mat = np.zeros((h * w * cin, oh * ow * cout))
    for oy in range(oh):
        for ox in range(ow):
            for dy in range(kh):
                for dx in range(kw):
                    iy, ix = oy * sh + dy - ph, ox * sw + dx - pw
                    if not (0 <= iy < h and 0 <= ix < w):
                        continue
                    for c in range(cin):
                        col = (oy * ow + ox) * cout
                        mat[(iy * w + ix) * cin + c, col:col + cout] = kernel[dy, dx, c, :]
    return mat, [oh, ow, cout]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool", choices=["da4ml", "alkaid"])
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--latency-cutoff", type=float, required=True)
    a = ap.parse_args()
    m = json.load(open(a.model))
    t0 = time.time()
    if a.tool == "da4ml":
        from da4ml.trace import FixedVariableArrayInput as Inp, comb_trace as trace
        from da4ml.codegen import VerilogModel
    else:
        from alkaid.trace import FVArrayInput as Inp, trace
        from alkaid.codegen import RTLModel
    shape = m["input"].get("shape") or [m["input"]["size"]]
    n = int(np.prod(shape))
    it = parse_type(m["input"]["type"])
    inp = Inp((n,))
    x = q(inp, it)
    cur_t = it
    for layer in m["layers"]:
        op = layer["op"]
        if op == "dense":
            kt = parse_type(layer["kernel_type"])
            bt = parse_type(layer["bias_type"])
            if layer.get("accum_type", "auto") != "auto":
                raise SystemExit("bench_peers: only accum_type auto (exact sums) is modelled")
            w = np.array([[exact(v, kt, layer["name"] + ".kernel") for v in row] for row in layer["kernel"]])
            b = np.array([exact(v, bt, layer["name"] + ".bias") for v in layer["bias"]])
            y = x @ w + b
            cur_t = parse_type(layer["output_type"])
            x = q(y, cur_t)
        elif op == "conv2d":
            kt = parse_type(layer["kernel_type"])
            bt = parse_type(layer["bias_type"])
            if layer.get("accum_type", "auto") != "auto":
                raise SystemExit("bench_peers: only accum_type auto (exact sums) is modelled")
            k = np.array(layer["kernel"], dtype=object)
            kh, kw, cin, cout = k.shape
            kernel = np.array([exact(v, kt, layer["name"] + ".kernel") for v in k.ravel()]).reshape(k.shape)
            b = np.array([exact(v, bt, layer["name"] + ".bias") for v in layer["bias"]])
            mat, shape = unrolled_conv2d(kernel, shape, layer.get("strides", [1, 1]), layer.get("padding", "valid"))
            y = x @ mat + np.tile(b, mat.shape[1] // cout)
            cur_t = parse_type(layer["output_type"])
            x = q(y, cur_t)
        elif op == "flatten":
            shape = [int(np.prod(shape))]
        elif op == "relu":
            ot = parse_type(layer.get("output_type", m["input"]["type"]))
            x = q(x.relu(), ot)
            cur_t = ot
        else:
            raise SystemExit("bench_peers: layer op %r not modelled (dense and relu only)" % op)
    out = Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    comb = trace(inp, x)
    name = "peer_" + m["name"]
    if a.tool == "da4ml":
        rtl = VerilogModel(comb, name, out, latency_cutoff=a.latency_cutoff, print_latency=False)
    else:
        rtl = RTLModel(comb, out, prj_name=name, flavor="verilog", latency_cutoff=a.latency_cutoff, print_latency=False)
    rtl.write()
    gen = time.time() - t0
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*.v"))
    files = [f for f in files if "/sim" not in f and "tb" not in Path(f).name]
    # The table module reads a .mem file named by a parameter; without tables it is unused and
    # cannot even be read (its default file name does not exist).
    if not list(out.rglob("*.mem")):
        files = [f for f in files if Path(f).name != "lookup_table.v"]
    # Register ranks: the pipeline's stage count + 1 (registered inputs and outputs), as each tool reports it.
    if a.tool == "da4ml":
        stages = len(rtl._pipe.solutions) if rtl._pipe is not None else 0
    else:
        stages = len(rtl.fsm.stages) if hasattr(rtl.fsm, "stages") else len(getattr(rtl.fsm, "solutions", []))
    print(json.dumps({"tool": a.tool, "top": name, "files": files, "stages": stages, "generation_s": round(gen, 2)}))


if __name__ == "__main__":
    main()
