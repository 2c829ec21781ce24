// hls4ml's layer list -> the model core's layers, with hls4ml's types and weight quantization.
import BigInt
import FixedPoint
import Foundation
import ModelIR

/// Layer names as identifiers (letters, digits, single '_'), unique ignoring case.
struct NameTable {
    var used = Set<String>()

    static func identifier(_ s: String, fallback: String) -> String {
        var r = String(s.unicodeScalars.map { ($0.isASCII && (CharacterSet.alphanumerics.contains($0))) ? Character($0) : "_" })
        while r.contains("__") { r = r.replacingOccurrences(of: "__", with: "_") }
        while r.hasPrefix("_") { r.removeFirst() }
        while r.hasSuffix("_") { r.removeLast() }
        if r.isEmpty { r = fallback }
        if let f = r.unicodeScalars.first, !(f.properties.isAlphabetic) { r = "l_" + r }
        if r.count > 60 { r = String(r.prefix(60)); while r.hasSuffix("_") { r.removeLast() } }
        return r
    }

    mutating func unique(_ s: String) -> String {
        let base = Self.identifier(s, fallback: "layer")
        var r = base
        var k = 2
        while used.contains(r.lowercased()) { r = "\(base)_\(k)"; k += 1 }
        used.insert(r.lowercased())
        return r
    }
}

/// The exact decimal text of a double (finite).
func exactDecimal(_ d: Double) -> String {
    let (num, den) = WeightText.exactRatio(d)
    return dyadicDecimal(num, frac: den.trailingZeroBitCount)
}

/// The exact decimal text of num / 2^k (k <= 0: the integer num * 2^-k).
func dyadicDecimal(_ num: BigInt, frac k: Int) -> String {
    if k <= 0 { return (num << -k).description }
    let digits = (num.magnitude * BigUInt(5).power(k)).description
    let padded = digits.count <= k ? String(repeating: "0", count: k - digits.count + 1) + digits : digits
    var intPart = String(padded.dropLast(k)), frac = String(padded.suffix(k))
    while frac.hasSuffix("0") { frac.removeLast() }
    if intPart.isEmpty { intPart = "0" }
    return (num.sign == .minus ? "-" : "") + intPart + (frac.isEmpty ? "" : "." + frac)
}

extension KerasImporter {
    static let defaultTableType = FixedType(signed: true, width: 18, intBits: 8)
    static let softmaxTableType = FixedType(signed: true, width: 18, intBits: 8, rounding: .RND, overflow: .SAT)

    /// One layer of hls4ml's list as a `Layer` of the model core (unvalidated: the core checks
    /// and normalizes it), and the number of values it outputs.
    static func emit(_ l: HLSLayer, next: HLSLayer?, nIn: Int, inType: FixedType, afterBNQT: Bool = false, afterTernaryBNQT: Bool = false,
                     config: HLSConfig, options: ImportOptions,
                     names: inout NameTable, file: String) throws -> (Layer, Int) {
        let name = names.unique(l.name)
        func prec(_ v: String) throws -> FixedType { try config.precision(layer: l.name, className: l.className, variable: v) }
        func code(_ d: Double, _ t: FixedType) throws -> Int128 {
            guard d.isFinite else { throw InputError(file: file, field: l.source, message: "a parameter is not a finite number (\(d))") }
            return WeightText.code(d, type: t, rounding: options.weightRounding)
        }
        func tableSize(_ d: Int) throws -> Int {
            guard let s = config.setting(layer: l.name, className: l.className, key: "table_size") else { return d }
            guard let n = Int(s) else { throw InputError(file: config.file, field: "\(l.name).table_size", message: "expected an integer") }
            return n
        }
        func layer(_ op: LayerOp, _ out: FixedType? = nil) throws -> Layer {
            Layer(name: name, op: op, outputType: try out ?? prec("result"))
        }
        func accum() throws -> FixedType? { options.exactAccumulators ? nil : try prec("accum") }
        switch l.kind {
        case .reluPo2:
            throw InputError(file: file, field: l.source, message: "quantized_relu_po2 is emitted by reluPo2Layers (an importer bug)")
        case let .spatial(s):
            return try KerasConv.emit(l, s, name: name, inType: inType, config: config, options: options, file: file)
        case let .dense(kernel, bias, kq, bq):
            let units = kernel.shape[1]
            let bt = try bq?.hlsType ?? prec("bias")
            let b: [Int128] = try (0..<units).map { j in
                var v = bias?.values[j] ?? 0
                if let bq { v = bq.apply(v) }
                return try code(v, bt)
            }
            if let kq, kq.kind == .po2 {
                let (kt, k) = try po2Kernel(kernel, kq, nIn: nIn, inType: inType, layer: l, file: file)
                return (try layer(.dense(Dense(units: units, kernelType: kt, biasType: bt, accumType: try accum(), kernel: k, bias: b))), units)
            }
            let kt = try kq?.hlsType ?? prec("weight")
            let k: [[Int128]] = try (0..<nIn).map { i in
                try (0..<units).map { j in
                    var v = kernel.values[i * units + j]
                    if let kq { v = kq.apply(v) }
                    return try code(v, kt)
                }
            }
            return (try layer(.dense(Dense(units: units, kernelType: kt, biasType: bt, accumType: try accum(), kernel: k, bias: b))), units)
        case let .binaryDense(kernel, bias, bq, fixedBiasType, ternary, qkeras):
            let units = kernel.first?.count ?? 0
            if (afterBNQT && (!qkeras || !ternary)) || (afterTernaryBNQT && !qkeras) {
                // Bipolar input: hls4ml's xnor product (popcount), y = 2 * popcount - n. Ternary
                // (int<2>) input of a BinaryDense / TernaryDense: the exact sum of +-x.
                let d = BinaryDense(units: units, kernel: kernel)
                let op: LayerOp = .binary(ternary ? .ternaryDense(d) : .binaryDense(d))
                if !qkeras {
                    // BinaryDense / TernaryDense: QuantizeDenseOutput forces the bias to zero and the
                    // output to int<ceil(log2 n) + 2>.
                    var w = 2, m = 1
                    while m < nIn { m *= 2; w += 1 }
                    return (try layer(op, .integer(signed: true, width: w)), units)
                }
                // QDense with a binary kernel: the popcount is summed in accum_t (with the bias),
                // then 2 * acc - n is cast to the result type.
                if let b = bias, b.contains(where: { $0 != 0 }) {
                    throw InputError(file: file, field: l.source, message: "a bias on a binary QDense after a BatchNormalization + binary activation is not supported (hls4ml adds it to the popcount)")
                }
                let acc = try prec("accum")
                guard acc.fracBits >= 0, acc.fracBits < 100, acc.maxCode >> acc.fracBits >= Int128(nIn) else {
                    throw InputError(file: config.file, field: "\(l.name).accum", message: "\(acc) cannot hold the popcount of \(nIn) inputs (hls4ml would wrap it); use a wider accum precision")
                }
                return (try layer(op), units)
            }
            // Real-valued input (or a ternary QDense on bipolar input): an ordinary dense layer
            // with int<2> weights, hls4ml's accumulator and result types.
            let bt: FixedType
            let b: [Int128]
            if let bias {
                bt = try fixedBiasType ?? bq?.hlsType ?? prec("bias")
                b = try bias.map { v in try code(bq.map { $0.apply(v) } ?? v, bt) }
            } else {
                bt = .integer(signed: false, width: 1)  // hls4ml's type for a missing bias
                b = Array(repeating: 0, count: units)
            }
            let k = kernel.map { $0.map { Int128($0) } }
            return (try layer(.dense(Dense(units: units, kernelType: .integer(signed: true, width: 2), biasType: bt, accumType: try accum(),
                                           kernel: k, bias: b))), units)
        case let .activation(act):
            switch act {
            case "relu": return (try layer(.relu), nIn)
            case "linear": return (try layer(.activation(.linear)), nIn)
            case "hard_sigmoid":
                let st = ActivationDefaults.slopeType, ht = ActivationDefaults.shiftType
                let h = HardParams(slope: try st.quantize(decimal: ActivationDefaults.slope), slopeType: st,
                                   shift: try ht.quantize(decimal: ActivationDefaults.shift), shiftType: ht)
                return (try layer(.activation(.hardSigmoid(h))), nIn)
            case "sigmoid", "tanh":
                let tt = try config.settingType(layer: l.name, className: l.className, key: "table_t") ?? defaultTableType
                let t = FunctionTable(function: act == "sigmoid" ? .sigmoid : .tanh, mode: .hls4ml, size: try tableSize(1024), tableType: tt)
                return (try layer(.activation(act == "sigmoid" ? .sigmoid(t) : .tanh(t))), nIn)
            case "binary_tanh":
                return (Layer(name: name, op: .binary(.sign), outputType: .bipolar), nIn)
            case "ternary_tanh":
                guard let t = l.ternaryThreshold, t != 0.5 else {
                    return (Layer(name: name, op: .binary(.ternaryTanh), outputType: .ternary), nIn)
                }
                // hls4ml's ExtractTernaryThreshold: a scaling by 0.5 / t merged into a
                // BatchNormalizationQuantizedTanh: y = +1 when x > hi, -1 when x <= lo, else 0, with
                // hi = floor(0.5 / (0.5 / t) * 2^F) / 2^F and lo the same of -0.5 / (0.5 / t) (float64,
                // F the input's fractional bits). As a multi_threshold: y = #(x >= lo + ulp) +
                // #(x >= hi + ulp) - 1.
                let fb = inType.fracBits
                guard t.isFinite, t > 0, fb > -60, fb < 60 else {
                    throw InputError(file: file, field: l.source, message: "ternary threshold \(t): expected a positive number")
                }
                let s = 0.5 / t
                func grid(_ v: Double) throws -> Rational {
                    let c = (v * pow(2, Double(fb))).rounded(.down)
                    guard c.isFinite, abs(c) <= Double(inType.maxCode) else {
                        throw InputError(file: file, field: l.source, message: "ternary threshold \(t) lies outside the input type \(inType)")
                    }
                    return Rational(code: Int128(c) + 1, frac: fb)
                }
                let m = MultiThreshold(thresholds: [[try grid(-0.5 / s + -0.0), try grid(0.5 / s + -0.0)]], outScaleText: "1", outBiasText: "-1")
                return (Layer(name: name, op: .binary(.multiThreshold(m)), outputType: .integer(signed: true, width: 2)), nIn)
            default:
                throw InputError(file: file, field: l.source, message: "unsupported activation '\(act)'")
            }
        case .softmax:
            let implText = config.setting(layer: l.name, className: l.className, key: "implementation") ?? "stable"
            guard let impl = SoftmaxImplementation(rawValue: implText) else {
                throw InputError(file: config.file, field: "\(l.name).Implementation",
                                 message: "unknown softmax implementation '\(implText)' (supported: stable, argmax; hls4ml's latency and legacy are not supported)")
            }
            if impl == .argmax {
                // argmax outputs an index.
                var w = 1
                while (1 << w) < nIn { w += 1 }
                return (Layer(name: name, op: .softmax(Softmax(implementation: .argmax)), outputType: .integer(signed: false, width: w)), 1)
            }
            func t(_ k: String) throws -> FixedType { try config.settingType(layer: l.name, className: l.className, key: k) ?? softmaxTableType }
            let sm = Softmax(implementation: .stable, tableSize: try tableSize(1024), expTableType: try t("exp_table_t"), invTableType: try t("inv_table_t"),
                             invInputType: try t("inv_inp_t"),
                             accumType: try config.settingType(layer: l.name, className: l.className, key: "accum_t") ?? prec("accum"))
            return (try layer(.softmax(sm)), nIn)
        case let .leakyRelu(alpha), let .elu(alpha):
            let pt = try prec("param")
            guard let a = Double(alpha), a.isFinite else { throw InputError(file: file, field: "\(l.source).alpha", message: "expected a number") }
            let ac = pt.quantize(double: a)
            if l.className == "ELU" {
                let tt = try config.settingType(layer: l.name, className: l.className, key: "table_t") ?? defaultTableType
                return (try layer(.activation(.elu(ExpTable(selu: false, size: try tableSize(1024), tableType: tt, alpha: ac, alphaType: pt)))), nIn)
            }
            return (try layer(.activation(.leakyRelu(LeakyRelu(alpha: ac, alphaType: pt)))), nIn)
        case let .batchnorm(gamma, beta, mean, variance, eps):
            if let next, next.foldsIntoBatchNorm(previous: l) {
                // hls4ml's BatchNormalizationQuantizedTanh (quantize 3): rtlgen's exact thresholds.
                let m = try ternaryFold(gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: eps, nIn: nIn, inType: inType,
                                        source: l.source, file: file)
                return (Layer(name: name, op: .binary(.multiThreshold(m)), outputType: .integer(signed: true, width: 2)), nIn)
            }
            if case .activation("binary_tanh")? = next?.kind {
                // rtlgen's exact threshold folding (hls4ml floors the threshold; see docs/importers.md):
                // the exact values of the stored floats, epsilon as written.
                func exact(_ v: [Double]) throws -> [Rational] {
                    try v.map { d in
                        guard d.isFinite else { throw InputError(file: file, field: l.source, message: "a parameter is not a finite number (\(d))") }
                        return try Rational(decimal: exactDecimal(d))
                    }
                }
                let e: Rational
                do { e = try Rational(decimal: eps) } catch {
                    throw InputError(file: file, field: "\(l.source).epsilon", message: "expected a number, found \(eps)")
                }
                let p = BatchNorm.Parameters.moments(gamma: try exact(gamma ?? Array(repeating: 1, count: nIn)), beta: try exact(beta ?? Array(repeating: 0, count: nIn)),
                                                     mean: try exact(mean), variance: try exact(variance), epsilon: e)
                return (Layer(name: name, op: .binary(.batchnorm(BatchNorm(p, hasOutputType: false))), outputType: .bipolar), nIn)
            }
            guard let e = Double(eps), e.isFinite else { throw InputError(file: file, field: "\(l.source).epsilon", message: "expected a number") }
            let (scale, bias) = batchnormScaleBias(gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: e,
                                                   float64: l.float64)
            let st = try prec("scale"), bt = try prec("bias")
            for (k, v) in zip(["variance + epsilon", "the scale"], [variance.map { $0 + e }.min() ?? 1, scale.map(abs).max() ?? 0]) where !(v > 0 || (k == "the scale" && v == 0)) || !v.isFinite {
                throw InputError(file: file, field: l.source, message: "\(k) is not a positive finite number (\(v)): the batch normalization cannot be computed")
            }
            let p = BatchNorm.Parameters.scaleBias(scale: try scale.map { Rational(code: try code($0, st), frac: st.fracBits) },
                                                   bias: try bias.map { Rational(code: try code($0, bt), frac: bt.fracBits) })
            return (try layer(.binary(.batchnorm(BatchNorm(p, scaleType: st, biasType: bt, hasOutputType: true)))), nIn)
        }
    }

    /// A quantized_po2 kernel as fixed-point codes: each weight +-2^e (`QKerasQuantizer.po2Weight`,
    /// hls4ml's sign and exponent), in the smallest signed type holding every exponent the layer
    /// uses. hls4ml multiplies by a shift in `weight_exponential`: the input cast to
    /// ap_fixed<2(b + Wx), b + Wx> (b the quantizer's bits, Wx the input width), shifted by e,
    /// negated for a negative weight, then cast to accum_t; that equals rtlgen's exact product
    /// cast to accum_t only when the shift loses no bit. A weight whose shift would (a right shift
    /// past b + Wx fractional bits, or a left shift past b + Wx integer bits) is refused, naming it.
    static func po2Kernel(_ kernel: HDF5Array, _ q: QKerasQuantizer, nIn: Int, inType: FixedType, layer l: HLSLayer,
                          file: String) throws -> (FixedType, [[Int128]]) {
        let units = kernel.shape[1]
        var w: [[(negative: Bool, exponent: Int)]] = []
        for i in 0..<nIn {
            var row: [(negative: Bool, exponent: Int)] = []
            for j in 0..<units {
                let x = kernel.values[i * units + j]
                guard x.isFinite else { throw InputError(file: file, field: l.source, message: "kernel[\(i)][\(j)] is not a finite number (\(x))") }
                guard let v = q.po2Weight(x) else {
                    throw InputError(file: file, field: "\(l.source).kernel[\(i)][\(j)]",
                                     message: "the weight \(x) has no well-defined quantized_po2 value in hls4ml 1.3: it lies within float32 rounding of a rounding boundary (TensorFlow's vectorized and scalar float32 logs differ there), or QKeras' float32 x + (xq - x) loses it (hls4ml then takes log2 of 0); move the weight or use fewer bits")
                }
                row.append(v)
            }
            w.append(row)
        }
        let es = w.flatMap { $0.map { $0.exponent } }
        let lo = es.min() ?? 0, hi = es.max() ?? 0
        let frac = Swift.max(0, -lo)
        let width = Swift.max(hi, 0) + frac + 2
        guard width <= 120 else {
            throw InputError(file: file, field: "\(l.source).kernel_quantizer", message: "exponents \(lo) to \(hi) need a \(width)-bit weight type (at most 120)")
        }
        let kt = FixedType(signed: true, width: width, intBits: width - frac)
        // hls4ml's shift product: r_T = ap_fixed<2(b + Wx), b + Wx>.
        let rw = q.bits + inType.width
        let inInt = inType.signed ? inType.intBits : inType.intBits + 1
        for (i, row) in w.enumerated() {
            for (j, v) in row.enumerated() where inType.fracBits + Swift.max(0, -v.exponent) > rw || inInt + Swift.max(0, v.exponent) > rw {
                throw InputError(file: file, field: "\(l.source).kernel[\(i)][\(j)]",
                                 message: "the power-of-two weight \(v.negative ? "-" : "")2^\(v.exponent) on input \(inType) would lose bits in hls4ml 1.3's shift product (ap_fixed<\(2 * rw),\(rw)>), which rtlgen does not reproduce; use fewer quantized_po2 bits or a wider input type")
            }
        }
        let k = w.map { row in row.map { v -> Int128 in
            let c = Int128(1) << (v.exponent + frac)
            return v.negative ? -c : c
        } }
        return (kt, k)
    }

    /// A batchnorm followed by ternary_tanh as one exact layer: y = +1 where beta + (x - mean) *
    /// gamma / sqrt(variance + epsilon) > 1/2, -1 where it is <= -1/2, else 0 (Keras'
    /// ternary_tanh of the batchnorm: clip to [-1, 1], then > 0.5 / <= -0.5), decided exactly
    /// (squares, no square root) for every input code, from the exact values of the stored floats
    /// and epsilon as written. As a multi_threshold: y = #(x >= lo) + #(x >= hi) - 1, lo and hi
    /// the smallest input codes where the batchnorm exceeds -1/2 and 1/2. hls4ml floors its float
    /// thresholds -bias/scale +- 0.5/scale to the input grid and compares x > hi, x <= lo, which
    /// is the same rule (flooring is exact for > and <=) up to the float rounding of its
    /// thresholds. A negative gamma reverses the comparisons, which hls4ml does not do and one
    /// multi_threshold cannot express: refused.
    static func ternaryFold(gamma: [Double]?, beta: [Double]?, mean: [Double], variance: [Double], epsilon eps: String, nIn: Int,
                            inType: FixedType, source: String, file: String) throws -> MultiThreshold {
        func exact(_ d: Double) throws -> Rational {
            guard d.isFinite else { throw InputError(file: file, field: source, message: "a parameter is not a finite number (\(d))") }
            return try Rational(decimal: exactDecimal(d))
        }
        let e: Rational
        do { e = try Rational(decimal: eps) } catch {
            throw InputError(file: file, field: "\(source).epsilon", message: "expected a number, found \(eps)")
        }
        let fb = inType.fracBits
        let half = Rational(code: 1, frac: 1)
        var rows: [[Rational]] = []
        for j in 0..<nIn {
            let g = try exact(gamma?[j] ?? 1), b = try exact(beta?[j] ?? 0), mu = try exact(mean[j])
            let v = try exact(variance[j]) + e
            guard v.sign > 0 else {
                throw InputError(file: file, field: source, message: "channel \(j): variance + epsilon is not positive: the batch normalization cannot be computed")
            }
            guard g.sign >= 0 else {
                throw InputError(file: file, field: source, message: "channel \(j): a negative gamma (\(exactDecimal(gamma?[j] ?? 1))) before a ternary activation is not supported (the comparisons reverse; hls4ml 1.3 does not reverse them)")
            }
            let ch = BNChannel(gamma: g, beta: b, mean: mu, v: v)
            // The smallest code whose batchnorm exceeds c (maxCode + 1: none), by bisection: the
            // batchnorm is non-decreasing in x for gamma >= 0.
            func first(above c: Rational) -> Int128 {
                func above(_ x: Int128) -> Bool { !ch.value(at: Rational(code: x, frac: fb)).leq(c) }
                var lo = inType.minCode, hi = inType.maxCode
                if above(lo) { return lo }
                if !above(hi) { return hi + 1 }
                while hi - lo > 1 { let m = lo + (hi - lo) / 2; if above(m) { hi = m } else { lo = m } }
                return hi
            }
            rows.append([Rational(code: first(above: -half), frac: fb), Rational(code: first(above: half), frac: fb)])
        }
        return MultiThreshold(thresholds: rows, outScaleText: "1", outBiasText: "-1")
    }

    /// hls4ml's scale = gamma / sqrt(variance + epsilon), bias = beta - scale * mean, in numpy's
    /// arithmetic: float32 when the weights are float32 (epsilon, a Python float, is converted
    /// to float32 first, as numpy 2 does), float64 otherwise. IEEE operations, correctly rounded.
    static func batchnormScaleBias(gamma: [Double]?, beta: [Double]?, mean: [Double], variance: [Double], epsilon: Double,
                                   float64: Bool) -> ([Double], [Double]) {
        var s: [Double] = [], b: [Double] = []
        for j in 0..<mean.count {
            if float64 {
                let sc = (gamma?[j] ?? 1) / (variance[j] + epsilon).squareRoot()
                s.append(sc)
                b.append((beta?[j] ?? 0) - sc * mean[j])
            } else {
                let sc = Float(gamma?[j] ?? 1) / (Float(variance[j]) + Float(epsilon)).squareRoot()
                s.append(Double(sc))
                b.append(Double(Float(beta?[j] ?? 0) - sc * Float(mean[j])))
            }
        }
        return (s, b)
    }
}
