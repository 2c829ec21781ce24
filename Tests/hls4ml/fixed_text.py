"""Shared by the hls4ml comparison scripts: fixed-point type and number spellings.

`hls_type` turns rtlgen's `fixed<W,I[,Q[,O]]>` / `ufixed<...>` into hls4ml's `ap_fixed<...>`
spelling; `exact_decimal` writes a dyadic rational (a float, or a Fraction with a power-of-two
denominator) as the exact decimal text rtlgen reads, never rounded.
"""
from fractions import Fraction


def hls_type(t):
    """fixed<W,I[,Q[,O]]> -> ap_fixed<W,I[,AP_Q[,AP_O]]>."""
    base, args = t.split('<', 1)
    a = [s.strip() for s in args.rstrip('>').split(',')]
    a = a[:2] + ['AP_' + m for m in a[2:]]
    return ('ap_fixed' if base.strip() == 'fixed' else 'ap_ufixed') + '<' + ','.join(a) + '>'


def exact_decimal(v):
    """The exact decimal text of a dyadic rational (a float, or a Fraction with a power-of-2 denominator)."""
    v = Fraction(v)
    if v.denominator == 1:
        return str(v.numerator)
    d = v.denominator.bit_length() - 1
    assert v.denominator == 1 << d, v
    s = str(abs(v.numerator) * 5 ** d).rjust(d + 1, '0')
    return ('-' if v < 0 else '') + s[:-d] + '.' + s[-d:].rstrip('0')
