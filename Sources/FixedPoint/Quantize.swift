// Casting exact values to a fixed-point type: rounding first, overflow after, as ap_fixed does.
// A code c of type t stands for the value c * 2^-t.fracBits.
import BigInt

extension FixedType {
    /// Applies the overflow mode to an already-rounded integer `q` (in units of 2^-fracBits).
    /// The one definition of overflow; the fast and the exact paths both end here.
    public func overflowCode(_ q: Int128) -> Int128 {
        if q >= minCode && q <= maxCode {
            if signed && overflow == .SAT_SYM && q == minCode { return symmetricMinCode }
            return q
        }
        return saturateOrWrap(above: q > maxCode) { wrapCode(q) }
    }

    /// The same for an arbitrarily large q.
    public func overflowCode(_ q: BigInt) -> Int128 {
        if let v = int128(exactly: q) { return overflowCode(v) }
        return saturateOrWrap(above: q.sign == .plus) {
            let m = BigInt(1) << width
            var r = q % m
            if r.sign == .minus && !r.isZero { r += m }
            let v = int128(exactly: r)!  // 0 <= r < 2^128... width <= 128 and r < 2^width
            return wrapCode(v)
        }
    }

    /// Out of range: the value of each overflow mode (`wrapped` computes the WRAP result).
    private func saturateOrWrap(above: Bool, wrapped: () -> Int128) -> Int128 {
        switch overflow {
        case .WRAP: return wrapped()
        case .SAT: return above ? maxCode : minCode
        case .SAT_ZERO: return 0
        case .SAT_SYM: return above ? maxCode : (signed ? symmetricMinCode : 0)
        }
    }

    /// The most negative code SAT_SYM produces: -max, or -1 for a 1-bit signed type (ap_fixed
    /// sets the lowest bit of the minimum code, which for W = 1 is the minimum itself).
    public var symmetricMinCode: Int128 { width > 1 ? -maxCode : minCode }

    /// Two's-complement wrap of `v` (any Int128 bit pattern) into `width` bits, read with this
    /// type's signedness.
    public func wrapCode(_ v: Int128) -> Int128 {
        let s = 128 - width
        if signed { return (v << s) >> s }
        return Int128(truncatingIfNeeded: (UInt128(truncatingIfNeeded: v) << s) >> s)
    }

    /// Rounds the exact rational `n / d` (d > 0) to this type's grid with its rounding mode,
    /// then applies its overflow mode. Returns the code.
    public func quantize(numerator n: BigInt, denominator d: BigInt) -> Int128 {
        precondition(d > 0)
        if encoding == .bipolar { return n.sign == .minus && !n.isZero ? -1 : 1 }
        var num = n
        var den = d
        if fracBits >= 0 { num <<= fracBits } else { den <<= -fracBits }
        var (q, r) = num.quotientAndRemainder(dividingBy: den)
        if r.sign == .minus && !r.isZero { q -= 1; r += den }
        let twice = r << 1
        let half = twice >= den
        let sticky = half ? twice > den : r > 0
        let up = rounding.roundsUp(negative: num.sign == .minus && !num.isZero, lsbOdd: q.magnitude & 1 != 0, half: half, sticky: sticky)
        if up { q += 1 }
        return overflowCode(q)
    }

    /// Casts the value `code * 2^-frac` to this type. Fast path in Int128; exact fallback.
    @inlinable
    public func cast(code v: Int128, frac: Int) -> Int128 {
        if encoding == .bipolar { return v >= 0 ? 1 : -1 }
        let k = frac - fracBits
        if k > 0 && k <= 126 {
            let fl = v >> k
            let r = v & ((Int128(1) << k) - 1)
            let half = (r >> (k - 1)) & 1 == 1
            let sticky = r & ((Int128(1) << (k - 1)) - 1) != 0
            let up = rounding.roundsUp(negative: v < 0, lsbOdd: fl & 1 == 1, half: half, sticky: sticky)
            return overflowCode(up ? fl + 1 : fl)
        }
        if k <= 0 && k >= -126 {
            let q = v << (-k)
            if q >> (-k) == v { return overflowCode(q) }
        }
        return castExact(code: v, frac: frac)
    }

    @usableFromInline
    func castExact(code v: Int128, frac: Int) -> Int128 {
        if frac >= 0 { return quantize(numerator: bigInt(v), denominator: BigInt(1) << frac) }
        return quantize(numerator: bigInt(v) << (-frac), denominator: 1)
    }

    /// Casts a code of another fixed-point type to this type.
    public func cast(_ code: Int128, from src: FixedType) -> Int128 {
        cast(code: code, frac: src.fracBits)
    }

    /// Quantizes a decimal number given as text (exactly, no binary floating point in between).
    public func quantize(decimal text: String) throws -> Int128 {
        let d = try ExactDecimal(parsing: text)
        return quantize(numerator: d.numerator, denominator: d.denominator)
    }

    /// The exact decimal text of a code of this type.
    public func decimalString(_ code: Int128) -> String {
        FixedPoint.decimalString(code: code, frac: fracBits)
    }

    /// The code's value as a Double (for reports and approximate comparisons only).
    public func doubleValue(_ code: Int128) -> Double {
        Double(code) * pow2(-fracBits)
    }
}

/// 2^e as a Double (exact for the exponents Double can hold).
public func pow2(_ e: Int) -> Double {
    var r = 1.0
    if e >= 0 { for _ in 0..<e { r *= 2 } } else { for _ in 0..<(-e) { r /= 2 } }
    return r
}

/// Int128 of a BigInt, through the magnitude (BigInt 6's own conversions of negative values
/// above 64 bits are not exact).
public func int128(exactly b: BigInt) -> Int128? {
    let mag = b.magnitude
    guard mag.bitWidth <= 128 else { return nil }
    var u: UInt128 = 0
    for (i, w) in mag.words.enumerated() where i < 2 { u |= UInt128(w) << (64 * i) }
    if b.sign == .minus && !b.isZero {
        guard u <= UInt128(1) << 127 else { return nil }
        return Int128(truncatingIfNeeded: 0 &- u)
    }
    guard u <= UInt128(Int128.max) else { return nil }
    return Int128(u)
}

/// BigInt of an Int128, through the magnitude.
public func bigInt(_ v: Int128) -> BigInt {
    let m = v.magnitude
    let b = BigInt(BigUInt(words: [UInt(truncatingIfNeeded: m), UInt(truncatingIfNeeded: m >> 64)]))
    return v < 0 ? -b : b
}

/// Exact decimal text of `code * 2^-frac`: finite, no exponent, integers without a point.
public func decimalString(code: Int128, frac: Int) -> String {
    if frac <= 0 { return (bigInt(code) << (-frac)).description }
    let negative = code < 0
    let a = bigInt(code).magnitude
    let intPart = a >> frac
    let fracPart = a & ((BigUInt(1) << frac) - 1)
    var s = (negative ? "-" : "") + intPart.description
    if fracPart != 0 {
        var digits = (fracPart * BigUInt(5).power(frac)).description
        if digits.count < frac { digits = String(repeating: "0", count: frac - digits.count) + digits }
        while digits.hasSuffix("0") { digits.removeLast() }
        s += "." + digits
    }
    return s
}

public struct DecimalParseError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// A decimal number read exactly: numerator / denominator with denominator a power of ten.
public struct ExactDecimal: Sendable {
    public let numerator: BigInt
    public let denominator: BigInt

    /// Accepts `[-+]digits[.digits][e[-+]digits]` (also `.5`, `5.`). Exponents beyond +-4000
    /// are rejected rather than expanded.
    public init(parsing text: String) throws {
        let s = Array(text.utf8)
        var i = 0
        func fail(_ why: String) -> DecimalParseError {
            DecimalParseError(description: "'\(text)' is not a decimal number (\(why))")
        }
        var negative = false
        if i < s.count && (s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+")) {
            negative = s[i] == UInt8(ascii: "-"); i += 1
        }
        var digits: [UInt8] = []
        var fracDigits = 0
        var sawDigit = false
        while i < s.count && s[i] >= 48 && s[i] <= 57 { digits.append(s[i]); i += 1; sawDigit = true }
        if i < s.count && s[i] == UInt8(ascii: ".") {
            i += 1
            while i < s.count && s[i] >= 48 && s[i] <= 57 { digits.append(s[i]); i += 1; fracDigits += 1; sawDigit = true }
        }
        guard sawDigit else { throw fail("no digits") }
        var exp = 0
        if i < s.count && (s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E")) {
            i += 1
            var eneg = false
            if i < s.count && (s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+")) { eneg = s[i] == UInt8(ascii: "-"); i += 1 }
            var sawE = false
            while i < s.count && s[i] >= 48 && s[i] <= 57 {
                if exp < 100_000 { exp = exp * 10 + Int(s[i] - 48) }
                i += 1; sawE = true
            }
            guard sawE else { throw fail("exponent has no digits") }
            if eneg { exp = -exp }
        }
        guard i == s.count else { throw fail("unexpected character") }
        let scale = exp - fracDigits
        guard abs(scale) <= 4000 else { throw fail("exponent out of the supported range +-4000") }
        var m = BigInt(String(decoding: digits, as: UTF8.self)) ?? 0
        if negative { m = -m }
        if scale >= 0 {
            numerator = m * BigInt(10).power(scale)
            denominator = 1
        } else {
            numerator = m
            denominator = BigInt(10).power(-scale)
        }
    }
}

/// `base + step * 0.<fraction>` for exact decimal texts, printed exactly (test-vector helper).
public func decimalAddScaled(_ base: String, step: String, fraction: String) -> String {
    let b = try! ExactDecimal(parsing: base)
    let s = try! ExactDecimal(parsing: step)
    let f = try! ExactDecimal(parsing: "0." + fraction)
    let num = b.numerator * s.denominator * f.denominator + s.numerator * f.numerator * b.denominator
    let den = b.denominator * s.denominator * f.denominator  // a power of ten
    let negative = num < 0
    var digits = num.magnitude.description
    let scale = den.description.count - 1
    if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
    var intPart = String(digits.dropLast(scale))
    var fracPart = String(digits.suffix(scale))
    while fracPart.hasSuffix("0") { fracPart.removeLast() }
    if intPart.isEmpty { intPart = "0" }
    let body = fracPart.isEmpty ? intPart : intPart + "." + fracPart
    return (negative && body != "0" ? "-" : "") + body
}
