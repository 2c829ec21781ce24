#!/usr/bin/env python3
"""Input files as Python users write them, in `rtlgen predict` and `rtlgen sim`, and the imported
example models through `rtlgen build` + `rtlgen sim` in Verilator and GHDL.

Data files (for the muon student imported from its hls4ml config):
  - Python's csv module (csv.writer: \\r\\n line ends), without and with a header row;
  - pandas DataFrame.to_csv(index=False) (a header row of column names), also with \\r\\n line
    ends and a UTF-8 byte-order mark (encoding='utf-8-sig');
  - numpy.save of float64, float32 and int16 arrays.
Each must predict exactly what the plain rtlgen CSV of the same values predicts (float32 values
compared with the exact decimals of the float32 numbers), a header must be reported once on
stderr, and `rtlgen sim` must pass on the csv-module file, the pandas file and the .npy in both
simulators. Then every shared example model with only supported layers (and the muon student)
is imported, built, and simulated on --sim-count vectors in both simulators (the muon student and
KERAS_1layer; with --all-models also the two jet taggers, as `make sim-long` runs it).

    python3 Tests/importers/data_files.py [--rtlgen PATH] [--count 300] [--sim-count 300]

Runs in scripts/hls4ml-tf-venv.sh's venv (pandas, numpy); SKIP only when PyPI is unreachable.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'hls4ml'))
import hls4ml_venv  # noqa: E402
from fixed_text import exact_decimal  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
WORK = os.path.join(ROOT, '.sim', 'importers')
MUON = os.path.join(ROOT, 'examples', 'muon_student_keras', 'muon_student_config.yml')
FAILED = []


def run(cmd, ok=True):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if ok and r.returncode != 0:
        sys.exit('%s exited %d: %s' % (' '.join(cmd), r.returncode, (r.stderr or r.stdout).strip()[-2000:]))
    return r


def check(cond, what):
    print('  %-74s %s' % (what, 'ok' if cond else 'FAILED'))
    if not cond:
        FAILED.append(what)


def example_dir():
    for d in (os.environ.get('EXAMPLE_MODELS'), os.path.join(ROOT, '..', 'shared', 'models', 'hls4ml-example-models'),
              os.path.join(ROOT, '..', 'hls4ml-example-models')):
        if d and os.path.exists(os.path.join(d, 'keras', 'KERAS_3layer.json')):
            return os.path.abspath(d)
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rtlgen', default=os.path.join(ROOT, '.build', 'release', 'rtlgen'))
    p.add_argument('--count', type=int, default=300)
    p.add_argument('--sim-count', type=int, default=200)
    p.add_argument('--all-models', action='store_true',
                   help='also build and simulate the two jet taggers (slow; make sim-long does)')
    args = p.parse_args()
    rt = os.path.abspath(args.rtlgen)
    hls4ml_venv.enter('importer data files', 'hls4ml-tf-venv.sh')
    import numpy as np
    import pandas as pd

    t0 = time.time()
    os.makedirs(WORK, exist_ok=True)
    f = lambda n: os.path.join(WORK, n)  # noqa: E731
    text = run([rt, 'vectors', MUON, '--count', str(args.count), '--seed', '3']).stdout
    open(f('plain.csv'), 'w').write(text)
    rows = [ln.split(',') for ln in text.split('\n') if ln and not ln.startswith('#')]
    x = np.array([[float(v) for v in r] for r in rows])
    ref = run([rt, 'predict', MUON, '--input', f('plain.csv')]).stdout
    names = ['pt', 'eta', 'phi', 'charge', 'quality']

    print('data files (muon student, %d samples):' % len(rows))
    with open(f('csvmodule.csv'), 'w', newline='') as fh:
        w = csv.writer(fh)
        for r in x:
            w.writerow(list(r))
    with open(f('csvmodule_header.csv'), 'w', newline='') as fh:
        w = csv.writer(fh)
        w.writerow(names)
        for r in x:
            w.writerow(list(r))
    df = pd.DataFrame(x, columns=names)
    df.to_csv(f('pandas.csv'), index=False)
    df.to_csv(f('pandas_crlf_bom.csv'), index=False, lineterminator='\r\n', encoding='utf-8-sig')
    np.save(f('x64.npy'), x)
    check(open(f('csvmodule.csv'), 'rb').read().count(b'\r\n') == len(rows), 'csv.writer wrote \\r\\n line ends')
    check(open(f('pandas_crlf_bom.csv'), 'rb').read().startswith(b'\xef\xbb\xbfpt,eta'), 'pandas wrote a byte-order mark and a header')
    for name in ('csvmodule.csv', 'csvmodule_header.csv', 'pandas.csv', 'pandas_crlf_bom.csv', 'x64.npy'):
        r = run([rt, 'predict', MUON, '--input', f(name)])
        header = 'header' in name or 'pandas' in name
        said = r.stderr.count('is a header of column names')
        check(r.stdout == ref and said == (1 if header else 0),
              'predict %-22s = plain CSV%s' % (name, ', header said once on stderr' if header else ''))
    # float32 and integer arrays: the same values as exact decimals.
    x32 = x.astype(np.float32)
    np.save(f('x32.npy'), x32)
    open(f('x32.csv'), 'w').write(''.join(','.join(exact_decimal(float(v)) for v in r) + '\n' for r in x32))
    xi = np.clip(np.round(x), -300, 300).astype(np.int16)
    np.save(f('xi16.npy'), xi)
    open(f('xi16.csv'), 'w').write(''.join(','.join(str(int(v)) for v in r) + '\n' for r in xi))
    for a, b in (('x32.npy', 'x32.csv'), ('xi16.npy', 'xi16.csv')):
        ya = run([rt, 'predict', MUON, '--input', f(a)]).stdout
        yb = run([rt, 'predict', MUON, '--input', f(b)]).stdout
        check(ya == yb and ya, 'predict %-22s = its values as exact decimals' % a)
    bad = f('bad.csv')
    open(bad, 'w').write('1,2,3,4,5\r\n1,2,x,4,5\r\n')
    r = run([rt, 'predict', MUON, '--input', bad], ok=False)
    check(r.returncode == 2 and 'line 2, column 3' in r.stderr, 'a bad cell names its line and column (exit 2)')

    build = f('muon_build')
    run([rt, 'build', MUON, '--out', build])
    for name, sims in (('csvmodule.csv', 'both'), ('pandas_crlf_bom.csv', 'verilator'), ('x64.npy', 'ghdl')):
        r = run([rt, 'sim', build, '--input', f(name), '--simulator', sims], ok=False)
        check(r.returncode == 0, 'sim (%s) on %s' % ('Verilator and GHDL' if sims == 'both' else sims, name))

    ex = example_dir()
    models = [('muon student (its config)', MUON)]
    if ex:
        models += [('KERAS_1layer (hls4ml defaults)', os.path.join(ex, 'keras', 'KERAS_1layer.json')),
                   ('keras_bnn (BinaryDense, hls4ml defaults)', os.path.join(ex, 'keras', 'keras_bnn.json'))]
        if args.all_models:
            models += [('KERAS_3layer (keras-config.yml)', os.path.join(ex, 'keras-config.yml')),
                       ('qkeras_3layer (its config)', os.path.join(ex, 'config-files', 'qkeras_3layer_config.yml'))]
        # An unsupported layer (a convolution) in an otherwise valid model: one line naming it, exit 2.
        arch = json.load(open(os.path.join(ex, 'keras', 'KERAS_1layer.json')))
        lays = arch['config']['layers'] if isinstance(arch['config'], dict) else arch['config']
        lays[-1]['class_name'] = 'Conv1D'  # the chain stays as it is
        conv = f('conv.json')
        json.dump(arch, open(conv, 'w'))
        r = run([rt, 'build', conv, '--weights', os.path.join(ex, 'keras', 'KERAS_1layer_weights.h5'), '--out', f('conv')], ok=False)
        check(r.returncode == 2 and r.stderr.count('\n') == 1 and 'Conv1D' in r.stderr and not os.path.exists(f('conv')),
              'an unsupported layer (Conv1D) is named in one line (exit 2), nothing written')
    else:
        print('  (example models not found: set EXAMPLE_MODELS)')
    print('imported models, built and simulated on %d vectors:' % args.sim_count)
    for label, m in models:
        d = f('build-' + label.split()[0])
        run([rt, 'build', m, '--out', d])
        vec = f('v-' + label.split()[0] + '.csv')
        open(vec, 'w').write(run([rt, 'vectors', m, '--count', str(args.sim_count), '--seed', '5']).stdout)
        r = run([rt, 'sim', d, '--input', vec, '--simulator', 'both'], ok=False)
        check(r.returncode == 0, '%s: sim in Verilator and GHDL' % label)
    print('importer data files and simulations (%.0f s): %s' % (time.time() - t0, 'FAILED: ' + '; '.join(FAILED) if FAILED else 'ok'))
    return 1 if FAILED else 0


if __name__ == '__main__':
    sys.exit(main())
