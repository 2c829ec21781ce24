#!/usr/bin/env python3
"""hls4ml itself as the oracle of rtlgen's binary layers (batchnorm + sign folding, binary_dense).

Part 1, batchnorm + binary_tanh. hls4ml 1.3 (Vivado backend, io_parallel) merges an `Activation`
with `activation: binary_tanh` that directly follows a `BatchNormalization` into one
`BatchNormalizationQuantizedTanh` layer (pass `vivado:merge_batch_norm_quantized_tanh`). For each
input type below, a model Input -> BatchNormalization -> binary_tanh with one channel per
parameter set is built with `ModelGraph.from_layer_list`, compiled with g++ and fed EVERY code of
the input type on every channel. Per (code, channel):
  (a) hls4ml's output must equal `hls4ml_rule` below, the rule docs/arithmetic.md states for
      hls4ml (threshold = -bias/scale in the float precision of the parameters, floored to the
      input grid, stored in the input type with its overflow mode, a non-finite threshold read
      as 0, `x >= threshold` whatever the sign of gamma);
  (b) `rtlgen predict` on the same network (batchnorm + sign, which rtlgen folds exactly) must
      equal the exact sign of the exactly evaluated batchnorm (`exact_sign`: Fractions, the square
      root decided by squaring, never approximated);
  (c) the number of pairs where hls4ml differs from the exact sign is printed (a figure, not a
      failure);
  (d) `rtlgen predict` with an explicit `threshold` layer holding hls4ml's thresholds must equal
      hls4ml (docs/arithmetic.md: that is how a model reproduces hls4ml's folding).
gamma = 0 (hls4ml divides by zero) is its own case.

Part 2, binary dense layers, as hls4ml builds them for binary networks (its Keras converter gives
`BinaryDense` a `BinaryQuantizer(bits=2)`; after a BatchNormalizationQuantizedTanh the pass
`vivado:quantize_dense_output` turns the weights into 1-bit xnor weights, `product::both_binary`,
output int<ceil(log2 n)+2>). Bipolar data only exists in hls4ml as the output of a
BatchNormalizationQuantizedTanh, so the bipolar cases put one in front (scale 2, bias 0: x >= 0).
Each case: 10,000 random input vectors, every output compared exactly with `rtlgen predict`.

    python3 Tests/hls4ml/binary.py [--rtlgen PATH]

Any python3 may start it: it gets the hls4ml venv from scripts/hls4ml-venv.sh and re-runs itself
there. When PyPI cannot be reached (that script exits 3) it prints "SKIP: ..." and exits 0.
hls4ml build folders and its predictions are cached under .cache/hls4ml-binary/.
"""
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import time
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hls4ml_venv  # noqa: E402
from fixed_text import exact_decimal, hls_type  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CACHE = os.path.join(ROOT, '.cache', 'hls4ml-binary')
N_VECTORS = 10_000

# --- part 1: batchnorm + binary_tanh ------------------------------------------------------------
# Parameters as decimals; hls4ml gets them as float32 arrays (what a Keras model holds), rtlgen gets
# the exact decimal of each float32, so both see the same numbers. epsilon = 2^-10 is exact.
EPSILON = 0.0009765625
# label, gamma, beta, mean, variance. "grid": -bias/scale is exactly a multiple of 2^-4 (on every
# grid below); with variance + epsilon = 0.25, 1 or 9 the square root is rational (exact ties).
CHANNELS = [
    ('pos irrational', 0.75, 0.3, 0.1, 2.0),
    ('pos irrational 2', 1.7, -0.45, -0.2, 0.5),
    ('pos t=-1/3', 3.0, 1.0, 0.0, 0.9990234375),
    ('pos grid t=-1/16', 1.0, 0.375, 0.125, 0.2490234375),
    ('pos grid t=-3/4, float above', 1.0, 0.25, 0.0, 8.9990234375),   # scale 1/3 in float32
    ('pos grid t=5/4, float below', 1.0, -0.75, -1.0, 8.9990234375),  # float32 t = 1.2499999
    ('pos grid t=1', 2.0, -1.0, 0.5, 0.9990234375),
    ('pos grid t=0', 0.5, 0.0, 0.0, 0.9990234375),
    ('neg irrational', -0.75, 0.3, 0.1, 2.0),
    ('neg grid t=-1/8', -2.0, 0.5, -0.25, 0.2490234375),
    ('neg irrational 2', -1.3, -0.2, 0.6, 0.7),
    ('pos t=-6', 0.5, 3.0, 0.0, 0.9990234375),
    ('pos t=6', 0.25, -1.5, 0.0, 0.9990234375),
    ('pos t=12', 0.125, -1.5, 0.0, 0.9990234375),
    ('neg t=5', -0.5, 2.5, 0.0, 0.9990234375),
    ('tiny gamma', 2.0 ** -12, 0.001, 0.0, 1.0),
]
GAMMA0 = [  # gamma = 0: the exact sign is sign(beta) (0 -> +1); hls4ml computes -bias/0
    ('gamma 0, beta > 0', 0.0, 0.5, 0.1, 1.0),
    ('gamma 0, beta < 0', 0.0, -0.5, -0.5, 1.0),
    ('gamma 0, beta = 0', 0.0, 0.0, 0.0, 1.0),
]
BN_CASES = [  # name, input type, channels
    ('bn_sign_fixed8_3', 'fixed<8,3>', CHANNELS),
    ('bn_sign_ufixed9_3', 'ufixed<9,3>', CHANNELS),
    ('bn_sign_fixed12_4_sat', 'fixed<12,4,TRN,SAT>', CHANNELS),
    ('bn_sign_gamma0', 'fixed<8,3>', GAMMA0),
]

# --- part 2: dense layers with binary weights ---------------------------------------------------
# name, n_in, units, input type (None: bipolar), weights ('binary2': BinaryQuantizer(bits=2) as
# hls4ml's Keras converter sets for BinaryDense, 'xnor': BinaryQuantizer(bits=1), or a fixed type:
# an ordinary Dense on bipolar data), hls4ml output type (None: hls4ml chooses), rtlgen output type,
# the product hls4ml must pick (checked, so that a case cannot silently test another path)
DENSE_CASES = [
    ('xnor_dense_n15', 15, 12, None, 'binary2', None, 'int<16>', 'both_binary'),
    ('xnor_dense_n16', 16, 12, None, 'binary2', None, 'int<16>', 'both_binary'),
    ('xnor_dense_n64', 64, 32, None, 'binary2', None, 'int<16>', 'both_binary'),
    ('binw_fixed_in_n15', 15, 10, 'fixed<8,3>', 'binary2', 'fixed<16,8>', 'fixed<16,8>', 'weight_ternary'),
    ('binw_fixed_in_n16_xnorw', 16, 10, 'fixed<8,3>', 'xnor', 'fixed<16,8>', 'fixed<16,8>', 'weight_binary'),
    ('bipolar_in_fixed_w_n15', 15, 10, None, 'fixed<8,3>', 'fixed<16,8>', 'fixed<16,8>', 'data_binary'),
]


def parse_type(t):
    """(signed, W, I, overflow) of fixed<W,I,...> / ufixed<W,I,...>."""
    base, args = t.split('<', 1)
    a = [s.strip() for s in args.rstrip('>').split(',')]
    return base.strip() == 'fixed', int(a[0]), int(a[1]), (a[3] if len(a) > 3 else 'WRAP')


def code_range(t):
    signed, w, _, _ = parse_type(t)
    return (-(1 << (w - 1)), (1 << (w - 1)) - 1) if signed else (0, (1 << w) - 1)


def model_json(model):
    """JSON with numbers written as exact decimal text (numbers are given as strings '#n:<text>')."""
    text = json.dumps(model, indent=1)
    return re.sub(r'"#n:([^"]*)"', r'\1', text)


def num(v):
    return '#n:' + exact_decimal(v)


def run_rtlgen(rtlgen, name, model, rows, work):
    mpath = os.path.join(work, f'{name}.json')
    xpath = os.path.join(work, f'{name}.csv')
    with open(mpath, 'w') as fh:
        fh.write(model_json(model))
    with open(xpath, 'w') as fh:
        fh.write(''.join(','.join(r) + '\n' for r in rows))
    r = subprocess.run([rtlgen, 'predict', mpath, '--input', xpath], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit(f'{name}: rtlgen predict failed: {r.stderr.decode().strip()}')
    return [[Fraction(v) for v in line.split(',')] for line in r.stdout.decode().splitlines() if line.strip()]


def _key_part(o):
    """JSON for the cache key: arrays as lists, quantizers by class and bits."""
    if hasattr(o, 'tolist'):
        return [str(o.dtype), o.tolist()]
    return [type(o).__name__, getattr(o, 'bits', None)]


def hls4ml_predict(name, make_layers, hls_config, xs):
    """Builds (or reuses) the hls4ml project of a case; returns its predictions, a description of
    what hls4ml built (layer classes, the dense product) and whether it came from the cache."""
    import numpy as np
    import hls4ml
    layers = make_layers()
    # The cache key covers everything hls4ml is given.
    key = hashlib.sha256(json.dumps([hls4ml.__version__, layers, hls_config], sort_keys=True,
                                    default=_key_part).encode()
                         + np.ascontiguousarray(xs).tobytes()).hexdigest()[:16]
    cached = os.path.join(CACHE, f'{name}-{key}.npy')
    info_path = os.path.join(CACHE, f'{name}-{key}.info')
    if os.path.exists(cached) and os.path.exists(info_path):
        with open(info_path) as fh:
            return np.load(cached), fh.read().split(), True
    out_dir = os.path.join(CACHE, name)
    config = {'HLSConfig': hls_config, 'Backend': 'Vivado', 'OutputDir': out_dir,
              'ProjectName': 'bin', 'IOType': 'io_parallel'}
    with np.errstate(divide='ignore', invalid='ignore'):  # gamma = 0: -bias / 0 (the case's subject)
        model = hls4ml.model.ModelGraph.from_layer_list(config, layers)
    info = [layer.class_name for layer in model.get_layers()]
    model.compile()
    with open(os.path.join(out_dir, 'firmware', 'parameters.h')) as fh:
        info += sorted(set(re.findall(r'product::(\w+)', fh.read())))
    y = np.asarray(model.predict(np.ascontiguousarray(xs)), dtype=np.float64).reshape(xs.shape[0], -1)
    np.save(cached, y)
    with open(info_path, 'w') as fh:
        fh.write(' '.join(info))
    return y, info, False


# --- the two rules of part 1 ----------------------------------------------------------------------

def exact_sign(x, g, b, m, d):
    """+1 iff b + (x - m) * g / sqrt(d) >= 0, all exact rationals, d > 0: the sign of
    (x - m) * g + b * sqrt(d), decided by signs and by comparing squares."""
    a = (x - m) * g
    if a >= 0 and b >= 0:
        return 1
    if a <= 0 and b <= 0:  # and not both 0
        return -1
    if a > 0:  # b < 0: a >= |b| sqrt(d)
        return 1 if a * a >= b * b * d else -1
    return 1 if b * b * d >= a * a else -1  # a < 0 < b


def hls4ml_rule(params32, in_t):
    """hls4ml 1.3's folding as docs/arithmetic.md states it: per channel the threshold code of the
    input type. scale = gamma / sqrt(variance + epsilon), bias = beta - scale * mean and
    t = -bias / scale are computed in float32 (the parameters' precision); t is floored to the input
    grid and stored in the input type (a non-finite t reads as 0; an out-of-range one wraps or
    saturates with the input type's overflow mode); the output is +1 iff x >= t."""
    import numpy as np
    signed, w, i, ovf = parse_type(in_t)
    f = w - i
    lo, hi = code_range(in_t)
    g, b, m, v = params32
    with np.errstate(divide='ignore', invalid='ignore'):
        scale = g / np.sqrt(v + np.float32(EPSILON))
        bias = b - scale * m
        t = -bias / scale
    codes = []
    for tc in t:
        if not math.isfinite(float(tc)):
            codes.append(0)
            continue
        k = math.floor(Fraction(float(tc)) * 2 ** f)
        if ovf == 'SAT':
            k = min(max(k, lo), hi)
        else:
            assert ovf == 'WRAP', ovf
            k = (k - lo) % (1 << w) + lo
        codes.append(k)
    return codes


def run_bn_case(rtlgen, work, name, in_t, channels):
    import numpy as np
    signed, w, i, _ = parse_type(in_t)
    f = w - i
    lo, hi = code_range(in_t)
    n = len(channels)
    params32 = [np.array([ch[k] for ch in channels], dtype=np.float32) for k in (1, 2, 3, 4)]
    exact = [[Fraction(float(p[c])) for p in params32] for c in range(n)]  # g, b, m, v
    eps = Fraction(EPSILON)
    codes = list(range(lo, hi + 1))
    xs = np.array([[c / 2.0 ** f] * n for c in codes], dtype=np.float64)

    def layers():
        return [{'class_name': 'InputLayer', 'name': 'x', 'input_shape': [n]},
                {'class_name': 'BatchNormalization', 'name': 'bn', 'inputs': ['x'], 'n_in': n, 'n_out': n,
                 'n_filt': -1, 'gamma_data': params32[0], 'beta_data': params32[1], 'mean_data': params32[2],
                 'variance_data': params32[3], 'epsilon': EPSILON, 'use_gamma': True, 'use_beta': True},
                {'class_name': 'Activation', 'name': 'act', 'inputs': ['bn'], 'activation': 'binary_tanh'}]
    hls_config = {'Model': {'Precision': 'ap_fixed<16,6>', 'ReuseFactor': 1, 'Strategy': 'Latency'},
                  'LayerName': {'x': {'Precision': {'result': hls_type(in_t)}}}}
    y_hls, merged, cached = hls4ml_predict(name, layers, hls_config, xs)
    if 'BatchNormalizationQuantizedTanh' not in merged:
        sys.exit(f'{name}: hls4ml did not merge batchnorm + binary_tanh (layers: {merged})')

    rows = [[exact_decimal(Fraction(c, 1 << f))] * n for c in codes]
    bn = {'name': 'bn', 'op': 'batchnorm',
          'gamma': [num(e[0]) for e in exact], 'beta': [num(e[1]) for e in exact],
          'mean': [num(e[2]) for e in exact], 'variance': [num(e[3]) for e in exact], 'epsilon': num(eps)}
    base = {'format': 'rtlgen-model', 'version': 1, 'input': {'name': 'x', 'size': n, 'type': in_t}}
    y_rtl = run_rtlgen(rtlgen, name, dict(base, name=name, layers=[bn, {'name': 'act', 'op': 'sign'}]), rows, work)
    t_codes = hls4ml_rule(params32, in_t)
    th = {'name': 'th', 'op': 'threshold', 'thresholds': [num(Fraction(k, 1 << f)) for k in t_codes]}
    y_th = run_rtlgen(rtlgen, name + '_threshold', dict(base, name=name + '_threshold', layers=[th]), rows, work)

    bad_a = bad_b = bad_d = 0
    diff_c = [0] * n
    first = []
    for r, code in enumerate(codes):
        x = Fraction(code, 1 << f)
        for c in range(n):
            hls = 1 if y_hls[r, c] == 1 else -1
            assert y_hls[r, c] in (0.0, 1.0), y_hls[r, c]
            rule = 1 if code >= t_codes[c] else -1
            g, b, m, v = exact[c]
            ex = exact_sign(x, g, b, m, v + eps)
            if hls != rule:
                bad_a += 1
                first.append(f'(a) x={x} ch {c} ({channels[c][0]}): hls4ml {hls}, documented rule {rule}')
            if y_rtl[r][c] != ex:
                bad_b += 1
                first.append(f'(b) x={x} ch {c} ({channels[c][0]}): rtlgen {y_rtl[r][c]}, exact sign {ex}')
            if y_th[r][c] != hls:
                bad_d += 1
                first.append(f'(d) x={x} ch {c} ({channels[c][0]}): rtlgen threshold layer {y_th[r][c]}, hls4ml {hls}')
            diff_c[c] += hls != ex
    pairs = len(codes) * n
    ok = bad_a == 0 and bad_b == 0 and bad_d == 0
    status = 'bit-exact' if ok else f'MISMATCH (a) {bad_a}, (b) {bad_b}, (d) {bad_d}; first: {first[0]}'
    per_ch = ', '.join(f'{channels[c][0]}: {diff_c[c]}' for c in range(n) if diff_c[c])
    return ok, pairs, sum(diff_c), status, cached, per_ch


# --- part 2 ---------------------------------------------------------------------------------------

def run_dense_case(rtlgen, work, seed, name, n_in, units, in_t, wkind, hls_out, rtl_out, product):
    import numpy as np
    from hls4ml.model.quantizers import BinaryQuantizer
    rng = np.random.default_rng(seed)
    bipolar_in = in_t is None
    if bipolar_in:
        xs = rng.choice(np.array([-1.0, 1.0]), size=(N_VECTORS, n_in))
        rows = [[str(int(v)) for v in r] for r in xs]
    else:
        signed, w, i, _ = parse_type(in_t)
        f = w - i
        lo, hi = code_range(in_t)
        xc = rng.integers(lo, hi + 1, size=(N_VECTORS, n_in))
        xc[:50] = rng.choice(np.array([lo, hi]), size=(50, n_in))  # extremes: the largest sums
        xs = xc / 2.0 ** f
        rows = [[exact_decimal(Fraction(int(c), 1 << f)) for c in r] for r in xc]
    fixed_w = wkind not in ('binary2', 'xnor')
    if fixed_w:
        s, w_, i_, _ = parse_type(wkind)
        wf = w_ - i_
        wlo, whi = code_range(wkind)
        kernel = rng.integers(wlo, whi + 1, size=(n_in, units)) / 2.0 ** wf
        bias = rng.integers(wlo, whi + 1, size=units) / 2.0 ** wf
    else:
        kernel = rng.choice(np.array([-1.0, 1.0]), size=(n_in, units))
        bias = None

    def layers():
        ls = [{'class_name': 'InputLayer', 'name': 'x', 'input_shape': [n_in]}]
        src = 'x'
        if bipolar_in:
            # The only source of bipolar (xnor) data in hls4ml: a merged BN + binary_tanh. Scale 2,
            # bias 0 gives the threshold 0 (x >= 0); scale 1 would be removed as a no-op batchnorm
            # (pass remove_nop_batch_normalization), leaving a plain binary_tanh with a non-xnor output.
            ls += [{'class_name': 'BatchNormalization', 'name': 'bn', 'inputs': ['x'], 'n_in': n_in, 'n_out': n_in,
                    'n_filt': -1, 'scale_data': np.full(n_in, 2.0), 'bias_data': np.zeros(n_in),
                    'use_gamma': True, 'use_beta': True},
                   {'class_name': 'Activation', 'name': 'sign', 'inputs': ['bn'], 'activation': 'binary_tanh'}]
            src = 'sign'
        d = {'class_name': 'Dense', 'name': 'fc', 'inputs': [src], 'n_in': n_in, 'n_out': units,
             'weight_data': kernel.copy()}
        if fixed_w:
            d['bias_data'] = bias.copy()
        else:  # no bias (Keras BinaryDense use_bias=False): hls4ml then uses zeros, unquantized
            d['weight_quantizer'] = BinaryQuantizer(bits=2 if wkind == 'binary2' else 1)
        return ls + [d]
    fc_cfg = {}
    if hls_out is not None:
        fc_cfg['Precision'] = {'result': hls_type(hls_out), 'accum': hls_type(hls_out)}
        if fixed_w:
            fc_cfg['Precision'].update({'weight': hls_type(wkind), 'bias': hls_type(wkind)})
    hls_config = {'Model': {'Precision': 'ap_fixed<16,6>', 'ReuseFactor': 1, 'Strategy': 'Latency'},
                  'LayerName': {'x': {'Precision': {'result': 'ap_fixed<4,2>' if bipolar_in else hls_type(in_t)}},
                                'fc': fc_cfg}}
    y_hls, info, cached = hls4ml_predict(name, layers, hls_config, xs)
    if info[-1:] != [product]:
        sys.exit(f'{name}: hls4ml built {info}, expected a Dense with product::{product}')

    if fixed_w:
        layer = {'name': 'fc', 'op': 'dense', 'units': units, 'kernel': [[num(v) for v in r] for r in kernel],
                 'bias': [num(v) for v in bias], 'kernel_type': wkind, 'bias_type': wkind,
                 'accum_type': 'auto', 'output_type': rtl_out}
    else:
        layer = {'name': 'fc', 'op': 'binary_dense', 'units': units,
                 'kernel': [[num(v) for v in r] for r in kernel], 'output_type': rtl_out}
    model = {'format': 'rtlgen-model', 'version': 1, 'name': name,
             'input': {'name': 'x', 'size': n_in, 'type': 'bipolar' if bipolar_in else in_t}, 'layers': [layer]}
    y_rtl = run_rtlgen(rtlgen, name, model, rows, work)
    diffs = 0
    first = None
    for r in range(N_VECTORS):
        for j in range(units):
            a = Fraction(float(y_hls[r, j]))
            if a != y_rtl[r][j]:
                diffs += 1
                if first is None:
                    first = f'vector {r} output {j}: hls4ml {a}, rtlgen {y_rtl[r][j]}'
    return diffs, info, cached, first


def main():
    args = sys.argv[1:]
    rtlgen = os.path.join(ROOT, '.build', 'release', 'rtlgen')
    if '--rtlgen' in args:
        rtlgen = os.path.abspath(args[args.index('--rtlgen') + 1])
    hls4ml_venv.enter('hls4ml-binary')
    import hls4ml
    t_start = time.time()
    os.makedirs(CACHE, exist_ok=True)
    work = os.path.join(CACHE, 'rtlgen')
    os.makedirs(work, exist_ok=True)
    failed = 0
    total_pairs = total_diff = 0
    for name, in_t, channels in BN_CASES:
        t0 = time.time()
        ok, pairs, ndiff, status, cached, per_ch = run_bn_case(rtlgen, work, name, in_t, channels)
        total_pairs += pairs
        total_diff += ndiff
        print(f'{name:24s} {in_t:>20s} {len(channels):2d} channels x {pairs // len(channels):4d} codes = '
              f'{pairs:5d} pairs: {status}; hls4ml differs from the exact sign on {ndiff}'
              f' ({time.time() - t0:.1f} s{", hls4ml cached" if cached else ""})')
        if per_ch:
            print(f'    per channel: {per_ch}')
        failed += not ok
    for k, case in enumerate(DENSE_CASES):
        name, n_in, units, in_t, wkind, hls_out, rtl_out, product = case
        t0 = time.time()
        diffs, info, cached, first = run_dense_case(rtlgen, work, 1000 + k, *case)
        status = 'bit-exact' if diffs == 0 else f'{diffs} DIFFERENCES, first: {first}'
        what = f'{"bipolar" if in_t is None else in_t} x {wkind} weights'
        print(f'{name:24s} {what:>28s} {n_in:2d} -> {units:2d}, {N_VECTORS} vectors, '
              f'{N_VECTORS * units} outputs: {status} (product::{product})'
              f' ({time.time() - t0:.1f} s{", hls4ml cached" if cached else ""})')
        failed += diffs != 0
    n_cases = len(BN_CASES) + len(DENSE_CASES)
    print(f'hls4ml-binary: {n_cases - failed}/{n_cases} cases bit-exact with hls4ml {hls4ml.__version__}; '
          f'batchnorm + binary_tanh: hls4ml differs from the exact sign on {total_diff} of {total_pairs} '
          f'(code, channel) pairs ({time.time() - t_start:.0f} s)')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
