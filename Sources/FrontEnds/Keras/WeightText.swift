// How a float weight becomes a fixed-point code.
//   hls4ml (default): hls4ml writes each weight as decimal text with as many decimals as the
//     type has fractional bits (Python's '{:.Ff}', exactly rounded, ties to even), the C++
//     compiler reads that text, and ap_fixed converts it with the type's rounding (TRN by
//     default: truncation) and overflow modes. 0.1249 in fixed<6,3> -> "0.125" -> 0.125.
//   exact: the float's exact binary value rounded to the nearest code (ties to even), then the
//     type's overflow mode; no decimal text in between.
import BigInt
import FixedPoint

public enum WeightRounding: String, Sendable, CaseIterable {
    case hls4ml, exact
}

public enum WeightText {
    /// Python's '{:.Ff}'.format(d) for a finite double: the exact value rounded half-to-even to F decimals.
    public static func pythonFixed(_ d: Double, decimals f: Int) -> String {
        precondition(d.isFinite && f >= 0)
        let (num, den) = exactRatio(d)
        let scaled = num * BigInt(10).power(f)
        // round(scaled / den), ties to even.
        let (q0, r0) = scaled.quotientAndRemainder(dividingBy: den)
        var q = q0
        let twice = r0.magnitude * 2
        if twice > den.magnitude || (twice == den.magnitude && q0 % 2 != 0) {
            q += scaled.sign == .minus ? -1 : 1
        }
        let negative = d.sign == .minus
        var digits = q.magnitude.description
        if f > 0 {
            if digits.count <= f { digits = String(repeating: "0", count: f - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -f))
        }
        // Python keeps the sign of a negative value that rounds to zero ("-0.000").
        return (negative ? "-" : "") + digits
    }

    /// d = num / den exactly (den a power of two).
    static func exactRatio(_ d: Double) -> (BigInt, BigInt) {
        if d == 0 { return (0, 1) }
        let e = Int(d.exponent) - Double.significandBitCount
        let m = d.significandBitPattern | (d.isNormal ? (UInt64(1) << Double.significandBitCount) : 0)
        let exp = d.isNormal ? e : Int(Double.leastNormalMagnitude.exponent) - Double.significandBitCount
        var num = BigInt(m)
        if d < 0 { num = -num }
        if exp >= 0 { return (num << exp, 1) }
        return (num, BigInt(1) << (-exp))
    }

    /// The code of `d` in `type` by the chosen rule.
    public static func code(_ d: Double, type: FixedType, rounding: WeightRounding) -> Int128 {
        guard d.isFinite else { return type.quantize(double: d.isNaN ? 0 : d) }  // callers reject non-finite values first
        switch rounding {
        case .hls4ml:
            let text = pythonFixed(d, decimals: max(0, type.fracBits))
            return (try? type.quantize(decimal: text)) ?? type.quantize(double: d)
        case .exact:
            return type.with(rounding: .RND_CONV).quantize(double: d)
        }
    }
}
