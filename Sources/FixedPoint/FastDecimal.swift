// Machine-integer versions of the decimal input and output of Quantize.swift, for `rtlgen predict`
// over millions of samples. Each one returns exactly what its exact counterpart returns
// (`quantize(numerator:denominator:)` on a parsed ExactDecimal, `decimalString(code:frac:)`) or
// says it cannot (nil / false), and the caller then uses the exact one. Tests compare both over
// random values and every example's vectors.

extension FixedType {
    /// `quantize(numerator:denominator:)` for a numerator already scaled by 2^fracBits:
    /// the code of `num / den` (den > 0, both below 2^125), rounded, then overflow.
    @inlinable
    public func quantizeScaled(numerator num: Int128, denominator den: Int128) -> Int128 {
        if encoding == .bipolar { return num < 0 ? -1 : 1 }
        var q = num / den
        var r = num % den
        if r < 0 { q -= 1; r += den }
        return roundedCode(floor: q, remainder: r, denominator: den, negative: num < 0)
    }

    /// The code of a quotient given as its floor `q` and remainder r in [0, den): rounded up
    /// when this type's rounding says so for the dropped fraction r / den, then overflow.
    @inlinable
    func roundedCode(floor q: Int128, remainder r: Int128, denominator den: Int128, negative: Bool) -> Int128 {
        let half = r >= den - r
        let sticky = half ? r > den - r : r > 0
        let up = rounding.roundsUp(negative: negative, lsbOdd: q & 1 != 0, half: half, sticky: sticky)
        return overflowCode(up ? q + 1 : q)
    }

    /// The code of the decimal text in `bytes` (`[-+]digits[.digits][(e|E)[-+]digits]`), exactly
    /// as `quantize(decimal:)` gives it, or nil when the text is not of that form or needs more
    /// than 38 significant digits or a large exponent (the caller then uses `quantize(decimal:)`).
    ///
    /// The common case (at most 19 significant digits, at most 19 after the point, no exponent,
    /// a plain type with 0 <= fracBits <= 64) is read into 64 bits and divided with one 128-by-64
    /// division; everything else goes through `quantizeDecimalWide`.
    @inlinable
    public func quantizeDecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Int128? {
        let n = bytes.count
        var i = 0
        var negative = false
        if i < n && (bytes[i] == 0x2D || bytes[i] == 0x2B) { negative = bytes[i] == 0x2D; i += 1 }
        var m: UInt64 = 0
        var digits = 0        // digits read into m, leading zeros included (at most 19)
        var fracDigits = 0
        var sawDigit = false
        while i < n, bytes[i] &- 0x30 < 10 {
            if digits == 19 { return quantizeDecimalWide(bytes) }
            m = m &* 10 &+ UInt64(bytes[i] &- 0x30)
            if m != 0 { digits += 1 }
            sawDigit = true
            i += 1
        }
        if i < n && bytes[i] == 0x2E {
            i += 1
            while i < n, bytes[i] &- 0x30 < 10 {
                if digits == 19 || fracDigits == 19 { return quantizeDecimalWide(bytes) }
                m = m &* 10 &+ UInt64(bytes[i] &- 0x30)
                if m != 0 { digits += 1 }
                fracDigits += 1
                sawDigit = true
                i += 1
            }
        }
        let F = fracBits
        guard sawDigit, i == n, encoding == .plain, F >= 0, F <= 64 else { return quantizeDecimalWide(bytes) }
        // value * 2^F = (m << F) / 10^fracDigits, m < 10^19 < 2^64.
        let den = pow10u64(fracDigits)
        let num = UInt128(m) << F
        let high = UInt64(truncatingIfNeeded: num >> 64), low = UInt64(truncatingIfNeeded: num)
        guard high < den else { return quantizeDecimalWide(bytes) }
        let (qm, rm) = den.dividingFullWidth((high, low))
        guard qm < UInt64(1) << 62 else { return quantizeDecimalWide(bytes) }
        // Floor division of +-num, remainder r in [0, den).
        let neg = negative && m != 0
        var q = Int64(qm)
        var r = rm
        if neg { q = -q; if r != 0 { q -= 1; r = den - r } }
        return roundedCode(floor: Int128(q), remainder: Int128(r), denominator: Int128(den), negative: neg)
    }

    /// `quantizeDecimal` for any text it takes (up to 38 significant digits, exponents).
    @usableFromInline
    func quantizeDecimalWide(_ bytes: UnsafeBufferPointer<UInt8>) -> Int128? {
        let n = bytes.count
        var i = 0
        var negative = false
        if i < n && (bytes[i] == 0x2D || bytes[i] == 0x2B) { negative = bytes[i] == 0x2D; i += 1 }
        var m: UInt128 = 0
        var significant = 0
        var fracDigits = 0
        var sawDigit = false
        while i < n, bytes[i] &- 0x30 < 10 {
            let d = UInt128(bytes[i] &- 0x30)
            if m != 0 || d != 0 {
                if significant == 38 { return nil }
                m = m * 10 + d
                significant += 1
            }
            sawDigit = true
            i += 1
        }
        if i < n && bytes[i] == 0x2E {
            i += 1
            while i < n, bytes[i] &- 0x30 < 10 {
                let d = UInt128(bytes[i] &- 0x30)
                if m != 0 || d != 0 {
                    if significant == 38 { return nil }
                    m = m * 10 + d
                    significant += 1
                }
                fracDigits += 1
                sawDigit = true
                i += 1
            }
        }
        guard sawDigit else { return nil }
        var exp = 0
        if i < n && (bytes[i] == 0x65 || bytes[i] == 0x45) {
            i += 1
            var eneg = false
            if i < n && (bytes[i] == 0x2D || bytes[i] == 0x2B) { eneg = bytes[i] == 0x2D; i += 1 }
            var eDigits = 0
            while i < n, bytes[i] &- 0x30 < 10 {
                if eDigits == 4 { return nil }
                exp = exp * 10 + Int(bytes[i] &- 0x30)
                eDigits += 1
                i += 1
            }
            guard eDigits > 0 else { return nil }
            if eneg { exp = -exp }
        }
        guard i == n else { return nil }
        if fracDigits > 4000 { return nil }
        let scale = exp - fracDigits
        guard abs(scale) <= 4000 else { return nil }   // quantize(decimal:) rejects it
        let F = fracBits
        // value = +-m * 10^scale; code = round(value * 2^F) = num / den.
        var mag: UInt128 = m
        var den: UInt128 = 1
        if m == 0 {
            mag = 0
        } else if scale >= 0 {
            guard scale <= 38 else { return nil }
            let (p, o) = mag.multipliedReportingOverflow(by: pow10(scale))
            guard !o else { return nil }
            mag = p
        } else {
            guard -scale <= 37 else { return nil }
            den = pow10(-scale)
        }
        if F >= 0 {
            guard mag == 0 || F <= 124 - (128 - mag.leadingZeroBitCount) else { return nil }
            mag <<= F
        } else {
            guard -F <= 124 - (128 - den.leadingZeroBitCount), mag.leadingZeroBitCount >= 4 else { return nil }
            den <<= -F
        }
        let num = negative ? -Int128(mag) : Int128(mag)
        return quantizeScaled(numerator: num, denominator: Int128(den))
    }
}

/// 10^k for 0 <= k <= 19.
@inlinable
func pow10u64(_ k: Int) -> UInt64 {
    var r: UInt64 = 1
    for _ in 0..<k { r &*= 10 }
    return r
}

/// 10^k for 0 <= k <= 38.
@inlinable
func pow10(_ k: Int) -> UInt128 {
    var r: UInt128 = 1
    for _ in 0..<k { r *= 10 }
    return r
}

/// Appends the exact decimal text of `code * 2^-frac` to `out`, exactly as
/// `decimalString(code:frac:)` writes it, for -19 < frac <= 19 and codes that fit; returns false
/// (having appended nothing) otherwise.
@inlinable
public func appendDecimal(code: Int64, frac: Int, to out: inout [UInt8]) -> Bool {
    if frac <= 0 {
        let s = -frac
        guard s < 63 else { return false }
        let v = code << s
        guard v >> s == code else { return false }
        appendInteger(v, to: &out)
        return true
    }
    guard frac <= 19 else { return false }
    let a = code.magnitude
    let intPart = frac >= 64 ? 0 : a >> UInt64(frac)
    let fracPart = a & ((UInt64(1) << UInt64(frac)) &- 1)
    if code < 0 { out.append(0x2D) }
    appendUnsigned(intPart, to: &out)
    if fracPart != 0 {
        // fracPart / 2^frac = fracPart * 5^frac / 10^frac, below 10^frac <= 10^19 < 2^64.
        var digits = fracPart &* pow5(frac)
        var count = frac
        while digits % 10 == 0 { digits /= 10; count -= 1 }
        out.append(0x2E)
        var buf: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes of scratch
        withUnsafeMutableBytes(of: &buf) { p in
            var k = count
            while k > 0 {
                k -= 1
                p[k] = UInt8(truncatingIfNeeded: digits % 10) + 0x30
                digits /= 10
            }
            out.append(contentsOf: p[0..<count])
        }
    }
    return true
}

@inlinable
func pow5(_ k: Int) -> UInt64 {
    var r: UInt64 = 1
    for _ in 0..<k { r &*= 5 }
    return r
}

@inlinable
func appendInteger(_ v: Int64, to out: inout [UInt8]) {
    if v < 0 { out.append(0x2D) }
    appendUnsigned(v.magnitude, to: &out)
}

@inlinable
func appendUnsigned(_ v: UInt64, to out: inout [UInt8]) {
    var buf: (UInt64, UInt64, UInt64) = (0, 0, 0)
    withUnsafeMutableBytes(of: &buf) { p in
        var k = 24
        var x = v
        repeat {
            k -= 1
            p[k] = UInt8(truncatingIfNeeded: x % 10) + 0x30
            x /= 10
        } while x != 0
        out.append(contentsOf: p[k..<24])
    }
}
