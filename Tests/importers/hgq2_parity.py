#!/usr/bin/env python3
"""HGQ2 models through HGQ2 itself and through rtlgen (`make hgq2-parity`, not in `make test`).

scripts/make_hgq2_models.py (in the venv of scripts/hgq2-venv.sh: hgq2 0.2, Keras 3, jax CPU)
writes the three seeded HGQ2 models of the committed fixtures with N input rows (default 10,000)
and HGQ2's own forward pass on them (checked exact: every float32 sum recomputed in float64);
`rtlgen predict MODEL.keras` must give the same numbers on every row. Each model is then built
and simulated in Verilator and GHDL (--sim-count vectors, default 300), bit-exact against the
golden model. Exit 0 only when every row is identical and every simulation passes; PyPI
unreachable: skipped (exit 0, said so).
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
MODELS = ['hgq2_muon_student', 'hgq2_tagger', 'hgq2_mixed']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rtlgen', default=os.path.join(ROOT, '.build', 'release', 'rtlgen'))
    ap.add_argument('--rows', type=int, default=10000)
    ap.add_argument('--sim-count', type=int, default=300)
    ap.add_argument('--work', default=os.path.join(ROOT, '.cache', 'hgq2-parity'))
    a = ap.parse_args()
    rtlgen = os.path.abspath(a.rtlgen)
    venv = subprocess.run([os.path.join(ROOT, 'scripts', 'hgq2-venv.sh')], capture_output=True, text=True)
    if venv.returncode == 3:
        print('hgq2-parity: PyPI unreachable, skipped')
        return 0
    if venv.returncode != 0:
        sys.exit('hgq2-parity: FAILED: cannot create the venv (scripts/hgq2-venv.sh): ' + venv.stderr.strip()[-500:])
    py = venv.stdout.strip().splitlines()[-1]
    os.makedirs(a.work, exist_ok=True)
    gen = subprocess.run([py, os.path.join(ROOT, 'scripts', 'make_hgq2_models.py'), a.work, '--rows', str(a.rows)],
                         capture_output=True, text=True)
    if gen.returncode != 0:
        sys.exit('hgq2-parity: FAILED: make_hgq2_models.py: ' + (gen.stdout + gen.stderr).strip()[-1500:])
    print(gen.stdout.strip())
    ok = True
    for m in MODELS:
        base = os.path.join(a.work, m)
        r = subprocess.run([rtlgen, 'predict', base + '.keras', '--input', base + '_x.csv'], capture_output=True, text=True)
        if r.returncode != 0:
            print('%s: rtlgen predict exited %d: %s' % (m, r.returncode, r.stderr.strip()))
            ok = False
            continue
        got = [ln for ln in r.stdout.split('\n') if ln]
        want = [ln for ln in open(base + '_y.csv').read().split('\n') if ln]
        same = sum(g == w for g, w in zip(got, want))
        outs = sum(u == v for g, w in zip(got, want) for u, v in zip(g.split(','), w.split(',')))
        total = sum(len(w.split(',')) for w in want)
        distinct = len(set(want))
        print('%s: %d/%d rows, %d/%d outputs identical with HGQ2 (%d distinct output rows)' % (m, same, len(want), outs, total, distinct))
        if same != len(want) or len(got) != len(want):
            ok = False
            for i, (g, w) in enumerate(zip(got, want)):
                if g != w:
                    print('  first difference, row %d: rtlgen %s, HGQ2 %s' % (i, g, w))
                    break
            continue
        out = os.path.join(a.work, 'rtl-' + m)
        b = subprocess.run([rtlgen, 'build', base + '.keras', '--out', out], capture_output=True, text=True)
        if b.returncode != 0:
            print('%s: rtlgen build exited %d: %s' % (m, b.returncode, b.stderr.strip()))
            ok = False
            continue
        vec = os.path.join(a.work, m + '_sim.csv')
        with open(vec, 'w') as f:
            f.write('\n'.join([ln for ln in open(base + '_x.csv').read().split('\n') if ln][:a.sim_count]) + '\n')
        s = subprocess.run([rtlgen, 'sim', out, '--input', vec, '--simulator', 'both'], capture_output=True, text=True)
        print('  ' + s.stdout.strip().replace('\n', '\n  '))
        if s.returncode != 0:
            print('%s: rtlgen sim exited %d: %s' % (m, s.returncode, s.stderr.strip()[-800:]))
            ok = False
    print('hgq2-parity: %s' % ('passed' if ok else 'FAILED'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
