// The contents of the activation tables.
//
// hls4ml mode reproduces hls4ml 1.3's C++ (nnet_activation.h) bit for bit: the same float32 and
// double expressions, evaluated with the C library's expf/tanhf (the functions hls4ml's g++ build
// calls), and the float cast to table_type with table_type's own rounding and overflow modes.
//
// Centred mode is exact: each entry is the function at the centre of its bin, rounded to nearest
// on table_type's grid from a rigorous enclosure of the true value (refined until both ends of the
// enclosure round the same way), then table_type's overflow mode.
import BigInt
import FixedPoint
import Foundation

public enum ActivationTables {
    /// Entries (codes of `type`) of a sigmoid or tanh table of `size` entries.
    public static func functionTable(_ f: FunctionTable.Function, mode: TableMode, size: Int, type: FixedType) -> [Int128] {
        switch mode {
        case .hls4ml:
            return (0..<size).map { i in
                switch f {
                case .sigmoid: return code(of: hls4mlSigmoid(i, size), type)
                case .tanh: return code(of: hls4mlTanh(i, size), type)
                }
            }
        case .centered:
            let n = size.trailingZeroBitCount
            let s = f == .sigmoid ? 4 : 3
            // Centre of bin i: (2i + 1 - N) * 2^(s - n - 1).
            return (0..<size).map { i in
                let p = BigInt(2 * i + 1 - size)
                let q = n + 1 - s
                let (num, den) = q >= 0 ? (p, q) : (p << -q, 0)
                return ExactFunctions.rounded(f, xNumerator: num, xExp: den, to: type)
            }
        }
    }

    /// hls4ml: `float in_val = 2 * 8.0 * (ii - float(N) / 2.0) / float(N);`
    /// `sigmoid_fcn_float(in_val) = 1.0 / (1 + std::exp(-in_val))` (float exp, double quotient,
    /// returned as float).
    public static func hls4mlSigmoid(_ i: Int, _ n: Int) -> Float {
        let x = Float(2 * 8.0 * (Double(i) - Double(Float(n)) / 2.0) / Double(Float(n)))
        return Float(1.0 / Double(Float(1) + expf(-x)))
    }

    /// hls4ml: `float in_val = 2 * 4.0 * (ii - float(N) / 2.0) / float(N);` then tanh in float.
    public static func hls4mlTanh(_ i: Int, _ n: Int) -> Float {
        let x = Float(2 * 4.0 * (Double(i) - Double(Float(n)) / 2.0) / Double(Float(n)))
        return tanhf(x)
    }

    /// hls4ml's elu / selu tables: `float in_val = -8.0 * ii / float(N);`
    /// elu: `float(std::exp(in_val) - 1.)`; selu: `float(1.0507... * (1.6732... * (std::exp(in_val) - 1.)))`.
    public static func expTable(selu: Bool, size: Int, type: FixedType) -> [Int128] {
        (0..<size).map { i in
            let x = Float(-8.0 * Double(i) / Double(Float(size)))
            let em1 = Double(expf(x)) - 1.0
            let v = selu ? Float(1.0507009873554804934193349852946 * (1.6732632423543772848170429916717 * em1)) : Float(em1)
            return code(of: v, type)
        }
    }

    /// The code of `type` that ap_fixed's conversion from a float gives: the exact value of the
    /// float, rounded with the type's rounding mode, then its overflow mode.
    public static func code(of v: Float, _ type: FixedType) -> Int128 {
        let (n, d) = exactRational(Double(v))
        return type.quantize(numerator: n, denominator: d)
    }

    /// The exact value of a finite double as numerator / denominator (a power of two).
    public static func exactRational(_ d: Double) -> (BigInt, BigInt) {
        precondition(d.isFinite, "table value \(d) is not finite")
        if d == 0 { return (0, 1) }
        let m = d.isSubnormal ? BigInt(d.significandBitPattern) : BigInt(d.significandBitPattern | (UInt64(1) << 52))
        let e = d.isSubnormal ? -1074 : Int(d.exponent) - 52
        let num = d < 0 ? -m : m
        return e >= 0 ? (num << e, 1) : (num, BigInt(1) << -e)
    }
}

/// Correctly rounded sigmoid and tanh at dyadic points, from BigInt fixed-point enclosures.
public enum ExactFunctions {
    /// exp(x) for x = p * 2^-q, 0 <= x <= 8, as an integer E with |E - exp(x) * 2^P| <= 1.
    /// Works with 64 guard bits: the Taylor series of exp(x / 2^8) (|x / 2^8| <= 1/32, each of
    /// its < 80 terms truncated by at most one working unit) and 8 squarings (which multiply the
    /// relative error by 2^8 and the value by at most e^8 < 2^12) leave an error below 2^30
    /// working units, far below one unit of 2^-P.
    static func expScaled(p: BigInt, q: Int, precision P: Int) -> BigInt {
        precondition(p.sign != .minus)
        let w = P + 64
        let r = 8
        let sh = w - q - r
        let y = sh >= 0 ? p << sh : p >> -sh
        let one = BigInt(1) << w
        var sum = one
        var term = one
        var k = 1
        while true {
            term = (term * y) >> w
            term /= BigInt(k)
            if term.isZero { break }
            sum += term
            k += 1
        }
        for _ in 0..<r { sum = (sum * sum) >> w }
        return sum >> 64
    }

    /// f(x) for x = xNumerator * 2^-xExp (|x| <= 8 for sigmoid, <= 4 for tanh), rounded to nearest
    /// on `type`'s grid (ties cannot occur: the values are irrational for x != 0), then `type`'s
    /// overflow mode.
    public static func rounded(_ f: FunctionTable.Function, xNumerator p: BigInt, xExp q: Int, to type: FixedType) -> Int128 {
        let nearest = type.with(rounding: .RND_CONV)
        if p.isZero {
            return f == .sigmoid ? nearest.quantize(numerator: 1, denominator: 2) : nearest.quantize(numerator: 0, denominator: 1)
        }
        let negative = p.sign == .minus
        let a = negative ? -p : p
        var precision = 96
        while true {
            let unit = BigInt(1) << precision
            // Enclosure [lo, hi] of f(x) as rationals over a common denominator-free form.
            let bounds: [(BigInt, BigInt)]
            switch f {
            case .sigmoid:
                let e = expScaled(p: a, q: q, precision: precision)  // exp(|x|) * 2^P, +-1
                let eLo = e - 1, eHi = e + 1
                if negative {
                    // 1 / (1 + exp(|x|)) is decreasing in exp(|x|).
                    bounds = [(unit, unit + eHi), (unit, unit + eLo)]
                } else {
                    // exp(x) / (exp(x) + 1) is increasing.
                    bounds = [(eLo, eLo + unit), (eHi, eHi + unit)]
                }
            case .tanh:
                let e = expScaled(p: a, q: q - 1, precision: precision)  // exp(2|x|) * 2^P, +-1
                let eLo = e - 1, eHi = e + 1
                // (E - 1) / (E + 1) is increasing in E; tanh is odd.
                let lo = (eLo - unit, eLo + unit), hi = (eHi - unit, eHi + unit)
                bounds = negative ? [(-hi.0, hi.1), (-lo.0, lo.1)] : [lo, hi]
            }
            let c0 = nearest.quantize(numerator: bounds[0].0, denominator: bounds[0].1)
            let c1 = nearest.quantize(numerator: bounds[1].0, denominator: bounds[1].1)
            if c0 == c1 { return c0 }
            precision *= 2
            precondition(precision <= 1 << 14, "centred table: cannot decide the rounding of \(f)(\(p) * 2^-\(q))")
        }
    }
}
