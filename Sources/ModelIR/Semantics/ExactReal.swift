// Exact arithmetic for batch normalization: rationals (from the decimal text of the model file)
// and numbers of the form p + q / sqrt(v) (gamma / sqrt(variance + epsilon)), compared with
// rationals exactly by squaring. No floating point anywhere.
import BigInt
import FixedPoint

/// An exact rational n / d with d > 0.
public struct Rational: Sendable, Equatable, CustomStringConvertible {
    public let num: BigInt
    public let den: BigInt

    public init(_ n: BigInt, _ d: BigInt = 1) {
        precondition(!d.isZero)
        var n = n, d = d
        if d.sign == .minus { n = -n; d = -d }
        let g = n.magnitude.greatestCommonDivisor(with: d.magnitude)
        if g > 1 { n /= BigInt(g); d /= BigInt(g) }
        num = n
        den = d
    }

    public init(_ e: ExactDecimal) { self.init(e.numerator, e.denominator) }
    public init(decimal text: String) throws { self.init(try ExactDecimal(parsing: text)) }
    public init(code: Int128, frac: Int) {
        if frac >= 0 { self.init(bigInt(code), BigInt(1) << frac) } else { self.init(bigInt(code) << -frac, 1) }
    }

    public static let zero = Rational(0)
    public static let one = Rational(1)

    public var sign: Int { num.isZero ? 0 : (num.sign == .minus ? -1 : 1) }
    public static func + (a: Rational, b: Rational) -> Rational { Rational(a.num * b.den + b.num * a.den, a.den * b.den) }
    public static func - (a: Rational, b: Rational) -> Rational { Rational(a.num * b.den - b.num * a.den, a.den * b.den) }
    public static func * (a: Rational, b: Rational) -> Rational { Rational(a.num * b.num, a.den * b.den) }
    public static prefix func - (a: Rational) -> Rational { Rational(-a.num, a.den) }
    public static func < (a: Rational, b: Rational) -> Bool { a.num * b.den < b.num * a.den }
    public static func >= (a: Rational, b: Rational) -> Bool { !(a < b) }
    public static func <= (a: Rational, b: Rational) -> Bool { !(b < a) }

    /// floor(self)
    public var floor: BigInt {
        let (q, r) = num.quotientAndRemainder(dividingBy: den)
        return (r.sign == .minus && !r.isZero) ? q - 1 : q
    }
    /// ceil(self)
    public var ceil: BigInt { -((-self).floor) }

    /// The exact decimal text (the denominator must be a product of 2s and 5s).
    public var description: String { "\(num)/\(den)" }
}

/// Is a >= b * sqrt(v)? (v > 0), decided exactly.
public func geqTimesSqrt(_ a: Rational, _ b: Rational, sqrtOf v: Rational) -> Bool {
    if b.sign <= 0 {
        if a.sign >= 0 { return true }
        // a < 0, b <= 0: |a| <= |b| sqrt(v)  <=>  a^2 <= b^2 v
        return a * a <= b * b * v
    }
    // b > 0: a must be >= 0 and a^2 >= b^2 v
    return a.sign >= 0 && a * a >= b * b * v
}

/// The real number p + q / sqrt(v) (v > 0).
public struct SqrtForm: Sendable {
    public var p: Rational
    public var q: Rational
    public var v: Rational

    public init(p: Rational, q: Rational, v: Rational) {
        precondition(v.sign > 0)
        self.p = p
        self.q = q
        self.v = v
    }

    /// self >= c, exactly: q / sqrt(v) >= c - p  <=>  q >= (c - p) sqrt(v).
    public func geq(_ c: Rational) -> Bool { geqTimesSqrt(q, c - p, sqrtOf: v) }
    /// self <= c.
    public func leq(_ c: Rational) -> Bool { SqrtForm(p: -p, q: -q, v: v).geq(-c) }

    /// The largest integer k with self >= k * step (step > 0): floor(self / step).
    public func floor(step: Rational) -> BigInt {
        func ok(_ k: BigInt) -> Bool { geq(Rational(k) * step) }
        // Exponential search for a bracket, then bisection.
        var lo = BigInt(0), hi = BigInt(0)
        if ok(0) {
            hi = 1
            while ok(hi) { lo = hi; hi *= 2 }
        } else {
            lo = -1
            while !ok(lo) { hi = lo; lo *= 2 }
        }
        // ok(lo), !ok(hi)
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if ok(mid) { lo = mid } else { hi = mid }
        }
        return lo
    }

    /// Quantizes this real number to type t with t's rounding and overflow modes, exactly
    /// (as `FixedType.quantize(numerator:denominator:)` does for a rational).
    public func quantize(to t: FixedType) -> Int128 {
        if t.encoding == .bipolar { return geq(.zero) ? 1 : -1 }
        let f = t.fracBits
        let halfStep = f + 1 >= 0 ? Rational(1, BigInt(1) << (f + 1)) : Rational(BigInt(1) << -(f + 1), 1)
        let k2 = floor(step: halfStep)            // floor(x * 2^(F+1))
        let (qq, rr) = k2.quotientAndRemainder(dividingBy: 2)
        let half = !rr.isZero                      // the first dropped bit
        var q = rr.sign == .minus ? qq - 1 : qq    // floor(x * 2^F)
        let sticky = !leq(Rational(k2) * halfStep) // not exactly on the half grid
        let negative = !geq(.zero)
        let up = t.rounding.roundsUp(negative: negative, lsbOdd: q.magnitude & 1 == 1, half: half, sticky: sticky)
        if up { q += 1 }
        return t.overflowCode(q)
    }
}
