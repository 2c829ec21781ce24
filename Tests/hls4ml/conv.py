#!/usr/bin/env python3
"""Convolutional networks against hls4ml 1.3 itself (make hls4ml-conv): Keras / QKeras conv models,
hls4ml configurations, the same inputs, hls4ml's own C++ emulation (io_parallel, Vivado backend,
compile() + predict()) and `rtlgen predict CONFIG.yml`, every output compared as exact decimal text.

Models (../shared/models/hls4ml-example-models or $EXAMPLE_MODELS, and two written here, seeded):
  - keras/KERAS_conv1d_small   Conv1D x3 (k=4, same, ReLU), Flatten, Dense 5 ReLU, Dense 5 softmax
  - keras/KERAS_conv2d_model   Conv2D 2x3x3 same + ReLU, Dropout, Flatten, Dense 10 softmax
  - qkeras_cnn (made here)     QConv2D 4-bit same + BatchNormalization + ReLU, MaxPooling2D,
                               Conv2D stride 2 + BatchNormalization + ReLU, AveragePooling2D same,
                               Flatten, QDense 4-bit
  - keras_c1d (made here)      ZeroPadding1D, Conv1D stride 2, MaxPooling1D same,
                               AveragePooling1D, GlobalMaxPooling1D ... Dense
Each with three hls4ml configurations: Model-level fixed<16,6> only; per-layer precisions
(result, accum, weight, bias) on the conv and pooling layers (LayerName and LayerType Conv2D /
Pooling2D, ParallelizationFactor on a conv); and hls4ml 1.3's 'auto' conv accum/result and
pooling accum (type inference, and a BatchNormalization folded into the conv before it).
Each model with its per-layer config is also built and simulated (`rtlgen sim --simulator both`).

    python3 Tests/hls4ml/conv.py [--rtlgen PATH] [--count 10000] [--sim-count 300] [--quick]

--quick (make test): the 'auto' configuration on qkeras_cnn only and the simulations of the 2D
models only (conv1d hardware is simulated by make sim's Tests/models/conv/tiny_c1d); the full
set is `make hls4ml-conv-full`.

Runs itself in scripts/hls4ml-tf-venv.sh's venv; "SKIP: ..." only when PyPI is unreachable.
hls4ml predictions are cached under .cache/hls4ml-conv/.
"""
import argparse
import copy
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hls4ml_venv  # noqa: E402
from fixed_text import exact_decimal  # noqa: E402
from importers import example_dir, sha, run  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CACHE = os.path.join(ROOT, '.cache', 'hls4ml-conv')


def make_models(out):
    """The two seeded models (Keras 2 JSON + weights .h5), written once."""
    import numpy as np
    os.makedirs(out, exist_ok=True)
    done = os.path.join(out, 'done-v1')
    if os.path.exists(done):
        return
    import tensorflow as tf
    from qkeras import QActivation, QConv2D, QDense, quantized_bits  # noqa: F401
    tf.random.set_seed(5)
    rng = np.random.default_rng(5)
    L = tf.keras.layers
    x = L.Input((9, 9, 2), name='img')
    h = QConv2D(4, (3, 3), padding='same', kernel_quantizer=quantized_bits(4, 0, alpha=1),
                bias_quantizer=quantized_bits(4, 0, alpha=1), name='qconv1')(x)
    h = L.BatchNormalization(name='bn1')(h)
    h = L.Activation('relu', name='relu1')(h)
    h = L.MaxPooling2D((2, 2), name='pool1')(h)
    h = L.Conv2D(3, (3, 3), strides=(2, 2), padding='same', name='conv2')(h)
    h = L.BatchNormalization(name='bn2')(h)
    h = L.Activation('relu', name='relu2')(h)
    h = L.AveragePooling2D((2, 2), strides=(1, 1), padding='same', name='pool2')(h)
    h = L.Flatten(name='flat')(h)
    y = QDense(4, kernel_quantizer=quantized_bits(4, 0, alpha=1), bias_quantizer=quantized_bits(4, 0, alpha=1), name='out')(h)
    m = tf.keras.Model(x, y, name='qkeras_cnn')
    for layer in m.layers:
        w = layer.get_weights()
        if not w:
            continue
        if isinstance(layer, L.BatchNormalization):
            n = w[0].shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.uniform(-0.5, 0.5, n), rng.uniform(-0.5, 0.5, n), rng.uniform(0.3, 2.0, n)])
        else:
            layer.set_weights([rng.normal(0, 0.5, a.shape).astype(np.float32) for a in w])
    open(os.path.join(out, 'qkeras_cnn.json'), 'w').write(m.to_json())
    m.save_weights(os.path.join(out, 'qkeras_cnn_weights.h5'))

    x = L.Input((16, 3), name='seq')
    h = L.ZeroPadding1D((1, 2), name='pad')(x)
    h = L.Conv1D(4, 3, strides=2, activation='relu', name='c1')(h)
    h = L.MaxPooling1D(2, strides=1, padding='same', name='mp')(h)
    h = L.Conv1D(3, 2, padding='same', name='c2')(h)
    h = L.AveragePooling1D(3, strides=2, name='ap')(h)
    h = L.GlobalMaxPooling1D(name='gmp')(h)
    y = L.Dense(3, name='fc')(h)
    m = tf.keras.Model(x, y, name='keras_c1d')
    for layer in m.layers:
        w = layer.get_weights()
        if w:
            layer.set_weights([rng.normal(0, 0.6, a.shape).astype(np.float32) for a in w])
    open(os.path.join(out, 'keras_c1d.json'), 'w').write(m.to_json())
    m.save_weights(os.path.join(out, 'keras_c1d_weights.h5'))
    open(done, 'w').write('1\n')


def layers_of(json_path):
    """(name, class_name) of the Keras layers."""
    arch = json.load(open(json_path))
    cfg = arch['config']
    return [(l['config']['name'], l['class_name']) for l in (cfg['layers'] if isinstance(cfg, dict) else cfg)]


def configs(json_path):
    """The three hls4ml configurations (HLSConfig sections) of a model."""
    model = {'Model': {'Precision': 'fixed<16,6>', 'ReuseFactor': 1, 'Strategy': 'Latency'}}
    per = {'Model': {'Precision': 'fixed<16,6>', 'ReuseFactor': 1, 'Strategy': 'Latency'},
           'LayerType': {'Conv2D': {'Precision': {'weight': 'fixed<8,2>', 'bias': 'fixed<8,3>', 'accum': 'fixed<22,9>', 'result': 'fixed<14,6>'}},
                         'Pooling2D': {'Precision': {'accum': 'fixed<18,7>', 'result': 'fixed<12,5,RND,SAT>'}},
                         'Pooling1D': {'Precision': {'accum': 'fixed<14,6>', 'result': 'fixed<12,5>'}}},
           'LayerName': {}}
    auto = {'Model': {'Precision': 'fixed<16,6>', 'ReuseFactor': 1, 'Strategy': 'Latency'}, 'LayerName': {}}
    conv_k = 0
    for name, cls in layers_of(json_path):
        if cls in ('Conv1D', 'Conv2D', 'QConv1D', 'QConv2D'):
            conv_k += 1
            if conv_k % 2 == 1:
                per['LayerName'][name] = {'Precision': {'weight': 'fixed<10,3>', 'bias': 'fixed<9,4>', 'accum': 'fixed<20,8,TRN,WRAP>',
                                                        'result': 'fixed<13,5,RND,SAT>'}, 'ParallelizationFactor': 2}
            auto['LayerName'][name] = {'Precision': {'weight': 'fixed<10,3>', 'bias': 'fixed<10,4>', 'accum': 'auto', 'result': 'auto'}}
        elif 'Pooling' in cls and 'Global' not in cls:
            auto['LayerName'][name] = {'Precision': {'accum': 'auto', 'result': 'auto'}}
        elif 'Global' in cls:
            per['LayerName'][name] = {'Precision': {'accum': 'fixed<18,8>', 'result': 'fixed<14,7>'}}
    return [('Model fixed<16,6>', model), ('per-layer precisions', per), ("'auto' conv/pool types", auto)]


def refusals(rtlgen, made):
    """Mutations of keras_c1d that must be refused: exit 2, one line naming the file and the layer."""
    import yaml
    base = json.load(open(os.path.join(made, 'keras_c1d.json')))
    h5 = os.path.join(made, 'keras_c1d_weights.h5')

    def layer(arch, name):
        return next(l for l in arch['config']['layers'] if l['config']['name'] == name)

    cases = [('dilation_rate', lambda a: layer(a, 'c1')['config'].update(dilation_rate=[2]), 'c1).dilation_rate', None),
             ('channels_first', lambda a: layer(a, 'c1')['config'].update(data_format='channels_first'), 'c1).data_format', None),
             ('groups', lambda a: layer(a, 'c2')['config'].update(groups=3), 'c2).groups', None),
             ('causal padding', lambda a: layer(a, 'c2')['config'].update(padding='causal'), 'c2).padding', None),
             ('kernel > input', lambda a: layer(a, 'c1')['config'].update(kernel_size=[40]), 'c1).kernel_size', None),
             ('depthwise', lambda a: layer(a, 'c2').update(class_name='DepthwiseConv1D'), 'c2).class_name', None),
             ('keepdims', lambda a: layer(a, 'gmp')['config'].update(keepdims=True), 'gmp).keepdims', None),
             ('unsigned max pool padding', lambda a: None, 'mp', {'LayerName': {'c1_relu': {'Precision': {'result': 'ufixed<12,4>'}}}})]
    ok = True
    for label, mutate, where, hls in cases:
        a = copy.deepcopy(base)
        mutate(a)
        j = os.path.join(CACHE, 'refuse.json')
        json.dump(a, open(j, 'w'))
        args = [j, '--weights', h5]
        if hls:
            y = os.path.join(CACHE, 'refuse.yml')
            open(y, 'w').write(yaml.safe_dump({'KerasJson': j, 'KerasH5': h5, 'IOType': 'io_parallel',
                                               'HLSConfig': dict({'Model': {'Precision': 'fixed<16,6>'}}, **hls)}))
            args = [y]
        r = subprocess.run([rtlgen, 'import'] + args + ['-o', os.path.join(CACHE, 'refuse-out.json')], capture_output=True, text=True)
        lines = r.stderr.strip().split('\n')
        good = r.returncode == 2 and len(lines) == 1 and where in lines[0] and 'refuse.json' in lines[0]
        ok &= good
        print('  refused: %-28s %s%s' % (label, 'ok' if good else 'FAILED', '' if good else ' (exit %d) %s' % (r.returncode, r.stderr.strip())))
    return ok


def hls4ml_predict(cfg, files, x, tag):
    import numpy as np
    import hls4ml
    key = sha(hls4ml.__version__, json.dumps(cfg, sort_keys=True), *[open(f, 'rb').read() for f in files], x.tobytes())
    cached = os.path.join(CACHE, 'pred-%s-%s.npy' % (tag, key))
    if os.path.exists(cached):
        return np.load(cached), 'cached'
    cfg = dict(cfg, OutputDir=os.path.join(CACHE, 'prj-%s' % tag))
    model = hls4ml.converters.keras_v2_to_hls(cfg)
    model.compile()
    y = np.asarray(model.predict(np.ascontiguousarray(x)), dtype=np.float64).reshape(len(x), -1)
    np.save(cached, y)
    return y, 'compiled'


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rtlgen', default=os.path.join(ROOT, '.build', 'release', 'rtlgen'))
    p.add_argument('--count', type=int, default=10000)
    p.add_argument('--sim-count', type=int, default=200)
    p.add_argument('--only', default='')
    p.add_argument('--quick', action='store_true',
                   help="make test's share: the 'auto' config on qkeras_cnn only (its batchnorm folding), sims on the 2D models only")
    args = p.parse_args()
    rtlgen = os.path.abspath(args.rtlgen)
    hls4ml_venv.enter('hls4ml conv parity', 'hls4ml-tf-venv.sh')
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    import warnings
    warnings.filterwarnings('ignore')
    import numpy as np
    import yaml
    import hls4ml

    t0 = time.time()
    os.makedirs(CACHE, exist_ok=True)
    ex = example_dir()
    made = os.path.join(CACHE, 'models')
    make_models(made)
    models = []
    if ex:
        for stem in ('KERAS_conv1d_small', 'KERAS_conv2d_model'):
            models.append((stem, os.path.join(ex, 'keras', stem + '.json'), os.path.join(ex, 'keras', stem + '_weights.h5')))
    else:
        print('hls4ml conv: the example models are missing (set EXAMPLE_MODELS); only the models made here run')
    for stem in ('qkeras_cnn', 'keras_c1d'):
        models.append((stem, os.path.join(made, stem + '.json'), os.path.join(made, stem + '_weights.h5')))
    # The ATLAS RPC student (examples/atlas_rpc_student, scripts/make_atlas_student.py), also with
    # its own committed hls4ml configuration.
    atlas = os.path.join(ROOT, 'examples', 'atlas_rpc_student')
    models.append(('atlas_rpc_student', os.path.join(atlas, 'atlas_rpc_student.json'), os.path.join(atlas, 'atlas_rpc_student_weights.h5')))

    failed = False
    n = 0
    for stem, j, h in models:
        if args.only and args.only not in stem:
            continue
        cases = configs(j)
        if stem == 'atlas_rpc_student':
            committed = yaml.safe_load(open(os.path.join(atlas, 'atlas_rpc_student_config.yml')))['HLSConfig']
            cases = [('committed config', committed)] + cases
        for clabel, hls in cases:
            if args.quick and clabel.startswith("'auto'") and stem != 'qkeras_cnn':
                continue
            if args.quick and stem == 'atlas_rpc_student' and clabel != 'committed config':
                continue   # its hardware is an example of make sim; the generic configs run in hls4ml-conv-full
            n += 1
            tag = 'c%d-%s' % (n, stem)
            cfg = {'KerasJson': j, 'KerasH5': h, 'IOType': 'io_parallel', 'Backend': 'Vivado', 'ProjectName': 'myproject',
                   'HLSConfig': copy.deepcopy(hls)}
            yml = os.path.join(CACHE, tag + '.yml')
            open(yml, 'w').write(yaml.safe_dump(cfg))
            imported = os.path.join(CACHE, tag + '.json')
            run([rtlgen, 'import', yml, '-o', imported])
            csv = run([rtlgen, 'vectors', imported, '--count', str(args.count), '--seed', str(31 + n)])
            rows = [ln.split(',') for ln in csv.split('\n') if ln and not ln.startswith('#')]
            x = np.array([[float(v) for v in r] for r in rows], dtype=np.float64)
            npy = os.path.join(CACHE, tag + '-x.npy')
            np.save(npy, x)
            out = run([rtlgen, 'predict', yml, '--input', npy])
            got = [ln.split(',') for ln in out.split('\n') if ln]
            y, how = hls4ml_predict(cfg, [j, h], x, tag)
            want = [[exact_decimal(v) for v in r] for r in y]
            eq_s = sum(1 for a, b in zip(got, want) if a == b)
            eq_o = sum(1 for a, b in zip(got, want) for u, v in zip(a, b) if u == v)
            tot = sum(len(r) for r in want)
            ok = eq_s == len(want) and len(got) == len(want)
            failed |= not ok
            print('  %-20s %-24s %5d/%d samples, %6d/%d outputs identical (hls4ml %s)%s'
                  % (stem, clabel, eq_s, len(want), eq_o, tot, how, '' if ok else '  FAILED'), flush=True)
            if not ok:
                k = next(i for i, (a, b) in enumerate(zip(got, want)) if a != b)
                print('    first difference, sample %d:\n      rtlgen %s\n      hls4ml %s' % (k, ','.join(got[k]), ','.join(want[k])))
            if clabel == 'per-layer precisions' and args.sim_count > 0 and not (args.quick and stem in ('KERAS_conv1d_small', 'keras_c1d')) and stem != 'atlas_rpc_student':
                d = os.path.join(CACHE, 'build-' + tag)
                run([rtlgen, 'build', yml, '--out', d])
                vec = d + '-vectors.csv'
                open(vec, 'w').write(run([rtlgen, 'vectors', imported, '--count', str(args.sim_count), '--seed', '3']))
                r = subprocess.run([rtlgen, 'sim', d, '--input', vec, '--simulator', 'both'], capture_output=True, text=True)
                sim_ok = r.returncode == 0
                failed |= not sim_ok
                print('  %-20s built, sim on %d vectors in Verilator and GHDL: %s'
                      % (stem, args.sim_count, 'pass' if sim_ok else 'FAILED\n' + r.stdout + r.stderr), flush=True)
    if not args.only:
        failed |= not refusals(rtlgen, made)
    print('hls4ml conv: %d model/config pairs x %d inputs against hls4ml %s (%.0f s): %s'
          % (n, args.count, hls4ml.__version__, time.time() - t0, 'FAILED' if failed else 'all identical'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
