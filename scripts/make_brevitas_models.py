#!/usr/bin/env python3
"""Writes the Brevitas QONNX test models of Tests/onnx/brevitas/ (make brevitas-models).

Each model is trained briefly (seeded, CPU) on a synthetic classification task so that its batch
norm statistics and its learned activation scales are realistic, exported with
brevitas.export.export_qonnx, and re-saved as one .onnx file (no external .data). Beside each
model, NAME.npz records inputs and Brevitas' own forward pass on them (float32, eval mode), and
Brevitas' integer weight codes (int_weight()), which the parity test checks against the exact
codes it computes from the exported float weights and scales.

Models (QuantIdentity input, QuantLinear, BatchNorm1d, QuantReLU):
  brevitas_student_float  5-8-8-8-8-3, Brevitas' default float quantizers (Int8WeightPerTensorFloat,
                          Int8ActPerTensorFloat in, Uint8ActPerTensorFloat relu), BatchNorm1d with
                          some negative gammas, a ShiftedUint8ActPerTensorFloat output (zero point)
  brevitas_tagger_float   16-64-32-32-5, per-channel weight scales (Int8WeightPerChannelFloat), a
                          ShiftedUint8ActPerTensorFloat input (zero point), 6-bit relus, BatchNorm1d,
                          Int8ActPerTensorFloat output
  brevitas_student_fixed  5-8-8-8-8-3, fixed-point quantizers (power-of-two scales), BatchNorm1d,
                          an unquantized (float) output
  brevitas_tiny           4-6-3, per-channel weights, a zero point at the input, a negative gamma,
                          4-bit relu and output: the seed of the importer fuzz (make fuzz)
  brevitas_tagger_fixed   16-64-32-32-5, fixed-point quantizers, no batchnorm, float output

Run in the venv of scripts/brevitas-venv.sh (torch + brevitas; not needed by make test).
"""
import argparse
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn

import brevitas
import brevitas.nn as qnn
from brevitas.export import export_qonnx
from brevitas.quant import (Int8ActPerTensorFixedPoint, Int8ActPerTensorFloat, Int8WeightPerChannelFloat,
                            Int8WeightPerTensorFixedPoint, Int8WeightPerTensorFloat, ShiftedUint8ActPerTensorFloat,
                            Uint8ActPerTensorFixedPoint, Uint8ActPerTensorFloat)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
OUT = os.path.join(ROOT, 'Tests', 'onnx', 'brevitas')


class Net(nn.Module):
    def __init__(self, sizes, weight_quant, in_quant, relu_quant, out_quant, batchnorm, relu_bits=None, out_bits=None):
        super().__init__()
        self.inp = qnn.QuantIdentity(act_quant=in_quant, return_quant_tensor=True)
        self.linears = nn.ModuleList()
        self.bns = nn.ModuleList()
        self.relus = nn.ModuleList()
        for a, b in zip(sizes[:-2], sizes[1:-1]):
            self.linears.append(qnn.QuantLinear(a, b, bias=True, weight_quant=weight_quant))
            self.bns.append(nn.BatchNorm1d(b) if batchnorm else nn.Identity())
            kw = {'bit_width': relu_bits} if relu_bits else {}
            self.relus.append(qnn.QuantReLU(act_quant=relu_quant, return_quant_tensor=True, **kw))
        self.last = qnn.QuantLinear(sizes[-2], sizes[-1], bias=True, weight_quant=weight_quant)
        okw = {'bit_width': out_bits} if out_bits else {}
        self.out = qnn.QuantIdentity(act_quant=out_quant, **okw) if out_quant is not None else None

    def forward(self, x):
        x = self.inp(x)
        for lin, bn, relu in zip(self.linears, self.bns, self.relus):
            x = relu(bn(lin(x)))
        x = self.last(x)
        return self.out(x) if self.out is not None else x


MODELS = {
    'brevitas_student_float': dict(sizes=[5, 8, 8, 8, 8, 3], weight_quant=Int8WeightPerTensorFloat, in_quant=Int8ActPerTensorFloat,
                                   relu_quant=Uint8ActPerTensorFloat, out_quant=ShiftedUint8ActPerTensorFloat, batchnorm=True,
                                   negative_gammas=True),
    'brevitas_tagger_float': dict(sizes=[16, 64, 32, 32, 5], weight_quant=Int8WeightPerChannelFloat, in_quant=ShiftedUint8ActPerTensorFloat,
                                  relu_quant=Uint8ActPerTensorFloat, out_quant=Int8ActPerTensorFloat, batchnorm=True, relu_bits=6),
    'brevitas_student_fixed': dict(sizes=[5, 8, 8, 8, 8, 3], weight_quant=Int8WeightPerTensorFixedPoint, in_quant=Int8ActPerTensorFixedPoint,
                                   relu_quant=Uint8ActPerTensorFixedPoint, out_quant=None, batchnorm=True),
    'brevitas_tagger_fixed': dict(sizes=[16, 64, 32, 32, 5], weight_quant=Int8WeightPerTensorFixedPoint, in_quant=Int8ActPerTensorFixedPoint,
                                  relu_quant=Uint8ActPerTensorFixedPoint, out_quant=None, batchnorm=False),
    'brevitas_tiny': dict(sizes=[4, 6, 3], weight_quant=Int8WeightPerChannelFloat, in_quant=ShiftedUint8ActPerTensorFloat,
                          relu_quant=Uint8ActPerTensorFloat, out_quant=Int8ActPerTensorFloat, batchnorm=True, relu_bits=4,
                          out_bits=4, negative_gammas=True),
}


def task(rng, n, n_in, n_out):
    """Synthetic data: features ~ N(0, 1) (a few shifted), labels by a random nonlinear rule."""
    x = rng.normal(0, 1, (n, n_in)).astype(np.float32)
    x[:, ::3] += 0.7
    w = rng.normal(0, 1, (n_in, n_out)).astype(np.float32)
    y = np.argmax(np.tanh(x @ w) + 0.3 * (x[:, :1] ** 2), axis=1)
    return x, y


def build(name, spec, seed, steps):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    sizes = spec['sizes']
    net = Net(sizes, spec['weight_quant'], spec['in_quant'], spec['relu_quant'], spec['out_quant'], spec['batchnorm'],
              spec.get('relu_bits'), spec.get('out_bits'))
    x, y = task(rng, 4096, sizes[0], sizes[-1])
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    net.train()
    for step in range(steps):
        idx = torch.from_numpy(rng.integers(0, len(x), 256))
        opt.zero_grad()
        out = net(xt[idx])
        loss = nn.functional.cross_entropy(out.value if hasattr(out, 'value') else out, yt[idx])
        loss.backward()
        opt.step()
    if spec.get('negative_gammas'):
        # Some falling channels (negative batchnorm scales), as a trained model can have them.
        with torch.no_grad():
            for bn in net.bns:
                bn.weight[::3] *= -1
        # Recalibrate the running statistics and the relu scales a little after the change.
        for step in range(40):
            idx = torch.from_numpy(rng.integers(0, len(x), 256))
            net(xt[idx])
    net.eval()
    acc = (net(xt).argmax(1) == yt).float().mean().item()
    return net, acc


def export(net, name, n_in):
    path = os.path.join(OUT, name + '.onnx')
    tmp = os.path.join(OUT, name + '.export.onnx')
    export_qonnx(net, torch.randn(1, n_in), export_path=tmp)
    m = onnx.load(tmp)   # loads the external data, if any
    onnx.save(m, path, save_as_external_data=False)
    for f in (tmp, tmp + '.data'):
        if os.path.exists(f):
            os.remove(f)
    for f in os.listdir(OUT):
        if f.endswith('.data'):
            os.remove(os.path.join(OUT, f))
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seed', type=int, default=20)
    p.add_argument('--steps', type=int, default=300)
    p.add_argument('--rows', type=int, default=2000, help='recorded Brevitas forward passes per model')
    args = p.parse_args()
    os.makedirs(OUT, exist_ok=True)
    print('torch %s, brevitas %s, onnx %s' % (torch.__version__, brevitas.__version__, onnx.__version__))
    for k, (name, spec) in enumerate(MODELS.items()):
        net, acc = build(name, spec, args.seed + k, args.steps)
        path = export(net, name, spec['sizes'][0])
        rng = np.random.default_rng(1000 + k)
        x = rng.normal(0, 1.5, (args.rows, spec['sizes'][0])).astype(np.float32)
        with torch.no_grad():
            y = net(torch.from_numpy(x))
            y = (y.value if hasattr(y, 'value') else y).numpy().astype(np.float32)
            int_w = {('w%d' % i): lin.quant_weight().int().numpy().astype(np.int32)
                     for i, lin in enumerate(list(net.linears) + [net.last])}
        np.savez_compressed(os.path.join(OUT, name + '.npz'), x=x, y=y, **int_w)
        print('%-24s train accuracy %.3f, %s (%d bytes)' % (name, acc, os.path.relpath(path, ROOT), os.path.getsize(path)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
