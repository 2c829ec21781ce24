// Model core checks and normalization of the binary/ternary ops: kernels of +-1 (and 0), fixed
// output types, real thresholds placed on the input grid, multi_threshold tables, and batchnorm
// (folded with a following sign by ModelCore.validate, or standalone and quantized here).
import BigInt
import FixedPoint

extension LayerCheck {
    /// The checked (and normalized) op and its output size.
    func binary(_ op: BinaryLayerOp, outputType: FixedType) throws -> (BinaryLayerOp, Int) {
        switch op {
        case let .binaryDense(d), let .ternaryDense(d):
            let ternary: Bool
            if case .ternaryDense = op { ternary = true } else { ternary = false }
            try binaryDense(d, ternary: ternary)
            return (op, d.units)
        case .sign:
            try fixedOutput(outputType, .bipolar, op: "sign")
        case .ternaryTanh:
            try fixedOutput(outputType, .ternary, op: "ternary_tanh")
        case let .threshold(t):
            try fixedOutput(outputType, .bipolar, op: "threshold")
            return (.threshold(try threshold(t)), nIn)
        case let .multiThreshold(m):
            return (.multiThreshold(try multiThreshold(m, outputType: outputType)), nIn)
        case .batchnorm:
            preconditionFailure("a batchnorm is validated by ModelCore.validate")
        }
        return (op, nIn)
    }

    func fixedOutput(_ t: FixedType, _ fixed: FixedType, op: String) throws {
        guard t == fixed else { throw fail("output_type", "the output of \(op) is \(fixed), found \(t)") }
    }

    func binaryDense(_ d: BinaryDense, ternary: Bool) throws {
        try range("units", d.units, 1, Dense.maxUnits)
        try kernelShape(d.kernel.map { $0.count }, units: d.units)
        let allowed = ternary ? "-1, 0 or +1" : "+1 or -1"
        for (i, row) in d.kernel.enumerated() {
            for (j, w) in row.enumerated() where !(w == 1 || w == -1 || (ternary && w == 0)) {
                throw fail("kernel[\(i)][\(j)]", "\(ternary ? "ternary" : "binary")_dense weights must be \(allowed), found \(w)")
            }
        }
        // Widths: the exact sum must fit in 128 bits (checked as for a dense layer).
        let probe = Dense(units: d.units, kernelType: .ternary, biasType: FixedType(signed: true, width: 2, intBits: 2 - inType.fracBits),
                          accumType: nil, kernel: d.kernel.map { $0.map { Int128($0) } }, bias: Array(repeating: 0, count: d.units))
        try plan(probe, inputType: inType)
    }

    func threshold(_ t: ThresholdLayer) throws -> ThresholdLayer {
        guard let real = t.unplaced else {
            guard t.rules.count == nIn else { throw fail("thresholds", "expected \(nIn) values (one per channel), found \(t.rules.count)") }
            try sameGrid(t.frac)
            return t
        }
        try perChannel("thresholds", real.values.count)
        let geq = real.geq ?? Array(repeating: true, count: nIn)
        try perChannel("directions", geq.count)
        let rules = zip(real.values, geq).map { ThresholdRule(geq: $1, code: ThresholdRule.code(of: $0, geq: $1, inputType: inType)) }
        return ThresholdLayer(rules: rules, frac: inType.fracBits)
    }

    /// Threshold codes given on a grid must be on the input's grid.
    func sameGrid(_ frac: Int) throws {
        guard frac == inType.fracBits else {
            throw fail("thresholds", "the codes are on a grid of \(frac) fractional bits, the input type \(inType) has \(inType.fracBits)")
        }
    }

    func multiThreshold(_ m: MultiThreshold, outputType: FixedType) throws -> MultiThreshold {
        var out = m
        let rows = m.unplaced?.count ?? m.thresholds.count
        guard rows == nIn || (rows == 1 && m.unplaced != nil) else {
            throw fail("thresholds", "expected \(nIn) rows (one per channel)\(m.unplaced != nil ? " or 1 row (shared)" : ""), found \(rows)")
        }
        let lengths = m.unplaced?.map { $0.count } ?? m.thresholds.map { $0.count }
        for (i, n) in lengths.enumerated() {
            guard n > 0 else { throw fail("thresholds[\(i)]", "expected a non-empty array of thresholds") }
            if n != lengths[0] { throw fail("thresholds[\(i)]", "expected \(lengths[0]) thresholds (as in row 0), found \(n)") }
            guard n <= 65535 else { throw fail("thresholds[\(i)]", "at most 65535 thresholds per channel") }
        }
        if let real = m.unplaced {
            out.thresholds = real.map { row in row.map { ThresholdRule.code(of: $0, geq: true, inputType: inType) } }
            if out.thresholds.count == 1 && nIn > 1 { out.thresholds = Array(repeating: out.thresholds[0], count: nIn) }
            out.frac = inType.fracBits
            out.unplaced = nil
        } else {
            try sameGrid(m.frac)
        }
        func decimal(_ key: String, _ text: String) throws -> Rational {
            do { return try Rational(decimal: text) } catch let e as DecimalParseError { throw fail(key, e.description) }
        }
        let s = try decimal("out_scale", m.outScaleText)
        let b = try decimal("out_bias", m.outBiasText)
        out.table = MultiThreshold.table(count: lengths[0], scale: s, bias: b, outputType: outputType)
        return out
    }

    /// A batchnorm's channels from its parameters (counts checked), and its parameter types.
    func batchNormChannels(_ bn: BatchNorm) throws -> [BNChannel] {
        var channels = bn.channels
        switch bn.parameters {
        case nil:
            guard channels.count == nIn else { throw fail("", "expected \(nIn) batchnorm channels (one per input), found \(channels.count)") }
        case let .scaleBias(s, b)?:
            try perChannel("scale", s.count)
            try perChannel("bias", b.count)
            channels = zip(s, b).map { BNChannel(gamma: $0, beta: $1, mean: .zero, v: .one) }
        case let .moments(g, be, mu, va, eps)?:
            try perChannel("gamma", g.count)
            try perChannel("beta", be.count)
            try perChannel("mean", mu.count)
            try perChannel("variance", va.count)
            channels = []
            for j in 0..<nIn {
                let v = va[j] + eps
                guard v.sign > 0 else { throw fail("variance[\(j)]", "variance + epsilon must be positive") }
                channels.append(BNChannel(gamma: g[j], beta: be[j], mean: mu[j], v: v))
            }
        }
        for j in channels.indices where channels[j].v.sign <= 0 {
            throw fail("variance[\(j)]", "variance + epsilon must be positive")
        }
        for (k, t) in [("scale_type", bn.scaleType), ("bias_type", bn.biasType)] {
            if let t, t.encoding != .plain { throw fail(k, "\(t) cannot hold a batchnorm parameter; use a fixed-point type") }
        }
        return channels
    }

    /// A batchnorm not followed by sign: y = cast(x * scale_q + bias_q, output_type), with scale and
    /// bias quantized exactly to the declared types. The normalized channels hold the quantized
    /// values, so writing and reading the model again gives the same model.
    func standaloneBatchNorm(_ l: Layer, _ bn: BatchNorm, channels: [BNChannel]) throws -> Layer {
        for (k, ok) in [("scale_type", bn.scaleType != nil), ("bias_type", bn.biasType != nil), ("output_type", bn.hasOutputType)] where !ok {
            throw fail(k, "missing required field (a batchnorm that is not followed by sign needs scale_type, bias_type and output_type)")
        }
        let st = bn.scaleType!, bt = bn.biasType!
        var out = BatchNorm(channels: [], scaleType: st, biasType: bt, hasOutputType: true)
        out.scale = channels.map { $0.scale.quantize(to: st) }
        out.bias = channels.map { $0.bias.quantize(to: bt) }
        out.channels = zip(out.scale, out.bias).map {
            BNChannel(gamma: Rational(code: $0, frac: st.fracBits), beta: Rational(code: $1, frac: bt.fracBits), mean: .zero, v: .one)
        }
        for j in 0..<nIn { try plan(out.channelDense(j), inputType: inType) }
        try checkSize(l, nIn)
        return Layer(name: l.name, op: .binary(.batchnorm(out)), outputType: l.outputType, outputSize: nIn)
    }
}
