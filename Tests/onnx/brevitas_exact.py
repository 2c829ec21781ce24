"""The integer semantics Brevitas / QONNX define, computed exactly (Python integers, no floats
decide anything): an independent reference for rtlgen's Brevitas importer (brevitas_parity.py).

Every tensor is exact: a dyadic D = N / 2^K (N an object array of Python ints; a float32 is an
exact dyadic), or after a BatchNormalization S = P + Q / sqrt(V) (P, Q dyadic, V per channel),
possibly through a Relu. Ops, as QONNX defines them:
  Quant(x, s, zp, b)   q = clip(R(x / s + zp), qmin, qmax) (R: rounding_mode, ROUND = half even),
                       value (q - zp) * s
  MatMul / Gemm / Add  exact sums of products
  BatchNormalization   beta + (x - mean) * gamma / sqrt(var + eps)   (compared by squaring)
  Relu                 max(x, 0)
Quant of an S finds floor(t) by comparisons (a float guess, then exact steps).
Besides the values, each tensor carries a float64 magnitude bound and an operation count, from
which brevitas_parity.py bounds the error of qonnx's float32 execution.
"""
import math

import numpy as np
from onnx import numpy_helper

U32 = 2.0 ** -24   # float32 unit roundoff


def obj(a):
    return np.asarray(a, dtype=object)


def dyadic(arr):
    """An exact float array as (N, K)."""
    a = np.asarray(arr, dtype=np.float64)
    flat = a.ravel()
    ratios = [float(v).as_integer_ratio() for v in flat]
    k = max([d.bit_length() - 1 for _, d in ratios] + [0])
    n = obj([num << (k - (d.bit_length() - 1)) for num, d in ratios]).reshape(a.shape)
    return D(n, k)


class D:
    """N / 2^K."""
    def __init__(self, n, k):
        self.n, self.k = obj(n), k

    def at(self, k):
        assert k >= self.k
        return self.n * (1 << (k - self.k)) if k > self.k else self.n

    def floats(self):
        return np.vectorize(lambda v: math.ldexp(v, -self.k) if abs(v).bit_length() < 1000 else float(v) / 2.0 ** self.k,
                            otypes=[np.float64])(self.n) if self.n.size else np.zeros(self.n.shape)

    def __add__(self, o):
        k = max(self.k, o.k)
        return D(self.at(k) + o.at(k), k)

    def __sub__(self, o):
        k = max(self.k, o.k)
        return D(self.at(k) - o.at(k), k)

    def __mul__(self, o):
        return D(self.n * o.n, self.k + o.k)


class S:
    """P + Q / sqrt(V) (V = Vn / 2^Kv > 0, broadcast per channel), then max(., 0) when relu."""
    def __init__(self, p, q, vn, kv, relu=False):
        self.p, self.q, self.vn, self.kv, self.relu = p, q, obj(vn), kv, relu

    def floats(self):
        v = np.vectorize(float, otypes=[np.float64])(self.vn) / 2.0 ** self.kv
        y = self.p.floats() + self.q.floats() / np.sqrt(v)
        return np.maximum(y, 0) if self.relu else y

    def geq(self, c):
        """self >= c (c a D, broadcast), element-wise, exactly."""
        d = c - self.p                     # need Q / sqrt(V) >= d  <=>  Q >= d sqrt(V)
        k = max(self.q.k, d.k)
        qn, dn = self.q.at(k), d.at(k)     # both over 2^k
        # Q >= d sqrt(V): signs, then squares (Q^2 vs d^2 V): Q^2 2^kv vs d^2 Vn
        lhs = qn * qn * (1 << self.kv)
        rhs = dn * dn * self.vn
        qs = np.vectorize(lambda v: v >= 0, otypes=[bool])(qn)
        ds = np.vectorize(lambda v: v <= 0, otypes=[bool])(dn)
        ge = np.vectorize(lambda a, b: a >= b, otypes=[bool])(lhs, rhs)
        le = np.vectorize(lambda a, b: a <= b, otypes=[bool])(lhs, rhs)
        r = np.where(qs & ds, True, np.where(qs & ~ds, ge, np.where(~qs & ds, le, False)))
        if self.relu:
            r = r | np.vectorize(lambda v: v <= 0, otypes=[bool])(c.n + 0 * self.p.n)
        return r


def rint(num, den, mode):
    """R(num / den) for integer arrays (den > 0), QONNX's rounding modes."""
    def one(n, d):
        q, r = divmod(n, d)                 # floor
        if mode == 'FLOOR':
            return q
        if mode == 'CEIL':
            return q + (r != 0)
        if mode == 'DOWN':
            return q + (1 if (n < 0 and r != 0) else 0)
        if mode == 'UP':
            return q + (1 if (n > 0 and r != 0) else 0)
        if 2 * r > d:
            return q + 1
        if 2 * r < d:
            return q
        if mode in ('ROUND', 'HALF_EVEN'):
            return q if q % 2 == 0 else q + 1
        if mode == 'HALF_UP':
            return q + 1 if n > 0 else q
        if mode == 'HALF_DOWN':
            return q if n > 0 else q + 1
        raise ValueError('rounding mode %s' % mode)
    return np.vectorize(one, otypes=[object])(num, den)


def qrange(bits, signed, narrow):
    if signed:
        return -(1 << (bits - 1)) + (1 if narrow else 0), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1 - (1 if narrow else 0)


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return a.s.decode() if a.type == a.STRING else a.i if a.type == a.INT else a.f
    return default


class Exact:
    """Evaluates a QONNX graph exactly on a batch of float32 inputs."""
    def __init__(self, model):
        self.m = model
        self.g = model.graph
        self.inits = {t.name: numpy_helper.to_array(t) for t in self.g.initializer}
        self.quant_nodes = [n for n in self.g.node if n.op_type == 'Quant']

    def run(self, x):
        g = self.g
        env = {}          # name -> D or S
        mag = {}          # name -> float64 magnitude bound (sum of |terms|)
        cnt = {}          # name -> operation count since the last Quant
        self.codes = {}   # Quant output name -> integer codes
        self.t_exact = {} # Quant output name -> (num, den) of x / s + zp for D inputs, or the S itself
        consts = {}
        for k, v in self.inits.items():
            consts[k] = v
        for n in g.node:
            if n.op_type == 'Constant':
                consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        inp = [i.name for i in g.input if i.name not in consts][0]
        env[inp] = dyadic(x.astype(np.float32))
        mag[inp] = np.abs(x.astype(np.float64))
        cnt[inp] = 0

        def get(name):
            if name not in env:
                c = consts[name].astype(np.float64)
                env[name] = dyadic(c)
                mag[name] = np.abs(c)
                cnt[name] = 0
            return env[name]

        for n in g.node:
            op = n.op_type
            if op == 'Constant':
                continue
            o = n.output[0]
            if op == 'Quant':
                x_ = get(n.input[0])
                s = dyadic(consts[n.input[1]])
                zp = consts[n.input[2]].astype(np.float64)
                assert np.all(zp == np.round(zp)), 'zero point not an integer'
                zpi = obj(np.vectorize(int, otypes=[object])(zp))
                bits = int(consts[n.input[3]])
                lo, hi = qrange(bits, attr(n, 'signed', 1), attr(n, 'narrow', 0))
                mode = attr(n, 'rounding_mode', 'ROUND').upper()
                if isinstance(x_, D):
                    # t = x / s + zp = (N 2^Ks + zp Sn 2^K) / (Sn 2^K)
                    num = x_.n * (1 << s.k) + zpi * s.n * (1 << x_.k)
                    den = s.n * (1 << x_.k) + 0 * num
                    q = rint(num, den, mode)
                    self.t_exact[o] = (num, den)
                else:
                    q = self.quant_sqrt(x_, s, zpi, mode)
                    self.t_exact[o] = x_
                q = np.minimum(np.maximum(q, lo), hi)
                self.codes[o] = q
                env[o] = D((q - zpi) * s.n, s.k)
                mag[o] = np.abs(env[o].floats())
                cnt[o] = 0
                # The Quant's input as qonnx sees it: t = x / s + zp, its bound and count.
                self.__dict__.setdefault('t_bound', {})[o] = (mag[n.input[0]] / s.floats() + np.abs(zp), cnt[n.input[0]] + 2)
            elif op in ('MatMul', 'Gemm'):
                a, b = get(n.input[0]), get(n.input[1])
                bn = b.n.T if op == 'Gemm' and attr(n, 'transB', 0) else b.n
                bm = mag[n.input[1]].T if op == 'Gemm' and attr(n, 'transB', 0) else mag[n.input[1]]
                r = D(a.n.dot(bn), a.k + b.k)
                m = mag[n.input[0]].dot(bm)
                c = cnt[n.input[0]] + bn.shape[0] + 2
                if op == 'Gemm' and len(n.input) > 2 and n.input[2]:
                    bias = get(n.input[2])
                    r = r + bias
                    m = m + mag[n.input[2]]
                    c += 1
                env[o], mag[o], cnt[o] = r, m, c
            elif op == 'Add':
                a, b = get(n.input[0]), get(n.input[1])
                env[o] = a + b
                mag[o] = mag[n.input[0]] + mag[n.input[1]]
                cnt[o] = max(cnt[n.input[0]], cnt[n.input[1]]) + 1
            elif op == 'BatchNormalization':
                x_ = get(n.input[0])
                assert isinstance(x_, D), 'two batchnorms in a row'
                gamma, beta, mean, var = (consts[i].astype(np.float64) for i in n.input[1:5])
                eps = float(np.float32(attr(n, 'epsilon', 1e-5)))
                v = dyadic(var) + dyadic(np.array(eps))
                env[o] = S(dyadic(beta), (x_ - dyadic(mean)) * dyadic(gamma), v.n, v.k)
                f = np.abs(gamma) / np.sqrt(var + eps)
                mag[o] = (mag[n.input[0]] + np.abs(mean)) * f + np.abs(beta)
                cnt[o] = cnt[n.input[0]] + 5
            elif op == 'Relu':
                x_ = get(n.input[0])
                if isinstance(x_, D):
                    env[o] = D(np.vectorize(lambda v: max(v, 0), otypes=[object])(x_.n), x_.k)
                else:
                    env[o] = S(x_.p, x_.q, x_.vn, x_.kv, relu=True)
                mag[o], cnt[o] = mag[n.input[0]], cnt[n.input[0]]
            elif op in ('Identity', 'Flatten', 'Reshape', 'Dropout'):
                env[o], mag[o], cnt[o] = get(n.input[0]), mag.get(n.input[0]), cnt.get(n.input[0])
                if n.input[0] in consts:
                    consts[o] = consts[n.input[0]]
            elif op == 'Transpose':
                src = get(n.input[0])
                env[o] = D(src.n.T, src.k)
                mag[o], cnt[o] = mag[n.input[0]].T, cnt[n.input[0]]
                if n.input[0] in consts:
                    consts[o] = consts[n.input[0]].T
            else:
                raise ValueError('the exact reference does not know %s' % op)
        out = env[g.output[0].name]
        assert isinstance(out, D), 'the graph ends in a batchnorm'
        return out

    @staticmethod
    def quant_sqrt(x, s, zpi, mode):
        """R(x / s + zp) for an S (per-tensor s and zp), exactly."""
        sn, sk = int(s.n.ravel()[0]), s.k
        z = int(zpi.ravel()[0])
        approx = x.floats() / (sn / 2.0 ** sk) + z
        k = np.floor(np.nan_to_num(approx)).astype(np.int64).astype(object)

        def level(kk):  # the value (kk - zp) * s as a D
            return D((kk - z) * sn, sk)
        # floor(t) = k: (k - zp) s <= x < (k + 1 - zp) s, found exactly.
        for _ in range(200):
            lo_ok = x.geq(level(k))
            hi_ok = x.geq(level(k + 1))
            if lo_ok.all() and not hi_ok.any():
                break
            k = np.where(~lo_ok, k - 1, np.where(hi_ok, k + 1, k))
        else:
            raise RuntimeError('quant_sqrt did not converge')
        # The half: t - k vs 1/2, i.e. x vs (k + 1/2 - zp) s.
        half = D((2 * k + 1 - 2 * z) * sn, sk + 1)
        ge_half = x.geq(half)
        # x == half exactly: x >= half and not x > half; x > half <=> not (-x >= -half)
        neg = S(D(-x.p.n, x.p.k), D(-x.q.n, x.q.k), x.vn, x.kv) if not x.relu else None
        if neg is not None:
            gt_half = ~neg.geq(D(-half.n, half.k))
        else:
            # max(y, 0) > c: y > c, or c < 0
            yneg = S(D(-x.p.n, x.p.k), D(-x.q.n, x.q.k), x.vn, x.kv)
            gt_half = ~yneg.geq(D(-half.n, half.k)) | np.vectorize(lambda v: v < 0, otypes=[bool])(half.n)
        tie = ge_half & ~gt_half
        tsign = np.vectorize(lambda v: v, otypes=[object])(k)  # floor(t)
        up = np.zeros(k.shape, dtype=bool)
        if mode in ('ROUND', 'HALF_EVEN'):
            up = gt_half | (tie & np.vectorize(lambda v: v % 2 == 1, otypes=[bool])(k))
        elif mode == 'HALF_UP':
            up = gt_half | (tie & np.vectorize(lambda v: v >= 0, otypes=[bool])(tsign))
        elif mode == 'HALF_DOWN':
            up = gt_half | (tie & np.vectorize(lambda v: v < 0, otypes=[bool])(tsign))
        elif mode == 'FLOOR':
            up[:] = False
        else:
            raise ValueError('rounding mode %s after a batchnorm' % mode)
        return k + up.astype(object)


def decimal(n, k):
    """The exact decimal text of n / 2^k as rtlgen prints it."""
    if k <= 0:
        return str(n << -k)
    digits = str(abs(n) * 5 ** k).rjust(k + 1, '0')
    i, f = digits[:-k], digits[-k:].rstrip('0')
    return ('-' if n < 0 else '') + i + ('.' + f if f else '')
