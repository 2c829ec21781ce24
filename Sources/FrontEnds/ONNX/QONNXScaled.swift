// Quantizers with real scales (Brevitas' defaults: float32 scales that are not powers of two, per
// tensor or per output channel, zero points) and the exact requantization of a layer.
//
// A float32 scale is an exact dyadic rational, so everything Brevitas defines is exact:
//   Quant:  q = clamp(R(x / s + zp), qmin, qmax), value (q - zp) * s   (R: the rounding mode)
//   dense:  v_c = sum_i x_i * (k_ic * s_w[c]) + b_c   (integer codes k, exact accumulation)
// The data path carries integer codes; the real value of a tensor is alpha_c * code + beta_c per
// channel (`Affine`). A Quant after a dense (and a BatchNormalization and / or a Relu) is a
// monotone function of the dense's integer output, so it is exactly a `multi_threshold` on it:
// the code reaches qmin + k exactly when the accumulator reaches T_k, the smallest accumulator
// value whose real value rounds to qmin + k or more. BatchNormalization is
// beta + (u - mean) * gamma / sqrt(var + eps), decided with squares (SqrtForm): no square root and
// no floating point decide anything; a Double only guesses where to start looking.
import BigInt
import FixedPoint
import Foundation
import ModelIR

/// A Quant node's exact parameters: one scale and zero point per tensor, or per element of the
/// quantized tensor (numpy broadcasting of the scale's and zero point's shapes).
struct ScaledQuant {
    var scales: [Rational]
    var zeroPoints: [BigInt]
    var bits: Int
    var signed: Bool
    var narrow: Bool
    var rounding: RoundingMode
    var qmin: BigInt { signed ? -(BigInt(1) << (bits - 1)) + (narrow ? 1 : 0) : 0 }
    var qmax: BigInt { signed ? (BigInt(1) << (bits - 1)) - 1 : (BigInt(1) << bits) - (narrow ? 2 : 1) }
    var perTensor: Bool { Set(scales.map { $0.description }).count == 1 && Set(zeroPoints).count == 1 }

    /// Per-tensor, zero point 0, scale 2^e: a plain fixed-point cast (QONNXQuant.quant).
    var isPlain: Bool {
        func pow2(_ m: BigUInt) -> Bool { !m.isZero && (m & (m - 1)).isZero }
        let s = scales[0]
        return perTensor && zeroPoints[0].isZero && s.sign > 0 && (s.num == 1 && pow2(s.den.magnitude) || s.den == 1 && pow2(s.num.magnitude))
    }

    func scale(_ k: Int) -> Rational { scales.count == 1 ? scales[0] : scales[k] }
    func zeroPoint(_ k: Int) -> BigInt { zeroPoints.count == 1 ? zeroPoints[0] : zeroPoints[k] }

    /// R(t): t rounded to an integer with the rounding mode (QONNX's ROUND is half to even).
    func round(_ t: Rational) -> BigInt {
        let f = t.floor
        let rest = t - Rational(f)
        let half = Rational(1, 2)
        switch rounding {
        case .TRN: return f
        case .TRN_ZERO: return t.sign >= 0 || rest.sign == 0 ? f : f + 1
        default:
            if half < rest { return f + 1 }
            if rest < half { return f }
            switch rounding {
            case .RND_CONV: return f.magnitude & 1 == 0 ? f : f + 1
            case .RND_INF: return t.sign > 0 ? f + 1 : f
            case .RND_ZERO: return t.sign > 0 ? f : f + 1
            default: return f + 1   // RND (half up); not produced by the QONNX modes
            }
        }
    }

    /// The code of the exact real x at element k: clamp(R(x / s + zp)).
    func code(_ x: Rational, _ k: Int) -> BigInt {
        let s = scale(k)
        let q = round(x * Rational(s.den, s.num) + Rational(zeroPoint(k)))
        return min(max(q, qmin), qmax)
    }

    /// code(u) >= j (qmin < j <= qmax) exactly when u > bound, or u >= bound when `inclusive`.
    func level(_ j: BigInt, channel k: Int) -> (bound: Rational, inclusive: Bool) {
        // The smallest t with R(t) >= j is j - 1/2 (nearest modes), j (floor) or, toward zero, j
        // (j > 0) or just above j - 1 (j <= 0).
        let b: Rational
        switch rounding {
        case .TRN: b = Rational(j)
        case .TRN_ZERO: b = j.sign == .plus && !j.isZero ? Rational(j) : Rational(j - 1)
        default: b = Rational(2 * j - 1, 2)
        }
        return ((b - Rational(zeroPoint(k))) * scale(k), round(b) >= j)
    }
}

/// The real value of a tensor's codes, per channel: alpha_c * value + beta_c (one pair: every channel).
struct Affine {
    var alpha: [Rational]
    var beta: [Rational]
    func a(_ c: Int) -> Rational { alpha.count == 1 ? alpha[0] : alpha[c] }
    func b(_ c: Int) -> Rational { beta.count == 1 ? beta[0] : beta[c] }
    var uniform: Bool { alpha.count == 1 && beta.count == 1 }
    var isIdentity: Bool { alpha.allSatisfy { $0 == .one } && beta.allSatisfy { $0.sign == 0 } }
}

/// Element-wise real ops between a dense and the Quant that ends its segment.
enum PendingOp {
    case batchnorm(ONNXNode, [BNChannel])
    case relu(ONNXNode)
}

/// An exact real: a rational, or p + q / sqrt(v) (after a batchnorm), optionally through a relu.
struct ExactValue {
    var rational: Rational?
    var sqrt: SqrtForm?
    var relu = false

    func geq(_ c: Rational) -> Bool {
        if let r = rational { return c <= r }
        return sqrt!.geq(c) || (relu && c.sign <= 0)
    }
    func gt(_ c: Rational) -> Bool {
        if let r = rational { return c < r }
        return !sqrt!.leq(c) || (relu && c.sign < 0)
    }
}

enum Requant {
    static func double(_ r: Rational) -> Double {
        let n = Double(r.num.description) ?? 0, d = Double(r.den.description) ?? 1
        return d.isFinite && d != 0 ? n / d : 0
    }

    /// The exact real value at the Quant's input for the code x (on a grid of `frac` fractional
    /// bits) of channel c.
    static func value(_ x: BigInt, frac: Int, channel c: Int, affine: Affine, ops: [PendingOp]) -> ExactValue {
        let xr = frac >= 0 ? Rational(x, BigInt(1) << frac) : Rational(x << -frac)
        var v = ExactValue(rational: affine.a(c) * xr + affine.b(c))
        for op in ops {
            switch op {
            case .relu:
                if let r = v.rational { v.rational = r.sign < 0 ? .zero : r } else { v.relu = true }
            case let .batchnorm(_, chs):
                let ch = chs[c]
                v.sqrt = SqrtForm(p: ch.beta, q: (v.rational! - ch.mean) * ch.gamma, v: ch.v)
                v.rational = nil
            }
        }
        return v
    }

    /// Per channel: is the segment's real value non-decreasing in the code (the sign of alpha
    /// times the sign of each batchnorm gamma; a zero makes it constant, which counts as rising).
    static func rising(channel c: Int, affine: Affine, ops: [PendingOp]) -> Bool {
        var s = affine.a(c).sign
        for case let .batchnorm(_, chs) in ops { s *= chs[c].gamma.sign }
        return s >= 0
    }

    /// The thresholds of channel c: for each level j = qmin+1 ... qmax, the smallest code x in
    /// [lo, hi] whose value reaches it (hi + 1: never), exactly. The value must be non-decreasing.
    static func thresholds(channel c: Int, lo: BigInt, hi: BigInt, frac: Int, affine: Affine, ops: [PendingOp],
                           quant q: ScaledQuant, quantChannel k: Int) -> [BigInt] {
        var out: [BigInt] = []
        var j = q.qmin + 1
        var from = lo
        while j <= q.qmax {
            let (bound, inclusive) = q.level(j, channel: k)
            func pred(_ x: BigInt) -> Bool {
                if x < lo { return false }
                if x > hi { return true }
                let v = value(x, frac: frac, channel: c, affine: affine, ops: ops)
                return inclusive ? v.geq(bound) : v.gt(bound)
            }
            // A guess from doubles (the inverse of the affine map and the batchnorm), then an exact
            // bracket and bisection: the guess only saves steps.
            var u = double(bound)
            for case let .batchnorm(_, chs) in ops.reversed() {
                let ch = chs[c]
                let g = double(ch.gamma)
                if g != 0 { u = double(ch.mean) + (u - double(ch.beta)) * Foundation.sqrt(double(ch.v)) / g }
            }
            let a = double(affine.a(c))
            var guess = a != 0 ? (u - double(affine.b(c))) / a * Foundation.pow(2.0, Double(frac)) : double(Rational(lo))
            if !guess.isFinite { guess = 0 }
            let gmax = double(Rational(hi)) + 1, gmin = double(Rational(lo))
            guess = min(max(guess.rounded(.up), gmin), gmax)
            var x0 = BigInt(exactly: guess) ?? lo
            if x0 < from { x0 = from }
            var tLo: BigInt, tHi: BigInt    // !pred(tLo), pred(tHi)
            if pred(x0) {
                tHi = x0
                var step = BigInt(1)
                tLo = tHi - step
                while tLo >= from && pred(tLo) { tHi = tLo; step *= 2; tLo = tHi - step }
                if tLo < from { tLo = from - 1 }
            } else {
                tLo = x0
                var step = BigInt(1)
                tHi = tLo + step
                while tHi <= hi && !pred(tHi) { tLo = tHi; step *= 2; tHi = tLo + step }
                if tHi > hi { tHi = hi + 1 }
            }
            while tHi - tLo > 1 {
                let m = tLo + (tHi - tLo) / 2
                if pred(m) { tHi = m } else { tLo = m }
            }
            out.append(tHi)
            from = tHi
            j += 1
        }
        return out
    }
}
