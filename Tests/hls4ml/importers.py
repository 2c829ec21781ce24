#!/usr/bin/env python3
"""The importers against hls4ml 1.3 itself: the same Keras / QKeras files and hls4ml configs, the
same inputs, hls4ml's own C++ emulation (compiled with g++) and `rtlgen predict MODEL`, every
output compared as exact decimal text.

Cases (each 10,000 inputs from `rtlgen vectors` of the imported model: random, edge, off-grid
and out-of-range values, given to both sides as the same float64 array, to rtlgen as a .npy):
  - keras-config.yml                  KERAS_3layer (16-64-32-32-5, softmax), Model fixed<16,6>
  - qkeras_3layer_config.yml          the QKeras jet tagger with per-layer precisions
  - KERAS_1layer.json (no config)     hls4ml's defaults (fixed<16,6> everywhere), sigmoid output
  - qkeras_3layer.json (no config)    hls4ml's defaults with QKeras weight quantizers
  - qkeras_po2 (scripts/make_qkeras_po2.py, Tests/FrontEndsTests/Fixtures): quantized_po2
    kernels (bits 4 and 5, max_value 2), quantized_relu, no config (hls4ml's defaults)
  - muon student (scripts/make_muon_student_keras.py: 5-8-8-8-8-3, 4 BatchNormalization, 419
    parameters) with its config (LayerType / LayerName precedence, standalone batchnorms), and
    without a config, from the full-model .h5.
rtlgen gets the files exactly as hls4ml does (the config itself as MODEL); hls4ml converts with
`keras_v2_to_hls(config)` (the Keras files read with h5py; QKeras quantizers through qkeras).
Any difference exits 1. The example models are found in $EXAMPLE_MODELS or ../shared/models/
hls4ml-example-models (the muon student is always made).

    python3 Tests/hls4ml/importers.py [--rtlgen PATH] [--count 10000]

Runs itself in scripts/hls4ml-tf-venv.sh's venv; "SKIP: ..." only when PyPI is unreachable.
hls4ml builds and predictions are cached under .cache/hls4ml-importers/.
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

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CACHE = os.path.join(ROOT, '.cache', 'hls4ml-importers')


def example_dir():
    for d in (os.environ.get('EXAMPLE_MODELS'), os.path.join(ROOT, '..', 'shared', 'models', 'hls4ml-example-models'),
              os.path.join(ROOT, '..', 'hls4ml-example-models')):
        if d and os.path.exists(os.path.join(d, 'keras', 'KERAS_3layer.json')):
            return os.path.abspath(d)
    return None


def sha(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
    return h.hexdigest()[:16]


def run(cmd, cwd=None):
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if r.returncode != 0:
        sys.exit('%s exited %d: %s' % (' '.join(cmd), r.returncode, r.stderr.strip()))
    return r.stdout


def hls4ml_predict(cfg, files, x, tag):
    """hls4ml's emulation of the model `cfg` (a config dict) on x, cached by the inputs' hashes."""
    import numpy as np
    import hls4ml
    key = sha(hls4ml.__version__, json.dumps(cfg, sort_keys=True), *[open(f, 'rb').read() for f in files], x.tobytes())
    cached = os.path.join(CACHE, 'pred-%s-%s.npy' % (tag, key))
    if os.path.exists(cached):
        return np.load(cached), 'cached'
    cfg = dict(cfg, OutputDir=os.path.join(CACHE, 'prj-%s-%s' % (tag, key)))
    model = hls4ml.converters.keras_v2_to_hls(cfg)
    model.compile()
    y = np.asarray(model.predict(np.ascontiguousarray(x)), dtype=np.float64).reshape(len(x), -1)
    np.save(cached, y)
    return y, 'compiled with g++'


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rtlgen', default=os.path.join(ROOT, '.build', 'release', 'rtlgen'))
    p.add_argument('--count', type=int, default=10000)
    args = p.parse_args()
    rtlgen = os.path.abspath(args.rtlgen)
    hls4ml_venv.enter('hls4ml importer parity', 'hls4ml-tf-venv.sh')
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    import warnings
    warnings.filterwarnings('ignore')
    import numpy as np
    import yaml
    import hls4ml

    t0 = time.time()
    os.makedirs(CACHE, exist_ok=True)
    ex = example_dir()
    muon = os.path.join(CACHE, 'muon_student')
    run([sys.executable, os.path.join(ROOT, 'scripts', 'make_muon_student_keras.py'), muon])

    default_hls = {'Model': {'Precision': 'fixed<16,6>', 'ReuseFactor': 1, 'Strategy': 'Latency'}}
    cases = []  # (label, rtlgen MODEL args, hls4ml config dict, files, cwd)
    if ex:
        for label, yml in (('KERAS_3layer + keras-config.yml', 'keras-config.yml'),
                           ('qkeras_3layer + its config', 'config-files/qkeras_3layer_config.yml')):
            cfg = yaml.safe_load(open(os.path.join(ex, yml)))
            cfg['KerasJson'] = os.path.join(ex, cfg['KerasJson'])
            cfg['KerasH5'] = os.path.join(ex, cfg['KerasH5'])
            cases.append((label, [os.path.join(ex, yml)], cfg, [cfg['KerasJson'], cfg['KerasH5']], ex))
        for label, stem in (('KERAS_1layer, no config (hls4ml defaults)', 'KERAS_1layer'),
                            ('qkeras_3layer, no config (hls4ml defaults)', 'qkeras_3layer')):
            j, h = os.path.join(ex, 'keras', stem + '.json'), os.path.join(ex, 'keras', stem + '_weights.h5')
            cfg = {'KerasJson': j, 'KerasH5': h, 'IOType': 'io_parallel', 'Backend': 'Vivado', 'ProjectName': 'myproject',
                   'HLSConfig': default_hls}
            cases.append((label, [j], cfg, [j, h], None))
    else:
        print('hls4ml importers: the example models are missing (set EXAMPLE_MODELS); only the muon student runs')
    mcfg = yaml.safe_load(open(os.path.join(muon, 'muon_student_config.yml')))
    mcfg['KerasJson'] = os.path.join(muon, mcfg['KerasJson'])
    mcfg['KerasH5'] = os.path.join(muon, mcfg['KerasH5'])
    cases.append(('muon student + muon_student_config.yml', [os.path.join(muon, 'muon_student_config.yml')], mcfg,
                  [mcfg['KerasJson'], mcfg['KerasH5']], muon))
    full = os.path.join(muon, 'muon_student.h5')
    cases.append(('muon student .h5, no config (hls4ml defaults)', [full],
                  {'KerasJson': mcfg['KerasJson'], 'KerasH5': mcfg['KerasH5'], 'IOType': 'io_parallel',
                   'Backend': 'Vivado', 'ProjectName': 'myproject', 'HLSConfig': default_hls},
                  [mcfg['KerasJson'], mcfg['KerasH5']], None))

    # QKeras power-of-two kernels (scripts/make_qkeras_po2.py, committed fixture): hls4ml's
    # ExponentType weights and shift products against rtlgen's fixed-point codes of +-2^e.
    fx = os.path.join(ROOT, 'Tests', 'FrontEndsTests', 'Fixtures')
    j, h = os.path.join(fx, 'qkeras_po2.json'), os.path.join(fx, 'qkeras_po2_weights.h5')
    cases.append(('qkeras_po2 (quantized_po2), no config', [j],
                  {'KerasJson': j, 'KerasH5': h, 'IOType': 'io_parallel', 'Backend': 'Vivado', 'ProjectName': 'myproject',
                   'HLSConfig': default_hls}, [j, h], None))

    failed = False
    for n, (label, model_args, cfg, files, cwd) in enumerate(cases):
        tag = 'c%d' % n
        imported = os.path.join(CACHE, tag + '.json')
        run([rtlgen, 'import'] + model_args + ['-o', imported], cwd=cwd)
        csv = run([rtlgen, 'vectors', imported, '--count', str(args.count), '--seed', str(11 + n)])
        rows = [ln.split(',') for ln in csv.split('\n') if ln and not ln.startswith('#')]
        x = np.array([[float(v) for v in r] for r in rows], dtype=np.float64)
        npy = os.path.join(CACHE, tag + '-x.npy')
        np.save(npy, x)
        out = run([rtlgen, 'predict'] + model_args + ['--input', npy], cwd=cwd)
        got = [ln.split(',') for ln in out.split('\n') if ln]
        y, how = hls4ml_predict(cfg, files, x, tag)
        want = [[exact_decimal(v) for v in r] for r in y]
        eq_s = sum(1 for a, b in zip(got, want) if a == b)
        eq_o = sum(1 for a, b in zip(got, want) for u, v in zip(a, b) if u == v)
        tot = sum(len(r) for r in want)
        ok = eq_s == len(want) and len(got) == len(want)
        failed |= not ok
        print('  %-48s %5d/%d samples, %6d/%d outputs identical (hls4ml %s)%s'
              % (label, eq_s, len(want), eq_o, tot, how, '' if ok else '  FAILED'))
        if not ok:
            k = next(i for i, (a, b) in enumerate(zip(got, want)) if a != b)
            print('    first difference, sample %d: input %s\n      rtlgen %s\n      hls4ml %s'
                  % (k, ','.join(rows[k]), ','.join(got[k]), ','.join(want[k])))
    print('hls4ml importers: %d models x %d inputs against hls4ml %s (%.0f s): %s'
          % (len(cases), args.count, hls4ml.__version__, time.time() - t0, 'FAILED' if failed else 'all identical'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
