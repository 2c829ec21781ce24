#!/usr/bin/env python3
"""Generate examples/activations/model.json: a small MLP (8 inputs) that chains every
element-wise activation op of rtlgen (sigmoid and tanh in both table modes, lut, leaky_relu,
relu6, relu_max, hard_sigmoid, hard_tanh, linear, elu, selu), with narrow and wide inputs so
that both ways of addressing a table ROM (directly by a narrow input code, or by an index
computed from a wide input) are exercised. The dense weights are ILLUSTRATIVE seeded random
numbers, scaled so that each activation sees both signs and its saturated ends.

Development tooling only: rtlgen itself never needs Python.

    python3 scripts/make_activations_example.py [--out examples/activations/model.json]
"""

import argparse
import json
import math
import os
import random

SEED = 20260303
N = 8


def dense(rng, name, prev, target, out_type):
    """A dense layer that spreads the previous layer's outputs (range `prev`) over `target`:
    a dominant diagonal weight (gain) plus small random cross terms, and biases that shift each
    unit to a different part of the target range, so every activation that follows sees its
    whole input range (both signs, the saturated ends, the bin boundaries)."""
    g = (target[1] - target[0]) / (prev[1] - prev[0])
    kernel = [[round((g if i == j else 0.0) + rng.uniform(-0.15, 0.15) * g, 3) for j in range(N)] for i in range(N)]
    centre = (target[0] + target[1]) / 2 - g * (prev[0] + prev[1]) / 2
    half = (target[1] - target[0]) / 2
    bias = [round(centre + half * (2 * j / (N - 1) - 1) * 0.6, 3) for j in range(N)]
    return {"name": name, "op": "dense", "units": N, "kernel": kernel, "bias": bias,
            "kernel_type": "fixed<12,5,RND_CONV,SAT>", "bias_type": "fixed<12,6,RND_CONV,SAT>",
            "accum_type": "auto", "output_type": out_type}


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "examples", "activations", "model.json"))
    args = ap.parse_args()
    rng = random.Random(SEED)
    # A user table: x^3 over the 16 bins of the input range [-1, 1), at the bin centres.
    cube = [round(((i + 0.5) / 8 - 1) ** 3, 4) for i in range(16)]
    layers = [
        dense(rng, "fc1", (-8, 8), (-6, 6), "fixed<16,6,RND_CONV,SAT>"),
        # wide input (16 bits): index computed (toward zero), beyond +-4 clamped to constants
        {"name": "tanh_w", "op": "tanh", "output_type": "fixed<10,2,RND_CONV,SAT>"},
        dense(rng, "fc2", (-1, 1), (-9, 9), "fixed<10,4,RND_CONV,SAT>"),
        # 10-bit input, 256-entry table: index computed
        {"name": "sig_w", "op": "sigmoid", "table_size": 256, "output_type": "ufixed<8,0,RND_CONV,SAT>"},
        dense(rng, "fc3", (0, 1), (-4, 4), "fixed<8,3,RND_CONV,SAT>"),
        # narrow input (8 bits): a 256-entry ROM addressed by the input code
        {"name": "tanh_c", "op": "tanh", "table": "centered", "output_type": "fixed<10,1,RND_CONV,SAT>"},
        dense(rng, "fc4", (-1, 1), (-5, 4), "fixed<12,3,RND_CONV,SAT>"),
        # negative side by table (index toward zero), positive side lambda * x
        {"name": "selu_w", "op": "selu", "output_type": "fixed<12,4,RND_CONV,SAT>"},
        {"name": "leaky", "op": "leaky_relu", "alpha": 0.1, "alpha_type": "fixed<8,1>",
         "output_type": "fixed<12,4,RND_CONV,SAT>"},
        dense(rng, "fc5", (-1, 4), (-4, 10), "fixed<12,5,RND_CONV,SAT>"),
        {"name": "relu6", "op": "relu6", "output_type": "ufixed<10,3,RND_CONV,SAT>"},
        dense(rng, "fc6", (0, 6), (-5, 5), "fixed<16,5,RND_CONV,SAT>"),
        {"name": "hsig", "op": "hard_sigmoid", "output_type": "ufixed<8,0,RND_CONV,SAT>"},
        dense(rng, "fc7", (0, 1), (-4, 4), "fixed<7,3,RND_CONV,SAT>"),
        # narrow input (7 bits): the 64 negative codes address the table directly
        {"name": "elu_n", "op": "elu", "output_type": "fixed<10,3,RND_CONV,SAT>"},
        {"name": "htanh", "op": "hard_tanh", "output_type": "fixed<8,1,RND_CONV,SAT>"},
        # the top 4 bits of an 8-bit input address a 16-entry user table (a bit slice)
        {"name": "cube", "op": "lut", "index_bits": 4, "table": cube, "table_type": "fixed<8,1,RND_CONV,SAT>",
         "output_type": "fixed<8,1>"},
        {"name": "clip", "op": "relu_max", "max": 0.75, "output_type": "ufixed<8,1,RND_CONV,SAT>"},
        dense(rng, "fc8", (0, 0.75), (-10, 4), "fixed<14,4,RND_CONV,SAT>"),
        # wide input: negative side by a 1024-entry table (index toward zero, beyond -8 clamped)
        {"name": "elu_w", "op": "elu", "alpha": 0.5, "output_type": "fixed<12,4,RND_CONV,SAT>"},
        dense(rng, "fc9", (-0.5, 4), (-12, 12), "fixed<16,6,RND_CONV,SAT>"),
        {"name": "lin", "op": "linear", "output_type": "fixed<12,4,RND_CONV,SAT>"},
        # 12-bit input: floor index = a bit slice of the code, 1024 entries
        {"name": "sig_c", "op": "sigmoid", "table": "centered", "output_type": "ufixed<12,0,RND_CONV,SAT>"},
    ]
    model = {
        "format": "rtlgen-model", "version": 1, "name": "activations",
        "description": "every element-wise activation op, narrow and wide inputs; illustrative seeded weights",
        "input": {"name": "x", "size": N, "type": "fixed<12,4>"},
        "layers": layers,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write(json.dumps(model, indent=1) + "\n")
    print(f"wrote {args.out}: {len(layers)} layers")


if __name__ == "__main__":
    main()
