#!/usr/bin/env python3
"""Writes small QKeras networks with power-of-two weights and activations (seeded): the fixtures of
the Keras importer's quantized_po2 and quantized_relu_po2 paths (unit tests, fuzzing, parity).

    DIR/qkeras_po2.json          model.to_json()          (hls4ml parity: Tests/hls4ml/importers.py)
    DIR/qkeras_po2_weights.h5    model.save_weights()
    DIR/qkeras_relu_po2.json     6-12-6-3 with quantized_relu_po2 activations (QKeras parity:
    DIR/qkeras_relu_po2_weights.h5  Tests/hls4ml/relu_po2.py; hls4ml 1.3 cannot convert it)

qkeras_relu_po2: QDense(12, quantized_bits(6,2) kernel and bias) -> QActivation(
quantized_relu_po2(4)) -> QDense(6, quantized_po2(4) kernel, quantized_bits(8,3) bias) ->
QActivation(quantized_relu_po2(3, max_value=1, log2_rounding='floor')) -> QDense(3,
quantized_bits(8,3) kernel, no bias).

Layers: QDense(16, quantized_po2(4) kernel, quantized_bits(8,3) bias) -> QActivation(
quantized_relu(6,2)) -> QDense(8, quantized_po2(4) kernel, no bias) -> QActivation(
quantized_relu(8,3)) -> QDense(4, quantized_po2(5, max_value=2) kernel, quantized_bits(6,2) bias).
The kernels are drawn to cover every exponent of each quantizer: a few tiny and exact-zero
weights (QKeras gives them the smallest exponent), exact powers of two, and weights clipped at
the largest exponent. (A weight within float32 rounding of a boundary 2^(k+1/2) is refused by
the importer: TensorFlow's vectorized and scalar logs round 2^-0.5 differently.) Needs TensorFlow 2.15 + QKeras
(scripts/hls4ml-tf-venv.sh); rtlgen itself needs no Python.

    python scripts/make_qkeras_po2.py DIR
"""
import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import QActivation, QDense, quantized_bits, quantized_po2, quantized_relu, quantized_relu_po2  # noqa: E402


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else '.'
    os.makedirs(out, exist_ok=True)
    tf.random.set_seed(7)
    rng = np.random.default_rng(7)
    inp = tf.keras.Input(shape=(8,), name='x')
    h = QDense(16, kernel_quantizer=quantized_po2(4), bias_quantizer=quantized_bits(8, 3, alpha=1), name='fc1')(inp)
    h = QActivation(quantized_relu(6, 2), name='relu1')(h)
    h = QDense(8, kernel_quantizer=quantized_po2(4), use_bias=False, name='fc2')(h)
    h = QActivation(quantized_relu(8, 3), name='relu2')(h)
    y = QDense(4, kernel_quantizer=quantized_po2(5, max_value=2), bias_quantizer=quantized_bits(6, 2, alpha=1), name='fc3')(h)
    model = tf.keras.Model(inp, y, name='qkeras_po2')
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        k = ws[0]
        # log-uniform magnitudes over 2^-7 .. 2^4, random signs; some zeros and tiny ones.
        mag = 2.0 ** rng.uniform(-7, 4, k.shape)
        w = mag * rng.choice([-1, 1], k.shape)
        flat = w.reshape(-1)
        flat[rng.choice(flat.size, 3, replace=False)] = 0.0
        flat[rng.choice(flat.size, 2, replace=False)] = 1e-9
        # exact powers of two, and weights far beyond the largest exponent (clipped).
        flat[rng.choice(flat.size, 4, replace=False)] = 2.0 ** rng.integers(-3, 2, 4) * rng.choice([-1, 1], 4)
        flat[rng.choice(flat.size, 2, replace=False)] = rng.uniform(20, 40, 2) * rng.choice([-1, 1], 2)
        ws = [w] + [rng.uniform(-2, 2, b.shape) for b in ws[1:]]
        layer.set_weights([np.asarray(a, dtype=np.float32) for a in ws])
    with open(os.path.join(out, 'qkeras_po2.json'), 'w') as f:
        f.write(model.to_json())
    model.save_weights(os.path.join(out, 'qkeras_po2_weights.h5'))
    print('wrote %s/qkeras_po2.json and qkeras_po2_weights.h5' % out)

    inp = tf.keras.Input(shape=(6,), name='x')
    h = QDense(12, kernel_quantizer=quantized_bits(6, 2, alpha=1), bias_quantizer=quantized_bits(6, 2, alpha=1), name='fc1')(inp)
    h = QActivation(quantized_relu_po2(4), name='po2act1')(h)
    h = QDense(6, kernel_quantizer=quantized_po2(4), bias_quantizer=quantized_bits(8, 3, alpha=1), name='fc2')(h)
    h = QActivation(quantized_relu_po2(3, max_value=1, log2_rounding='floor'), name='po2act2')(h)
    y = QDense(3, kernel_quantizer=quantized_bits(8, 3, alpha=1), use_bias=False, name='fc3')(h)
    model = tf.keras.Model(inp, y, name='qkeras_relu_po2')
    for layer in model.layers:
        ws = layer.get_weights()
        if ws:
            layer.set_weights([rng.uniform(-2, 2, a.shape).astype(np.float32) for a in ws])
    with open(os.path.join(out, 'qkeras_relu_po2.json'), 'w') as f:
        f.write(model.to_json())
    model.save_weights(os.path.join(out, 'qkeras_relu_po2_weights.h5'))
    print('wrote %s/qkeras_relu_po2.json and qkeras_relu_po2_weights.h5' % out)


if __name__ == '__main__':
    main()
