#!/usr/bin/env python3
"""A Keras 3 `.keras` archive through hls4ml 1.3's Keras 3 converter and through `rtlgen predict`.

The model (6-8 relu, BatchNormalization, 8, LeakyReLU(0.25), 4, sigmoid) gets seeded weights and
batch statistics, is saved as `.keras`, converted by hls4ml with its default configuration
(config_from_keras_model, granularity 'model') and compiled with g++; both sides predict the same
10,000 float64 inputs (rtlgen reads them from a .npy). Every output must be identical. Not in
`make test` (a third venv: Keras 3 + jax, scripts/keras3-venv.sh); `make hls4ml-importers-keras3`.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hls4ml_venv  # noqa: E402
from fixed_text import exact_decimal  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
WORK = os.path.join(ROOT, '.cache', 'hls4ml-importers-keras3')


def main():
    rtlgen = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, '.build', 'release', 'rtlgen'))
    hls4ml_venv.enter('Keras 3 importer parity', 'keras3-venv.sh')
    os.environ.setdefault('KERAS_BACKEND', 'jax')
    import numpy as np
    import keras
    import hls4ml
    os.makedirs(WORK, exist_ok=True)
    rng = np.random.default_rng(3)
    m = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation='relu', name='d1'),
                          keras.layers.BatchNormalization(name='bn1'), keras.layers.Dense(8, name='d2'),
                          keras.layers.LeakyReLU(negative_slope=0.25, name='lr'), keras.layers.Dense(4, name='out'),
                          keras.layers.Activation('sigmoid', name='sig')], name='k3p')
    for layer in m.layers:
        layer.set_weights([rng.uniform(0.3 if 'var' in w.path else -1, 1.5, w.shape).astype('float32') for w in layer.weights])
    path = os.path.join(WORK, 'k3p.keras')
    m.save(path)
    cfg = hls4ml.utils.config_from_keras_model(m, granularity='model')
    hm = hls4ml.converters.convert_from_keras_model(m, hls_config=cfg, output_dir=os.path.join(WORK, 'prj'),
                                                   io_type='io_parallel', backend='Vivado')
    hm.compile()
    x = np.ascontiguousarray(rng.uniform(-40, 40, (10000, 6)))
    np.save(os.path.join(WORK, 'x.npy'), x)
    y = np.asarray(hm.predict(x), dtype=np.float64).reshape(len(x), -1)
    r = subprocess.run([rtlgen, 'predict', path, '--input', os.path.join(WORK, 'x.npy')], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit('rtlgen predict exited %d: %s' % (r.returncode, r.stderr.strip()))
    got = [ln.split(',') for ln in r.stdout.split('\n') if ln]
    want = [[exact_decimal(v) for v in row] for row in y]
    same = sum(a == b for a, b in zip(got, want))
    outs = sum(u == v for a, b in zip(got, want) for u, v in zip(a, b))
    print('Keras 3 importer: k3p.keras, %d/%d samples, %d/%d outputs identical with hls4ml %s (Keras %s)'
          % (same, len(want), outs, sum(len(w) for w in want), hls4ml.__version__, keras.__version__))
    return 0 if same == len(want) and len(got) == len(want) else 1


if __name__ == '__main__':
    sys.exit(main())
