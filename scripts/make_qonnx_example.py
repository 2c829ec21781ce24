#!/usr/bin/env python3
"""Writes examples/qonnx_mlp/qonnx_mlp.onnx: a small QONNX MLP as Brevitas-style exports look
(seeded illustrative weights, not a trained model): 8 inputs quantized to 8 bits (scale 2^-4),
MatMul with 4-bit narrow-range weights (scale 2^-3) + an 8-bit bias, Relu, an unsigned 6-bit
activation Quant (scale 2^-3, FLOOR), Gemm (transB) with 5-bit weights + bias, an 8-bit Quant
(HALF_UP), and a MultiThreshold with 7 thresholds per channel (out_scale 0.5, out_bias -1.75).
Needs only onnx and numpy (the venv of scripts/onnx-venv.sh):

    .cache/venv-onnx/bin/python scripts/make_qonnx_example.py
"""
import os

import numpy as np
from onnx import TensorProto, helper, save

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
QD = 'qonnx.custom_op.general'


def main():
    rng = np.random.default_rng(20261125)
    inits, nodes = [], []

    def c(name, arr):
        inits.append(helper.make_tensor(name, TensorProto.FLOAT, np.shape(arr), np.asarray(arr, dtype=np.float32).ravel().tolist()))
        return name

    def quant(name, x, out, scale, bits, signed=1, narrow=0, mode='ROUND'):
        nodes.append(helper.make_node('Quant', [x, c(name + '_scale', scale), c(name + '_zeropt', 0.0), c(name + '_bitwidth', bits)],
                                      [out], name=name, domain=QD, signed=signed, narrow=narrow, rounding_mode=mode))

    quant('in_quant', 'x', 'xq', 2.0 ** -4, 8)
    quant('fc1_wquant', c('fc1_w', rng.normal(0, 0.5, (8, 12))), 'fc1_wq', 2.0 ** -3, 4, narrow=1)
    quant('fc1_bquant', c('fc1_b', rng.normal(0, 0.3, 12)), 'fc1_bq', 2.0 ** -5, 8)
    nodes.append(helper.make_node('MatMul', ['xq', 'fc1_wq'], ['fc1_mm'], name='fc1'))
    nodes.append(helper.make_node('Add', ['fc1_mm', 'fc1_bq'], ['fc1_out'], name='fc1_bias'))
    nodes.append(helper.make_node('Relu', ['fc1_out'], ['relu1'], name='relu1'))
    quant('act1_quant', 'relu1', 'act1', 2.0 ** -3, 6, signed=0, mode='FLOOR')
    quant('fc2_wquant', c('fc2_w', rng.normal(0, 0.4, (4, 12))), 'fc2_wq', 2.0 ** -3, 5)
    quant('fc2_bquant', c('fc2_b', rng.normal(0, 0.3, 4)), 'fc2_bq', 2.0 ** -4, 8)
    nodes.append(helper.make_node('Gemm', ['act1', 'fc2_wq', 'fc2_bq'], ['fc2_out'], name='fc2', transB=1))
    quant('act2_quant', 'fc2_out', 'act2', 2.0 ** -3, 8, mode='HALF_UP')
    th = np.sort(np.round(rng.normal(0, 1.5, (4, 7)) * 16) / 16, axis=1)
    nodes.append(helper.make_node('MultiThreshold', ['act2', c('mt_thresholds', th)], ['y'], name='out_thresholds', domain=QD,
                                  out_scale=0.5, out_bias=-1.75, out_dtype='INT4'))
    g = helper.make_graph(nodes, 'qonnx_mlp', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 8])],
                          [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 4])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13), helper.make_opsetid(QD, 1)], producer_name='rtlgen scripts/make_qonnx_example.py')
    out = os.path.join(ROOT, 'examples', 'qonnx_mlp', 'qonnx_mlp.onnx')
    save(m, out)
    print('wrote', out)


if __name__ == '__main__':
    main()
