#!/usr/bin/env python3
"""QKeras quantized_relu_po2 activations: rtlgen against QKeras' own quantizer (`make relu-po2`).

hls4ml 1.3 has no conversion for quantized_relu_po2 ("Unsupported QKeras activation"), so the
reference is QKeras 0.9's quantizer itself (TensorFlow 2.15, float32), applied to the values the
activation receives in an hls4ml-converted model (the previous layer's fixed-point result):

  1. every code of an input type: a model Input -> QActivation(quantizer), the hls4ml config
     giving the input type (Model Precision); rtlgen predict on all 2^W codes vs QKeras'
     quantizer on the same float32 values, for several quantizers (bits, max_value, floor);
  2. the fixture qkeras_relu_po2 (scripts/make_qkeras_po2.py: QDense -> relu_po2(4) -> QDense
     with po2 kernels -> relu_po2(3, max_value=1, floor) -> QDense), hls4ml's defaults: the
     reference is composed of hls4ml's own emulation of the dense layers (three sub-models,
     compiled with g++) and QKeras' quantizer between them, on 10,000 inputs; rtlgen predict
     of the whole model must equal it on every row, and the model is built and simulated in
     Verilator and GHDL (200 vectors).

Runs itself in scripts/hls4ml-tf-venv.sh's venv; "SKIP: ..." only when PyPI is unreachable.

    python3 Tests/hls4ml/relu_po2.py [--rtlgen PATH] [--count 10000] [--record]
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hls4ml_venv  # noqa: E402
from fixed_text import exact_decimal  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
WORK = os.path.join(ROOT, '.cache', 'relu-po2')
FX = os.path.join(ROOT, 'Tests', 'FrontEndsTests', 'Fixtures')


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit('%s exited %d: %s' % (' '.join(cmd), r.returncode, r.stderr.strip()))
    return r.stdout


def parse_type(t):
    """fixed<W,I> / ufixed<W,I> -> (signed, W, I)."""
    base, args = t.split('<')
    w, i = [int(v) for v in args.rstrip('>').split(',')[:2]]
    return base == 'fixed', w, i


def codes_of(t):
    import numpy as np
    signed, w, i = parse_type(t)
    lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if signed else (0, (1 << w) - 1)
    return np.arange(lo, hi + 1, dtype=np.float64) * 2.0 ** (i - w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rtlgen', default=os.path.join(ROOT, '.build', 'release', 'rtlgen'))
    ap.add_argument('--count', type=int, default=10000)
    ap.add_argument('--record', action='store_true',
                    help='write the first 200 inputs and reference outputs of the fixture to Tests/FrontEndsTests/Fixtures/qkeras_relu_po2_{x,y}.csv (KerasBinaryTests)')
    args = ap.parse_args()
    rtlgen = os.path.abspath(args.rtlgen)
    hls4ml_venv.enter('relu_po2 parity', 'hls4ml-tf-venv.sh')
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    import numpy as np
    import tensorflow as tf
    import hls4ml
    from qkeras import QActivation, quantized_relu_po2
    os.makedirs(WORK, exist_ok=True)
    failed = False

    # 1. Every code of the input type.
    cases = [('quantized_relu_po2(4)', quantized_relu_po2(4), 'fixed<12,5>'),
             ('quantized_relu_po2(3, max_value=1)', quantized_relu_po2(3, max_value=1), 'ufixed<10,3>'),
             ('quantized_relu_po2(5, floor)', quantized_relu_po2(5, log2_rounding='floor'), 'fixed<14,6>'),
             ('quantized_relu_po2(2)', quantized_relu_po2(2), 'fixed<16,8>'),
             ('quantized_relu_po2(6, max_value=6)', quantized_relu_po2(6, max_value=6), 'fixed<10,4>'),
             ('quantized_relu_po2(7)', quantized_relu_po2(7), 'fixed<8,3>'),
             ('quantized_relu_po2(8) (0 for x <= 0)', quantized_relu_po2(8), 'fixed<12,4>')]
    for n, (label, q, t) in enumerate(cases):
        vals = codes_of(t)
        width = 16
        pad = (-len(vals)) % width
        x = np.concatenate([vals, vals[:pad]]).reshape(-1, width)
        inp = tf.keras.Input(shape=(width,), name='x')
        m = tf.keras.Model(inp, QActivation(q, name='act')(inp))
        j, h = os.path.join(WORK, 'a%d.json' % n), os.path.join(WORK, 'a%d.h5' % n)
        open(j, 'w').write(m.to_json())
        m.save_weights(h)
        cfg = os.path.join(WORK, 'a%d.yml' % n)
        open(cfg, 'w').write('KerasJson: %s\nKerasH5: %s\nHLSConfig:\n  Model:\n    Precision: %s\n' % (j, h, t))
        npy = os.path.join(WORK, 'a%d-x.npy' % n)
        np.save(npy, x)
        got = [r.split(',') for r in run([rtlgen, 'predict', cfg, '--input', npy]).split('\n') if r]
        y = q(tf.constant(x.astype(np.float32))).numpy().astype(np.float64)
        want = [[exact_decimal(v) for v in r] for r in y]
        same = sum(u == v for a, b in zip(got, want) for u, v in zip(a, b))
        total = x.size
        ok = same == total and len(got) == len(want)
        failed |= not ok
        print('  %-40s on every code of %-13s %6d/%d outputs identical with QKeras%s' % (label, t, same, total, '' if ok else '  FAILED'))
        if not ok:
            k = next((i, jj) for i, (a, b) in enumerate(zip(got, want)) for jj, (u, v) in enumerate(zip(a, b)) if u != v)
            print('    first difference: input %s: rtlgen %s, QKeras %s' % (exact_decimal(x[k[0]][k[1]]), got[k[0]][k[1]], want[k[0]][k[1]]))

    # 2. The fixture: hls4ml's dense layers and QKeras' relu_po2 composed, against rtlgen.
    j, h = os.path.join(FX, 'qkeras_relu_po2.json'), os.path.join(FX, 'qkeras_relu_po2_weights.h5')
    import json
    arch = json.load(open(j))
    entries = {e['config']['name']: e for e in arch['config']['layers']}
    imported = os.path.join(WORK, 'imported.json')
    run([rtlgen, 'import', j, '-o', imported])
    layers = {l['name']: l for l in json.load(open(imported))['layers']}
    csv = run([rtlgen, 'vectors', imported, '--count', str(args.count), '--seed', '5'])
    rows = [r.split(',') for r in csv.split('\n') if r and not r.startswith('#')]
    x = np.array([[float(v) for v in r] for r in rows], dtype=np.float64)
    npy = os.path.join(WORK, 'fx-x.npy')
    np.save(npy, x)

    def hls(part, in_type, xin, tag):
        """hls4ml's emulation of the dense layer `part` alone (a Sequential architecture written
        from the fixture's entry, the fixture's weights file), its input typed `in_type`."""
        e = {k: v for k, v in entries[part].items() if k != 'inbound_nodes'}
        sub = {'class_name': 'Sequential', 'config': {'name': 'sub_%s' % tag, 'layers': [
            {'class_name': 'InputLayer', 'config': {'batch_input_shape': [None, xin.shape[1]], 'dtype': 'float32', 'name': 'in_%s' % tag}}, e]}}
        sj = os.path.join(WORK, 'sub_%s.json' % tag)
        json.dump(sub, open(sj, 'w'))
        cfg = {'KerasJson': sj, 'KerasH5': h, 'IOType': 'io_parallel', 'Backend': 'Vivado', 'ProjectName': 'myproject',
               'OutputDir': os.path.join(WORK, 'prj_%s' % tag),
               'HLSConfig': {'Model': {'Precision': 'fixed<16,6>', 'ReuseFactor': 1, 'Strategy': 'Latency'},
                             'LayerName': {'in_%s' % tag: {'Precision': {'result': in_type}}}}}
        hm = hls4ml.converters.keras_v2_to_hls(cfg)
        hm.compile()
        return np.asarray(hm.predict(np.ascontiguousarray(xin)), dtype=np.float64).reshape(len(xin), -1)

    def po2(name, v):
        c = entries[name]['config']['activation']['config']
        return quantized_relu_po2(**c)(tf.constant(v.astype(np.float32))).numpy().astype(np.float64)

    a1 = hls('fc1', 'fixed<16,6>', x, 'fc1')
    z1 = po2('po2act1', a1)
    a2 = hls('fc2', layers['po2act1']['output_type'], z1, 'fc2')
    z2 = po2('po2act2', a2)
    y = hls('fc3', layers['po2act2']['output_type'], z2, 'fc3')
    got = [r.split(',') for r in run([rtlgen, 'predict', j, '--input', npy]).split('\n') if r]
    want = [[exact_decimal(v) for v in r] for r in y]
    same = sum(a == b for a, b in zip(got, want))
    outs = sum(u == v for a, b in zip(got, want) for u, v in zip(a, b))
    ok = same == len(want) and len(got) == len(want)
    failed |= not ok
    levels = len(set(z1.ravel())), len(set(z2.ravel()))
    if args.record and ok:
        open(os.path.join(FX, 'qkeras_relu_po2_x.csv'), 'w').write(''.join(','.join(r) + '\n' for r in rows[:200]))
        open(os.path.join(FX, 'qkeras_relu_po2_y.csv'), 'w').write(''.join(','.join(r) + '\n' for r in want[:200]))
    print('  qkeras_relu_po2 (hls4ml dense layers + QKeras relu_po2)  %d/%d samples, %d/%d outputs identical (%d and %d distinct powers of two)%s'
          % (same, len(want), outs, sum(len(r) for r in want), levels[0], levels[1], '' if ok else '  FAILED'))
    if not ok:
        k = next(i for i, (a, b) in enumerate(zip(got, want)) if a != b)
        print('    first difference, sample %d: rtlgen %s, reference %s' % (k, ','.join(got[k]), ','.join(want[k])))
    else:
        out = os.path.join(WORK, 'rtl')
        run([rtlgen, 'build', j, '--out', out])
        vec = os.path.join(WORK, 'sim.csv')
        open(vec, 'w').write('\n'.join(','.join(r) for r in rows[:200]) + '\n')
        s = subprocess.run([rtlgen, 'sim', out, '--input', vec, '--simulator', 'both'], capture_output=True, text=True)
        print('  ' + s.stdout.strip().replace('\n', '\n  '))
        if s.returncode != 0:
            print('  sim FAILED: %s' % s.stderr.strip()[-600:])
            failed = True
    print('relu_po2: QKeras %s, hls4ml %s: %s' % (__import__('qkeras').__version__, hls4ml.__version__, 'FAILED' if failed else 'all identical'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
