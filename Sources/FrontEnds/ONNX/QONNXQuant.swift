// QONNX's quantizers as exact fixed-point types (qonnx 0.x/1.x custom ops, domain qonnx.* or
// onnx.brevitas):
//   Quant(x, scale, zeropt, bitwidth; signed, narrow, rounding_mode):
//     y = (clamp(round(x / scale + zeropt), min, max) - zeropt) * scale
//     min/max: signed [-2^(b-1), 2^(b-1)-1] (narrow: [-2^(b-1)+1, ...]); unsigned [0, 2^b-1]
//     (narrow: [0, 2^b-2]); a 1-bit signed Quant is bipolar (x / scale >= 0 -> +scale, else -scale).
//   BipolarQuant(x, scale): x >= 0 -> +scale, else -scale (0 -> +scale).
// With scale = 2^e and zeropt = 0 this is exactly a cast to fixed<b, b+e> (ufixed when
// unsigned) with the rounding mode below and saturation (SAT, SAT_SYM for a signed narrow range).
// What has no exact fixed-point equivalent is refused, naming the node and the input or attribute.
import BigInt
import FixedPoint
import Foundation
import ModelIR

/// An exact quantizer: the type it casts to, or bipolar (sign) with a power-of-two scale.
struct QONNXQuantizer {
    /// The cast's type (for bipolar: bipolar when the scale is 1, else fixed<2, 2+e> with codes +-1).
    let type: FixedType
    let bipolar: Bool

    /// Codes of constant values quantized exactly as qonnx does.
    func codes(_ values: [Double]) -> [Int128] {
        if bipolar { return values.map { $0 >= 0 ? 1 : -1 } }
        return values.map { type.quantize(double: $0) }
    }
}

enum QONNXQuant {
    static let roundingModes: [String: RoundingMode] = [
        "ROUND": .RND_CONV, "HALF_EVEN": .RND_CONV, "FLOOR": .TRN, "DOWN": .TRN_ZERO,
        "HALF_UP": .RND_INF, "HALF_DOWN": .RND_ZERO,
    ]

    /// The exponent e of a scale that is exactly 2^e, else nil.
    static func powerOfTwo(_ d: Double) -> Int? {
        guard d.isFinite, d > 0, d.significand == 1 else { return nil }
        return Int(d.exponent)
    }

    /// One scalar of a constant input (all values equal; per-channel values are refused).
    static func scalar(_ n: ONNXNode, _ index: Int, _ what: String, _ g: ONNXGraph, file: String) throws -> Double {
        guard index < n.inputs.count, !n.inputs[index].isEmpty else {
            throw InputError(file: file, field: n.label, message: "missing input \(index) (\(what))")
        }
        guard let t = g.constants[n.inputs[index]] else {
            throw InputError(file: file, field: "\(n.label).\(what)", message: "must be a constant (an initializer), '\(n.inputs[index])' is computed")
        }
        guard let v = t.values.first, t.values.allSatisfy({ $0 == v }) else {
            throw InputError(file: file, field: "\(n.label).\(what)", message: t.values.isEmpty ? "is empty" : "has \(t.values.count) different values (per-channel \(what)s are not supported)")
        }
        return v
    }

    static func scaleExponent(_ n: ONNXNode, _ g: ONNXGraph, file: String) throws -> Int {
        let s = try scalar(n, 1, "scale", g, file: file)
        guard let e = powerOfTwo(s) else {
            throw InputError(file: file, field: "\(n.label).scale", message: "scale \(s) is not a power of two: it has no exact fixed-point type (rtlgen does not approximate)")
        }
        guard e >= -64, e <= 64 else { throw InputError(file: file, field: "\(n.label).scale", message: "scale 2^\(e) is out of range (2^-64 .. 2^64)") }
        return e
    }

    /// The quantizer of a Quant node (IntQuant).
    static func quant(_ n: ONNXNode, _ g: ONNXGraph, file: String) throws -> QONNXQuantizer {
        let e = try scaleExponent(n, g, file: file)
        let zp = try scalar(n, 2, "zeropt", g, file: file)
        guard zp == 0 else {
            throw InputError(file: file, field: "\(n.label).zeropt", message: "zero point \(zp) is not supported (only 0)")
        }
        let bw = try scalar(n, 3, "bitwidth", g, file: file)
        guard bw == bw.rounded(), bw >= 1, bw <= 64 else {
            throw InputError(file: file, field: "\(n.label).bitwidth", message: "bit width \(bw) is not an integer from 1 to 64")
        }
        let b = Int(bw)
        let signed = (n.int("signed") ?? 1) != 0
        let narrow = (n.int("narrow") ?? 0) != 0
        if b == 1 && signed {
            // qonnx: a 1-bit signed Quant is bipolar.
            return QONNXQuantizer(type: e == 0 ? .bipolar : FixedType(signed: true, width: 2, intBits: 2 + e), bipolar: true)
        }
        let mode = (n.string("rounding_mode") ?? "ROUND").uppercased()
        guard let r = roundingModes[mode] else {
            throw InputError(file: file, field: "\(n.label).rounding_mode", message: "rounding mode \(mode) has no ap_fixed equivalent (supported: ROUND, HALF_EVEN, FLOOR, DOWN, HALF_UP, HALF_DOWN)")
        }
        if !signed && narrow {
            throw InputError(file: file, field: "\(n.label).narrow", message: "an unsigned narrow range [0, 2^\(b)-2] has no ap_fixed saturation mode")
        }
        let ov: OverflowMode = signed && narrow ? .SAT_SYM : .SAT
        return QONNXQuantizer(type: FixedType(signed: signed, width: b, intBits: b + e, rounding: r, overflow: ov), bipolar: false)
    }

    /// The quantizer of a BipolarQuant node.
    static func bipolar(_ n: ONNXNode, _ g: ONNXGraph, file: String) throws -> QONNXQuantizer {
        let e = try scaleExponent(n, g, file: file)
        return QONNXQuantizer(type: e == 0 ? .bipolar : FixedType(signed: true, width: 2, intBits: 2 + e), bipolar: true)
    }
}

/// Exact dyadic numbers (every finite float is one): value = num / 2^frac.
struct Dyadic {
    var num: BigInt
    var frac: Int

    init(_ d: Double) {
        let (n, den) = WeightText.exactRatio(d)
        // Lowest terms: exactRatio keeps the 53-bit significand.
        let k = n.isZero ? den.trailingZeroBitCount : min(n.trailingZeroBitCount, den.trailingZeroBitCount)
        num = n >> k
        frac = den.trailingZeroBitCount - k
    }
    init(num: BigInt, frac: Int) { self.num = num; self.frac = frac }

    /// The numerator at `f` >= frac fractional bits.
    func at(_ f: Int) -> BigInt { num << (f - frac) }

    var decimal: String { dyadicDecimal(num, frac: frac) }

    /// The smallest type holding codes lo...hi at `frac` fractional bits (TRN, WRAP: it never rounds
    /// or overflows what it was sized for); nil when it needs more than `maxWidth` bits.
    static func type(lo: BigInt, hi: BigInt, frac: Int, maxWidth: Int = 64) -> FixedType? {
        if lo < 0 {
            // signed: -2^(w-1) <= lo, hi <= 2^(w-1) - 1
            let w = max((-lo - 1).magnitude.bitWidth, hi.magnitude.bitWidth) + 1
            guard w <= maxWidth else { return nil }
            return FixedType(signed: true, width: w, intBits: w - frac)
        }
        let w = max(1, hi.magnitude.bitWidth)
        guard w <= maxWidth else { return nil }
        return FixedType(signed: false, width: w, intBits: w - frac)
    }
}

extension QONNXQuant {
    /// Whether a Quant node is a plain fixed-point cast (one scale 2^e, zero point 0): `quant`
    /// reads it (and gives its messages); otherwise `scaled` does.
    static func isPlain(_ n: ONNXNode, _ g: ONNXGraph) -> Bool {
        // Missing or computed inputs: `quant` reports them.
        guard n.inputs.count >= 3, let s = g.constants[n.inputs[1]], let z = g.constants[n.inputs[2]], let s0 = s.values.first else { return true }
        guard s.values.allSatisfy({ $0 == s0 }), z.values.allSatisfy({ $0 == 0 }) else { return false }
        return powerOfTwo(s0) != nil || !(s0 > 0)
    }

    /// The exact parameters of a Quant node, its scale and zero point broadcast (numpy rules) to
    /// `shape` (the quantized tensor's shape; nil: they must be one value each, per tensor).
    static func scaled(_ n: ONNXNode, _ g: ONNXGraph, shape: [Int]?, file: String) throws -> ScaledQuant {
        func tensor(_ index: Int, _ what: String) throws -> ONNXTensor {
            guard index < n.inputs.count, !n.inputs[index].isEmpty else {
                throw InputError(file: file, field: n.label, message: "missing input \(index) (\(what))")
            }
            guard let t = g.constants[n.inputs[index]] else {
                throw InputError(file: file, field: "\(n.label).\(what)", message: "must be a constant (an initializer), '\(n.inputs[index])' is computed")
            }
            guard !t.values.isEmpty else { throw InputError(file: file, field: "\(n.label).\(what)", message: "is empty") }
            return t
        }
        func broadcast(_ t: ONNXTensor, _ what: String) throws -> [Double] {
            if t.values.allSatisfy({ $0 == t.values[0] }) { return [t.values[0]] }
            guard let shape else {
                throw InputError(file: file, field: "\(n.label).\(what)", message: "has \(t.values.count) different values: per-channel \(what)s are supported for weights only (activations: one \(what) per tensor)")
            }
            // numpy broadcasting of t.shape against shape (t's dimensions align to the right).
            let r = shape.count
            guard t.shape.count <= r else {
                throw InputError(file: file, field: "\(n.label).\(what)", message: "shape (\(t.shape.map(String.init).joined(separator: ", "))) does not broadcast to the tensor's (\(shape.map(String.init).joined(separator: ", ")))")
            }
            let ts = Array(repeating: 1, count: r - t.shape.count) + t.shape
            for (a, b) in zip(ts, shape) where a != 1 && a != b {
                throw InputError(file: file, field: "\(n.label).\(what)", message: "shape (\(t.shape.map(String.init).joined(separator: ", "))) does not broadcast to the tensor's (\(shape.map(String.init).joined(separator: ", ")))")
            }
            let total = shape.reduce(1, *)
            var out = [Double](repeating: 0, count: total)
            for idx in 0..<total {
                var rem = idx, src = 0, step = 1
                for d in (0..<r).reversed() {
                    let i = rem % shape[d]
                    rem /= shape[d]
                    if ts[d] != 1 { src += i * step }
                    step *= ts[d]
                }
                out[idx] = t.values[src]
            }
            return out
        }
        let st = try tensor(1, "scale")
        let scales = try broadcast(st, "scale")
        for s in scales where !(s > 0) || !s.isFinite {
            throw InputError(file: file, field: "\(n.label).scale", message: "scale \(s) is not a positive number")
        }
        let zt = try tensor(2, "zeropt")
        let zps = try broadcast(zt, "zeropt")
        for z in zps where z != z.rounded() || abs(z) > 1e15 {
            throw InputError(file: file, field: "\(n.label).zeropt", message: "zero point \(z) is not an integer")
        }
        let bw = try scalar(n, 3, "bitwidth", g, file: file)
        guard bw == bw.rounded(), bw >= 2, bw <= 64 else {
            throw InputError(file: file, field: "\(n.label).bitwidth", message: "bit width \(bw) is not an integer from 2 to 64 (with a scale that is not a power of two or a zero point)")
        }
        let signed = (n.int("signed") ?? 1) != 0
        let narrow = (n.int("narrow") ?? 0) != 0
        let mode = (n.string("rounding_mode") ?? "ROUND").uppercased()
        guard let r = roundingModes[mode] else {
            throw InputError(file: file, field: "\(n.label).rounding_mode", message: "rounding mode \(mode) has no ap_fixed equivalent (supported: ROUND, HALF_EVEN, FLOOR, DOWN, HALF_UP, HALF_DOWN)")
        }
        return ScaledQuant(scales: scales.map { let (a, b) = WeightText.exactRatio($0); return Rational(a, b) },
                           zeroPoints: zps.map { BigInt(Int64($0)) }, bits: Int(bw), signed: signed, narrow: narrow, rounding: r)
    }
}
