#!/usr/bin/env python3
"""Write the muon-student shape as real Keras files (TensorFlow's Keras 2), for the importers.

5-8-8-8-8-3: four Dense(8) + BatchNormalization + ReLU blocks and a Dense(3) output, 419
parameters (283 trainable weights and biases, 4 x 32 batch-normalization parameters). Weights
and batch-normalization statistics are **seeded random numbers** (illustrative, not a trained
network); the moving means and variances are set so every BatchNormalization really scales and
shifts. Writes, into OUT (default examples/muon_student_keras):

  muon_student.json          model.to_json()       (the pair hls4ml's KerasJson / KerasH5 read)
  muon_student_weights.h5    model.save_weights()
  muon_student.h5            model.save()          (a full-model file)
  muon_student_config.yml    an hls4ml configuration with per-type and per-layer precisions

    python3 scripts/make_muon_student_keras.py [OUT] [--seed 7]

Needs TensorFlow 2.15 (Keras 2); Tests/hls4ml/importers.py runs it in its venv.
"""
import argparse
import os
import sys

import numpy as np

CONFIG = """\
# hls4ml configuration for the muon student (read by hls4ml 1.3 and by rtlgen unchanged).
# hls4ml adds an activation layer "<dense>_linear" after every Dense (kept only when its type
# differs): out_linear below rounds and saturates the output. A LayerType Activation entry
# would apply to those linear layers too (and an unsigned type would clamp them).
KerasJson: muon_student.json
KerasH5: muon_student_weights.h5
OutputDir: muon-student-hls4ml
ProjectName: muon_student
Part: xcvu9p-flga2577-2-e
ClockPeriod: 4
IOType: io_parallel
HLSConfig:
  Model:
    Precision: ap_fixed<18,8>
    ReuseFactor: 1
    Strategy: Latency
  LayerType:
    Dense:
      Precision:
        weight: ap_fixed<10,2>
        bias: ap_fixed<10,4>
        accum: ap_fixed<24,10>
        result: ap_fixed<18,8>
  LayerName:
    input_1:
      Precision:
        result: ap_fixed<14,6>
    bn1:
      Precision:
        scale: ap_fixed<12,3>
        bias: ap_fixed<12,5>
        result: ap_fixed<16,6>
    relu1:
      Precision:
        result: ap_ufixed<12,6,AP_RND_CONV,AP_SAT>
    relu2:
      Precision:
        result: ap_ufixed<10,5,AP_RND_CONV,AP_SAT>
    relu3:
      Precision:
        result: ap_ufixed<12,6,AP_RND_CONV,AP_SAT>
    relu4:
      Precision: ap_ufixed<12,6,AP_RND_CONV,AP_SAT>
    out_linear:
      Precision:
        result: ap_fixed<16,6,AP_RND_CONV,AP_SAT>
    bn4:
      Precision: ap_fixed<20,8,AP_RND,AP_SAT>
    out:
      Precision:
        result: ap_fixed<20,8>
      Trace: true
"""


def build(seed):
    import tensorflow as tf
    from tensorflow import keras
    tf.keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    layers = [keras.layers.InputLayer(input_shape=(5,), name='input_1')]
    for k in range(1, 5):
        layers += [keras.layers.Dense(8, name='fc%d' % k), keras.layers.BatchNormalization(name='bn%d' % k),
                   keras.layers.Activation('relu', name='relu%d' % k)]
    layers.append(keras.layers.Dense(3, name='out'))
    model = keras.Sequential(layers, name='muon_student')
    for layer in model.layers:
        w = layer.get_weights()
        if isinstance(layer, keras.layers.Dense):
            n_in, n_out = w[0].shape
            lim = np.sqrt(6.0 / (n_in + n_out))
            layer.set_weights([rng.uniform(-lim, lim, (n_in, n_out)).astype(np.float32),
                               rng.uniform(-0.3, 0.3, n_out).astype(np.float32)])
        elif isinstance(layer, keras.layers.BatchNormalization):
            n = w[0].shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n).astype(np.float32),     # gamma
                               rng.uniform(-0.5, 0.5, n).astype(np.float32),    # beta
                               rng.uniform(-1.0, 1.0, n).astype(np.float32),    # moving mean
                               rng.uniform(0.2, 2.5, n).astype(np.float32)])    # moving variance
    return model


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('out', nargs='?', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'examples', 'muon_student_keras'))
    p.add_argument('--seed', type=int, default=7)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    model = build(a.seed)
    n = model.count_params()
    if n != 419:
        sys.exit('expected 419 parameters, found %d' % n)
    with open(os.path.join(a.out, 'muon_student.json'), 'w') as f:
        f.write(model.to_json())
    model.save_weights(os.path.join(a.out, 'muon_student_weights.h5'))
    model.save(os.path.join(a.out, 'muon_student.h5'), include_optimizer=False)
    with open(os.path.join(a.out, 'muon_student_config.yml'), 'w') as f:
        f.write(CONFIG)
    print('muon student: %d parameters, written to %s' % (n, a.out))


if __name__ == '__main__':
    main()
