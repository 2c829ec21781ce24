// Reading the binary/ternary ops of the native model file, and the normalizer that folds
// batchnorm + sign into exact thresholds.
import BigInt
import FixedPoint

extension ModelLoader {
    nonisolated(unsafe) static let binaryLayerParsers: [String: (JSONObjectReader, String, Int, FixedType) throws -> Layer] = [
        "binary_dense": { try parseBinaryDense($0, name: $1, nIn: $2, inType: $3, ternary: false) },
        "ternary_dense": { try parseBinaryDense($0, name: $1, nIn: $2, inType: $3, ternary: true) },
        "sign": parseSign,
        "binary_tanh": parseSign,
        "ternary_tanh": parseTernaryTanh,
        "threshold": parseThreshold,
        "multi_threshold": parseMultiThreshold,
        "batchnorm": parseBatchNorm,
    ]

    /// An exact decimal at `field`.
    static func rational(_ v: JSONValue, _ r: JSONObjectReader, field: String) throws -> Rational {
        guard case let .number(t) = v else {
            throw InputError(file: r.file, field: field, message: "expected a number, found \(v.kindName)")
        }
        do { return try Rational(decimal: t) } catch let e as DecimalParseError {
            throw InputError(file: r.file, field: field, message: e.description)
        }
    }

    static func rationals(_ r: JSONObjectReader, _ key: String, count: Int) throws -> [Rational] {
        let a = try r.array(key)
        guard a.count == count else { throw r.fail(key, "expected \(count) values (one per channel), found \(a.count)") }
        return try a.enumerated().map { try rational($1, r, field: "\(r.fieldPath(key))[\($0)]") }
    }

    /// An optional output_type that, when given, must be `fixed`.
    static func fixedOutput(_ r: JSONObjectReader, _ fixed: FixedType, op: String) throws -> FixedType {
        if r.has("output_type") {
            let t = try r.type("output_type")
            guard t == fixed else { throw r.fail("output_type", "the output of \(op) is \(fixed), found \(t)") }
        }
        return fixed
    }

    static func parseBinaryDense(_ r: JSONObjectReader, name: String, nIn: Int, inType: FixedType, ternary: Bool) throws -> Layer {
        try r.checkKeys(["name", "op", "units", "kernel", "output_type"])
        let units = try r.int("units", min: 1, max: 1_000_000)
        let out = try r.type("output_type")
        let rows = try r.array("kernel")
        guard rows.count == nIn else {
            throw r.fail("kernel", "expected \(nIn) rows (one per input, Keras layout [n_in][units]), found \(rows.count)")
        }
        let allowed = ternary ? "-1, 0 or +1" : "+1 or -1"
        var kernel: [[Int8]] = []
        for (i, row) in rows.enumerated() {
            let rf = "\(r.fieldPath("kernel"))[\(i)]"
            guard case let .array(vals) = row else {
                throw InputError(file: r.file, field: rf, message: "expected an array of \(units) numbers, found \(row.kindName)")
            }
            guard vals.count == units else { throw InputError(file: r.file, field: rf, message: "expected \(units) values (units), found \(vals.count)") }
            kernel.append(try vals.enumerated().map { j, v in
                let q = try rational(v, r, field: "\(rf)[\(j)]")
                if q == .one { return 1 }
                if q == -Rational.one { return -1 }
                if ternary && q.sign == 0 { return 0 }
                guard case let .number(t) = v else { preconditionFailure() }
                throw InputError(file: r.file, field: "\(rf)[\(j)]", message: "\(ternary ? "ternary" : "binary")_dense weights must be \(allowed), found \(t)")
            })
        }
        // Widths: the exact sum must fit in 128 bits (checked as for a dense layer).
        let probe = Dense(units: units, kernelType: .ternary, biasType: FixedType(signed: true, width: 2, intBits: 2 - inType.fracBits),
                          accumType: nil, kernel: kernel.map { $0.map { Int128($0) } }, bias: Array(repeating: 0, count: units))
        do { _ = try DensePlan(dense: probe, inputType: inType) } catch let DensePlan.PlanError.tooWide(why) {
            throw InputError(file: r.file, field: r.path, message: "unsupported width: \(why)")
        }
        let d = BinaryDense(units: units, kernel: kernel)
        return Layer(name: name, op: .binary(ternary ? .ternaryDense(d) : .binaryDense(d)), outputType: out, outputSize: units)
    }

    static func parseSign(_ r: JSONObjectReader, name: String, nIn: Int, inType: FixedType) throws -> Layer {
        try r.checkKeys(["name", "op", "output_type"])
        let t = try fixedOutput(r, .bipolar, op: "sign")
        return Layer(name: name, op: .binary(.sign), outputType: t, outputSize: nIn)
    }

    static func parseTernaryTanh(_ r: JSONObjectReader, name: String, nIn: Int, inType: FixedType) throws -> Layer {
        try r.checkKeys(["name", "op", "output_type"])
        let t = try fixedOutput(r, .ternary, op: "ternary_tanh")
        return Layer(name: name, op: .binary(.ternaryTanh), outputType: t, outputSize: nIn)
    }

    /// The threshold code on the input grid: x >= t <=> code >= ceil(t 2^F); x <= t <=> code <= floor(t 2^F);
    /// clamped to one step beyond the input type's range.
    static func thresholdCode(_ t: Rational, geq: Bool, inType: FixedType) -> Int128 {
        let scaled = t * Rational(code: 1, frac: -inType.fracBits)
        let c = geq ? scaled.ceil : scaled.floor
        let lo = bigInt(inType.minCode) - 1, hi = bigInt(inType.maxCode) + 1
        return int128(exactly: min(max(c, lo), hi))!
    }

    static func parseThreshold(_ r: JSONObjectReader, name: String, nIn: Int, inType: FixedType) throws -> Layer {
        try r.checkKeys(["name", "op", "thresholds", "directions", "output_type"])
        let out = try fixedOutput(r, .bipolar, op: "threshold")
        let ts = try rationals(r, "thresholds", count: nIn)
        var dirs = Array(repeating: true, count: nIn)
        if r.has("directions") {
            let a = try r.array("directions")
            guard a.count == nIn else { throw r.fail("directions", "expected \(nIn) values (one per channel), found \(a.count)") }
            dirs = try a.enumerated().map { i, v in
                guard case let .string(s) = v, s == "ge" || s == "le" else {
                    throw InputError(file: r.file, field: "\(r.fieldPath("directions"))[\(i)]", message: "expected \"ge\" (x >= t) or \"le\" (x <= t)")
                }
                return s == "ge"
            }
        }
        let rules = zip(ts, dirs).map { ThresholdRule(geq: $1, code: thresholdCode($0, geq: $1, inType: inType)) }
        return Layer(name: name, op: .binary(.threshold(ThresholdLayer(rules: rules, frac: inType.fracBits))), outputType: out, outputSize: nIn)
    }

    static func parseMultiThreshold(_ r: JSONObjectReader, name: String, nIn: Int, inType: FixedType) throws -> Layer {
        try r.checkKeys(["name", "op", "thresholds", "out_scale", "out_bias", "output_type"])
        let out = try r.type("output_type")
        let rows = try r.array("thresholds")
        guard rows.count == nIn || rows.count == 1 else {
            throw r.fail("thresholds", "expected \(nIn) rows (one per channel) or 1 row (shared), found \(rows.count)")
        }
        var ts: [[Int128]] = []
        var n = -1
        for (i, row) in rows.enumerated() {
            let rf = "\(r.fieldPath("thresholds"))[\(i)]"
            guard case let .array(vals) = row, !vals.isEmpty else {
                throw InputError(file: r.file, field: rf, message: "expected a non-empty array of thresholds")
            }
            if n >= 0 && vals.count != n {
                throw InputError(file: r.file, field: rf, message: "expected \(n) thresholds (as in row 0), found \(vals.count)")
            }
            n = vals.count
            guard n <= 65535 else { throw InputError(file: r.file, field: rf, message: "at most 65535 thresholds per channel") }
            ts.append(try vals.enumerated().map { j, v in thresholdCode(try rational(v, r, field: "\(rf)[\(j)]"), geq: true, inType: inType) })
        }
        if ts.count == 1 && nIn > 1 { ts = Array(repeating: ts[0], count: nIn) }
        func text(_ k: String, _ d: String) throws -> (String, Rational) {
            guard r.has(k) else { return (d, try Rational(decimal: d)) }
            guard case let .number(t) = try r.value(k) else { throw r.fail(k, "expected a number") }
            return (t, try rational(.number(t), r, field: r.fieldPath(k)))
        }
        let (st, s) = try text("out_scale", "1")
        let (bt, b) = try text("out_bias", "0")
        let table = (0...n).map { k -> Int128 in
            let v = s * Rational(BigInt(k)) + b
            return out.quantize(numerator: v.num, denominator: v.den)
        }
        let m = MultiThreshold(thresholds: ts, frac: inType.fracBits, outScaleText: st, outBiasText: bt, table: table)
        return Layer(name: name, op: .binary(.multiThreshold(m)), outputType: out, outputSize: nIn)
    }

    static func parseBatchNorm(_ r: JSONObjectReader, name: String, nIn: Int, inType: FixedType) throws -> Layer {
        try r.checkKeys(["name", "op", "scale", "bias", "gamma", "beta", "mean", "variance", "epsilon",
                         "scale_type", "bias_type", "output_type"])
        var channels: [BNChannel] = []
        if r.has("scale") || r.has("bias") {
            for k in ["gamma", "beta", "mean", "variance", "epsilon"] where r.has(k) {
                throw r.fail(k, "give either scale and bias, or gamma, beta, mean, variance and epsilon")
            }
            let s = try rationals(r, "scale", count: nIn)
            let b = try rationals(r, "bias", count: nIn)
            channels = zip(s, b).map { BNChannel(gamma: $0, beta: $1, mean: .zero, v: .one) }
        } else {
            let g = try rationals(r, "gamma", count: nIn)
            let be = try rationals(r, "beta", count: nIn)
            let mu = try rationals(r, "mean", count: nIn)
            let va = try rationals(r, "variance", count: nIn)
            let eps = try rational(try r.value("epsilon"), r, field: r.fieldPath("epsilon"))
            for j in 0..<nIn {
                let v = va[j] + eps
                guard v.sign > 0 else { throw InputError(file: r.file, field: "\(r.fieldPath("variance"))[\(j)]", message: "variance + epsilon must be positive") }
                channels.append(BNChannel(gamma: g[j], beta: be[j], mean: mu[j], v: v))
            }
        }
        func optType(_ k: String) throws -> FixedType? {
            guard r.has(k) else { return nil }
            let t = try r.type(k)
            guard t.encoding == .plain else { throw r.fail(k, "\(t) cannot hold a batchnorm parameter; use a fixed-point type") }
            return t
        }
        var bn = BatchNorm(channels: channels, scaleType: try optType("scale_type"), biasType: try optType("bias_type"),
                           hasOutputType: r.has("output_type"))
        if let st = bn.scaleType, let bt = bn.biasType {
            bn.scale = channels.map { $0.scale.quantize(to: st) }
            bn.bias = channels.map { $0.bias.quantize(to: bt) }
        }
        // Without output_type the layer must be folded with a following sign (checked later).
        let out = r.has("output_type") ? try r.type("output_type") : inType
        return Layer(name: name, op: .binary(.batchnorm(bn)), outputType: out, outputSize: nIn)
    }

    /// The normalizer: batchnorm directly followed by sign/binary_tanh becomes one exact
    /// `threshold` layer (named after the batchnorm); any other batchnorm must declare
    /// scale_type, bias_type and output_type.
    static func foldBatchNormSign(_ layers: [Layer], input: InputSpec, file: String) throws -> [Layer] {
        var out: [Layer] = []
        var inType = input.type
        var i = 0
        while i < layers.count {
            let l = layers[i]
            guard case let .binary(.batchnorm(bn)) = l.op else {
                out.append(l); inType = l.outputType; i += 1; continue
            }
            if i + 1 < layers.count, case .binary(.sign) = layers[i + 1].op {
                let th = BatchNormFold.threshold(bn.channels, inputType: inType)
                out.append(Layer(name: l.name, op: .binary(.threshold(th)), outputType: .bipolar, outputSize: l.outputSize))
                inType = .bipolar
                i += 2
                continue
            }
            let path = "layers[\(i)]"
            for (k, ok) in [("scale_type", bn.scaleType != nil), ("bias_type", bn.biasType != nil), ("output_type", bn.hasOutputType)] where !ok {
                throw InputError(file: file, field: "\(path).\(k)", message: "missing required field (a batchnorm that is not followed by sign needs scale_type, bias_type and output_type)")
            }
            for j in 0..<l.outputSize {
                do { _ = try DensePlan(dense: bn.channelDense(j), inputType: inType) } catch let DensePlan.PlanError.tooWide(why) {
                    throw InputError(file: file, field: path, message: "unsupported width: \(why)")
                }
            }
            out.append(l)
            inType = l.outputType
            i += 1
        }
        return out
    }
}

/// Folding batchnorm + sign into thresholds, exactly: for every input code x of the input type,
/// the folded rule fires exactly when beta + (x - mean) * gamma / sqrt(variance + epsilon) >= 0
/// (the comparison with the square root is decided by squaring). The condition is monotone in x
/// (increasing for gamma > 0, decreasing for gamma < 0, constant for gamma = 0), so the threshold
/// is found by bisection over the input codes with the exact predicate.
public enum BatchNormFold {
    public static func threshold(_ channels: [BNChannel], inputType t: FixedType) -> ThresholdLayer {
        let f = t.fracBits
        let rules = channels.map { ch -> ThresholdRule in
            func fires(_ c: Int128) -> Bool { ch.value(at: Rational(code: c, frac: f)).geq(.zero) }
            let lo = t.minCode, hi = t.maxCode
            switch ch.gamma.sign {
            case 0:
                // Constant: sign(beta). A threshold at the range's edge (always) or beyond it (never).
                return ThresholdRule(geq: true, code: ch.beta.sign >= 0 ? lo : hi + 1)
            case 1:
                // Smallest code that fires (hi + 1: none).
                if !fires(hi) { return ThresholdRule(geq: true, code: hi + 1) }
                var a = lo - 1, b = hi   // !fires(a) (virtually), fires(b)
                if fires(lo) { return ThresholdRule(geq: true, code: lo) }
                a = lo
                while b - a > 1 { let m = a + (b - a) / 2; if fires(m) { b = m } else { a = m } }
                return ThresholdRule(geq: true, code: b)
            default:
                // Largest code that fires (lo - 1: none): x <= code.
                if !fires(lo) { return ThresholdRule(geq: false, code: lo - 1) }
                if fires(hi) { return ThresholdRule(geq: false, code: hi) }
                var a = lo, b = hi       // fires(a), !fires(b)
                while b - a > 1 { let m = a + (b - a) / 2; if fires(m) { a = m } else { b = m } }
                return ThresholdRule(geq: false, code: a)
            }
        }
        return ThresholdLayer(rules: rules, frac: f)
    }
}
