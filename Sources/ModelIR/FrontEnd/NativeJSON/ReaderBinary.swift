// Reading the binary/ternary ops of the native model file. Thresholds and batchnorm parameters
// stay exact real numbers; the model core places them on the input grid and folds batchnorm + sign.
import BigInt
import FixedPoint

extension ModelLoader {
    nonisolated(unsafe) static let binaryLayerParsers: [String: (JSONObjectReader, String) throws -> Layer] = [
        "binary_dense": { try parseBinaryDense($0, name: $1, ternary: false) },
        "ternary_dense": { try parseBinaryDense($0, name: $1, ternary: true) },
        "sign": { try parseFixedOutput($0, name: $1, op: .sign, type: .bipolar) },
        "binary_tanh": { try parseFixedOutput($0, name: $1, op: .sign, type: .bipolar) },
        "ternary_tanh": { try parseFixedOutput($0, name: $1, op: .ternaryTanh, type: .ternary) },
        "threshold": parseThreshold,
        "multi_threshold": parseMultiThreshold,
        "batchnorm": parseBatchNorm,
    ]

    static func parseBinaryDense(_ r: JSONObjectReader, name: String, ternary: Bool) throws -> Layer {
        try r.checkKeys(["name", "op", "units", "kernel", "output_type"])
        let units = try r.int("units")
        let out = try r.type("output_type")
        let allowed = ternary ? "-1, 0 or +1" : "+1 or -1"
        let kernel = try r.matrix("kernel", units: units) { v, field -> Int8 in
            let q = try r.rational(v, field: field)
            if q == .one { return 1 }
            if q == -Rational.one { return -1 }
            if ternary && q.sign == 0 { return 0 }
            guard case let .number(t) = v else { preconditionFailure() }
            throw InputError(file: r.file, field: field, message: "\(ternary ? "ternary" : "binary")_dense weights must be \(allowed), found \(t)")
        }
        let d = BinaryDense(units: units, kernel: kernel)
        return Layer(name: name, op: .binary(ternary ? .ternaryDense(d) : .binaryDense(d)), outputType: out)
    }

    /// sign, binary_tanh, ternary_tanh: the output type may be omitted (the model core checks it).
    static func parseFixedOutput(_ r: JSONObjectReader, name: String, op: BinaryLayerOp, type: FixedType) throws -> Layer {
        try r.checkKeys(["name", "op", "output_type"])
        let t = r.has("output_type") ? try r.type("output_type") : type
        return Layer(name: name, op: .binary(op), outputType: t)
    }

    static func parseThreshold(_ r: JSONObjectReader, name: String) throws -> Layer {
        try r.checkKeys(["name", "op", "thresholds", "directions", "output_type"])
        let out = r.has("output_type") ? try r.type("output_type") : .bipolar
        let ts = try r.rationals("thresholds")
        var dirs: [Bool]? = nil
        if r.has("directions") {
            dirs = try r.array("directions").enumerated().map { i, v in
                guard case let .string(s) = v, s == "ge" || s == "le" else {
                    throw InputError(file: r.file, field: "\(r.fieldPath("directions"))[\(i)]", message: "expected \"ge\" (x >= t) or \"le\" (x <= t)")
                }
                return s == "ge"
            }
        }
        return Layer(name: name, op: .binary(.threshold(ThresholdLayer(thresholds: ts, geq: dirs))), outputType: out)
    }

    static func parseMultiThreshold(_ r: JSONObjectReader, name: String) throws -> Layer {
        try r.checkKeys(["name", "op", "thresholds", "out_scale", "out_bias", "output_type"])
        let out = try r.type("output_type")
        let rows = try r.array("thresholds").enumerated().map { i, row -> [Rational] in
            let rf = "\(r.fieldPath("thresholds"))[\(i)]"
            guard case let .array(vals) = row else {
                throw InputError(file: r.file, field: rf, message: "expected a non-empty array of thresholds")
            }
            return try vals.enumerated().map { j, v in try r.rational(v, field: "\(rf)[\(j)]") }
        }
        func text(_ k: String, _ d: String) throws -> String {
            guard r.has(k) else { return d }
            guard case let .number(t) = try r.value(k) else { throw r.fail(k, "expected a number") }
            _ = try r.rational(.number(t), field: r.fieldPath(k))
            return t
        }
        let m = MultiThreshold(thresholds: rows, outScaleText: try text("out_scale", "1"), outBiasText: try text("out_bias", "0"))
        return Layer(name: name, op: .binary(.multiThreshold(m)), outputType: out)
    }

    static func parseBatchNorm(_ r: JSONObjectReader, name: String) throws -> Layer {
        try r.checkKeys(["name", "op", "scale", "bias", "gamma", "beta", "mean", "variance", "epsilon",
                         "scale_type", "bias_type", "output_type"])
        let p: BatchNorm.Parameters
        if r.has("scale") || r.has("bias") {
            for k in ["gamma", "beta", "mean", "variance", "epsilon"] where r.has(k) {
                throw r.fail(k, "give either scale and bias, or gamma, beta, mean, variance and epsilon")
            }
            p = .scaleBias(scale: try r.rationals("scale"), bias: try r.rationals("bias"))
        } else {
            p = .moments(gamma: try r.rationals("gamma"), beta: try r.rationals("beta"), mean: try r.rationals("mean"),
                         variance: try r.rationals("variance"), epsilon: try r.rational(try r.value("epsilon"), field: r.fieldPath("epsilon")))
        }
        func optType(_ k: String) throws -> FixedType? { r.has(k) ? try r.type(k) : nil }
        let bn = BatchNorm(p, scaleType: try optType("scale_type"), biasType: try optType("bias_type"), hasOutputType: r.has("output_type"))
        // Without output_type the layer must be folded with a following sign (the core checks it);
        // the placeholder type is then unused.
        return Layer(name: name, op: .binary(.batchnorm(bn)), outputType: try optType("output_type") ?? .bipolar)
    }
}
