#!/usr/bin/env python3
"""A whole real model through hls4ml's own Keras converter, compared with `rtlgen predict`.

The jet tagger (hls4ml's example KERAS_3layer: 16-64-32-32-5, ReLU, softmax) is converted from
its Keras JSON + HDF5 weights by hls4ml 1.3's Keras converter (`keras_v2_to_hls`, which reads
the files with h5py; TensorFlow is not needed), with hls4ml's defaults: Vivado backend,
io_parallel, model precision fixed<16,6> (granularity 'model'), ReuseFactor 1, Latency strategy.
Its C++ is compiled with g++ and predicts on the inputs of
`rtlgen vectors examples/jet_tagger/model.json --count N --seed 5` (edge, off-grid and
out-of-range values), given as float64. Every output is converted exactly to its decimal and
compared as text with `rtlgen predict` on two rtlgen models:

  1. examples/jet_tagger/model.json as committed (its dense layers have `accum_type: auto`,
     the exact sum). Its agreement with hls4ml is printed as a figure, not a failure: hls4ml's
     dense layers cast each product to the model precision and add in it (accum_t =
     fixed<16,6>), so they differ wherever that rounding or a wrap changes the result.
     A per-layer diagnosis (hls4ml's trace against rtlgen predict on the model cut after each
     layer) says where the samples first differ.
  2. The same model with every dense layer's `accum_type` set to the accum_t hls4ml reports for
     it (read from hls4ml's converted model, not assumed). This one must be bit-exact on every
     output of every layer, or the script exits 1.

Before that it checks that the CSV's decimals reach hls4ml unchanged: each value's fixed<16,6>
code (TRN, WRAP) from the exact decimal must equal the code of its float64 (what hls4ml gets) -
out-of-range values wrap on both sides, exactly as ap_fixed does.

    python3 Tests/hls4ml/models.py [--rtlgen PATH] [--count 10000]

Any python3 may start it: it re-runs itself in the venv of scripts/hls4ml-venv.sh (which
has hls4ml and h5py); "SKIP: ..." with exit 0 only when PyPI cannot be reached. hls4ml's build
folder and predictions are cached under .cache/hls4ml-models/.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hls4ml_venv  # noqa: E402
from fixed_text import exact_decimal  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CACHE = os.path.join(ROOT, '.cache', 'hls4ml-models')
EXAMPLE = os.path.join(ROOT, 'examples', 'jet_tagger', 'model.json')
# The team's copy of the example models sits beside the repository (../shared).
KERAS_DIR_DEFAULT = os.path.join(ROOT, '..', 'shared', 'models', 'hls4ml-example-models', 'keras')
MODEL_PRECISION = 'fixed<16,6>'
SOURCE_MD5 = {'KERAS_3layer.json': 'd5f49034a74d4761b6f5b996f5924586',
              'KERAS_3layer_weights.h5': 'db78a95480f72e42b1ef29f9c222e1d7'}
SEED = 5


def code_trn_wrap(v, w=16, i=6):
    """Code of fixed<w,i> (TRN, WRAP) for an exact value."""
    c = (Fraction(v) * (1 << (w - i))).__floor__()
    c &= (1 << w) - 1
    return c - (1 << w) if c >> (w - 1) else c


def read_csv(path):
    return [ln.strip().split(',') for ln in open(path) if ln.strip() and not ln.startswith('#')]


def sha(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
    return h.hexdigest()[:16]


def hls4ml_model(keras_dir, trace):
    import hls4ml

    cfg_model = {'Precision': MODEL_PRECISION, 'ReuseFactor': 1, 'Strategy': 'Latency',
                 'BramFactor': 1000000000, 'TraceOutput': False}
    key = sha(hls4ml.__version__, json.dumps(cfg_model, sort_keys=True), trace,
              open(os.path.join(keras_dir, 'KERAS_3layer.json'), 'rb').read(),
              open(os.path.join(keras_dir, 'KERAS_3layer_weights.h5'), 'rb').read())
    out_dir = os.path.join(CACHE, 'jet-' + key)
    config = hls4ml.utils.config.create_config(output_dir=out_dir, project_name='jet', backend='Vivado')
    config['KerasJson'] = os.path.join(keras_dir, 'KERAS_3layer.json')
    config['KerasH5'] = os.path.join(keras_dir, 'KERAS_3layer_weights.h5')
    config['IOType'] = 'io_parallel'
    config['HLSConfig'] = {'Model': cfg_model}
    model = hls4ml.converters.keras_v2_to_hls(config)
    if trace:  # every layer's output, for the per-layer comparison
        for layer in model.get_layers():
            layer.set_attr('trace', True)
    return model, key


def rtlgen_predict(rtlgen, model, csv_path, work, tag):
    path = os.path.join(work, tag + '.json')
    with open(path, 'w') as f:
        json.dump(model, f)
    r = subprocess.run([rtlgen, 'predict', path, '--input', csv_path], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit('rtlgen predict %s exited %d: %s' % (tag, r.returncode, r.stderr.strip()))
    return [ln.split(',') for ln in r.stdout.split('\n') if ln]


def compare(a, b):
    """(equal samples, equal outputs, total outputs, index of first differing sample or None)."""
    eq_s = eq_o = tot = 0
    first = None
    for k, (ra, rb) in enumerate(zip(a, b)):
        e = sum(1 for u, v in zip(ra, rb) if u == v)
        eq_o += e
        tot += len(ra)
        if e == len(ra) and len(ra) == len(rb):
            eq_s += 1
        elif first is None:
            first = k
    return eq_s, eq_o, tot, first


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rtlgen', default=os.path.join(ROOT, '.build', 'release', 'rtlgen'))
    p.add_argument('--count', type=int, default=10000)
    p.add_argument('--keras-dir', default=os.path.join(os.environ['EXAMPLE_MODELS'], 'keras')
                   if os.environ.get('EXAMPLE_MODELS') else KERAS_DIR_DEFAULT,
                   help='folder with KERAS_3layer.json and KERAS_3layer_weights.h5 (default: '
                        '$EXAMPLE_MODELS/keras, a checkout of fastmachinelearning/example-models)')
    args = p.parse_args()
    rtlgen = os.path.abspath(args.rtlgen)
    if not os.path.exists(os.path.join(args.keras_dir, 'KERAS_3layer_weights.h5')):
        print('hls4ml models: %s has no KERAS_3layer_weights.h5 (set --keras-dir or EXAMPLE_MODELS)'
              % args.keras_dir)
        return 1
    for name, md5 in SOURCE_MD5.items():  # the files examples/jet_tagger/README.md names
        got = hashlib.md5(open(os.path.join(args.keras_dir, name), 'rb').read()).hexdigest()
        if got != md5:
            print('hls4ml models: %s has md5 %s, not %s (the file the example was made from)' % (name, got, md5))
            return 1
    hls4ml_venv.enter('hls4ml whole-model comparison')
    import numpy as np
    import hls4ml

    t0 = time.time()
    os.makedirs(CACHE, exist_ok=True)
    work = os.path.join(CACHE, 'rtlgen')
    os.makedirs(work, exist_ok=True)
    csv_path = os.path.join(work, 'x.csv')
    r = subprocess.run([rtlgen, 'vectors', EXAMPLE, '--count', str(args.count), '--seed', str(SEED)],
                       capture_output=True, text=True, check=True)
    with open(csv_path, 'w') as f:
        f.write(r.stdout)
    rows = read_csv(csv_path)

    # 1. The inputs: the float64 hls4ml gets must quantize to the code of the exact decimal.
    n_vals = n_out = bad = 0
    for row in rows:
        for s in row:
            exact = Fraction(s)
            n_vals += 1
            n_out += not (-32 <= exact < 32)
            if code_trn_wrap(exact) != code_trn_wrap(float(s)):
                bad += 1
    print('inputs: %d samples x 16 = %d values, %d outside fixed<16,6> (they wrap, as in ap_fixed), '
          '%d whose float64 quantizes differently from the exact decimal' % (len(rows), n_vals, n_out, bad))
    if bad:
        return 1
    x = np.ascontiguousarray(np.array([[float(s) for s in row] for row in rows], dtype=np.float64))

    # 2. hls4ml: convert the Keras files, compile, predict with the trace of every layer.
    model, key = hls4ml_model(args.keras_dir, trace=True)
    layers = [l for l in model.get_layers() if l.class_name != 'Input']
    cached = os.path.join(CACHE, 'pred-%s-%s.npz' % (key, sha(open(csv_path, 'rb').read())))
    if os.path.exists(cached):
        z = np.load(cached)
        trace = {l.name: z[l.name] for l in layers}
        how = 'cached'
    else:
        model.compile()
        _, trace = model.trace(x)
        trace = {l.name: np.asarray(trace[l.name], dtype=np.float64).reshape(len(x), -1) for l in layers}
        np.savez(cached, **trace)
        how = 'compiled with g++'
    print('hls4ml %s: KERAS_3layer converted by keras_v2_to_hls (%s), layers: %s'
          % (hls4ml.__version__, how, ', '.join('%s %s' % (l.name, l.class_name) for l in layers)))
    hls_text = {name: [[exact_decimal(v) for v in r] for r in arr] for name, arr in trace.items()}

    # rtlgen's layers in order next to hls4ml's (hls4ml splits Dense+activation in two layers too).
    example = json.load(open(EXAMPLE))
    if len(example['layers']) != len(layers):
        print('hls4ml has %d layers, the example %d' % (len(layers), len(example['layers'])))
        return 1
    variant = json.loads(json.dumps(example))
    variant['name'] = 'jet_tagger_hls4ml_accum'
    dense_hls = [l for l in layers if l.class_name == 'Dense']
    for lr, lh in zip([l for l in variant['layers'] if l['op'] == 'dense'], dense_hls):
        p = lh.types['accum_t'].precision
        lr['accum_type'] = '%s<%d,%d,%s,%s>' % ('fixed' if p.signed else 'ufixed', p.width, p.integer,
                                                p.rounding_mode.name, p.saturation_mode.name)

    failed = False
    summary = {}
    for tag, m in (('example', example), ('hls4ml_accum', variant)):
        print('\n%s: %s' % (tag, 'examples/jet_tagger/model.json as committed (dense accum_type auto)'
                            if tag == 'example' else 'the example with dense accum_type = hls4ml\'s accum_t: '
                            + ', '.join('%s %s' % (l['name'], l['accum_type']) for l in m['layers'] if l['op'] == 'dense')))
        prev_ok = set(range(len(rows)))
        for n, (lr, lh) in enumerate(zip(m['layers'], layers)):
            cut = dict(m, layers=m['layers'][:n + 1])
            out = rtlgen_predict(rtlgen, cut, csv_path, work, '%s-%d' % (tag, n))
            eq_s, eq_o, tot, first = compare(out, hls_text[lh.name])
            bad_here = {k for k in range(len(rows)) if out[k] != hls_text[lh.name][k]}
            new = len(prev_ok & bad_here)
            prev_ok -= bad_here
            print('  %-8s (hls4ml %-22s): %5d/%d samples, %6d/%d outputs bit-exact; %d samples first differ here'
                  % (lr['name'], lh.name, eq_s, len(rows), eq_o, tot, new))
            if new and lr['op'] == 'dense':
                # In units of the output's LSB: how far rtlgen's exact sum lies from hls4ml's.
                lsb = Fraction(1, 1 << 10)
                # Modulo 2^16: both sides wrap in fixed<16,6> (hls4ml in its sum, rtlgen in the cast).
                d = [(int((Fraction(u) - Fraction(v)) / lsb) + (1 << 15)) % (1 << 16) - (1 << 15)
                     for k in sorted(bad_here) for u, v in zip(out[k], hls_text[lh.name][k])]
                d.sort()
                print('           rtlgen - hls4ml in LSBs of %s (mod 2^16) over its %d outputs: min %d, median %d, max %d, '
                      '%d negative' % (lr['output_type'], len(d), d[0], d[len(d) // 2], d[-1], sum(1 for v in d if v < 0)))
            if n == len(layers) - 1:
                summary[tag] = (eq_s, eq_o, tot, first, out)
        eq_s, eq_o, tot, first, out = summary[tag]
        if first is not None:
            hl = hls_text[layers[-1].name][first]
            print('  first differing sample %d: rtlgen %s, hls4ml %s' % (first, ','.join(out[first]), ','.join(hl)))
        if tag == 'hls4ml_accum' and eq_s != len(rows):
            failed = True
    es, eo, et, _, _ = summary['example']
    vs, vo, vt, _, _ = summary['hls4ml_accum']
    print('\nhls4ml models: KERAS_3layer, %d samples x 5 outputs (%.0f s)' % (len(rows), time.time() - t0))
    print('  example (accum auto):          %d/%d samples, %d/%d outputs bit-exact with hls4ml '
          '(differences: hls4ml casts each product to accum_t and sums in it)' % (es, len(rows), eo, et))
    print('  with hls4ml\'s accum_t:         %d/%d samples, %d/%d outputs bit-exact with hls4ml' % (vs, len(rows), vo, vt))
    if failed:
        print('hls4ml models: FAILED (with hls4ml\'s own types rtlgen must equal hls4ml everywhere)')
        return 1
    print('hls4ml models: ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
