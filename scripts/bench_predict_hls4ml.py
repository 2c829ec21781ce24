#!/usr/bin/env python3
"""make bench: golden-model speed against hls4ml's compiled C++ emulation, in one run on the same
machine: the KERAS_3layer jet tagger with keras-config.yml (16-64-32-32-5, softmax) and the muon
student with its config (scripts/make_muon_student_keras.py), N samples each from `rtlgen
vectors`. hls4ml: `predict()` of the compiled model on a float64 array (conversion and g++
compile not timed). rtlgen: `rtlgen predict CONFIG --input X.csv --output Y.csv` (CSV in and out,
process start and import included). Both sides' outputs are compared (they must be identical:
Tests/hls4ml/importers.py checks the same on 10,000 inputs). Prints one line per model.

    python3 scripts/bench_predict_hls4ml.py [--rtlgen PATH] [--count N]

Runs itself in scripts/hls4ml-tf-venv.sh's venv; "SKIP: ..." when PyPI is unreachable.
"""
import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(ROOT, 'Tests', 'hls4ml'))
import hls4ml_venv  # noqa: E402
from fixed_text import exact_decimal  # noqa: E402

WORK = os.path.join(ROOT, '.cache', 'bench-predict-hls4ml')


def run(cmd, cwd=None):
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if r.returncode != 0:
        sys.exit('%s exited %d: %s' % (' '.join(cmd), r.returncode, r.stderr.strip()))
    return r.stdout


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rtlgen', default=os.path.join(ROOT, '.build', 'release', 'rtlgen'))
    p.add_argument('--count', type=int, default=200000)
    a = p.parse_args()
    rtlgen = os.path.abspath(a.rtlgen)
    hls4ml_venv.enter('predict speed against hls4ml', 'hls4ml-tf-venv.sh')
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    import warnings
    warnings.filterwarnings('ignore')
    import numpy as np
    import yaml
    import hls4ml

    os.makedirs(WORK, exist_ok=True)
    ex = os.environ.get('EXAMPLE_MODELS') or os.path.join(ROOT, '..', 'shared', 'models', 'hls4ml-example-models')
    muon = os.path.join(WORK, 'muon_student')
    run([sys.executable, os.path.join(ROOT, 'scripts', 'make_muon_student_keras.py'), muon])
    cases = []
    if os.path.exists(os.path.join(ex, 'keras-config.yml')):
        cases.append(('jet tagger (KERAS_3layer + keras-config.yml)', ex, 'keras-config.yml'))
    cases.append(('muon student (+ muon_student_config.yml)', muon, 'muon_student_config.yml'))
    for n, (label, d, yml) in enumerate(cases):
        cfg = yaml.safe_load(open(os.path.join(d, yml)))
        cfg['KerasJson'] = os.path.join(d, cfg['KerasJson'])
        cfg['KerasH5'] = os.path.join(d, cfg['KerasH5'])
        cfg['OutputDir'] = os.path.join(WORK, 'prj%d' % n)
        model = hls4ml.converters.keras_v2_to_hls(cfg)
        model.compile()
        imported = os.path.join(WORK, 'm%d.json' % n)
        run([rtlgen, 'import', os.path.join(d, yml), '-o', imported], cwd=d)
        xcsv = os.path.join(WORK, 'x%d.csv' % n)
        with open(xcsv, 'w') as f:
            f.write(run([rtlgen, 'vectors', imported, '--count', str(a.count), '--seed', '5']))
        x = np.loadtxt(xcsv, delimiter=',', dtype=np.float64, ndmin=2)
        t0 = time.time()
        y = np.asarray(model.predict(np.ascontiguousarray(x)), dtype=np.float64).reshape(len(x), -1)
        th = time.time() - t0
        ycsv = os.path.join(WORK, 'y%d.csv' % n)
        t0 = time.time()
        run([rtlgen, 'predict', os.path.join(d, yml), '--input', xcsv, '--output', ycsv], cwd=d)
        tr = time.time() - t0
        got = [ln.split(',') for ln in open(ycsv).read().split('\n') if ln]
        want = [[exact_decimal(v) for v in r] for r in y]
        same = sum(1 for g, w in zip(got, want) if g == w)
        print('%s, %d samples: hls4ml predict() %.2f s (%.0f/s), rtlgen predict %.2f s (%.0f/s): %.1fx; '
              'outputs identical on %d of %d samples' % (label, len(x), th, len(x) / th, tr, len(x) / tr,
                                                          th / tr, same, len(x)), flush=True)
        if same != len(x):
            sys.exit(1)


if __name__ == '__main__':
    main()
