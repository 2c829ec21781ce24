#!/usr/bin/env python3
"""The Keras importer on binary networks against hls4ml 1.3 itself: hls4ml's example keras_bnn
(16-64-32-32-5, BinaryDense + BatchNormalization + binary_tanh, Keras 2.2.4) and the two fixtures
of scripts/make_qkeras_binary.py (qkeras_binary: QDense binary / ternary kernels, QActivation
binary / ternary, negative gammas; small_bnn: BinaryDense with a bias, TernaryDense) and hls4ml's
example ternary jet tagger KERAS_3layer_ternary_small (Tests/models/keras: TernaryDense +
BatchNormalization + Activation('ternary_tanh') three times, TernaryDense + BatchNormalization),
imported by
`rtlgen predict MODEL.json` and converted by hls4ml's own Keras converter
(`keras_v2_to_hls`, hls4ml's default configuration, compiled with g++), 10,000 inputs from
`rtlgen vectors` (random, edge, off-grid and out-of-range values, the same float64 array on both
sides, to rtlgen as a .npy).

rtlgen deliberately differs in one place (docs/importers.md, "Binary networks"): a batchnorm
followed by binary_tanh is rtlgen's exact threshold (the sign of the exactly evaluated
batchnorm), where hls4ml's BatchNormalizationQuantizedTanh compares with -bias/scale floored to
the input grid. The test shows that this is the whole difference:
  (a) `rtlgen predict` on the imported model: the identical samples are counted (a figure);
  (b) the same imported model with each folded threshold layer replaced by hls4ml's own
      thresholds (read from hls4ml's compiled model: `x >= t` on the same channels) must equal
      hls4ml on EVERY output; a difference fails the test;
  (c) every other layer of the imported model is left as imported (checked: only the
      `thresholds` of the threshold layers change between (a) and (b)).
The number of threshold codes where the two rules differ is printed.

A batchnorm followed by a ternary activation is rtlgen's exact ternary fold (+1 above 1/2, -1 at
or below -1/2); hls4ml's floored thresholds compared with `x > hi` / `x <= lo` are the same rule
up to the float rounding of its thresholds, so a model without binary thresholds (the ternary jet
tagger) must equal hls4ml in (a) itself, on every output.

    python3 Tests/hls4ml/importers_binary.py [--rtlgen PATH] [--count 10000]

Runs in scripts/hls4ml-tf-venv.sh's venv; "SKIP: ..." only when PyPI is unreachable.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hls4ml_venv  # noqa: E402
from fixed_text import exact_decimal  # noqa: E402
from importers import example_dir, run, sha  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CACHE = os.path.join(ROOT, '.cache', 'hls4ml-importers-binary')


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rtlgen', default=os.path.join(ROOT, '.build', 'release', 'rtlgen'))
    p.add_argument('--count', type=int, default=10000)
    args = p.parse_args()
    rtlgen = os.path.abspath(args.rtlgen)
    hls4ml_venv.enter('hls4ml binary importer parity', 'hls4ml-tf-venv.sh')
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    import warnings
    warnings.filterwarnings('ignore')
    import numpy as np
    import hls4ml

    t0 = time.time()
    os.makedirs(CACHE, exist_ok=True)
    cases = []
    ex = example_dir()
    if ex:
        cases.append(('keras_bnn', os.path.join(ex, 'keras', 'keras_bnn.json'), os.path.join(ex, 'keras', 'keras_bnn_weights.h5')))
    else:
        print('hls4ml binary importer: the example models are missing (set EXAMPLE_MODELS); keras_bnn skipped')
    fx = os.path.join(ROOT, 'Tests', 'FrontEndsTests', 'Fixtures')
    cases.append(('qkeras_binary', os.path.join(fx, 'qkeras_binary.json'), os.path.join(fx, 'qkeras_binary_weights.h5')))
    cases.append(('small_bnn', os.path.join(fx, 'small_bnn.json'), os.path.join(fx, 'small_bnn_weights.h5')))
    tm = os.path.join(ROOT, 'Tests', 'models', 'keras')
    cases.append(('ternary_small', os.path.join(tm, 'KERAS_3layer_ternary_small.json'),
                  os.path.join(tm, 'KERAS_3layer_ternary_small_weights.h5')))
    failed = False
    for n, (label, j, h) in enumerate(cases):
        failed |= not check(label, j, h, rtlgen, args.count, 17 + n, np, hls4ml)
    print('hls4ml binary importer: %d models x %d inputs against hls4ml %s (%.0f s): %s'
          % (len(cases), args.count, hls4ml.__version__, time.time() - t0,
             'FAILED' if failed else 'identical except the documented threshold folding'))
    return 1 if failed else 0


def check(label, j, h, rtlgen, count, seed, np, hls4ml):
    imported = os.path.join(CACHE, label + '.json')
    run([rtlgen, 'import', j, '-o', imported])
    csv = run([rtlgen, 'vectors', imported, '--count', str(count), '--seed', str(seed)])
    rows = [ln.split(',') for ln in csv.split('\n') if ln and not ln.startswith('#')]
    x = np.array([[float(v) for v in r] for r in rows], dtype=np.float64)
    npy = os.path.join(CACHE, label + '-x.npy')
    np.save(npy, x)

    # hls4ml: its converter with its default configuration; predictions and thresholds cached.
    key = sha(hls4ml.__version__, open(j, 'rb').read(), open(h, 'rb').read(), x.tobytes())
    cached = os.path.join(CACHE, 'pred-%s-%s.npz' % (label, key))
    if os.path.exists(cached):
        z = np.load(cached, allow_pickle=False)
        y = z['y']
        thresholds = {k[2:]: z[k] for k in z.files if k.startswith('t_')}
        how = 'cached'
    else:
        cfg = {'KerasJson': j, 'KerasH5': h, 'IOType': 'io_parallel', 'Backend': 'Vivado', 'ProjectName': 'myproject',
               'OutputDir': os.path.join(CACHE, 'prj-%s-%s' % (label, key)),
               'HLSConfig': {'Model': {'Precision': 'fixed<16,6>', 'ReuseFactor': 1, 'Strategy': 'Latency'}}}
        model = hls4ml.converters.keras_v2_to_hls(cfg)
        model.compile()
        y = np.asarray(model.predict(np.ascontiguousarray(x)), dtype=np.float64).reshape(len(x), -1)
        thresholds = {}
        for name, node in model.graph.items():
            if node.class_name == 'BatchNormalizationQuantizedTanh' and node.get_attr('quantize') == 2:
                thresholds[name] = np.asarray(node.weights['threshold'].data, dtype=np.float64).reshape(-1)
            if node.class_name == 'BatchNormalizationQuantizedTanh' and node.get_attr('quantize') == 3:
                # ternary: +1 when x > hi, -1 when x <= lo; with the input grid's step.
                ulp = 2.0 ** -node.get_input_variable().type.precision.fractional
                for k in ('hi', 'lo'):
                    thresholds['%s:%s' % (k, name)] = np.asarray(node.weights['threshold_' + k].data, dtype=np.float64).reshape(-1)
                thresholds['ulp:' + name] = np.array([ulp])
        np.savez(cached, y=y, **{'t_' + k: v for k, v in thresholds.items()})
        how = 'compiled with g++'
    want = [[exact_decimal(v) for v in r] for r in y]

    def predict(model_file):
        out = run([rtlgen, 'predict', model_file, '--input', npy])
        return [ln.split(',') for ln in out.split('\n') if ln]

    def counts(got):
        eq_s = sum(1 for a, b in zip(got, want) if a == b)
        eq_o = sum(1 for a, b in zip(got, want) for u, v in zip(a, b) if u == v)
        return eq_s, eq_o, sum(len(r) for r in want)

    # (a) the imported model (exact thresholds) as rtlgen predicts it from the Keras files.
    a_s, a_o, tot = counts(predict(j))
    print('  %-14s exact thresholds (rtlgen):  %5d/%d samples, %6d/%d outputs identical to hls4ml (hls4ml %s)'
          % (label, a_s, len(want), a_o, tot, how))

    # (b) hls4ml's thresholds in place of rtlgen's (bnbt_<batchnorm> holds batchnorm <batchnorm>'s),
    # compared as hls4ml compares (x >= t whatever the sign of gamma). A ternary fold (a
    # multi_threshold named after its batchnorm) gets [lo + ulp, hi + ulp]: x > hi <=> x >= hi + ulp
    # on the input grid. hls4ml's ternary layers for a QKeras threshold other than 0.5 (named
    # after their scaling, bnbt_<activation>_scale) are imported as hls4ml computes them and kept.
    m = json.load(open(imported))
    variant = json.loads(json.dumps(m))
    diff, total, replaced = 0, 0, 0
    binary_folds = sum(1 for k in thresholds if ':' not in k)
    ternary_folds = sum(1 for k in thresholds if k.startswith('ulp:') and not k.endswith('_scale'))
    for layer in variant['layers']:
        if layer['op'] == 'multi_threshold' and 'ulp:bnbt_' + layer['name'] in thresholds:
            key = 'bnbt_' + layer['name']
            ulp = thresholds['ulp:' + key][0]
            new = [[exact_decimal(lo + ulp), exact_decimal(hi + ulp)] for lo, hi in zip(thresholds['lo:' + key], thresholds['hi:' + key])]
            diff += sum(1 for u, v in zip(layer['thresholds'], new) if [exact_decimal(t) for t in u] != v)
            total += len(new)
            layer['thresholds'] = [['@@%s@@' % t for t in row] for row in new]
            replaced += 1
            continue
        if layer['op'] != 'threshold':
            continue
        t = thresholds.get('bnbt_' + layer['name'])
        if t is None:
            print('  FAILED: hls4ml has no BatchNormalizationQuantizedTanh for %s (its layers: %s)'
                  % (layer['name'], ', '.join(sorted(thresholds))))
            return False
        new = [exact_decimal(v) for v in t]
        dirs = layer.get('directions', ['ge'] * len(new))
        diff += sum(1 for u, v, d in zip(layer['thresholds'], new, dirs) if exact_decimal(u) != v or d != 'ge')
        total += len(new)
        layer['thresholds'] = ['@@%s@@' % v for v in new]  # written as JSON numbers, exact
        layer.pop('directions', None)
        replaced += 1
    # (c) nothing but the thresholds changed.
    strip = lambda mm: [{k: v for k, v in l.items() if k not in ('thresholds', 'directions')} for l in mm['layers']]  # noqa: E731
    if strip(m) != strip(variant) or replaced != binary_folds + ternary_folds:
        print('  FAILED: the variant changed more than the thresholds, or hls4ml has other folded layers')
        return False
    vfile = os.path.join(CACHE, label + '_hls4ml_thresholds.json')
    with open(vfile, 'w') as f:
        f.write(json.dumps(variant).replace('"@@', '').replace('@@"', ''))
    got_b = predict(vfile)
    b_s, b_o, _ = counts(got_b)
    ok = b_s == len(want) and len(got_b) == len(want)
    if binary_folds == 0 and a_s != len(want):
        # Ternary folds only: rtlgen's exact rule is hls4ml's (flooring is exact for x > t and
        # x <= t), so the imported model itself must equal hls4ml.
        print('  FAILED: %s has no binary threshold, yet rtlgen\'s own thresholds differ from hls4ml' % label)
        ok = False
    print("  %-14s hls4ml's thresholds:        %5d/%d samples, %6d/%d outputs identical to hls4ml%s"
          % (label, b_s, len(want), b_o, tot, '' if ok else '  FAILED'))
    print('  %-14s the two threshold rules differ on %d of %d channels (%d threshold layers)' % (label, diff, total, replaced))
    if not ok:
        k = next(i for i, (u, v) in enumerate(zip(got_b, want)) if u != v)
        print('    first difference, sample %d: input %s\n      rtlgen %s\n      hls4ml %s'
              % (k, ','.join(rows[k]), ','.join(got_b[k]), ','.join(want[k])))
    return ok


if __name__ == '__main__':
    sys.exit(main())
