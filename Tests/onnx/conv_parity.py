#!/usr/bin/env python3
"""ONNX convolutional graphs against hls4ml 1.3's ONNX front end (part of make hls4ml-conv).

The shared conv1d_small_keras.onnx and conv2d_small_keras.onnx (Keras exports: channels-last
input, Transposes around the convolutions), each with three hls4ml configurations (Model-level
fixed<16,6>; per-layer precisions on the conv layers, LayerType Conv1D / Conv2D and LayerName
Conv*_Conv_0; 'auto' conv accum/result). hls4ml converts them after qonnx's cleanup, channels-last
conversion and GemmToMatMul (as its documentation asks), compile() + predict() on the same flat
channels-last rows that `rtlgen predict CONFIG.yml` reads; every output must be identical. Each
model is also built and simulated in Verilator and GHDL (--sim-count vectors).

    .cache/venv-onnx/bin/python Tests/onnx/conv_parity.py [--rtlgen PATH] [--count 10000] [--sim-count 300]
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity import example_dir, run, hls4ml_reference, compare  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CACHE = os.path.join(ROOT, '.cache', 'onnx-conv')


def configs(rank):
    conv = 'Conv%dD' % rank
    model = {'Model': {'Precision': 'fixed<16,6>', 'ReuseFactor': 1, 'Strategy': 'Latency'}}
    per = {'Model': {'Precision': 'fixed<16,6>', 'ReuseFactor': 1, 'Strategy': 'Latency'},
           'LayerType': {conv: {'Precision': {'weight': 'fixed<8,2>', 'bias': 'fixed<8,3>', 'accum': 'fixed<22,9>', 'result': 'fixed<14,6>'}}},
           'LayerName': {'%s_Conv_0' % conv: {'Precision': {'weight': 'fixed<10,3>', 'bias': 'fixed<9,4>', 'accum': 'fixed<20,8>',
                                                            'result': 'fixed<13,5,RND,SAT>'}}}}
    auto = {'Model': {'Precision': 'fixed<16,6>', 'ReuseFactor': 1, 'Strategy': 'Latency'},
            'LayerType': {conv: {'Precision': {'weight': 'fixed<10,3>', 'bias': 'fixed<10,4>', 'accum': 'auto', 'result': 'auto'}}}}
    return [('Model fixed<16,6>', model), ('per-layer precisions', per), ("'auto' conv types", auto)]


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rtlgen', default=os.path.join(ROOT, '.build', 'release', 'rtlgen'))
    p.add_argument('--count', type=int, default=10000)
    p.add_argument('--sim-count', type=int, default=200)
    p.add_argument('--quick', action='store_true', help="make test's share: no 'auto' config, the 2D model's simulation only")
    args = p.parse_args()
    rtlgen = os.path.abspath(args.rtlgen)
    t0 = time.time()
    os.makedirs(CACHE, exist_ok=True)
    ex = example_dir()
    ok = True
    n = 0
    for stem, rank in (('conv1d_small_keras', 1), ('conv2d_small_keras', 2)):
        path = os.path.join(ex, 'onnx', stem + '.onnx')
        for clabel, hls in configs(rank):
            if args.quick and clabel.startswith("'auto'"):
                continue
            n += 1
            tag = 'o%d-%s' % (n, stem)
            yml = os.path.join(CACHE, tag + '.yml')
            open(yml, 'w').write(yaml.safe_dump({'OnnxModel': path, 'IOType': 'io_parallel', 'Backend': 'Vivado', 'HLSConfig': hls}))
            imported = os.path.join(CACHE, tag + '.json')
            run([rtlgen, 'import', yml, '-o', imported])
            csv = run([rtlgen, 'vectors', imported, '--count', str(args.count), '--seed', str(51 + n)])
            x = np.array([[float(v) for v in ln.split(',')] for ln in csv.split('\n') if ln and not ln.startswith('#')], dtype=np.float64)
            npy = os.path.join(CACHE, tag + '-x.npy')
            np.save(npy, x)
            out = run([rtlgen, 'predict', yml, '--input', npy])
            y, how = hls4ml_reference(path, hls, x, tag)
            ok &= compare('%s %s (hls4ml %s)' % (stem, clabel, how), out, y)
            if clabel == 'per-layer precisions' and args.sim_count > 0 and not (args.quick and rank == 1):
                d = os.path.join(CACHE, 'build-' + tag)
                run([rtlgen, 'build', yml, '--out', d])
                vec = d + '-vectors.csv'
                open(vec, 'w').write(run([rtlgen, 'vectors', imported, '--count', str(args.sim_count), '--seed', '3']))
                r = subprocess.run([rtlgen, 'sim', d, '--input', vec, '--simulator', 'both'], capture_output=True, text=True)
                sim_ok = r.returncode == 0
                ok &= sim_ok
                print('  %-44s built, sim on %d vectors in Verilator and GHDL: %s'
                      % (stem, args.sim_count, 'pass' if sim_ok else 'FAILED\n' + r.stdout + r.stderr), flush=True)
    print('onnx conv: %d model/config pairs x %d inputs against hls4ml (%.0f s): %s'
          % (n, args.count, time.time() - t0, 'all identical' if ok else 'FAILED'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
