// QKeras quantizers as hls4ml 1.3 maps them.
//   quantized_bits(bits, integer, symmetric, keep_negative, alpha=1): weights are quantized as
//     QKeras does (x * 2^(bits-keep_negative-integer), rounded half to even, clipped to
//     [-(2^(bits-keep_negative)) + symmetric, 2^(bits-keep_negative) - 1], scaled back), and the
//     type is hls4ml's: fixed<bits, integer+1> (int<bits> when bits == integer; always signed, as
//     hls4ml writes it).
//   quantized_relu / quantized_bits / binary / ternary as QActivation: relu / linear /
//     binary_tanh / ternary_tanh layers whose result type comes from the hls4ml configuration
//     (hls4ml 1.3 with a configuration file takes QActivation result types from it).
//   quantized_po2(bits, max_value) as a kernel quantizer: each weight becomes +-2^e exactly as
//     QKeras computes it in float32 and hls4ml 1.3 then writes it (sign and exponent of an
//     ExponentType weight, a shift in its product); in rtlgen the weights are ordinary fixed-point
//     codes of +-2^e (see `po2Weight`, `KerasImporter.po2Kernel`).
//   quantized_relu_po2(bits, max_value) as a QActivation: 2^e exactly as QKeras computes it
//     (QKerasReluPo2.swift; hls4ml 1.3 has no conversion, QKeras is the reference).
// alpha other than 1 (or "auto" scales), stochastic rounding, po2 biases and quantized_po2 as an
// activation are rejected.
import Foundation
import FixedPoint
import ModelIR

struct QKerasQuantizer {
    enum Kind { case quantizedBits, quantizedRelu, binary, ternary, po2, reluPo2 }
    let kind: Kind
    let bits: Int
    let integer: Int
    let keepNegative: Bool
    let symmetric: Bool
    let negativeSlope: Double
    /// ternary: the dead band |x| < threshold (QKeras' default 0.33 when the config gives none).
    var threshold: Double? = nil
    /// quantized_po2: max_value (nil: none), log2 rounding "floor" (else "rnd"), and QKeras'
    /// exponent range from bits and max_value.
    var maxValue: Double? = nil
    var log2Floor = false
    var minExp = 0, maxExp = 0

    /// A weight quantizer (nil when absent).
    static func parse(_ v: JSONValue?, file: String, field: String) throws -> QKerasQuantizer? {
        guard let v, v != .null else { return nil }
        let q = try parseAny(v, file: file, field: field)
        guard q.kind == .quantizedBits else {
            throw InputError(file: file, field: field, message: q.kind == .po2
                ? "a quantized_po2 bias quantizer is not supported (hls4ml 1.3 adds the sign-and-exponent struct to its accumulator, which does not compile)"
                : "only quantized_bits bias quantizers are supported (binary and ternary: kernels only)")
        }
        return q
    }

    /// A kernel quantizer: quantized_bits, binary or ternary (nil when absent).
    static func parseKernel(_ v: JSONValue?, file: String, field: String) throws -> QKerasQuantizer? {
        guard let v, v != .null else { return nil }
        let q = try parseAny(v, file: file, field: field)
        guard q.kind != .quantizedRelu, q.kind != .reluPo2 else {
            throw InputError(file: file, field: field, message: "\(q.kind == .reluPo2 ? "quantized_relu_po2" : "quantized_relu") is not a weight quantizer (supported: quantized_bits, quantized_po2, binary, ternary)")
        }
        return q
    }

    /// A binary or ternary kernel weight as QKeras quantizes it (float32 in): binary x >= 0 -> +1
    /// else -1; ternary |x| >= threshold -> sign(x), else 0.
    func weightCode(_ x: Double) -> Int8 {
        let x32 = Float(x)
        if kind == .binary { return x32 >= 0 ? 1 : -1 }
        guard abs(x32) >= Float(threshold ?? 0.33) else { return 0 }
        return x32 > 0 ? 1 : -1
    }

    static func parseActivation(_ v: JSONValue?, file: String, field: String) throws -> QKerasQuantizer {
        guard let v, v != .null else { throw InputError(file: file, field: field, message: "missing activation quantizer") }
        let q = try parseAny(v, file: file, field: field)
        if q.kind == .po2 {
            throw InputError(file: file, field: field, message: "quantized_po2 as an activation is not supported (hls4ml 1.3 raises \"Unsupported QKeras activation\"; it is a weight quantizer)")
        }
        return q
    }

    /// A quantized_po2 weight as hls4ml 1.3 gets it: QKeras' forward value in float32
    /// (y = x + (xq - x), xq = sign(x) * 2^clip(round(log(|x|) / log(2)), min, max), |x| < 1e-7
    /// giving the smallest exponent, sign(0) = +1), then hls4ml's ExponentWeightVariable: sign
    /// y < 0, exponent trunc(log2(|y|)) (numpy, float32). y is xq exactly unless the weight was
    /// clipped far down; the exponent is then still hls4ml's. Float32 logarithms are taken
    /// correctly rounded (through float64): TensorFlow's may differ in the last bit, which
    /// matters only for a weight within a few float32 steps of a rounding boundary 2^(k+1/2).
    /// nil: the weight lies within float32 rounding of a rounding boundary (2^(k+1/2), or 2^k
    /// with log2_rounding floor), where QKeras' answer depends on TensorFlow's log implementation
    /// (measured: its vectorized float32 log and its scalar one round 2^-0.5 differently); the
    /// importer refuses such a weight rather than guess.
    func po2Weight(_ x: Double) -> (negative: Bool, exponent: Int)? {
        let xf = Float(x)
        let sign: Float = xf < 0 ? -1 : 1
        let a = abs(xf)
        var e: Float
        if a < Float(1e-7) || !a.isFinite {
            e = Float(minExp)
        } else {
            var f = a
            if let mv = maxValue, f >= Float(mv) { f = Float(mv) }
            let l = Float(Foundation.log(Double(f))) / Float(Foundation.log(2.0))
            let boundary = log2Floor ? l.rounded(.toNearestOrEven) : l.rounded(.down) + 0.5
            if abs(l - boundary) <= 8 * l.ulp, boundary >= Float(minExp) - 0.5, boundary <= Float(maxExp) + 0.5 { return nil }
            let r = log2Floor ? l.rounded(.down) : l.rounded(.toNearestOrEven)
            e = Swift.min(Swift.max(r, Float(minExp)), Float(maxExp))
        }
        let xq = sign * Float(pow2(Int(e)))
        let y = xf + (xq - xf)
        let ey = Float(Foundation.log2(Double(abs(y))))
        guard ey.isFinite, abs(ey) < 1000 else { return nil }  // unreachable within float32's exponents
        return (y < 0, Int(ey.rounded(.towardZero)))
    }

    static func parseAny(_ v: JSONValue, file: String, field: String) throws -> QKerasQuantizer {
        func fail(_ m: String) -> InputError { InputError(file: file, field: field, message: m) }
        var cls: String
        var cfg: JSONValue = .object([])
        switch v {
        case let .string(s):
            // "quantized_relu(6,0)" / "binary" / "ternary()" spelled as a string.
            let open = s.firstIndex(of: "(")
            cls = String(open.map { s[..<$0] } ?? Substring(s)).trimmingCharacters(in: .whitespaces)
            if let open, s.hasSuffix(")") {
                let args = s[s.index(after: open)..<s.index(before: s.endIndex)].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                var m: [(String, JSONValue)] = []
                for (i, a) in args.enumerated() where !a.isEmpty {
                    if let eq = a.firstIndex(of: "=") {
                        m.append((String(a[..<eq]).trimmingCharacters(in: .whitespaces), .number(String(a[a.index(after: eq)...]).trimmingCharacters(in: .whitespaces))))
                    } else if i < 2 {
                        m.append((i == 0 ? "bits" : "integer", .number(a)))
                    } else {
                        throw fail("'\(s)': only bits and integer may be given without a name")
                    }
                }
                cfg = .object(m)
            }
        case .object:
            guard case let .string(c)? = v["class_name"] else { throw fail("expected a quantizer with class_name") }
            cls = c
            cfg = v["config"] ?? .object([])
        default:
            throw fail("expected a QKeras quantizer")
        }
        func num(_ k: String) -> String? {
            switch cfg[k] {
            case let .number(n)?: return n
            case let .bool(b)?: return b ? "1" : "0"
            default: return nil
            }
        }
        func int(_ k: String, _ d: Int) throws -> Int {
            guard let t = num(k) else { return d }
            if let i = Int(t) { return i }
            if let x = Double(t), x == x.rounded(), abs(x) < 1e15 { return Int(x) }
            throw fail("\(k) must be an integer, found \(t)")
        }
        if let a = cfg["alpha"], a != .null, a != .number("1"), a != .number("1.0"), a != .number("1.") {
            throw fail("alpha \(JSONWriter.compact(a)) is not supported (hls4ml adds a scaling layer; use alpha=1)")
        }
        if num("use_stochastic_rounding") == "1" { throw fail("stochastic rounding is not supported") }
        switch cls {
        case "quantized_bits":
            let bits = try int("bits", 8), integer = try int("integer", 0)
            guard bits >= 1, bits <= 64, integer >= 0, integer <= bits else { throw fail("unsupported quantized_bits(\(bits), \(integer))") }
            return QKerasQuantizer(kind: .quantizedBits, bits: bits, integer: integer, keepNegative: try int("keep_negative", 1) != 0,
                                   symmetric: try int("symmetric", 0) != 0, negativeSlope: 0)
        case "quantized_relu":
            let bits = try int("bits", 8), integer = try int("integer", 0)
            guard bits >= 1, bits <= 64, integer >= 0, integer <= bits else { throw fail("unsupported quantized_relu(\(bits), \(integer))") }
            let ns = num("negative_slope").flatMap(Double.init) ?? 0
            if let u = cfg["relu_upper_bound"], u != .null { throw fail("relu_upper_bound is not supported") }
            if num("use_sigmoid") == "1" { throw fail("use_sigmoid is not supported") }
            return QKerasQuantizer(kind: .quantizedRelu, bits: bits, integer: integer, keepNegative: false, symmetric: false, negativeSlope: ns)
        case "binary", "binary_tanh", "stochastic_binary":
            if cls == "stochastic_binary" { throw fail("stochastic_binary is not supported") }
            if num("use_01") == "1" { throw fail("use_01 (0/1 instead of -1/+1) is not supported") }
            return QKerasQuantizer(kind: .binary, bits: 1, integer: 1, keepNegative: true, symmetric: false, negativeSlope: 0)
        case "ternary", "ternary_tanh":
            if num("number_of_unrolls") != nil, let n = try? int("number_of_unrolls", 5), n != 5 {
                throw fail("number_of_unrolls is not supported (it only matters for alpha \"auto\")")
            }
            var q = QKerasQuantizer(kind: .ternary, bits: 2, integer: 2, keepNegative: true, symmetric: false, negativeSlope: 0)
            switch cfg["threshold"] {
            case nil, .null?: break
            case let .number(t)?:
                guard let d = Double(t), d.isFinite, d > 0, d < 1e6 else { throw fail("threshold \(t): expected a positive number") }
                q.threshold = d
            default:
                throw fail("threshold: expected a number (\"auto\" thresholds are not supported)")
            }
            return q
        case "quantized_po2":
            let bits = try int("bits", 8)
            guard bits >= 2, bits <= 16 else { throw fail("unsupported quantized_po2(\(bits)): bits must be 2 to 8") }
            var q = QKerasQuantizer(kind: .po2, bits: bits, integer: 0, keepNegative: true, symmetric: false, negativeSlope: 0)
            switch cfg["max_value"] {
            case nil, .null?: break
            case let .number(t)?:
                guard let d = Double(t), d.isFinite, d > 0, d < 1e30 else { throw fail("max_value \(t): expected a positive number") }
                q.maxValue = d
            default: throw fail("max_value: expected a number")
            }
            if num("quadratic_approximation") == "1" { throw fail("quadratic_approximation is not supported") }
            if let qn = num("qnoise_factor"), Double(qn) != 1 { throw fail("qnoise_factor \(qn) is not supported (the weights would not be powers of two)") }
            switch cfg["log2_rounding"] {
            case nil, .null?, .string("rnd")?: break
            case .string("floor")?: q.log2Floor = true
            default: throw fail("log2_rounding: expected \"rnd\" or \"floor\"")
            }
            // QKeras' _get_min_max_exponents: one bit for the sign of x, one for the exponent's
            // sign unless 0 < max_value <= 1.
            let expSign = (q.maxValue.map { $0 > 1 } ?? true) ? 1 : 0
            let eff = bits - 1 - expSign
            q.minExp = -(1 << eff)
            q.maxExp = (1 << eff) - 1
            guard q.minExp >= -126, q.maxExp <= 127 else {
                throw fail("quantized_po2(\(bits)): exponents \(q.minExp) to \(q.maxExp) leave float32's range (QKeras' 2^e in float32 becomes 0 or infinity); at most 8 bits (7 when max_value <= 1)")
            }
            return q
        case "quantized_relu_po2":
            // An activation (QKerasReluPo2.swift): 2^e with e = clip(round(log2(relu(x)))), QKeras'
            // exponent range from bits and max_value (no sign bit for x: -2^(bits-s) .. 2^(bits-s) - 1,
            // s = 1 unless 0 < max_value <= 1).
            let bits = try int("bits", 8)
            guard bits >= 1, bits <= 16 else { throw fail("unsupported quantized_relu_po2(\(bits)): bits must be 1 to 16") }
            var q = QKerasQuantizer(kind: .reluPo2, bits: bits, integer: 0, keepNegative: false, symmetric: false, negativeSlope: 0)
            switch cfg["max_value"] {
            case nil, .null?: break
            case let .number(t)?:
                guard let d = Double(t), d.isFinite, d > 0, d < 1e30 else { throw fail("max_value \(t): expected a positive number") }
                q.maxValue = d
            default: throw fail("max_value: expected a number")
            }
            if let ns = num("negative_slope"), Double(ns) != 0 {
                throw fail("negative_slope \(ns) is not supported (only 0: the output is 2^e for every input)")
            }
            if num("quadratic_approximation") == "1" { throw fail("quadratic_approximation is not supported") }
            if let qn = num("qnoise_factor"), Double(qn) != 1 { throw fail("qnoise_factor \(qn) is not supported (the outputs would not be powers of two)") }
            switch cfg["log2_rounding"] {
            case nil, .null?, .string("rnd")?: break
            case .string("floor")?: q.log2Floor = true
            default: throw fail("log2_rounding: expected \"rnd\" or \"floor\"")
            }
            let expSign = (q.maxValue.map { $0 > 1 } ?? true) ? 1 : 0
            let eff = bits - expSign
            guard eff <= 7 else {
                throw fail("quantized_relu_po2(\(bits)\(q.maxValue.map { ", max_value=\($0)" } ?? "")): exponents up to \((1 << eff) - 1) leave float32's range (2^e is infinite); at most \(7 + expSign) bits")
            }
            q.minExp = -(1 << eff)
            q.maxExp = (1 << eff) - 1
            return q
        default:
            throw fail("unsupported QKeras quantizer \(cls) (supported: quantized_bits, quantized_relu, quantized_po2 (weights), quantized_relu_po2 (activations), binary, ternary)")
        }
    }

    /// hls4ml's type for weights quantized by this quantizer.
    var hlsType: FixedType {
        bits == integer ? FixedType.integer(signed: true, width: bits) : FixedType(signed: true, width: bits, intBits: integer + 1)
    }

    /// QKeras' quantized_bits on one weight (float32 in, exact: every step is a power-of-two scaling).
    func apply(_ x: Double) -> Double {
        let x32 = Double(Float(x))
        let nonSign = bits - (keepNegative ? 1 : 0)
        let m = pow2(nonSign), mi = pow2(integer)
        let p = x32 * m / mi
        var r = p.rounded(.toNearestOrEven)
        let lo = keepNegative ? -m + (symmetric ? 1 : 0) : 0
        r = Swift.min(Swift.max(r, lo), m - 1)
        return Double(Float(mi * r / m))
    }
}
