#!/usr/bin/env python3
"""Generate the 9x16 CNN "teacher" of the ATLAS RPC trigger study (issue 18): a model too large
to unroll, built with a ParallelizationFactor on its conv layers. ILLUSTRATIVE, seeded random
weights (NOT trained; only shapes and types are realistic).

    input 9x16x1 hit map (0/1)
    Conv2D 10 3x3 same + ReLU, Conv2D 10 3x3 same + ReLU, MaxPooling (1,2)      -> 9x8x10
    Conv2D 17 3x3 same + ReLU (three times), MaxPooling (2,2)                     -> 4x4x17
    Flatten (272), Dense 10 + ReLU, Dense 10 + ReLU, Dense 2

Parameters: 100 + 910 + 1,547 + 2 x 2,618 + 2,730 + 110 + 22 = 10,655.
Weights are drawn on the fixed<8,2> grid (codes / 32), so the JSON holds exact values.
Development tooling only: rtlgen itself never needs Python. `make sim-cnn-teacher` runs it.

    python3 scripts/make_cnn_teacher.py --out .sim/cnn-teacher/model.json
"""

import argparse
import json
import random

SEED = 20261207
KERNEL_TYPE = "fixed<8,2>"      # codes in [-128, 127], LSB 2^-5
ACT_TYPE = "ufixed<8,4,RND_CONV,SAT>"
CONV_OUT = "fixed<16,6,RND_CONV,SAT>"
EXPECTED_PARAMS = 10655


def weight(rng, fan_in):
    # He-like spread on the 2^-5 grid, clipped to the type.
    code = round(rng.gauss(0.0, (2.0 / fan_in) ** 0.5) * 32)
    return max(-128, min(127, code)) / 32


def conv(rng, name, cin, filters):
    k = [[[[weight(rng, 9 * cin) for _ in range(filters)] for _ in range(cin)] for _ in range(3)] for _ in range(3)]
    b = [weight(rng, 9 * cin) / 4 for _ in range(filters)]
    return [{"name": name, "op": "conv2d", "filters": filters, "kernel_size": [3, 3], "strides": [1, 1],
             "padding": "same", "kernel": k, "bias": [round(v * 32) / 32 for v in b],
             "kernel_type": KERNEL_TYPE, "bias_type": KERNEL_TYPE, "accum_type": "auto", "output_type": CONV_OUT},
            {"name": name + "_relu", "op": "relu", "output_type": ACT_TYPE}], 9 * cin * filters + filters


def dense(rng, name, n_in, units, relu=True):
    k = [[weight(rng, n_in) for _ in range(units)] for _ in range(n_in)]
    b = [round(weight(rng, n_in) / 4 * 32) / 32 for _ in range(units)]
    layers = [{"name": name, "op": "dense", "units": units, "kernel": k, "bias": b, "kernel_type": KERNEL_TYPE,
               "bias_type": KERNEL_TYPE, "accum_type": "auto", "output_type": CONV_OUT if relu else "fixed<16,6>"}]
    if relu:
        layers.append({"name": name + "_relu", "op": "relu", "output_type": ACT_TYPE})
    return layers, n_in * units + units


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = random.Random(SEED)
    layers, params = [], 0
    for name, cin, f in [("conv1", 1, 10), ("conv2", 10, 10)]:
        l, p = conv(rng, name, cin, f); layers += l; params += p
    layers.append({"name": "pool1", "op": "max_pool2d", "pool_size": [1, 2], "strides": [1, 2], "output_type": ACT_TYPE})
    for name, cin in [("conv3", 10), ("conv4", 17), ("conv5", 17)]:
        l, p = conv(rng, name, cin, 17); layers += l; params += p
    layers.append({"name": "pool2", "op": "max_pool2d", "pool_size": [2, 2], "strides": [2, 2], "output_type": ACT_TYPE})
    layers.append({"name": "flatten", "op": "flatten"})
    for name, n_in, units, relu in [("fc1", 272, 10, True), ("fc2", 10, 10, True), ("fc3", 10, 2, False)]:
        l, p = dense(rng, name, n_in, units, relu); layers += l; params += p
    assert params == EXPECTED_PARAMS, params
    model = {"format": "rtlgen-model", "version": 1, "name": "cnn_teacher",
             "description": "ATLAS RPC 9x16 CNN teacher shape, illustrative seeded weights (scripts/make_cnn_teacher.py)",
             "input": {"name": "hits", "shape": [9, 16, 1], "type": "ufixed<1,1>"}, "layers": layers}
    with open(args.out, "w") as f:
        json.dump(model, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
