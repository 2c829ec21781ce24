#!/usr/bin/env python3
"""Writes a small QKeras binary / ternary network (6-8-8-4, seeded weights and batch statistics):
the fixture of the binary paths of the Keras importer (unit tests, fuzzing, hls4ml parity).

    DIR/qkeras_binary.json          model.to_json()
    DIR/qkeras_binary_weights.h5    model.save_weights()

Layers: QDense(8, binary(alpha=1) kernel, quantized_bits(8,3) bias) -> BatchNormalization ->
QActivation(binary) -> QDense(8, binary kernel, no bias) -> QActivation(ternary) -> QDense(8,
ternary(alpha=1, threshold=0.4) kernel) -> BatchNormalization -> QActivation(binary) -> QDense(4, ternary
kernel). Needs TensorFlow 2.15 + QKeras (scripts/hls4ml-tf-venv.sh); rtlgen itself needs no Python.

    python scripts/make_qkeras_binary.py DIR

Also writes DIR/small_bnn.json + small_bnn_weights.h5: BinaryNet-style BinaryDense / TernaryDense
layers as hls4ml's example keras_bnn has them (Keras 2.2.4 JSON and weights layout, written with
h5py: these layers are not part of Keras): BinaryDense(6, bias) -> BatchNormalization ->
Activation(binary_tanh) -> BinaryDense(5) -> BatchNormalization -> Activation(binary_tanh) ->
TernaryDense(3) -> BatchNormalization, 4 inputs.
"""
import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import QActivation, QDense, binary, quantized_bits, ternary  # noqa: E402


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else '.'
    os.makedirs(out, exist_ok=True)
    tf.random.set_seed(5)
    rng = np.random.default_rng(5)
    inp = tf.keras.Input(shape=(6,), name='x')
    h = QDense(8, kernel_quantizer=binary(alpha=1), bias_quantizer=quantized_bits(8, 3, alpha=1), name='fc1')(inp)
    h = tf.keras.layers.BatchNormalization(name='bn1', epsilon=0.001)(h)
    h = QActivation('binary', name='act1')(h)
    h = QDense(8, kernel_quantizer=binary(alpha=1), use_bias=False, name='fc2')(h)
    h = QActivation('ternary', name='act2')(h)
    h = QDense(8, kernel_quantizer=ternary(alpha=1, threshold=0.4), use_bias=False, name='fc3')(h)
    h = tf.keras.layers.BatchNormalization(name='bn3', epsilon=0.001)(h)
    h = QActivation('binary', name='act3')(h)
    y = QDense(4, kernel_quantizer=ternary(alpha=1), use_bias=False, name='fc4')(h)
    model = tf.keras.Model(inp, y, name='qkeras_binary')
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            n = ws[0].shape[0]
            ws = [rng.uniform(0.5, 2.0, n) * rng.choice([1, 1, 1, -1], n), rng.normal(0, 0.5, n),
                  rng.normal(0, 1.0, n), rng.uniform(0.2, 3.0, n)]
        else:
            ws = [rng.uniform(-1, 1, w.shape) for w in ws]
        layer.set_weights([np.asarray(w, dtype=np.float32) for w in ws])
    with open(os.path.join(out, 'qkeras_binary.json'), 'w') as f:
        f.write(model.to_json())
    model.save_weights(os.path.join(out, 'qkeras_binary_weights.h5'))
    print('wrote %s/qkeras_binary.json and qkeras_binary_weights.h5' % out)
    small_bnn(out, rng)


def small_bnn(out, rng):
    import json
    import h5py
    layers, weights = [], {}
    n = 4

    def dense(cls, name, units, bias):
        nonlocal n
        cfg = {'name': name, 'trainable': True, 'units': units, 'activation': 'linear', 'use_bias': bias,
               'H': 1.0, 'kernel_lr_multiplier': 'Glorot', 'bias_lr_multiplier': None}
        if not layers:
            cfg['batch_input_shape'] = [None, n]
            cfg['dtype'] = 'float32'
        layers.append({'class_name': cls, 'config': cfg})
        w = {'kernel:0': rng.uniform(-1, 1, (n, units))}
        if bias:
            w['bias:0'] = rng.uniform(-1, 1, units)
        weights[name] = w
        n = units

    def bn(name):
        layers.append({'class_name': 'BatchNormalization', 'config': {'name': name, 'trainable': True, 'axis': -1, 'momentum': 0.99,
                                                                   'epsilon': 0.0001, 'center': True, 'scale': True}})
        weights[name] = {'gamma:0': rng.uniform(0.5, 2.0, n), 'beta:0': rng.normal(0, 0.5, n),
                         'moving_mean:0': rng.normal(0, 1.0, n), 'moving_variance:0': rng.uniform(0.2, 3.0, n)}

    def act(name):
        layers.append({'class_name': 'Activation', 'config': {'name': name, 'trainable': True, 'activation': 'binary_tanh'}})
        weights[name] = {}

    dense('BinaryDense', 'bd1', 6, True)
    bn('bn1')
    act('a1')
    dense('BinaryDense', 'bd2', 5, False)
    bn('bn2')
    act('a2')
    # hls4ml 1.3 fails (KeyError 'threshold_hi') on a TernaryDense followed by batchnorm + binary_tanh:
    # the TernaryDense comes last.
    dense('TernaryDense', 'td3', 3, False)
    bn('bn3')
    arch = {'class_name': 'Sequential', 'config': {'name': 'small_bnn', 'layers': layers}, 'keras_version': '2.2.4', 'backend': 'tensorflow'}
    with open(os.path.join(out, 'small_bnn.json'), 'w') as f:
        json.dump(arch, f)
    with h5py.File(os.path.join(out, 'small_bnn_weights.h5'), 'w') as f:
        f.attrs['layer_names'] = [l['config']['name'].encode() for l in layers]
        f.attrs['backend'] = b'tensorflow'
        f.attrs['keras_version'] = b'2.2.4'
        for name, ws in weights.items():
            g = f.create_group(name)
            g.attrs['weight_names'] = [('%s/%s' % (name, k)).encode() for k in ws]
            for k, v in ws.items():
                g.create_dataset('%s/%s' % (name, k), data=np.asarray(v, dtype=np.float32))
    print('wrote %s/small_bnn.json and small_bnn_weights.h5' % out)


if __name__ == '__main__':
    main()
