#!/usr/bin/env python3
"""Make examples/atlas_rpc_student: the shape of the ATLAS Level-0 RPC muon trigger CNN student,
trained a little on toy data with QKeras (4-bit weights), as Keras files, an hls4ml configuration
and rtlgen's native model.

Network (input 9 x 16 x 1, a 0/1 hit map: 9 RPC layers x 16 strips, channels last):
  4 x QConv2D 3x3 `valid` + quantized_relu (1, 1, 6, 6 filters: 7x14x1, 5x12x1, 3x10x6, 1x8x6),
  Flatten (48), QDense 10 + quantized_relu, QDense 10 + quantized_relu, QDense 2 (pT, eta).
  Kernels quantized_bits(4, 0, alpha=1) = fixed<4,1>, biases quantized_bits(4, 1, alpha=1) =
  fixed<4,2>, activations quantized_relu(8, 4) = ufixed<8,4,RND_CONV,SAT>.

Toy data (**illustrative, not ATLAS data**): each sample is a straight track through the 9 layers
(strip = x0 + s * (layer - 4), a hit with probability 0.95 per layer) plus random noise hits
(probability 0.03 per strip). Targets: "pT" = 2 s (the signed bending slope, a q/pT proxy) and
"eta" = (x0 - 7.5) / 4 (the track's position). Trained for a few epochs (seconds on a CPU).

Writes into OUT (default examples/atlas_rpc_student):
  atlas_rpc_student.json          model.to_json()     (hls4ml's KerasJson)
  atlas_rpc_student_weights.h5    model.save_weights() (hls4ml's KerasH5)
  atlas_rpc_student_config.yml    an hls4ml configuration (explicit, exact precisions)
  model.json                      rtlgen's native model, from the quantized weights

    PY=$(scripts/hls4ml-tf-venv.sh); $PY scripts/make_atlas_student.py [OUT] [--seed 18]

Seeded (numpy, TensorFlow, op determinism): the same files on the same TensorFlow build.
"""
import argparse
import json
import os
import sys

import numpy as np

ROWS, STRIPS = 9, 16
FILTERS = [1, 1, 6, 6]
DENSE = [10, 10, 2]
KERNEL_Q = "quantized_bits(4, 0, alpha=1)"   # fixed<4,1>: -1 .. 0.875 in steps of 1/8
BIAS_Q = "quantized_bits(4, 1, alpha=1)"     # fixed<4,2>: -2 .. 1.75 in steps of 1/4
ACT_Q = "quantized_relu(8, 4)"               # ufixed<8,4,RND_CONV,SAT>
KERNEL_T, KERNEL_F, KERNEL_W = "fixed<4,1>", 3, 4
BIAS_T, BIAS_F, BIAS_W = "fixed<4,2>", 2, 4
ACT_T = "ufixed<8,4,RND_CONV,SAT>"
INPUT_T = "ufixed<1,1>"
# Conv and dense results: every sum exactly (7 fractional bits = 4 of the activations + 3 of the
# kernels; |sum| <= 54 * 15.9375 + 2 < 1024), so the only rounding is in the ReLUs.
RESULT_T = "fixed<18,11>"

CONFIG_HEAD = """\
# hls4ml configuration of the ATLAS RPC student (scripts/make_atlas_student.py), read by hls4ml 1.3
# and by rtlgen. Conv and dense results and accumulators are fixed<18,11>: every sum exact (as the
# native model.json's accum "auto"), so the ReLUs (quantized_relu(8, 4)) are the only rounding.
# ParallelizationFactor = the output positions of each conv layer: all computed at once (II = 1).
# The Model precision is the results' too: hls4ml puts a "<layer>_linear" activation after every
# QConv2D / QDense in the Model precision (kept only when it differs from the layer's result), so
# anything else would add a cast there that model.json does not have.
KerasJson: atlas_rpc_student.json
KerasH5: atlas_rpc_student_weights.h5
OutputDir: atlas-rpc-student-hls4ml
ProjectName: atlas_rpc_student
Part: xcvu13p-flga2577-2-e
ClockPeriod: 4
IOType: io_parallel
HLSConfig:
  Model:
    Precision: ap_fixed<18,11>
    ReuseFactor: 1
    Strategy: Latency
  LayerName:
    hits:
      Precision:
        result: ap_ufixed<1,1>
"""


def toy_data(rng, n):
    x = (rng.random((n, ROWS, STRIPS)) < 0.03).astype(np.float32)
    slope = rng.uniform(-1.0, 1.0, n)
    x0 = rng.uniform(2.0, 13.0, n)
    for r in range(ROWS):
        strip = np.rint(x0 + slope * (r - 4)).astype(int)
        ok = (strip >= 0) & (strip < STRIPS) & (rng.random(n) < 0.95)
        x[np.nonzero(ok)[0], r, strip[ok]] = 1.0
    y = np.stack([2.0 * slope, (x0 - 7.5) / 4.0], axis=1).astype(np.float32)
    return x[..., None], y


def build():
    from tensorflow import keras
    from qkeras import QActivation, QConv2D, QDense
    inp = keras.layers.Input((ROWS, STRIPS, 1), name="hits")
    h = inp
    for k, f in enumerate(FILTERS, 1):
        h = QConv2D(f, (3, 3), padding="valid", kernel_quantizer=KERNEL_Q, bias_quantizer=BIAS_Q,
                    name="conv%d" % k)(h)
        h = QActivation(ACT_Q, name="relu%d" % k)(h)
    h = keras.layers.Flatten(name="flatten")(h)
    for k, u in enumerate(DENSE, 1):
        h = QDense(u, kernel_quantizer=KERNEL_Q, bias_quantizer=BIAS_Q, name="fc%d" % k)(h)
        if k < len(DENSE):
            h = QActivation(ACT_Q, name="relu%d" % (len(FILTERS) + k))(h)
    return keras.Model(inp, h, name="atlas_rpc_student")


def on_grid(a, frac, width, where):
    codes = np.asarray(a, dtype=np.float64) * 2.0 ** frac
    if not np.all(codes == np.rint(codes)) or codes.min() < -(2 ** (width - 1)) or codes.max() > 2 ** (width - 1) - 1:
        sys.exit("make_atlas_student: %s is not on the grid of its quantizer" % where)
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def nested(flat, shape):
    a = np.asarray(flat, dtype=np.float64).reshape(shape)
    return a.tolist()


def native(model):
    """rtlgen's native model from the quantized weights (each quantizer applied to the float weights)."""
    layers = []
    for layer in model.layers:
        cls = type(layer).__name__
        if cls in ("QConv2D", "QDense"):
            k, b = layer.get_weights()
            kq = layer.kernel_quantizer_internal(k).numpy()
            bq = layer.bias_quantizer_internal(b).numpy()
            kernel = nested(on_grid(kq, KERNEL_F, KERNEL_W, layer.name + ".kernel"), kq.shape)
            bias = on_grid(bq, BIAS_F, BIAS_W, layer.name + ".bias")
            entry = {"name": layer.name}
            if cls == "QConv2D":
                entry.update({"op": "conv2d", "filters": int(kq.shape[-1]), "kernel_size": [3, 3],
                              "strides": [1, 1], "padding": "valid"})
            else:
                entry.update({"op": "dense", "units": int(kq.shape[-1])})
            entry.update({"kernel": kernel, "bias": bias, "kernel_type": KERNEL_T, "bias_type": BIAS_T,
                          "accum_type": "auto", "output_type": RESULT_T})
            layers.append(entry)
        elif cls == "QActivation":
            layers.append({"name": layer.name, "op": "relu", "output_type": ACT_T})
        elif cls == "Flatten":
            layers.append({"name": layer.name, "op": "flatten"})
    return {"format": "rtlgen-model", "version": 1, "name": "atlas_rpc_student",
            "input": {"name": "hits", "shape": [ROWS, STRIPS, 1], "type": INPUT_T}, "layers": layers}


def config_text(model):
    out = [CONFIG_HEAD]
    for layer in model.layers:
        cls = type(layer).__name__
        if cls in ("QConv2D", "QDense"):
            out.append("    %s:\n      Precision:\n        weight: ap_fixed<4,1>\n        bias: ap_fixed<4,2>\n"
                       "        accum: ap_fixed<18,11>\n        result: ap_fixed<18,11>\n" % layer.name)
            if cls == "QConv2D":
                _, oh, ow, _ = layer.output_shape
                out.append("      ParallelizationFactor: %d\n" % (oh * ow))
        elif cls == "QActivation":
            out.append("    %s:\n      Precision:\n        result: ap_ufixed<8,4,AP_RND_CONV,AP_SAT>\n" % layer.name)
    return "".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("out", nargs="?", default=os.path.join(here, "..", "examples", "atlas_rpc_student"))
    p.add_argument("--seed", type=int, default=18)
    p.add_argument("--samples", type=int, default=20000)
    p.add_argument("--epochs", type=int, default=6)
    a = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    tf.keras.utils.set_random_seed(a.seed)
    tf.config.experimental.enable_op_determinism()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    rng = np.random.default_rng(a.seed)
    x, y = toy_data(rng, a.samples)
    xv, yv = toy_data(rng, 2000)
    model = build()
    model.compile(optimizer=tf.keras.optimizers.Adam(3e-3), loss="mse")
    model.fit(x, y, batch_size=128, epochs=a.epochs, shuffle=True, verbose=0)
    mse = float(model.evaluate(xv, yv, verbose=0))
    base = float(np.mean((yv - yv.mean(axis=0)) ** 2))
    print("atlas student: %d parameters, validation MSE %.4f (predicting the mean: %.4f)"
          % (model.count_params(), mse, base))
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "atlas_rpc_student.json"), "w") as f:
        f.write(model.to_json())
    model.save_weights(os.path.join(a.out, "atlas_rpc_student_weights.h5"))
    with open(os.path.join(a.out, "atlas_rpc_student_config.yml"), "w") as f:
        f.write(config_text(model))
    m = native(model)
    with open(os.path.join(a.out, "model.json"), "w") as f:
        json.dump(m, f, indent=1)
        f.write("\n")
    print("written to %s" % os.path.abspath(a.out))


if __name__ == "__main__":
    main()
