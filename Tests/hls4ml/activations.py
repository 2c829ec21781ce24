#!/usr/bin/env python3
"""hls4ml itself vs `rtlgen predict` on the activation layers (issue 3).

For each case below, builds a one-layer hls4ml 1.3 model with `ModelGraph.from_layer_list`
(Vivado backend, io_parallel; `compile()` builds its C++ with g++, no Vivado needed), runs its
`predict` on at least 10,000 input values (every code of narrow input types, edge values around
the table range and the bin boundaries, random codes), runs `rtlgen predict` on the equivalent
native model, and compares every output exactly (as rationals). Exit 1 on any difference.

    python3 Tests/hls4ml/activations.py [--rtlgen PATH]

Any python3 may start it: it gets the hls4ml venv from scripts/hls4ml-venv.sh and re-runs itself
there. When PyPI cannot be reached (that script exits 3) it prints "SKIP: ..." and exits 0.
hls4ml build folders and its predictions are cached under .cache/hls4ml-activations/.
"""
import hashlib
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hls4ml_venv  # noqa: E402
from fixed_text import hls_type  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CACHE = os.path.join(ROOT, '.cache', 'hls4ml-activations')
N_IN = 16          # elements per sample
MIN_VALUES = 10_000

# name, hls4ml layer dict (without name/inputs), layer precision config, rtlgen layer fields,
# input type, output type
CASES = [
    ('sigmoid_default', {'class_name': 'Activation', 'activation': 'sigmoid'}, {},
     {'op': 'sigmoid'}, 'fixed<16,6>', 'fixed<18,8>'),
    ('sigmoid_narrow_256', {'class_name': 'Activation', 'activation': 'sigmoid'},
     {'table_size': 256}, {'op': 'sigmoid', 'table_size': 256}, 'fixed<8,3>', 'ufixed<8,0,RND_CONV,SAT>'),
    ('sigmoid_rnd_table', {'class_name': 'Activation', 'activation': 'sigmoid'},
     {'table_size': 2048, 'table_t': 'ap_fixed<24,2,AP_RND,AP_SAT>'},
     {'op': 'sigmoid', 'table_size': 2048, 'table_type': 'fixed<24,2,RND,SAT>'}, 'fixed<12,5>', 'fixed<24,2>'),
    ('sigmoid_coarse_grid', {'class_name': 'Activation', 'activation': 'sigmoid'},
     {'table_size': 8}, {'op': 'sigmoid', 'table_size': 8}, 'fixed<7,9>', 'fixed<12,2>'),
    ('tanh_default', {'class_name': 'Activation', 'activation': 'tanh'}, {},
     {'op': 'tanh'}, 'fixed<16,6>', 'fixed<18,8>'),
    ('tanh_narrow_4096', {'class_name': 'Activation', 'activation': 'tanh'},
     {'table_size': 4096, 'table_t': 'ap_fixed<24,2>'},
     {'op': 'tanh', 'table_size': 4096, 'table_type': 'fixed<24,2>'}, 'fixed<10,3>', 'fixed<24,2>'),
    ('tanh_512', {'class_name': 'Activation', 'activation': 'tanh'},
     {'table_size': 512}, {'op': 'tanh', 'table_size': 512}, 'fixed<14,2>', 'fixed<10,1,RND_CONV,SAT>'),
    ('elu', {'class_name': 'ELU', 'activation': 'elu', 'activ_param': 1.0}, {},
     {'op': 'elu'}, 'fixed<16,6>', 'fixed<16,6>'),
    ('elu_alpha', {'class_name': 'ELU', 'activation': 'elu', 'activ_param': 0.75}, {'table_size': 512},
     {'op': 'elu', 'alpha': 0.75, 'table_size': 512}, 'fixed<10,4>', 'fixed<12,4>'),
    ('selu', {'class_name': 'Activation', 'activation': 'selu'}, {},
     {'op': 'selu'}, 'fixed<12,4>', 'fixed<18,6>'),
    ('leaky_relu', {'class_name': 'LeakyReLU', 'activation': 'leaky_relu', 'activ_param': 0.3}, {},
     {'op': 'leaky_relu', 'alpha': 0.3}, 'fixed<12,4>', 'fixed<16,6>'),
    ('hard_sigmoid', {'class_name': 'HardActivation', 'activation': 'hard_sigmoid'}, {},
     {'op': 'hard_sigmoid'}, 'fixed<12,4>', 'fixed<16,2>'),
    ('hard_tanh', {'class_name': 'HardActivation', 'activation': 'hard_tanh'}, {},
     {'op': 'hard_tanh'}, 'fixed<12,4>', 'fixed<16,2>'),
]


def parse_type(t):
    """(signed, W, I) of fixed<W,I,...> / ufixed<W,I,...>."""
    base, args = t.split('<', 1)
    a = args.rstrip('>').split(',')
    return (base.strip() == 'fixed', int(a[0]), int(a[1]))


def input_codes(t, seed):
    """At least MIN_VALUES codes: every code when the type is narrow, edge values, random codes."""
    import numpy as np
    signed, w, i = parse_type(t)
    lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if signed else (0, (1 << w) - 1)
    f = w - i
    codes = []
    if hi - lo < 1 << 13:
        codes += list(range(lo, hi + 1))
    # Edges: the type's limits, zero, and every code within 3 LSBs of the points where the tables
    # start, end or change bin (multiples of 2^-7 around +-8, +-4, 0).
    pts = [lo, lo + 1, hi - 1, hi, 0, 1, -1]
    for x in [8, 4, 0, -4, -8, 2, -2, 1, -1, 0.5, -0.5]:
        c = round(x * 2 ** f) if f >= 0 else 0
        pts += [c + d for d in range(-3, 4)]
    codes += [c for c in pts if lo <= c <= hi]
    rng = np.random.default_rng(seed)
    total = max(MIN_VALUES, len(codes))
    total = (total + N_IN - 1) // N_IN * N_IN
    codes += [int(c) for c in rng.integers(lo, hi + 1, size=total - len(codes), endpoint=False)]
    return codes, f


def hls4ml_predict(name, layer, layer_cfg, in_t, out_t, xs):
    import numpy as np
    import hls4ml
    lc = {'Precision': {'result': hls_type(out_t)}}
    if 'table_t' in layer_cfg:
        lc['table_t'] = layer_cfg['table_t']  # (a 'table' entry under 'Precision' is not read for activations)
    if 'table_size' in layer_cfg:
        lc['table_size'] = layer_cfg['table_size']
    hls_config = {
        'Model': {'Precision': 'ap_fixed<16,6>', 'ReuseFactor': 1, 'Strategy': 'Latency'},
        'LayerName': {'x': {'Precision': {'result': hls_type(in_t)}}, 'act': lc},
    }
    layers = [{'class_name': 'InputLayer', 'name': 'x', 'input_shape': [N_IN]},
              dict(layer, name='act', inputs=['x'])]
    # The cache key covers everything hls4ml is given.
    key = hashlib.sha256(json.dumps([hls4ml.__version__, hls_config, layers, xs.tolist()],
                                    sort_keys=True).encode()).hexdigest()[:16]
    cached = os.path.join(CACHE, f'{name}-{key}.npy')
    if os.path.exists(cached):
        return np.load(cached), True
    out_dir = os.path.join(CACHE, name)
    config = {'HLSConfig': hls_config, 'Backend': 'Vivado', 'OutputDir': out_dir,
              'ProjectName': 'act', 'IOType': 'io_parallel'}
    model = hls4ml.model.ModelGraph.from_layer_list(config, layers)
    model.compile()
    y = np.asarray(model.predict(np.ascontiguousarray(xs)), dtype=np.float64).reshape(xs.shape)
    np.save(cached, y)
    return y, False


def rtlgen_predict(rtlgen, name, fields, in_t, out_t, xs_text, work):
    layer = dict({'name': 'act', 'output_type': out_t}, **fields)
    model = {'format': 'rtlgen-model', 'version': 1, 'name': name,
             'input': {'name': 'x', 'size': N_IN, 'type': in_t}, 'layers': [layer]}
    mpath = os.path.join(work, f'{name}.json')
    xpath = os.path.join(work, f'{name}.csv')
    with open(mpath, 'w') as fh:
        json.dump(model, fh, indent=1)
    with open(xpath, 'w') as fh:
        fh.write(xs_text)
    r = subprocess.run([rtlgen, 'predict', mpath, '--input', xpath], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit(f'{name}: rtlgen predict failed: {r.stderr.decode().strip()}')
    return [[Fraction(v) for v in line.split(',')] for line in r.stdout.decode().splitlines() if line.strip()]


def main():
    args = sys.argv[1:]
    rtlgen = os.path.join(ROOT, '.build', 'release', 'rtlgen')
    if '--rtlgen' in args:
        rtlgen = os.path.abspath(args[args.index('--rtlgen') + 1])
    hls4ml_venv.enter('hls4ml-activations')
    import numpy as np
    os.makedirs(CACHE, exist_ok=True)
    work = os.path.join(CACHE, 'rtlgen')
    os.makedirs(work, exist_ok=True)
    failed = 0
    for k, (name, layer, layer_cfg, fields, in_t, out_t) in enumerate(CASES):
        t0 = time.time()
        codes, f = input_codes(in_t, seed=k + 1)
        vals = [Fraction(c) / (Fraction(2) ** f) if f >= 0 else Fraction(c * 2 ** -f) for c in codes]
        xs = np.array([float(v) for v in vals], dtype=np.float64).reshape(-1, N_IN)
        assert all(Fraction(float(v)) == v for v in vals), 'inputs must be exact doubles'
        # Exact decimals (Decimal of a double is exact), so rtlgen reads the very same values.
        text = '\n'.join(','.join(str(Decimal(float(v))) for v in vals[r * N_IN:(r + 1) * N_IN])
                         for r in range(len(vals) // N_IN)) + '\n'
        y_hls, cached = hls4ml_predict(name, layer, layer_cfg, in_t, out_t, xs)
        y_rtl = rtlgen_predict(rtlgen, name, fields, in_t, out_t, text, work)
        diffs = 0
        first = None
        for r in range(xs.shape[0]):
            for j in range(N_IN):
                a, b = Fraction(float(y_hls[r, j])), y_rtl[r][j]
                if a != b:
                    diffs += 1
                    if first is None:
                        first = f'x = {vals[r * N_IN + j]} (code {codes[r * N_IN + j]}): hls4ml {float(a)!r}, rtlgen {b}'
        n = len(vals)
        status = 'bit-exact' if diffs == 0 else f'{diffs} DIFFERENCES, first: {first}'
        print(f'{name:20s} {in_t:>12s} -> {out_t:<26s} {n:6d} values: {status}'
              f' ({time.time() - t0:.1f} s{", hls4ml cached" if cached else ""})')
        failed += diffs != 0
    print(f'hls4ml-activations: {len(CASES) - failed}/{len(CASES)} cases bit-exact with hls4ml {__import__("hls4ml").__version__}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
