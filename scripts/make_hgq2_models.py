#!/usr/bin/env python3
"""Writes small HGQ2 models (PyPI hgq2 0.2, Keras 3 on jax, seeded) with heterogeneous precision,
their input rows and HGQ2's own quantized forward pass: the fixtures of rtlgen's HGQ2 importer
(Tests/FrontEndsTests/HGQ2ImporterTests.swift, `make hgq2-parity`). Needs scripts/hgq2-venv.sh;
rtlgen itself needs no Python.

    python scripts/make_hgq2_models.py DIR [--rows N]

For each model NAME it writes

    DIR/NAME.keras        model.save() (config.json + model.weights.h5)
    DIR/NAME_x.csv        N input rows (float32 values, written as their exact decimals)
    DIR/NAME_y.csv        model.predict(x) (float32, exact decimals): HGQ2's inference pass

Models (every weight, bias and activation with its own bit width: the quantizers' per-element
bit-width variables are drawn at random, then the kernels are drawn over and beyond each
quantizer's range so that saturation, zero-bit weights and wrap-around all occur):

  hgq2_muon_student   5-8-8-8-8-3, QDense(relu) x 4 + QDense, HGQ2's default quantizers (weights
                      kbi RND SAT_SYM per weight, inputs kif RND WRAP per feature, biases kbi RND
                      WRAP per bias), trained 2 epochs on random data (the WRAP quantizers' integer
                      bits are then HGQ2's own tracing), then bit widths re-drawn per element
  hgq2_tagger         16-32-5, QDense(relu) + QEinsumDense('bc,cd->bd') with an output quantizer;
                      weights kif RND_CONV SAT, activations kif TRN SAT, output kif RND SAT
  hgq2_mixed          6-10-12-4: a Quantizer layer as input quantizer (RND_CONV, SAT_SYM, one
                      fractional width), QDense without input quantizer, Keras ReLU,
                      QUnaryFunctionLUT('relu'), kbi weights with WRAP (HGQ2 only rounds them),
                      an output quantizer

The script checks that HGQ2's float32 forward pass is exact on every row (its sums recomputed in
float64 from HGQ2's own quantized inputs, kernels and biases); a row where float32 rounding moved
a sum would not be an oracle for exact fixed-point arithmetic.
"""
import argparse
import os
import sys
from fractions import Fraction

os.environ.setdefault('KERAS_BACKEND', 'jax')
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np  # noqa: E402
import keras  # noqa: E402
from hgq.config import QuantizerConfigScope  # noqa: E402
from hgq.layers import QDense, QEinsumDense  # noqa: E402


def exact(v):
    """The exact decimal text of a float (a dyadic rational)."""
    f = Fraction(float(v))
    if f.denominator == 1:
        return str(f.numerator)
    k = f.denominator.bit_length() - 1
    digits = abs(f.numerator) * 5 ** k
    s = str(digits).rjust(k + 1, '0')
    t = (s[:-k] + '.' + s[-k:]).rstrip('0').rstrip('.')
    return ('-' if f < 0 else '') + t


def quantizer_vars(q):
    """The internal fixed-point quantizer of a hgq Quantizer wrapper."""
    return q.quantizer


def randomize_bits(layer, rng, weight_bits=(0, 8), weight_int=(-2, 2), in_int=(0, 4), in_frac=(1, 6), bias_bits=(0, 10)):
    """Per-element bit widths drawn at random for each quantizer of a QDense / QEinsumDense."""
    kq = quantizer_vars(layer.kq)
    shp = tuple(kq._k.shape)
    if hasattr(kq, '_b'):                       # kbi: bits (without sign) and integer bits
        kq._b.assign(rng.integers(weight_bits[0], weight_bits[1] + 1, shp).astype('float32'))
        kq._i.assign(rng.integers(weight_int[0], weight_int[1] + 1, shp).astype('float32'))
    else:                                       # kif: integer and fractional bits
        kq._i.assign(rng.integers(weight_int[0], weight_int[1] + 1, shp).astype('float32'))
        kq._f.assign(rng.integers(0, 7, shp).astype('float32'))
    # a few weights unsigned (keep_negative 0)
    k = np.ones(shp, dtype='uint8')
    k.reshape(-1)[rng.choice(k.size, max(1, k.size // 10), replace=False)] = 0
    kq._k.assign(k)
    if layer.enable_iq:
        iq = quantizer_vars(layer.iq)
        shp = tuple(iq._k.shape)
        iq._i.assign(rng.integers(in_int[0], in_int[1] + 1, shp).astype('float32'))
        iq._f.assign(rng.integers(in_frac[0], in_frac[1] + 1, shp).astype('float32'))
        k = rng.integers(0, 2, shp).astype('uint8')
        iq._k.assign(k)
        # one input of each layer with no bit at all (k + i + f <= 0: HGQ2 outputs 0)
        flat_i = np.array(iq._i.numpy()).reshape(-1)
        flat_f = np.array(iq._f.numpy()).reshape(-1)
        j = int(rng.integers(0, flat_i.size))
        flat_i[j], flat_f[j] = -2.0, 1.0
        iq._i.assign(flat_i.reshape(shp))
        iq._f.assign(flat_f.reshape(shp))
    if layer.bq is not None:
        bq = quantizer_vars(layer.bq)
        shp = tuple(bq._k.shape)
        if hasattr(bq, '_b'):
            bq._b.assign(rng.integers(bias_bits[0], bias_bits[1] + 1, shp).astype('float32'))
            bq._i.assign(rng.integers(-1, 4, shp).astype('float32'))
        else:
            bq._i.assign(rng.integers(-1, 4, shp).astype('float32'))
            bq._f.assign(rng.integers(0, 8, shp).astype('float32'))
    if layer.enable_oq:
        oq = quantizer_vars(layer.oq)
        shp = tuple(oq._k.shape)
        oq._i.assign(rng.integers(0, 5, shp).astype('float32'))
        oq._f.assign(rng.integers(1, 7, shp).astype('float32'))


def draw_weights(layer, rng):
    """Kernels log-uniform over 2^-6 .. 2^3 with random signs (some beyond each quantizer's range:
    saturation), some exact ties on a weight's grid; biases likewise."""
    kern = layer.kernel
    shp = tuple(kern.shape)
    w = 2.0 ** rng.uniform(-6, 3, shp) * rng.choice([-1, 1], shp)
    flat = w.reshape(-1)
    flat[rng.choice(flat.size, max(1, flat.size // 20), replace=False)] = 0.0
    # exact half-steps (ties of the rounding) of a 2^-3 grid
    idx = rng.choice(flat.size, max(2, flat.size // 10), replace=False)
    flat[idx] = (rng.integers(-12, 12, idx.size) + 0.5) / 8
    kern.assign(w.astype('float32'))
    if layer.bias is not None:
        b = rng.uniform(-3, 3, tuple(layer.bias.shape))
        layer.bias.assign(b.astype('float32'))


def input_rows(rng, n, width):
    """Uniform rows (wide enough to wrap or saturate the input quantizers), ties of several
    grids, zeros, and values just beside ties; all float32."""
    x = rng.uniform(-40, 40, (n, width))
    m = n // 4
    x[:m] = (rng.integers(-200, 200, (m, width)) + 0.5) / 2.0 ** rng.integers(0, 7, (m, width))
    x[m:2 * m] = rng.uniform(-3, 3, (m, width))
    x[2 * m:2 * m + m // 4] = 0.0
    x = x.astype('float32')
    k = 3 * m
    x[k:k + m] = np.nextafter(x[:m], np.float32(np.inf) * np.sign(rng.uniform(-1, 1, (m, width)))).astype('float32')
    return x


def float64_forward(model, x):
    """The model recomputed with its dense sums in float64 from HGQ2's own quantized tensors
    (exact here: every value has far fewer than 53 significant bits); element-wise layers
    (quantizers, ReLU) are HGQ2's own calls, exact in float32."""
    h = np.asarray(x, dtype='float32')
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, (QDense, QEinsumDense)):
            xq = np.asarray(layer.iq(h, training=False)) if layer.enable_iq else h
            k = np.asarray(layer.qkernel, dtype='float64')
            b = np.asarray(layer.qbias, dtype='float64') if layer.bias is not None else 0.0
            y = xq.astype('float64') @ k + b
            if layer.activation is keras.activations.relu:
                y = np.maximum(y, 0.0)
            if np.any(y.astype('float32').astype('float64') != y):
                raise SystemExit('%s: a sum is not a float32 value: HGQ2\'s float32 pass cannot be exact' % layer.name)
            h = y.astype('float32')
            if layer.enable_oq:
                h = np.asarray(layer.oq(h, training=False))
        else:
            h = np.asarray(layer(h, training=False))
    return h.astype('float64')


def muon_student(rng):
    keras.utils.set_random_seed(11)
    m = keras.Sequential([keras.Input((5,), name='muon_in')]
                         + [QDense(8, activation='relu', name='fc%d' % (i + 1)) for i in range(4)]
                         + [QDense(3, name='out')], name='hgq2_muon_student')
    # two epochs of HGQ2's own training on random data (its WRAP quantizers trace their ranges)
    xs = rng.normal(0, 4, (512, 5)).astype('float32')
    ys = rng.normal(0, 1, (512, 3)).astype('float32')
    m.compile(optimizer=keras.optimizers.Adam(0.01), loss='mse')
    m.fit(xs, ys, epochs=2, batch_size=64, verbose=0)
    # a fresh copy without the optimizer's state (a smaller file)
    trained = m
    m = keras.models.clone_model(trained)
    m.set_weights(trained.get_weights())
    for layer in m.layers:
        draw_weights(layer, rng)
        randomize_bits(layer, rng)
    return m


def tagger(rng):
    keras.utils.set_random_seed(12)
    with QuantizerConfigScope(place='weight', default_q_type='kif', round_mode='RND_CONV', overflow_mode='SAT'):
        with QuantizerConfigScope(place='bias', default_q_type='kif', round_mode='RND_CONV', overflow_mode='SAT'):
            with QuantizerConfigScope(place='datalane', default_q_type='kif', round_mode='TRN', overflow_mode='SAT'):
                inp = keras.Input((16,), name='jet')
                h = QDense(32, activation='relu', name='fc1')(inp)
                oq = None
                with QuantizerConfigScope(place='datalane', default_q_type='kif', round_mode='RND', overflow_mode='SAT'):
                    from hgq.quantizer import QuantizerConfig
                    oq = QuantizerConfig('kif', 'datalane')
                y = QEinsumDense('bc,cd->bd', output_shape=5, bias_axes='d', enable_oq=True, oq_conf=oq, name='out')(h)
    m = keras.Model(inp, y, name='hgq2_tagger')
    for layer in m.layers[1:]:
        draw_weights(layer, rng)
        randomize_bits(layer, rng, in_int=(0, 4), in_frac=(0, 5))
    return m


def mixed(rng):
    """A standalone Quantizer as the input quantizer (one fractional width, RND_CONV), QDense
    without an input quantizer after it, Keras ReLU, QUnaryFunctionLUT('relu') (its input and
    table quantizers), kbi weights with WRAP overflow (HGQ2 only rounds them), a last QDense
    with an output quantizer."""
    keras.utils.set_random_seed(13)
    from hgq.layers import Quantizer, QUnaryFunctionLUT
    from hgq.quantizer import QuantizerConfig
    inp = keras.Input((6,), name='feat')
    h = Quantizer(QuantizerConfig('kif', 'datalane', round_mode='RND_CONV', overflow_mode='SAT_SYM', f0=4, i0=3), name='in_q')(inp)
    with QuantizerConfigScope(place='weight', overflow_mode='WRAP'):
        h = QDense(10, enable_iq=False, name='fc1')(h)
    h = keras.layers.ReLU(name='relu1')(h)
    h = QUnaryFunctionLUT('relu', name='lut_relu')(h)
    h = QDense(12, activation='relu', name='fc2')(h)
    y = QDense(4, enable_oq=True, name='out')(h)
    m = keras.Model(inp, y, name='hgq2_mixed')
    for layer in m.layers:
        if isinstance(layer, (QDense, QEinsumDense)):
            draw_weights(layer, rng)
            randomize_bits(layer, rng)
        elif isinstance(layer, QUnaryFunctionLUT):
            iq, oq = quantizer_vars(layer.iq), quantizer_vars(layer.oq)
            iq._i.assign(rng.integers(0, 5, tuple(iq._i.shape)).astype('float32'))
            iq._f.assign(rng.integers(1, 6, tuple(iq._f.shape)).astype('float32'))
            oq._b.assign(rng.integers(5, 9, tuple(oq._b.shape)).astype('float32'))
            oq._i.assign(rng.integers(2, 5, tuple(oq._i.shape)).astype('float32'))
        elif isinstance(layer, Quantizer):
            q = quantizer_vars(layer)
            q._i.assign(rng.integers(0, 5, tuple(q._i.shape)).astype('float32'))
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--rows', type=int, default=64)
    ap.add_argument('--seed', type=int, default=2026)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    for make in (muon_student, tagger, mixed):
        m = make(rng)
        name = m.name
        path = os.path.join(a.out, name + '.keras')
        m.save(path)
        m2 = keras.models.load_model(path)
        x = input_rows(rng, a.rows, m.input_shape[-1])
        y = np.asarray(m2.predict(x, verbose=0, batch_size=1024), dtype='float32')
        y0 = np.asarray(m.predict(x, verbose=0, batch_size=1024), dtype='float32')
        if not np.array_equal(y, y0):
            sys.exit('%s: the reloaded model predicts differently' % name)
        ref = float64_forward(m2, x)
        bad = [r for r in range(len(x)) if np.any(y[r].astype('float64') != ref[r])]
        if bad:
            sys.exit('%s: HGQ2\'s float32 forward pass is not exact on %d rows (first: %d)' % (name, len(bad), bad[0]))
        with open(os.path.join(a.out, name + '_x.csv'), 'w') as f:
            for row in x:
                f.write(','.join(exact(v) for v in row) + '\n')
        with open(os.path.join(a.out, name + '_y.csv'), 'w') as f:
            for row in y:
                f.write(','.join(exact(v) for v in row) + '\n')
        print('%s: %s, %d rows, HGQ2 forward pass exact on every row (hgq2 %s, keras %s)'
              % (name, path, len(x), __import__('hgq').__version__, keras.__version__))


if __name__ == '__main__':
    main()
