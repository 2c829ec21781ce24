#!/usr/bin/env python3
"""An independent exact reference for rtlgen's golden model.

Written from the user-facing contract and docs (docs/usage.md, docs/arithmetic.md), not from the
Swift sources. Uses only the standard library: every value is a fractions.Fraction (or, for
batchnorm's gamma / sqrt(variance + epsilon), an exact Surd a + b * sqrt(d)), numbers are read from
their decimal text (never through a binary float), and nothing is ever rounded except where the
docs say.

    exact_reference.py MODEL.json INPUT.csv      # prints outputs as CSV, like `rtlgen predict`

Exit status: 0 success, 2 bad input (one message on stderr).
"""
import json
import re
import sys
from fractions import Fraction

ROUNDING = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV")
OVERFLOW = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")


class BadInput(Exception):
    pass


# ---------------------------------------------------------------- exact decimals -------------

_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_decimal(text):
    """A decimal number as an exact Fraction ('1e-3', '-.5', '2.' accepted; '1/2', 'nan' not)."""
    t = text.strip()
    if not _DECIMAL.match(t):
        raise BadInput("'%s' is not a decimal number" % text)
    return Fraction(t)


def format_decimal(v):
    """The exact decimal text of a dyadic rational: no exponent, no trailing zeros,
    integers without a point."""
    assert isinstance(v, Fraction)
    den = v.denominator
    k = 0
    while den % 2 == 0:
        den //= 2
        k += 1
    assert den == 1, "not a dyadic rational: %s" % v
    if k == 0:
        return str(v.numerator)
    neg = v < 0
    scaled = abs(v.numerator) * 5 ** k  # = |v| * 10^k, an integer
    digits = str(scaled).rjust(k + 1, "0")
    int_part, frac_part = digits[:-k], digits[-k:].rstrip("0")
    s = int_part + ("." + frac_part if frac_part else "")
    return ("-" if neg else "") + s


# ---------------------------------------------------------------- exact surds ----------------

class Surd:
    """The exact real a + b * sqrt(d) (a, b, d rationals, d > 0). Every decision about it (sign,
    comparison with a rational, floor) is made exactly, by signs and by comparing a^2 with b^2 d;
    the square root is never approximated."""

    def __init__(self, a, b, d):
        assert d > 0
        self.a, self.b, self.d = Fraction(a), Fraction(b), Fraction(d)

    def sign(self):
        a, b = self.a, self.b
        sa, sb = (a > 0) - (a < 0), (b > 0) - (b < 0)
        if sb == 0:
            return sa
        if sa == 0 or sa == sb:
            return sb
        # opposite signs: |a| vs |b| sqrt(d), i.e. a^2 vs b^2 d
        lhs, rhs = a * a, b * b * self.d
        if lhs == rhs:
            return 0
        return sa if lhs > rhs else sb

    def compare(self, c):
        """The sign of self - c for a rational c."""
        return Surd(self.a - c, self.b, self.d).sign()

    def scaled(self, k):
        return Surd(self.a * k, self.b * k, self.d)

    def floor(self):
        """The integer n with n <= self < n + 1 (galloping, then bisection, all exact)."""
        if self.compare(0) >= 0:
            lo, hi = 0, 1
            while self.compare(hi) >= 0:
                lo, hi = hi, hi * 2
        else:
            lo, hi = -1, 0
            while self.compare(lo) < 0:
                lo, hi = lo * 2, lo
        while hi - lo > 1:  # self >= lo, self < hi
            mid = (lo + hi) // 2
            if self.compare(mid) >= 0:
                lo = mid
            else:
                hi = mid
        return lo


# ---------------------------------------------------------------- types ----------------------

class FixedType:
    kind = "fixed"

    def __init__(self, signed, width, int_bits, rounding="TRN", overflow="WRAP"):
        self.signed, self.width, self.int_bits = signed, width, int_bits
        self.rounding, self.overflow = rounding, overflow
        self.frac = width - int_bits  # value = code * 2^-frac

    @property
    def lsb(self):
        return Fraction(1) / Fraction(2) ** self.frac if self.frac >= 0 else Fraction(2 ** -self.frac)

    @property
    def min_code(self):
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_code(self):
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    def key(self):
        return (self.signed, self.width, self.int_bits, self.rounding, self.overflow)

    def __repr__(self):
        return "%s<%d,%d,%s,%s>" % ("fixed" if self.signed else "ufixed", self.width, self.int_bits,
                                     self.rounding, self.overflow)

    # The cast: an exact rational (or an exact quadratic surd, see Surd) -> a code of this type.
    # Rounding first, then overflow.
    def quantize(self, v):
        if isinstance(v, Surd):
            x = v.scaled(1 / self.lsb)  # exact, in units of the LSB
            fl = x.floor()
            rem_sign = x.compare(fl)  # 0 or 1
            half_cmp = x.compare(fl + Fraction(1, 2))  # sign of rem - 1/2
        else:
            x = v / self.lsb  # exact, in units of the LSB
            fl = x.numerator // x.denominator  # floor
            rem = x - fl  # in [0, 1)
            rem_sign = 0 if rem == 0 else 1
            half = Fraction(1, 2)
            half_cmp = (rem > half) - (rem < half)
        return self.overflow_code(self.round_code(fl, rem_sign, half_cmp))

    def round_code(self, fl, rem_sign, half_cmp):
        """fl = floor(x), x in LSB units; rem_sign: 0 iff x is an integer; half_cmp: sign of
        (x - fl - 1/2). When x is not an integer, x > 0 iff fl >= 0."""
        q = self.rounding
        positive = fl >= 0
        if rem_sign == 0:
            return fl
        if q == "TRN":  # toward minus infinity
            return fl
        if q == "TRN_ZERO":  # toward zero
            return fl if positive else fl + 1
        if half_cmp != 0:  # round to nearest; the modes only differ on exact ties
            return fl if half_cmp < 0 else fl + 1
        if q == "RND":  # tie: toward plus infinity
            return fl + 1
        if q == "RND_ZERO":  # tie: toward zero
            return fl if positive else fl + 1
        if q == "RND_MIN_INF":  # tie: toward minus infinity
            return fl
        if q == "RND_INF":  # tie: away from zero
            return fl + 1 if positive else fl
        if q == "RND_CONV":  # tie: to even
            return fl if fl % 2 == 0 else fl + 1
        raise AssertionError(q)

    def overflow_code(self, n):
        lo, hi = self.min_code, self.max_code
        o = self.overflow
        if o == "SAT_SYM" and self.signed and self.width > 1:
            # clamp to +-max: the most negative code is never produced. A 1-bit signed type
            # (codes -1, 0) keeps -1 as ap_fixed does: the documented deviation of
            # docs/arithmetic.md (the contract's "+-max" would leave only 0); it falls to SAT below.
            return max(-hi, min(hi, n))
        if lo <= n <= hi:
            return n
        if o == "WRAP":
            m = n % (1 << self.width)
            if self.signed and m >= (1 << (self.width - 1)):
                m -= 1 << self.width
            return m
        if o in ("SAT", "SAT_SYM"):  # unsigned SAT_SYM = SAT
            return hi if n > hi else lo
        if o == "SAT_ZERO":
            return 0
        raise AssertionError(o)

    def value(self, code):
        return code * self.lsb

    def cast(self, v):
        """Rational -> rational on this type's grid."""
        return self.value(self.quantize(v))


class BipolarType:
    """bipolar: the values -1 and +1. A cast into it is the sign: +1 when the value is >= 0, else
    -1 (docs/arithmetic.md). Codes are the values."""
    kind = "bipolar"

    def quantize(self, v):
        s = v.sign() if isinstance(v, Surd) else (v > 0) - (v < 0)
        return 1 if s >= 0 else -1

    def value(self, code):
        return Fraction(code)

    def cast(self, v):
        return self.value(self.quantize(v))

    def __repr__(self):
        return "bipolar"


def ternary_type():
    """ternary: -1, 0, +1; arithmetically exactly int<2> with TRN rounding and SAT_SYM overflow."""
    t = FixedType(True, 2, 2, "TRN", "SAT_SYM")
    t.kind = "ternary"
    return t


_TYPE = re.compile(r"^(ap_)?(fixed|ufixed|int|uint)<([^<>]*)>$")


def parse_type(text):
    if not isinstance(text, str):
        raise BadInput("expected a type, found %r" % (text,))
    s = "".join(text.split())  # spaces allowed anywhere: ap_fixed<16, 6, AP_TRN, AP_WRAP>
    if s == "bipolar":
        return BipolarType()
    if s == "ternary":
        return ternary_type()
    m = _TYPE.match(s)
    if not m:
        raise BadInput("unknown type '%s'" % text)
    base, args = m.group(2), m.group(3).split(",")
    signed = base in ("fixed", "int")

    def integer(a):
        if not re.match(r"^[+-]?\d+$", a):
            raise BadInput("unknown type '%s'" % text)
        return int(a)

    def mode(a, allowed):
        u = a.upper()
        if u.startswith("AP_"):
            u = u[3:]
        if u not in allowed:
            raise BadInput("unknown mode '%s' in '%s'" % (a, text))
        return u

    if base in ("int", "uint"):
        if len(args) != 1:
            raise BadInput("'%s': int<W>/uint<W> take one argument" % text)
        w = integer(args[0])
        i, q, o = w, "TRN", "WRAP"
    else:
        if not 2 <= len(args) <= 5:
            raise BadInput("'%s': expected 2 to 4 arguments" % text)
        w, i = integer(args[0]), integer(args[1])
        q = mode(args[2], ROUNDING) if len(args) >= 3 else "TRN"
        o = mode(args[3], OVERFLOW) if len(args) >= 4 else "WRAP"
        if len(args) == 5 and integer(args[4]) != 0:  # ap_fixed's saturation bits N
            raise BadInput("'%s': saturation bits other than 0" % text)
    if w < 1:
        raise BadInput("'%s': width must be at least 1" % text)
    return FixedType(signed, w, i, q, o)


# ---------------------------------------------------------------- model ----------------------

class Dense:
    def __init__(self, spec, n_in, in_type):
        self.units = spec["units"]
        self.ktype = parse_type(spec["kernel_type"])
        self.btype = parse_type(spec["bias_type"])
        acc = spec.get("accum_type", "auto")
        self.atype = None if acc == "auto" else fixed_only(acc, "accum_type")
        if self.atype is not None and self.atype.overflow != "WRAP":
            raise BadInput("saturating explicit accum_type is not supported")
        self.out_type = parse_type(spec["output_type"])
        kernel = spec["kernel"]
        if len(kernel) != n_in or any(len(r) != self.units for r in kernel):
            raise BadInput("kernel shape is not [%d][%d]" % (n_in, self.units))
        # weights quantized with their types' own rounding and overflow modes
        self.w = [[self.ktype.cast(num(v)) for v in row] for row in kernel]
        bias = spec.get("bias", [Number("0")] * self.units)
        if len(bias) != self.units:
            raise BadInput("bias length")
        self.b = [self.btype.cast(num(v)) for v in bias]
        self.size = self.units

    def __call__(self, x):
        y = []
        for j in range(self.units):
            if self.atype is None:
                # auto: exact sum, the only quantization is the final cast
                acc = self.b[j] + sum((x[i] * self.w[i][j] for i in range(len(x))), Fraction(0))
            else:
                # hls4ml: each full-precision product cast to accum_type, bias cast to accum_type,
                # the sum wraps in accum_type
                a = self.atype
                codes = a.quantize(self.b[j])
                for i in range(len(x)):
                    codes += a.quantize(x[i] * self.w[i][j])
                acc = a.value(FixedType(a.signed, a.width, a.int_bits).overflow_code(codes))
            y.append(self.out_type.cast(acc))
        return y


class Relu:
    def __init__(self, spec, n_in):
        self.out_type = parse_type(spec["output_type"])
        self.size = n_in

    def __call__(self, x):
        return [self.out_type.cast(max(v, Fraction(0))) for v in x]


# ---------------------------------------------------------------- activations ----------------
# Written from docs/usage.md and docs/arithmetic.md ("Activation layers"). The hls4ml tables need
# float32 arithmetic and the C library's expf/tanhf (what hls4ml's C++ calls): float32 rounding
# is struct.pack('f'), the C functions come through ctypes. Centred tables use `decimal` at 80
# digits (the rounding to the table grid is decided far from any tie).

def _f32(x):
    import struct
    return struct.unpack("f", struct.pack("f", x))[0]


_LIBM = None


def _libm():
    global _LIBM
    if _LIBM is None:
        import ctypes
        import ctypes.util
        lib = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        for f in ("expf", "tanhf"):
            getattr(lib, f).restype = ctypes.c_float
            getattr(lib, f).argtypes = [ctypes.c_float]
        _LIBM = lib
    return _LIBM


def _trunc0(v):
    return -((-v.numerator) // v.denominator) if v < 0 else v.numerator // v.denominator


def _floor(v):
    return v.numerator // v.denominator


def _hls_quotient(x, n_table, divisor, in_type):
    """hls4ml's int(x * N / D): the ap_fixed quotient keeps the input's F fractional bits (toward
    zero), then the conversion to int truncates toward zero."""
    v = x * n_table / divisor
    if in_type.frac >= 0:
        return _trunc0(v)
    g = 2 ** -in_type.frac
    return _trunc0(v / g) * g


def _exact_function(name, x, ttype):
    """f(x) rounded to nearest on ttype's grid, then ttype's overflow (centred tables)."""
    import decimal
    ctx = decimal.Context(prec=80)
    dx = ctx.divide(decimal.Decimal(x.numerator), decimal.Decimal(x.denominator))
    if name == "sigmoid":
        v = ctx.divide(1, ctx.add(1, ctx.exp(-dx)))
    else:
        e = ctx.exp(ctx.multiply(2, dx))
        v = ctx.divide(ctx.subtract(e, 1), ctx.add(e, 1))
    scaled = ctx.multiply(v, decimal.Decimal(2) ** ttype.frac)
    n = int(scaled.to_integral_value(rounding=decimal.ROUND_HALF_EVEN))
    return ttype.value(ttype.overflow_code(n))


class Activation:
    def __init__(self, spec, n_in, in_type):
        self.op = spec["op"]
        self.in_type = in_type
        self.out_type = parse_type(spec["output_type"])
        self.size = n_in
        op = self.op
        ftype = lambda k, d: parse_type(spec.get(k, d))  # noqa: E731
        if op in ("sigmoid", "tanh", "elu", "selu"):
            self.n = int(spec.get("table_size", Number("1024")))
            if self.n < 2 or self.n & (self.n - 1):
                raise BadInput("table_size must be a power of two")
            self.ttype = ftype("table_type", "fixed<18,8>")
        if op in ("sigmoid", "tanh"):
            self.span = 16 if op == "sigmoid" else 8
            self.mode = spec.get("table", "hls4ml")
            if self.mode == "hls4ml":
                lib = _libm()
                table = []
                for i in range(self.n):
                    xf = _f32(self.span * (i - self.n / 2) / self.n)
                    if op == "sigmoid":
                        y = _f32(1.0 / _f32(1.0 + lib.expf(-xf)))
                    else:
                        y = lib.tanhf(xf)
                    table.append(self.ttype.cast(Fraction(y)))
            elif self.mode == "centered":
                table = [_exact_function(op, Fraction(self.span * (2 * i + 1 - self.n), 2 * self.n), self.ttype)
                         for i in range(self.n)]
            else:
                raise BadInput("unknown table implementation %r" % self.mode)
            self.table = table
        elif op in ("elu", "selu"):
            lib = _libm()
            self.table = []
            for i in range(self.n):
                xf = _f32(-8.0 * i / self.n)
                em1 = float(lib.expf(xf)) - 1.0
                y = _f32(1.0507009873554804934193349852946 * (1.6732632423543772848170429916717 * em1)) if op == "selu" else _f32(em1)
                self.table.append(self.ttype.cast(Fraction(y)))
            if op == "elu":
                self.alpha = ftype("alpha_type", "fixed<16,6>").cast(num(spec.get("alpha", Number("1.0"))))
            self.lam = parse_type("ufixed<16,1>").cast(Fraction("1.0507009873554805"))
        elif op == "lut":
            self.ttype = parse_type(spec["table_type"])
            vals = [self.ttype.cast(num(v)) for v in spec["table"]]
            self.k = int(spec.get("index_bits", Number(str(len(vals).bit_length() - 1))))
            if len(vals) != 1 << self.k or self.k > in_type.width:
                raise BadInput("lut: table length / index_bits")
            self.table = vals
        elif op == "leaky_relu":
            self.alpha = ftype("alpha_type", "fixed<16,6>").cast(num(spec["alpha"]))
        elif op in ("relu_max", "relu6"):
            self.max = Fraction(6) if op == "relu6" else num(spec["max"])
        elif op in ("hard_sigmoid", "hard_tanh"):
            self.slope = ftype("slope_type", "ufixed<16,0>").cast(num(spec.get("slope", Number("0.2"))))
            self.shift = ftype("shift_type", "ufixed<2,0>").cast(num(spec.get("shift", Number("0.5"))))
        elif op != "linear":
            raise BadInput("unknown op %r" % op)

    def one(self, x):
        op, o = self.op, self.out_type
        if op == "linear":
            return o.cast(x)
        if op in ("sigmoid", "tanh"):
            if self.mode == "hls4ml":
                t = _hls_quotient(x, self.n, self.span, self.in_type)
            else:
                t = _floor(x * self.n / self.span)
            return o.cast(self.table[min(max(t + self.n // 2, 0), self.n - 1)])
        if op in ("elu", "selu"):
            if x >= 0:
                return o.cast(x if op == "elu" else self.lam * x)
            i = min(max(-_hls_quotient(x, self.n, 8, self.in_type), 0), self.n - 1)
            return o.cast(self.alpha * self.table[i] if op == "elu" else self.table[i])
        if op == "lut":
            t = self.in_type
            code = t.quantize(x) - t.min_code  # x is on the input grid
            return o.cast(self.table[code >> (t.width - self.k)])
        if op == "leaky_relu":
            return o.cast(x if x > 0 else self.alpha * x)
        if op in ("relu_max", "relu6"):
            return o.cast(min(max(x, Fraction(0)), self.max))
        if op in ("hard_sigmoid", "hard_tanh"):
            v = min(max(self.slope * x + self.shift, Fraction(0)), Fraction(1))
            return o.cast(2 * v - 1 if op == "hard_tanh" else v)
        raise AssertionError(op)

    def __call__(self, x):
        return [self.one(v) for v in x]


def fixed_only(text, what):
    t = parse_type(text)
    if t.kind != "fixed":
        raise BadInput("%s cannot be %s" % (what, t.kind))
    return t


def numbers(spec, field, n=None):
    v = spec[field]
    if not isinstance(v, list) or (n is not None and len(v) != n):
        raise BadInput("%s: expected %s values" % (field, n if n is not None else "a list of"))
    return [num(e) for e in v]


def fixed_output(spec, kind):
    """sign/threshold/ternary_tanh: the output type is fixed; output_type may be omitted."""
    if "output_type" in spec and parse_type(spec["output_type"]).kind != kind:
        raise BadInput("output_type must be %s" % kind)
    return BipolarType() if kind == "bipolar" else ternary_type()


class BinaryDense:
    """binary_dense / ternary_dense: y_j = cast(sum_i w_ij x_i, output_type), exact sum, no bias."""

    def __init__(self, spec, n_in, ternary):
        self.units = int(spec["units"])
        self.out_type = parse_type(spec["output_type"])
        allowed = (-1, 0, 1) if ternary else (-1, 1)
        kernel = spec["kernel"]
        if len(kernel) != n_in or any(len(r) != self.units for r in kernel):
            raise BadInput("kernel shape is not [%d][%d]" % (n_in, self.units))
        self.w = [[num(v) for v in row] for row in kernel]
        if any(v not in allowed for row in self.w for v in row):
            raise BadInput("weights must be in %s" % (allowed,))
        # each term is +x or -x (zero weights drop out): the inputs added and subtracted
        self.plus = [[i for i in range(n_in) if self.w[i][j] == 1] for j in range(self.units)]
        self.minus = [[i for i in range(n_in) if self.w[i][j] == -1] for j in range(self.units)]
        self.size = self.units

    def __call__(self, x):
        return [self.out_type.cast(sum((x[i] for i in p), Fraction(0)) - sum((x[i] for i in m), Fraction(0)))
                for p, m in zip(self.plus, self.minus)]


class Sign:
    """sign / binary_tanh: the cast into bipolar (+1 iff x >= 0)."""

    def __init__(self, spec, n_in):
        self.out_type = fixed_output(spec, "bipolar")
        self.size = n_in

    def __call__(self, x):
        return [Fraction(1) if v >= 0 else Fraction(-1) for v in x]


class TernaryTanh:
    """hls4ml: d = cast(2x, input type); +1 if d > 1, -1 if d <= -1, else 0."""

    def __init__(self, spec, n_in, in_type):
        self.out_type = fixed_output(spec, "ternary")
        self.in_type = in_type
        self.size = n_in

    def __call__(self, x):
        y = []
        for v in x:
            d = self.in_type.cast(2 * v)
            y.append(Fraction(1) if d > 1 else Fraction(-1) if d <= -1 else Fraction(0))
        return y


class Threshold:
    """+1 if x_j >= t_j (ge, default) or x_j <= t_j (le), else -1; compared exactly."""

    def __init__(self, spec, n_in):
        self.out_type = fixed_output(spec, "bipolar")
        self.t = numbers(spec, "thresholds", n_in)
        self.dirs = spec.get("directions", ["ge"] * n_in)
        if len(self.dirs) != n_in or any(d not in ("ge", "le") for d in self.dirs):
            raise BadInput("directions: expected %d of 'ge'/'le'" % n_in)
        self.size = n_in

    def __call__(self, x):
        return [Fraction(1) if (v >= t if d == "ge" else v <= t) else Fraction(-1)
                for v, t, d in zip(x, self.t, self.dirs)]


class MultiThreshold:
    """QONNX MultiThreshold: y_j = cast(out_scale * #{i : x_j >= T_ji} + out_bias, output_type)."""

    def __init__(self, spec, n_in):
        self.out_type = parse_type(spec["output_type"])
        rows = spec["thresholds"]
        if not isinstance(rows, list) or len(rows) not in (1, n_in):
            raise BadInput("thresholds: expected 1 or %d rows" % n_in)
        rows = [[num(v) for v in r] for r in rows]
        if len(rows[0]) < 1 or any(len(r) != len(rows[0]) for r in rows):
            raise BadInput("thresholds: rows of N >= 1 thresholds, the same N in every row")
        self.rows = rows * n_in if len(rows) == 1 else rows
        self.scale = num(spec.get("out_scale", Number("1")))
        self.bias = num(spec.get("out_bias", Number("0")))
        self.size = n_in

    def __call__(self, x):
        return [self.out_type.cast(self.scale * sum(1 for t in row if v >= t) + self.bias)
                for v, row in zip(x, self.rows)]


class BatchNormParams:
    """The exact parameters: y = x * scale + bias with scale = g * sqrt(r), bias = beta - mean * scale,
    where (gamma form) g = gamma, r = 1 / (variance + epsilon), or (scale form) the given scale and
    bias with r = 1. Returned per channel as (beta, mean, g, r): y = beta + (x - mean) * g * sqrt(r)."""

    def __init__(self, spec, n_in):
        if "scale" in spec or "bias" in spec:
            if any(k in spec for k in ("gamma", "beta", "mean", "variance", "epsilon")):
                raise BadInput("batchnorm: either scale/bias or gamma/beta/mean/variance/epsilon")
            sc, bi = numbers(spec, "scale", n_in), numbers(spec, "bias", n_in)
            self.ch = [(b, Fraction(0), s, Fraction(1)) for s, b in zip(sc, bi)]
        else:
            g, be = numbers(spec, "gamma", n_in), numbers(spec, "beta", n_in)
            mu, var = numbers(spec, "mean", n_in), numbers(spec, "variance", n_in)
            eps = num(spec["epsilon"])
            if any(v + eps <= 0 for v in var):
                raise BadInput("variance + epsilon must be positive")
            self.ch = [(b, m, gg, 1 / (v + eps)) for gg, b, m, v in zip(g, be, mu, var)]

    def value(self, j, x):
        """The exact batchnorm of x in channel j, as a Surd."""
        beta, mean, g, r = self.ch[j]
        return Surd(beta, (x - mean) * g, r)

    def scale(self, j):
        beta, mean, g, r = self.ch[j]
        return Surd(0, g, r)

    def bias(self, j):
        beta, mean, g, r = self.ch[j]
        return Surd(beta, -mean * g, r)


class BatchNorm:
    """batchnorm alone: y = cast(x * scale_q + bias_q, output_type), scale_q and bias_q the exact
    real scale and bias quantized to scale_type and bias_type."""

    def __init__(self, spec, n_in):
        p = BatchNormParams(spec, n_in)
        self.stype = fixed_only(spec["scale_type"], "scale_type")
        self.btype = fixed_only(spec["bias_type"], "bias_type")
        self.out_type = parse_type(spec["output_type"])
        self.s = [self.stype.cast(p.scale(j)) for j in range(n_in)]
        self.b = [self.btype.cast(p.bias(j)) for j in range(n_in)]
        self.size = n_in

    def __call__(self, x):
        return [self.out_type.cast(v * s + b) for v, s, b in zip(x, self.s, self.b)]


class BatchNormSign:
    """batchnorm directly followed by sign/binary_tanh: the sign of the exact batchnorm
    (+1 iff beta + (x - mean) * gamma / sqrt(variance + epsilon) >= 0); its types are not used."""

    def __init__(self, spec, sign_spec, n_in):
        self.p = BatchNormParams(spec, n_in)
        self.out_type = fixed_output(sign_spec, "bipolar")
        self.size = n_in

    def __call__(self, x):
        return [Fraction(1) if self.p.value(j, v).sign() >= 0 else Fraction(-1)
                for j, v in enumerate(x)]


def f32(x):
    """The float32 nearest to the double x (round to nearest even), as a Fraction; +-inf beyond."""
    import math
    import struct
    if math.isinf(x):
        return x
    try:
        return Fraction(struct.unpack("<f", struct.pack("<f", x))[0])
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def from_float(t, v):
    """ap_fixed's conversion of a float value (a Fraction or +-inf) to type t: a rational."""
    if v in (float("inf"), float("-inf")):
        v = Fraction(2) ** 1024 * (1 if v > 0 else -1)
    return t.cast(v)


class Softmax:
    """docs/arithmetic.md, "Softmax": hls4ml 1.3's stable softmax, and argmax."""

    DEFAULT = "fixed<18,8,RND,SAT>"

    def __init__(self, spec, n_in, in_type):
        import math
        self.impl = spec.get("implementation", "stable")
        self.out_type = parse_type(spec["output_type"])
        self.n = n_in
        if self.impl == "argmax":
            self.size = 1
            return
        if self.impl != "stable":
            raise BadInput("unknown softmax implementation %r" % self.impl)
        self.size = n_in
        size = int(spec.get("table_size", "1024"))
        exp_t = parse_type(spec.get("exp_table_type", self.DEFAULT))
        self.inv_t = parse_type(spec.get("inv_table_type", self.DEFAULT))
        self.inv_in = parse_type(spec.get("inv_inp_type", self.DEFAULT))
        acc = spec.get("accum_type", "auto")
        if acc == "auto":
            g = max(0, (n_in - 1).bit_length())
            self.acc = FixedType(exp_t.signed, exp_t.width + g, exp_t.int_bits + g)
        else:
            self.acc = parse_type(acc)
        w, i = in_type.width, in_type.int_bits
        self.norm = FixedType(False, w - 1, i - 1) if in_type.signed else FixedType(False, w, i)
        inv_size = min(size, 2 ** min(w, self.inv_t.width))
        exp_size = min(inv_size, 2 ** (w - 1)) if in_type.signed else inv_size
        self.ne, self.ni = exp_size.bit_length() - 1, inv_size.bit_length() - 1

        def index_value(k, t, bits):  # a value of t whose top `bits` bits are k
            if t.signed and k >= 2 ** (bits - 1):
                k -= 2 ** bits
            return f32(float(Fraction(k) * Fraction(2) ** (t.int_bits - bits)))

        self.exp = [from_float(exp_t, f32(math.exp(-index_value(k, self.norm, self.ne))))
                    for k in range(exp_size)]
        self.inv = []
        for k in range(inv_size):
            v = index_value(k, self.inv_in, self.ni)
            self.inv.append(from_float(self.inv_t, math.inf if v == 0 else f32(float(1 / v))))

    def __call__(self, x):
        if self.impl == "argmax":
            return [Fraction(x.index(max(x)))]
        m = max(x)
        norm = self.norm
        a = []
        for v in x:
            d = norm.value(norm.overflow_code((m - v) / norm.lsb))  # wraps, same grid
            a.append(self.acc.cast(self.exp[int(d / norm.lsb) >> (norm.width - self.ne)]))

        def reduce(xs):  # hls4ml's tree: the left part is the largest power of two below n
            if len(xs) == 1:
                return xs[0]
            left = 1
            while left * 2 <= len(xs) - 1:
                left *= 2
            return self.acc.cast(reduce(xs[:left]) + reduce(xs[left:]))

        s = self.inv_in.quantize(reduce(a)) % (2 ** self.inv_in.width)  # the bit pattern
        r = self.inv[s >> (self.inv_in.width - self.ni)]
        return [self.out_type.cast(ai * r) for ai in a]


class Number(str):
    """A JSON number kept as its text."""


def num(v):
    if isinstance(v, bool) or not isinstance(v, Number):
        raise BadInput("expected a number, found %r" % (v,))
    return parse_decimal(v)


def load_model(path):
    with open(path, encoding="utf-8") as f:
        spec = json.load(f, parse_float=Number, parse_int=Number)
    if spec.get("format") != "rtlgen-model" or spec.get("version") != "1":
        raise BadInput("%s: not an rtlgen-model version 1 file" % path)
    inp = spec["input"]
    in_type = parse_type(inp["type"])
    size = int(inp["size"])
    layers = []
    t = in_type
    specs = spec["layers"]
    k = 0
    while k < len(specs):
        ls = specs[k]
        op = ls["op"]
        if op == "dense":
            ls = dict(ls, units=int(ls["units"]))
            layer = Dense(ls, size, t)
        elif op == "relu":
            layer = Relu(ls, size)
        elif op == "softmax":
            # An arithmetic layer reads a bipolar input as int<2> (docs/arithmetic.md).
            layer = Softmax(ls, size, parse_type("int<2>") if isinstance(t, BipolarType) else t)
        elif op in ("binary_dense", "ternary_dense"):
            layer = BinaryDense(ls, size, op == "ternary_dense")
        elif op in ("sign", "binary_tanh"):
            layer = Sign(ls, size)
        elif op == "ternary_tanh":
            layer = TernaryTanh(ls, size, t)
        elif op == "threshold":
            layer = Threshold(ls, size)
        elif op == "multi_threshold":
            layer = MultiThreshold(ls, size)
        elif op == "batchnorm":
            if k + 1 < len(specs) and specs[k + 1]["op"] in ("sign", "binary_tanh"):
                layer = BatchNormSign(ls, specs[k + 1], size)
                k += 1
            else:
                layer = BatchNorm(ls, size)
        else:
            # An arithmetic layer reads a bipolar input as int<2> (docs/arithmetic.md).
            layer = Activation(ls, size, parse_type("int<2>") if isinstance(t, BipolarType) else t)
        layers.append(layer)
        size, t = layer.size, layer.out_type
        k += 1
    return in_type, int(inp["size"]), layers


def read_csv(path, size, in_type):
    samples = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f.read().split("\n"), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            cells = line.split(",")
            if len(cells) != size:
                raise BadInput("%s: line %d: expected %d values, found %d" % (path, n, size, len(cells)))
            samples.append([in_type.cast(parse_decimal(c)) for c in cells])
    return samples


def main(argv):
    if len(argv) != 3:
        print("usage: exact_reference.py MODEL.json INPUT.csv", file=sys.stderr)
        return 2
    try:
        in_type, size, layers = load_model(argv[1])
        out = []
        for x in read_csv(argv[2], size, in_type):
            for layer in layers:
                x = layer(x)
            out.append(",".join(format_decimal(v) for v in x))
    except (BadInput, KeyError, ValueError) as e:
        print("exact_reference: error: %s" % e, file=sys.stderr)
        return 2
    sys.stdout.write("".join(line + "\n" for line in out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
