// Converting a binary floating-point value to a fixed-point code, as ap_fixed's constructor from
// double (and from float, which goes through double) does: the exact value of the double is
// rounded with the type's rounding mode, then the overflow mode applies. ap_fixed reads an
// infinity's bits like a finite number with exponent 1024: +-2^1024 (so 0 under WRAP, the
// maximum under SAT). Used for hls4ml-style tables whose entries are computed in float.
import BigInt

extension FixedType {
    /// The code of `d` in this type (ap_fixed's conversion from double). NaN is not supported
    /// (ap_fixed warns and produces an unspecified value); it traps.
    public func quantize(double d: Double) -> Int128 {
        precondition(!d.isNaN, "quantize(double:) of NaN")
        if d == 0 { return encoding == .bipolar ? 1 : 0 }  // bipolar: 0 (and -0) is +1
        if d.isInfinite {
            return quantize(numerator: d < 0 ? -(BigInt(1) << 1024) : BigInt(1) << 1024, denominator: 1)
        }
        // d = significand * 2^exponent with an integer significand (53 bits at most).
        let e = d.exponent - Double.Exponent(Double.significandBitCount)
        let m = d.significandBitPattern | (d.isNormal ? (UInt64(1) << Double.significandBitCount) : 0)
        let mag = BigInt(m)
        let num = d < 0 ? -mag : mag
        let exp = d.isNormal ? Int(e) : Int(Double.leastNormalMagnitude.exponent) - Double.significandBitCount
        if exp >= 0 { return quantize(numerator: num << exp, denominator: 1) }
        return quantize(numerator: num, denominator: BigInt(1) << (-exp))
    }

    /// The code of `f` in this type (ap_fixed converts a float through double, exactly).
    public func quantize(float f: Float) -> Int128 { quantize(double: Double(f)) }
}
