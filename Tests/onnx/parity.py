#!/usr/bin/env python3
"""ONNX / QONNX importer parity: rtlgen predict against the outside references, 10,000 inputs per model.

- plain float ONNX models (the shared three_layer_keras.onnx with onnx-config.yml, and
  two_layer_pytorch.onnx with hls4ml's defaults): hls4ml 1.3's own ONNX front end (after qonnx's
  cleanup, channels-last and GemmToMatMul, as hls4ml's documentation asks) and its C++ emulation
  (compile() + predict(), g++);
- QONNX models (the shared bnn_model_fc_1layer.onnx, and models written here with Quant on
  weights and activations in several rounding modes and ranges, BipolarQuant and MultiThreshold):
  qonnx's reference execution (qonnx.core.onnx_exec.execute_onnx, numpy float32);
- examples/qonnx_mlp/qonnx_mlp.onnx, the BNN and two_layer_pytorch.onnx are also built and
  simulated (`rtlgen sim`, Verilator and GHDL, --sim-count vectors).

Every output must be identical (rtlgen prints exact decimals; the references' float values are
printed exactly). Inputs: random floats (on and off the input grid, half-way points, out of range).
Run in the venv of scripts/onnx-venv.sh (make onnx-parity).
"""
import argparse
import hashlib
import os
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'hls4ml'))
from fixed_text import exact_decimal  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CACHE = os.path.join(ROOT, '.cache', 'onnx-parity')
QDOMAIN = 'qonnx.custom_op.general'
EXAMPLE = os.path.join(ROOT, 'examples', 'qonnx_mlp', 'qonnx_mlp.onnx')


def example_dir():
    for d in (os.environ.get('EXAMPLE_MODELS'), os.path.join(ROOT, '..', 'shared', 'models', 'hls4ml-example-models')):
        if d and os.path.exists(os.path.join(d, 'onnx', 'three_layer_keras.onnx')):
            return os.path.abspath(d)
    sys.exit('onnx parity: the example models (../shared/models/hls4ml-example-models or $EXAMPLE_MODELS) are missing')


def run(cmd, cwd=None):
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if r.returncode != 0:
        sys.exit('%s exited %d: %s' % (' '.join(cmd), r.returncode, r.stderr.strip()))
    return r.stdout


# --- QONNX models written here ---------------------------------------------------------------

def const(name, arr):
    return helper.make_tensor(name, TensorProto.FLOAT, np.shape(arr), np.asarray(arr, dtype=np.float32).ravel().tolist())


class G:
    """A tiny graph builder: a chain of nodes from 'x'."""
    def __init__(self, n_in):
        self.nodes, self.inits, self.cur, self.k, self.n_in = [], [], 'x', 0, n_in

    def c(self, arr):
        self.k += 1
        name = 'c%d' % self.k
        self.inits.append(const(name, arr))
        return name

    def quant_const(self, arr, scale, bits, signed=1, narrow=0, mode='ROUND'):
        self.k += 1
        out = 'qw%d' % self.k
        self.nodes.append(helper.make_node('Quant', [self.c(arr), self.c(scale), self.c(0.0), self.c(bits)], [out], domain=QDOMAIN,
                                           signed=signed, narrow=narrow, rounding_mode=mode))
        return out

    def op(self, op, extra=(), domain='', **attrs):
        self.k += 1
        out = 't%d' % self.k
        self.nodes.append(helper.make_node(op, [self.cur] + list(extra), [out], domain=domain, name='%s_%d' % (op.lower(), self.k), **attrs))
        self.cur = out

    def quant(self, scale, bits, signed=1, narrow=0, mode='ROUND'):
        self.op('Quant', [self.c(scale), self.c(0.0), self.c(bits)], domain=QDOMAIN, signed=signed, narrow=narrow, rounding_mode=mode)

    def trunc(self, scale, out_scale, out_bits, signed=1, narrow=0, mode='FLOOR'):
        self.op('Trunc', [self.c(scale), self.c(0.0), self.c(16.0), self.c(out_scale), self.c(out_bits)], domain=QDOMAIN,
                signed=signed, narrow=narrow, rounding_mode=mode)

    def model(self, n_out, qonnx_opset=1):
        self.nodes[-1].output[0] = 'y'
        g = helper.make_graph(self.nodes, 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['batch', self.n_in])],
                              [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['batch', n_out])], self.inits)
        return helper.make_model(g, opset_imports=[helper.make_opsetid('', 13), helper.make_opsetid(QDOMAIN, qonnx_opset)])


def qonnx_models(rng):
    ms = {}
    # 1. Quant on input, weights, bias and activations; rounding modes, narrow ranges, unsigned.
    g = G(6)
    g.quant(2.0 ** -4, 8, mode='ROUND')
    w = g.quant_const(rng.normal(0, 0.6, (6, 10)), 2.0 ** -2, 4, narrow=1)
    g.op('MatMul', [w])
    g.op('Add', [g.quant_const(rng.normal(0, 0.5, 10), 2.0 ** -6, 8)])
    g.op('Relu')
    g.quant(2.0 ** -3, 6, signed=0, mode='FLOOR')
    w2 = g.quant_const(rng.normal(0, 0.5, (4, 10)), 2.0 ** -3, 5, mode='HALF_UP')
    g.op('Gemm', [w2, g.quant_const(rng.normal(0, 0.5, 4), 2.0 ** -4, 8)], transB=1)
    g.quant(2.0 ** -2, 7, narrow=1, mode='HALF_UP')
    ms['qonnx_quant_mlp'] = (g.model(4), 6, 2.0 ** -4, 8.0)
    # 2. Rounding modes on the input cast and float weights (exact binary values).
    for mode in ('DOWN', 'HALF_DOWN', 'HALF_EVEN'):
        g = G(5)
        g.quant(2.0 ** -3, 7, mode=mode)
        g.op('Gemm', [g.c(np.round(rng.normal(0, 1, (3, 5)) * 64) / 64), g.c(np.round(rng.normal(0, 1, 3) * 16) / 16)], transB=1)
        g.quant(2.0 ** -5, 10, mode=mode)
        ms['qonnx_round_%s' % mode.lower()] = (g.model(3), 5, 2.0 ** -3, 8.0)
    # 3. Bipolar: BipolarQuant input and weights, bias folded into a MultiThreshold.
    g = G(16)
    g.op('BipolarQuant', [g.c(1.0)], domain=QDOMAIN)
    wb = 'wb'
    g.nodes.append(helper.make_node('BipolarQuant', [g.c(rng.normal(0, 1, (16, 8))), g.c(1.0)], [wb], domain=QDOMAIN))
    g.op('MatMul', [wb])
    g.op('Add', [g.c(rng.integers(-3, 4, 8).astype(np.float64))])
    th = np.sort(rng.integers(-12, 13, (8, 3)).astype(np.float64) + 0.5 * rng.integers(0, 2, (8, 3)), axis=1)
    g.op('MultiThreshold', [g.c(th)], domain=QDOMAIN, out_scale=0.5, out_bias=-0.75, out_dtype='INT4')
    ms['qonnx_bipolar_mt'] = (g.model(8), 16, 1.0, 2.0)
    # 4. MultiThreshold on a quantized dense, then BipolarQuant.
    g = G(4)
    g.quant(2.0 ** -2, 6)
    g.op('MatMul', [g.quant_const(rng.normal(0, 1, (4, 6)), 2.0 ** -1, 3)])
    g.op('MultiThreshold', [g.c(np.sort(rng.normal(0, 2, (6, 7)), axis=1))], domain=QDOMAIN, out_scale=1.0, out_bias=-3.0)
    g.op('BipolarQuant', [g.c(1.0)], domain=QDOMAIN)
    ms['qonnx_mt_sign'] = (g.model(6), 4, 2.0 ** -2, 10.0)
    # 5. Trunc (v2, qonnx opset 2): on the sum's own grid, and coarser (a half-even rounding first).
    g = G(6)
    g.quant(2.0 ** -4, 8)
    g.op('MatMul', [g.quant_const(rng.normal(0, 0.6, (6, 5)), 2.0 ** -2, 4)])
    g.trunc(2.0 ** -6, 2.0 ** -3, 7, narrow=1, mode='FLOOR')
    g.op('Relu')
    g.op('MatMul', [g.quant_const(rng.normal(0, 0.6, (5, 4)), 2.0 ** -3, 5)])
    g.trunc(2.0 ** -4, 2.0 ** -2, 6, mode='HALF_UP')
    ms['qonnx_trunc'] = (g.model(4, qonnx_opset=2), 6, 2.0 ** -4, 8.0)
    return ms


def inputs(rng, n, n_in, lsb, span):
    """Random floats: half-way points of the input grid (ties), on-grid points, off-grid, out of range."""
    k = rng.integers(0, 4, (n, 1))
    half = np.round(rng.uniform(-span, span, (n, n_in)) / lsb) * lsb + lsb / 2
    grid = np.round(rng.uniform(-span, span, (n, n_in)) / lsb) * lsb
    off = rng.uniform(-span, span, (n, n_in))
    out = rng.uniform(-3 * span, 3 * span, (n, n_in))
    return np.where(k == 0, half, np.where(k == 1, grid, np.where(k == 2, off, out))).astype(np.float32).astype(np.float64)


def qonnx_reference(model, x):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    m = ModelWrapper(model)
    iname, oname = m.graph.input[0].name, m.graph.output[0].name
    # The declared batch dimension: run one batch of the whole input.
    m.graph.input[0].type.tensor_type.shape.dim[0].dim_value = len(x)
    m.graph.output[0].type.tensor_type.shape.dim[0].dim_value = len(x)
    del m.graph.value_info[:]
    from qonnx.transformation.infer_shapes import InferShapes
    m = m.transform(InferShapes())
    return np.asarray(execute_onnx(m, {iname: x.astype(np.float32)})[oname], dtype=np.float64).reshape(len(x), -1)


def hls4ml_reference(path, config, x, tag):
    import hls4ml
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.transformation.gemm_to_matmul import GemmToMatMul
    from qonnx.util.cleanup import cleanup_model
    key = hashlib.sha256(open(path, 'rb').read() + repr(config).encode() + x.tobytes()).hexdigest()[:16]
    cached = os.path.join(CACHE, 'hls4ml-%s-%s.npy' % (tag, key))
    if os.path.exists(cached):
        return np.load(cached), 'cached'
    m = cleanup_model(ModelWrapper(onnx.load(path)))
    m = cleanup_model(m.transform(ConvertToChannelsLastAndClean()).transform(GemmToMatMul()))
    hm = hls4ml.converters.convert_from_onnx_model(m, hls_config=config, output_dir=os.path.join(CACHE, 'prj-' + tag),
                                                   backend='Vivado', io_type='io_parallel')
    hm.compile()
    y = np.asarray(hm.predict(np.ascontiguousarray(x)), dtype=np.float64).reshape(len(x), -1)
    np.save(cached, y)
    return y, 'compiled with g++'


def compare(label, rtlgen_out, y):
    got = [ln.split(',') for ln in rtlgen_out.split('\n') if ln]
    want = [[exact_decimal(v) for v in r] for r in y]
    eq_s = sum(1 for a, b in zip(got, want) if a == b)
    eq_o = sum(1 for a, b in zip(got, want) for u, v in zip(a, b) if u == v)
    tot = sum(len(r) for r in want)
    ok = eq_s == len(want) and len(got) == len(want)
    print('  %-44s %5d/%d samples, %6d/%d outputs identical%s' % (label, eq_s, len(want), eq_o, tot, '' if ok else '  FAILED'))
    if not ok:
        k = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), 0)
        print('    first difference, sample %d:\n      rtlgen    %s\n      reference %s' % (k, ','.join(got[k]) if k < len(got) else '(none)', ','.join(want[k])))
    return ok


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rtlgen', default=os.path.join(ROOT, '.build', 'release', 'rtlgen'))
    p.add_argument('--count', type=int, default=10000)
    p.add_argument('--sim-count', type=int, default=1000)
    args = p.parse_args()
    rtlgen = os.path.abspath(args.rtlgen)
    os.makedirs(CACHE, exist_ok=True)
    t0 = time.time()
    ex = example_dir()
    rng = np.random.default_rng(2026)
    ok = True
    total = 0

    # Float ONNX through hls4ml's ONNX front end.
    default = {'Model': {'Precision': 'ap_fixed<16,6>', 'ReuseFactor': 1}}
    # Per-layer types by hls4ml's layer names (LayerName precedence over Model).
    per_layer = {'Model': {'Precision': 'ap_fixed<16,6>', 'ReuseFactor': 1},
                 'LayerName': {'Dense_MatMul_0': {'Precision': {'weight': 'ap_fixed<8,2>', 'result': 'ap_fixed<14,5>', 'accum': 'ap_fixed<18,7>'}},
                               'bn_Add_0': {'Precision': {'bias': 'ap_fixed<8,3>', 'result': 'ap_fixed<12,5,AP_RND,AP_SAT>'}},
                               'Relu_0': {'Precision': {'result': 'ap_ufixed<10,4,AP_RND_CONV,AP_SAT>'}},
                               'Dense_MatMul_1': {'Precision': {'weight': 'ap_fixed<6,1>'}}}}
    three = os.path.join(ex, 'onnx', 'three_layer_keras.onnx')
    cfg = os.path.join(CACHE, 'three_layer_per_layer.yml')
    import yaml
    with open(cfg, 'w') as fh:
        yaml.safe_dump({'OnnxModel': three, 'OutputDir': 'unused', 'ProjectName': 'three_layer', 'IOType': 'io_parallel',
                        'HLSConfig': per_layer}, fh)
    for tag, model_arg, path, n_in, config, label in [
        ('three_layer', os.path.join(ex, 'onnx-config.yml'), three, 16, default,
         'three_layer_keras.onnx + onnx-config.yml (hls4ml)'),
        ('three_layer_pl', cfg, three, 16, per_layer,
         'three_layer_keras.onnx + LayerName types (hls4ml)'),
        ('two_layer', os.path.join(ex, 'onnx', 'two_layer_pytorch.onnx'), os.path.join(ex, 'onnx', 'two_layer_pytorch.onnx'), 10, default,
         'two_layer_pytorch.onnx, defaults (hls4ml)'),
    ]:
        x = inputs(rng, args.count, n_in, 2.0 ** -10, 4.0)
        npy = os.path.join(CACHE, tag + '-x.npy')
        np.save(npy, x)
        out = run([rtlgen, 'predict', model_arg, '--input', npy], cwd=ex)
        y, how = hls4ml_reference(path, config, x, tag)
        ok &= compare(label + ', ' + how, out, y)
        total += 1

    # QONNX models against qonnx's execution.
    given = {'bnn_model_fc_1layer': os.path.join(ex, 'onnx', 'bnn_model_fc_1layer.onnx'), 'qonnx_mlp': EXAMPLE}
    models = {'bnn_model_fc_1layer': (onnx.load(given['bnn_model_fc_1layer']), 3, 1.0, 2.0),
              'qonnx_mlp': (onnx.load(EXAMPLE), 8, 2.0 ** -4, 8.0)}
    models.update(qonnx_models(rng))
    for name, (model, n_in, lsb, span) in models.items():
        path = given.get(name) or os.path.join(CACHE, name + '.onnx')
        if name not in given:
            onnx.save(model, path)
        x = inputs(rng, args.count, n_in, lsb, span)
        npy = os.path.join(CACHE, name + '-x.npy')
        np.save(npy, x)
        out = run([rtlgen, 'predict', path, '--input', npy])
        y = qonnx_reference(model, x)
        ok &= compare(name + ' (qonnx execute_onnx)', out, y)
        total += 1
    # ONNX files built and simulated in Verilator and GHDL.
    for label, model_arg, cwd in [('examples/qonnx_mlp/qonnx_mlp.onnx', EXAMPLE, None),
                                  ('bnn_model_fc_1layer.onnx', given['bnn_model_fc_1layer'], None),
                                  ('two_layer_pytorch.onnx', os.path.join(ex, 'onnx', 'two_layer_pytorch.onnx'), None)]:
        d = os.path.join(CACHE, 'build-' + os.path.basename(model_arg).split('.')[0])
        run([rtlgen, 'build', model_arg, '--out', d], cwd=cwd)
        vec = d + '-vectors.csv'
        open(vec, 'w').write(run([rtlgen, 'vectors', model_arg, '--count', str(args.sim_count), '--seed', '3'], cwd=cwd))
        r = subprocess.run([rtlgen, 'sim', d, '--input', vec, '--simulator', 'both'], capture_output=True, text=True)
        sim_ok = r.returncode == 0
        ok &= sim_ok
        print('  %-44s built, sim on %d vectors in Verilator and GHDL: %s' % (label, args.sim_count, 'pass' if sim_ok else 'FAILED\n' + r.stdout + r.stderr))
    print('onnx parity: %d models x %d inputs against hls4ml / qonnx (%.0f s): %s'
          % (total, args.count, time.time() - t0, 'all identical' if ok else 'FAILED'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
