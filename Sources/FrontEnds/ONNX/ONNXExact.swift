// A QONNX graph as exact rtlgen layers. Every value stays exact: the input type is the first
// quantizer's type; a Gemm / MatMul (+ Add) is a dense layer with exact accumulation whose output
// type holds every possible sum exactly, unless the next node quantizes (Quant), then it is cast
// there (what qonnx computes: the float sum, then the quantizer); weights quantized by a Quant /
// BipolarQuant are the quantizer's codes, float weights their exact binary values;
// BipolarQuant is `sign` (0 -> +1); a bias between a bipolar dense and a BipolarQuant or a
// MultiThreshold moves into the thresholds (x + b >= t  <=>  x >= t - b); MultiThreshold is
// `multi_threshold` (counts x >= T_i) with an output type that holds out_bias + k * out_scale
// exactly; BatchNormalization directly before a BipolarQuant is rtlgen's exact threshold folding.
//
// Quantizers with real scales (not powers of two), zero points or per-channel weight scales
// (Brevitas' defaults, QONNXScaled.swift): the data path carries integer codes and the real value
// of each channel is alpha_c * value + beta_c (`Affine`); a dense on such codes accumulates the
// integer codes exactly (the scales and the float bias go into alpha and beta); the segment from a
// dense through BatchNormalization / Relu to the next Quant becomes one `multi_threshold` on the
// accumulator (exact thresholds; a channel that falls with the accumulator has its kernel column
// negated); the last Quant of the graph outputs the real values (q - zp) * s exactly. A scaled
// input Quant is the model's input scale (`input.scale`, `input.zero_point`): the hardware
// receives the code clamp(round(x / s + zp)).
import BigInt
import FixedPoint
import Foundation
import ModelIR

/// A constant with exact codes (a quantized weight, or a float's exact binary value).
struct QConst {
    var shape: [Int]
    var type: FixedType
    var codes: [Int128]
    var bipolar: Bool
    /// Per element: the real value is code * elemScale (a Quant with a real or per-channel scale;
    /// the codes are then integers q - zp); nil: the codes are of `type`.
    var elemScale: [Rational]? = nil

    /// The exact real value of element k.
    func real(_ k: Int) -> Rational {
        if let s = elemScale { return Rational(bigInt(codes[k])) * s[k] }
        return Rational(code: codes[k], frac: type.fracBits)
    }
}

/// The dense layer most recently emitted, kept so that its columns can be negated (a channel whose
/// requantization falls with the accumulator) or its kernel rescaled to real values (`materialize`).
struct DenseRecord {
    var index: Int
    var name: String
    var kernel: [[Int128]]   // [n_in][units], codes of kt
    var kt: FixedType
    var bias: [Int128]       // codes of bt
    var bt: FixedType
    var xt: FixedType        // the input type (bipolar read as int<2>)
    var xlo: Int128, xhi: Int128

    /// The layer's JSON fields with the given output type.
    func json(outputType t: FixedType) -> [(String, JSONValue)] {
        [("name", .string(name)), ("op", .string("dense")), ("units", .number(String(bias.count))),
         ("kernel", .array(kernel.map { .array($0.map { .number(kt.decimalString($0)) }) })),
         ("bias", .array(bias.map { .number(bt.decimalString($0)) })),
         ("kernel_type", .string(kt.description)), ("bias_type", .string(bt.description)),
         ("accum_type", .string("auto")), ("output_type", .string(t.description))]
    }

    /// The smallest type holding every exact sum (nil: more than `maxWidth` bits).
    func exactType(maxWidth: Int) -> FixedType? {
        let units = bias.count
        let frac = max(xt.fracBits + kt.fracBits, bt.fracBits)
        var lo = BigInt(0), hi = BigInt(0), first = true
        let xl = BigInt(xlo), xh = BigInt(xhi)
        let sh = frac - xt.fracBits - kt.fracBits
        for c in 0..<units {
            var l = BigInt(bias[c]) << (frac - bt.fracBits), h = l
            for r in 0..<kernel.count {
                let wv = BigInt(kernel[r][c])
                let a = (wv * xl) << sh, b = (wv * xh) << sh
                l += min(a, b); h += max(a, b)
            }
            if first { lo = l; hi = h; first = false } else { lo = min(lo, l); hi = max(hi, h) }
        }
        return Dyadic.type(lo: lo, hi: hi, frac: frac, maxWidth: maxWidth)
    }

    /// Negates column c (kernel and bias), widening the types where a code no longer fits.
    mutating func negate(_ c: Int) {
        for r in 0..<kernel.count { kernel[r][c] = -kernel[r][c] }
        bias[c] = -bias[c]
        let ks = kernel.flatMap { $0 }
        if let m = ks.max(), let n = ks.min(), m > kt.maxCode || n < kt.minCode {
            kt = Dyadic.type(lo: BigInt(min(0, n)), hi: BigInt(max(0, m)), frac: kt.fracBits, maxWidth: 127)!
        }
        if let m = bias.max(), let n = bias.min(), m > bt.maxCode || n < bt.minCode {
            bt = Dyadic.type(lo: BigInt(min(0, n)), hi: BigInt(max(0, m)), frac: bt.fracBits, maxWidth: 127)!
        }
    }
}

enum ONNXExact {
    /// The value ranges are limited so that every exact type fits comfortably in 128-bit codes.
    static let maxWidth = 64
    /// At most this many levels (thresholds per channel) when a layer is requantized to a real scale.
    static let maxLevels = 4095

    /// (input name, input type, input size, layers, the input's scale when its Quant has a real scale or a zero point)
    static func layers(_ g0: ONNXGraph, file: String) throws -> (String, FixedType, Int, [JSONValue], InputScale?) {
        var g = g0
        var q: [String: QConst] = [:]
        try fold(&g, &q, file: file)
        var chain = g.chain[...]
        // The input type: the first quantizer.
        guard let first = chain.first, first.opType == "Quant" || first.opType == "BipolarQuant" else {
            throw InputError(file: file, field: chain.first?.label ?? "graph", message: "a QONNX graph must quantize its input first (a Quant or BipolarQuant node): otherwise its input type is unknown")
        }
        func fail(_ n: ONNXNode, _ m: String, _ f: String = "") -> InputError { InputError(file: file, field: f.isEmpty ? n.label : "\(n.label).\(f)", message: m) }
        /// The real value of the current codes (nil: the codes' own fixed-point values).
        var affine: Affine? = nil
        var inputScale: InputScale? = nil
        let inType: FixedType
        if first.opType == "Quant", !QONNXQuant.isPlain(first, g) {
            let sq = try QONNXQuant.scaled(first, g, shape: nil, file: file)
            if !sq.signed && sq.narrow {
                throw fail(first, "an unsigned narrow range [0, 2^\(sq.bits)-2] has no ap_fixed saturation mode", "narrow")
            }
            inType = FixedType(signed: sq.signed, width: sq.bits, intBits: sq.bits, rounding: sq.rounding, overflow: sq.signed && sq.narrow ? .SAT_SYM : .SAT)
            let s = sq.scales[0], zp = sq.zeroPoints[0]
            inputScale = try InputScale(scaleText: exactDecimal(Double(s.num.description)! / Double(s.den.description)!), zeroPoint: zp)
            affine = Affine(alpha: [s], beta: [-(Rational(zp) * s)])
        } else {
            let iq = first.opType == "Quant" ? try QONNXQuant.quant(first, g, file: file) : try QONNXQuant.bipolar(first, g, file: file)
            if iq.bipolar && iq.type != .bipolar {
                throw InputError(file: file, field: "\(first.label).scale", message: "a bipolar input must have scale 1")
            }
            inType = iq.type
        }
        chain = chain.dropFirst()
        var size = try ONNXImporter.inputSize(g, file: file)
        var cur = inType           // the type of the data path after the last layer
        var out: [[(String, JSONValue)]] = []
        /// Index of the last layer whose output type is its exact type (a following Quant may replace it).
        var exact: Int? = nil
        /// A bias not yet applied (after a bipolar dense), to be moved into the next thresholds.
        var pendingBias: (ONNXNode, [Dyadic])? = nil
        /// Element-wise real ops (BatchNormalization, Relu) waiting for the Quant that ends the segment.
        var ops: [PendingOp] = []
        /// The last dense layer, while it is the last layer emitted.
        var lastDense: DenseRecord? = nil
        var count: [String: Int] = [:]
        func name(_ n: ONNXNode) -> String {
            defer { count[n.opType, default: 0] += 1 }
            return n.name.isEmpty || n.name.count > 40 ? "\(n.opType)_\(count[n.opType, default: 0])" : n.name
        }
        func needSize(_ n: ONNXNode) throws -> Int {
            guard let s = size else { throw fail(n, "the input size is unknown (declare the graph input's shape)") }
            return s
        }
        func flushBias(_ before: ONNXNode) throws {
            if let (bn, _) = pendingBias {
                throw fail(bn, "the bias of a bipolar layer must be followed by a BipolarQuant or MultiThreshold (it is folded into the thresholds); found \(before.label)")
            }
        }
        /// Real values must flow here: the pending affine map is folded into the last dense layer
        /// (its kernel and bias become exact real values); pending batchnorms are refused.
        func materialize(_ at: ONNXNode) throws {
            if let op = ops.first(where: { if case .batchnorm = $0 { return true } else { return false } }), case let .batchnorm(bn, _) = op {
                throw fail(bn, "a BatchNormalization must be followed by a Quant (it is folded exactly into the Quant's thresholds); found \(at.label)")
            }
            guard let a = affine else {
                for case let .relu(r) in ops { try emitRelu(r) }
                ops = []
                return
            }
            guard !a.isIdentity else { affine = nil; for case let .relu(r) in ops { try emitRelu(r) }; ops = []; return }
            guard var d = lastDense, d.index == out.count - 1 else {
                throw fail(at, "the values reaching it have a scale that is not a power of two (or a zero point), and no exact fixed-point type: quantize them with a Quant node first")
            }
            // y_c = alpha_c * (sum_i x_i k_ic + b_c) + beta_c, exactly: kernel alpha_c * k_ic, bias alpha_c * b_c + beta_c.
            let units = d.bias.count
            var kr: [[Rational]] = d.kernel.map { row in row.enumerated().map { c, k in a.a(c) * Rational(code: k, frac: d.kt.fracBits) } }
            let br: [Rational] = (0..<units).map { c in a.a(c) * Rational(code: d.bias[c], frac: d.bt.fracBits) + a.b(c) }
            func grid(_ vs: [Rational]) -> (FixedType, [Int128])? {
                var f = 0
                for v in vs { f = max(f, v.den.magnitude.trailingZeroBitCount) }
                let nums = vs.map { $0.num * (BigInt(1) << f) / $0.den }
                guard let t = Dyadic.type(lo: min(0, nums.min() ?? 0), hi: max(0, nums.max() ?? 0), frac: f, maxWidth: maxWidth) else { return nil }
                return (t, nums.map { Int128($0) })
            }
            guard let (kt, kc) = grid(kr.flatMap { $0 }), let (bt, bc) = grid(br) else {
                throw InputError(file: file, field: "layers[\(d.index)] '\(d.name)'", message: "its exact real output (the product of the input and weight scales) needs more than \(maxWidth) bits per weight or bias: quantize its output with a Quant node")
            }
            kr = []
            d.kernel = (0..<d.kernel.count).map { r in Array(kc[(r * units)..<((r + 1) * units)]) }
            d.kt = kt
            d.bias = bc
            d.bt = bt
            guard let t = d.exactType(maxWidth: maxWidth) else {
                throw InputError(file: file, field: "layers[\(d.index)] '\(d.name)'", message: "its exact real sums need more than \(maxWidth) bits: quantize its output with a Quant node")
            }
            out[d.index] = d.json(outputType: t)
            lastDense = d
            cur = t
            exact = d.index
            affine = nil
            for case let .relu(r) in ops { try emitRelu(r) }
            ops = []
        }
        func emitRelu(_ n: ONNXNode) throws {
            let t = cur == .bipolar ? FixedType(signed: false, width: 1, intBits: 1) : (cur.signed ? FixedType(signed: false, width: max(1, cur.width - 1), intBits: cur.intBits - 1) : cur)
            out.append([("name", .string(name(n))), ("op", .string("relu")), ("output_type", .string(t.description))])
            exact = out.count - 1
            lastDense = nil
            cur = t
        }
        /// Is node i the last one that computes anything (only shape no-ops after it)?
        func isLast(_ i: Int, _ nodes: [ONNXNode]) -> Bool {
            nodes[(i + 1)...].allSatisfy { ONNXImporter.shapeNoOps.contains($0.opType) }
        }
        let nodes = Array(chain)
        var i = 0
        while i < nodes.count {
            let n = nodes[i]
            switch n.opType {
            case "Gemm", "MatMul":
                try flushBias(n)
                if n.opType == "Gemm" { try ONNXImporter.gemmChecks(n, file: file) }
                guard n.inputs.count >= 2, let w = q[n.inputs[1]] else { throw fail(n, "the weight (input 1) must be a constant") }
                let trans = n.opType == "Gemm" && (n.int("transB") ?? 0) != 0
                let m = try ONNXImporter.weightMatrix(n, ONNXTensor(shape: w.shape, values: []), transposed: trans, nIn: size, file: file)
                let nIn = m.rows, units = m.cols
                var biasConst: QConst? = nil
                var biasNode = n
                if n.opType == "Gemm", n.inputs.count >= 3, !n.inputs[2].isEmpty {
                    guard let c = q[n.inputs[2]] else { throw fail(n, "must be a constant", "C") }
                    biasConst = c
                } else if i + 1 < nodes.count, nodes[i + 1].opType == "Add" {
                    let a = nodes[i + 1]
                    guard let bn = a.inputs.first(where: { q[$0] != nil }), let c = q[bn] else { throw fail(a, "only the Add of a constant bias is supported") }
                    biasConst = c
                    biasNode = a
                    i += 1
                }
                if let b = biasConst, !(b.codes.count == units && (b.shape == [units] || b.shape == [1, units] || units == 1)) {
                    throw fail(biasNode, "the bias has shape (\(b.shape.map(String.init).joined(separator: ", "))), expected (\(units))")
                }
                // Values that are not exact fixed-point numbers cannot enter a dense layer with
                // a per-channel scale or a pending batchnorm: fold them first.
                if !ops.isEmpty || (affine != nil && !affine!.uniform) { try materialize(n) }
                let kernel: [[Int128]] = (0..<nIn).map { r in (0..<units).map { c in w.codes[m.at(r, c)] } }
                let lname = name(n)
                let scaled = affine != nil || w.elemScale != nil || biasConst?.elemScale != nil
                if cur == .bipolar && w.type == .bipolar && !scaled {
                    // XNOR-popcount: +-1 inputs, +-1 weights; the sum lies in [-nIn, nIn].
                    guard let t = Dyadic.type(lo: BigInt(-nIn), hi: BigInt(nIn), frac: 0) else { throw fail(n, "too many inputs") }
                    out.append([("name", .string(lname)), ("op", .string("binary_dense")), ("units", .number(String(units))),
                                ("kernel", .array(kernel.map { .array($0.map { .number(String($0)) }) })), ("output_type", .string(t.description))])
                    exact = out.count - 1
                    lastDense = nil
                    cur = t
                    if let b = biasConst {
                        pendingBias = (biasNode, b.codes.map { Dyadic(num: BigInt($0), frac: b.type == .bipolar ? 0 : b.type.fracBits) })
                    }
                } else {
                    let int2 = FixedType(signed: true, width: 2, intBits: 2)
                    var kt = w.type == .bipolar ? int2 : w.type
                    var wScale: [Rational]? = nil   // per unit: real weight = kernel value * wScale[c]
                    if let es = w.elemScale {
                        // Integer codes (q - zp) with one scale per output unit.
                        wScale = try (0..<units).map { c -> Rational in
                            let s = es[m.at(0, c)]
                            for r in 1..<max(1, nIn) where es[m.at(r, c)] != s {
                                throw fail(n, "the weight scale differs along the inputs of unit \(c): only per-tensor or per-output-channel scales are supported", "scale")
                            }
                            return s
                        }
                        let ks = w.codes
                        kt = Dyadic.type(lo: BigInt(min(0, ks.min() ?? 0)), hi: BigInt(max(0, ks.max() ?? 0)), frac: 0, maxWidth: maxWidth)!
                    }
                    var bt = biasConst.map { $0.type == .bipolar ? int2 : $0.type } ?? FixedType(signed: false, width: 1, intBits: 1)
                    var bias = biasConst?.codes ?? Array(repeating: 0, count: units)
                    var newAffine: Affine? = nil
                    if scaled {
                        // Exact integer accumulation of the codes; the real value per unit is
                        // alpha * s_w[c] * acc + (beta * s_w[c] * colsum_c + b_c).
                        let a = affine ?? Affine(alpha: [.one], beta: [.zero])
                        let alpha0 = a.a(0), beta0 = a.b(0)
                        var al: [Rational] = [], be: [Rational] = []
                        for c in 0..<units {
                            let sw = wScale?[c] ?? .one
                            var colsum = Rational.zero
                            for r in 0..<nIn { colsum = colsum + Rational(code: kernel[r][c], frac: kt.fracBits) }
                            let b = biasConst.map { $0.real($0.codes.count == 1 ? 0 : c) } ?? .zero
                            al.append(alpha0 * sw)
                            be.append(beta0 * sw * colsum + b)
                        }
                        newAffine = Affine(alpha: al, beta: be)
                        bt = FixedType(signed: false, width: 1, intBits: 1)
                        bias = Array(repeating: 0, count: units)
                    }
                    let xt = cur == .bipolar ? int2 : cur
                    let rec = DenseRecord(index: out.count, name: lname, kernel: kernel, kt: kt, bias: bias, bt: bt, xt: xt,
                                          xlo: cur == .bipolar ? -1 : xt.minCode, xhi: cur == .bipolar ? 1 : xt.maxCode)
                    guard let t = rec.exactType(maxWidth: maxWidth) else {
                        throw fail(n, "its exact sums need more than \(maxWidth) bits: quantize its output with a Quant node")
                    }
                    out.append(rec.json(outputType: t))
                    lastDense = rec
                    exact = out.count - 1
                    cur = t
                    affine = newAffine.flatMap { $0.isIdentity ? nil : $0 }
                }
                size = units
            case "Add":
                throw fail(n, "an Add that is not the bias of a MatMul is not supported")
            case "Relu":
                try flushBias(n)
                if affine == nil && ops.isEmpty { try emitRelu(n) } else { ops.append(.relu(n)) }
            case "Quant" where affine != nil || !ops.isEmpty || !QONNXQuant.isPlain(n, g):
                try flushBias(n)
                let s = try needSize(n)
                let sq = try QONNXQuant.scaled(n, g, shape: nil, file: file)
                let levels = sq.qmax - sq.qmin
                guard levels <= BigInt(maxLevels) else {
                    throw fail(n, "requantizing to \(levels + 1) levels (\(sq.bits) bits) needs \(levels) thresholds per channel; at most \(maxLevels) (12 bits) are supported", "bitwidth")
                }
                guard cur != .bipolar else { throw fail(n, "a Quant with a real scale or a zero point on bipolar values is not supported") }
                let a = affine ?? Affine(alpha: [.one], beta: [.zero])
                // Channels whose value falls with the accumulator: negate the dense's column.
                var aa = a
                if aa.uniform { aa = Affine(alpha: Array(repeating: a.a(0), count: s), beta: Array(repeating: a.b(0), count: s)) }
                var negated = 0
                for c in 0..<s where !Requant.rising(channel: c, affine: aa, ops: ops) {
                    guard var d = lastDense, d.index == out.count - 1 else {
                        throw fail(n, "channel \(c) falls as its input rises (a negative BatchNormalization scale) and there is no dense layer directly before it whose column could be negated")
                    }
                    d.negate(c)
                    lastDense = d
                    aa.alpha[c] = -aa.alpha[c]
                    negated += 1
                }
                if negated > 0, let d = lastDense {
                    guard let t = d.exactType(maxWidth: maxWidth) else { throw fail(n, "the negated dense layer needs more than \(maxWidth) bits") }
                    out[d.index] = d.json(outputType: t)
                    cur = t
                }
                let lo = BigInt(cur.minCode), hi = BigInt(cur.maxCode)
                var rows: [JSONValue] = []
                for c in 0..<s {
                    let ts = Requant.thresholds(channel: c, lo: lo, hi: hi, frac: cur.fracBits, affine: aa, ops: ops, quant: sq, quantChannel: 0)
                    rows.append(.array(ts.map { .number(dyadicDecimal($0, frac: cur.fracBits)) }))
                }
                // The output: real values (q - zp) * s at the end of the graph or for a plain
                // fixed-point quantizer; otherwise the codes q, with their scale in `affine`.
                let sc = sq.scales[0], zp = sq.zeroPoints[0]
                let real = isLast(i, nodes) || sq.isPlain
                let os = real ? sc : .one
                let ob = real ? (Rational(sq.qmin) - Rational(zp)) * sc : Rational(sq.qmin)
                let f = max(os.den.magnitude.trailingZeroBitCount, ob.den.magnitude.trailingZeroBitCount)
                func num(_ r: Rational) -> BigInt { r.num * (BigInt(1) << f) / r.den }
                guard let t = Dyadic.type(lo: num(ob), hi: num(ob + os * Rational(levels)), frac: f, maxWidth: maxWidth) else {
                    throw fail(n, "its outputs (q - zero point) * scale need more than \(maxWidth) bits")
                }
                out.append([("name", .string(name(n))), ("op", .string("multi_threshold")), ("thresholds", .array(rows)),
                            ("out_scale", .number(dyadicDecimal(num(os), frac: f))), ("out_bias", .number(dyadicDecimal(num(ob), frac: f))),
                            ("output_type", .string(t.description))])
                cur = t
                affine = real ? nil : Affine(alpha: [sc], beta: [-(Rational(zp) * sc)])
                ops = []
                lastDense = nil
                exact = nil
            case "Quant":
                try flushBias(n)
                let qq = try QONNXQuant.quant(n, g, file: file)
                if qq.bipolar {
                    out.append([("name", .string(name(n))), ("op", .string("sign")), ("output_type", .string("bipolar"))])
                    if qq.type != .bipolar { throw fail(n, "a 1-bit signed Quant with a scale other than 1 is not supported", "scale") }
                    cur = .bipolar
                } else if let e = exact, e == out.count - 1 {
                    // The sum (or relu) is cast to the quantizer's type: exactly qonnx's float then Quant.
                    out[e] = out[e].map { $0.0 == "output_type" ? ("output_type", .string(qq.type.description)) : $0 }
                    cur = qq.type
                } else {
                    out.append([("name", .string(name(n))), ("op", .string("linear")), ("output_type", .string(qq.type.description))])
                    cur = qq.type
                }
                lastDense = nil
                exact = nil
            case "BipolarQuant":
                var bnNode: ONNXNode? = nil
                if ops.count == 1, case let .batchnorm(bn, chs) = ops[0], chs.isEmpty { bnNode = bn; ops = [] }
                if affine != nil || !ops.isEmpty {
                    throw fail(n, "a BipolarQuant after values with a real scale, a zero point, a Relu or a BatchNormalization on them is not supported (quantize them with a Quant first)")
                }
                let bq = try QONNXQuant.bipolar(n, g, file: file)
                guard bq.type == .bipolar else { throw fail(n, "a BipolarQuant with a scale other than 1 inside the graph is not supported", "scale") }
                if let bn = bnNode {
                    // The batchnorm directly before it: rtlgen's exact threshold folding.
                    let s = try needSize(bn)
                    var vecs: [[JSONValue]] = []
                    for (k, nm) in ["scale", "B", "mean", "var"].enumerated() {
                        guard k + 1 < bn.inputs.count, let t = g.constants[bn.inputs[k + 1]] else { throw fail(bn, "must be a constant", nm) }
                        guard t.count == s else { throw fail(bn, "has \(t.count) values, expected \(s)", nm) }
                        vecs.append(t.values.map { .number(exactDecimal($0)) })
                    }
                    out.append([("name", .string(name(bn))), ("op", .string("batchnorm")), ("gamma", .array(vecs[0])), ("beta", .array(vecs[1])),
                                ("mean", .array(vecs[2])), ("variance", .array(vecs[3])),
                                ("epsilon", .number(exactDecimal(Double(Float(bn.float("epsilon") ?? 1e-5)))))])
                }
                if let (_, b) = pendingBias {
                    // sign(x + b) = +1  <=>  x >= -b
                    out.append([("name", .string(name(n))), ("op", .string("threshold")),
                                ("thresholds", .array(b.map { .number(Dyadic(num: -$0.num, frac: $0.frac).decimal) })), ("output_type", .string("bipolar"))])
                    pendingBias = nil
                } else {
                    out.append([("name", .string(name(n))), ("op", .string("sign")), ("output_type", .string("bipolar"))])
                }
                cur = .bipolar
                lastDense = nil
                exact = nil
            case "MultiThreshold":
                if affine != nil || !ops.isEmpty { try materialize(n) }
                let s = try needSize(n)
                guard n.inputs.count >= 2, let tt = g.constants[n.inputs[1]] else { throw fail(n, "must be a constant", "thresholds") }
                guard tt.shape.count == 2, tt.shape[0] == s || tt.shape[0] == 1, tt.shape[1] >= 1 else {
                    throw fail(n, "has shape (\(tt.shape.map(String.init).joined(separator: ", "))), expected (\(s), N) or (1, N)", "thresholds")
                }
                let steps = tt.shape[1]
                if let dt = n.string("out_dtype"), !dt.isEmpty, !dt.hasPrefix("INT"), !dt.hasPrefix("UINT"), dt != "BIPOLAR" {
                    throw fail(n, "out_dtype \(dt) is not supported", "out_dtype")
                }
                let os = Dyadic(Double(Float(n.float("out_scale") ?? 1))), ob = Dyadic(Double(Float(n.float("out_bias") ?? 0)))
                // The thresholds (minus a pending bias, per channel).
                var rows: [JSONValue] = []
                let channels = pendingBias != nil ? s : tt.shape[0]
                for c in 0..<channels {
                    let src = tt.shape[0] == 1 ? 0 : c
                    rows.append(.array((0..<steps).map { k in
                        var t = Dyadic(tt.values[src * steps + k])
                        if let (_, b) = pendingBias {
                            let f = max(t.frac, b[c].frac)
                            t = Dyadic(num: t.at(f) - b[c].at(f), frac: f)
                        }
                        return .number(t.decimal)
                    }))
                }
                pendingBias = nil
                let f = max(os.frac, ob.frac, 0)
                let a = ob.at(f), z = ob.at(f) + os.at(f) * BigInt(steps)
                guard let t = Dyadic.type(lo: min(a, z), hi: max(a, z), frac: f, maxWidth: maxWidth) else {
                    throw fail(n, "its outputs out_bias + k * out_scale need more than \(maxWidth) bits")
                }
                out.append([("name", .string(name(n))), ("op", .string("multi_threshold")), ("thresholds", .array(rows)),
                            ("out_scale", .number(os.decimal)), ("out_bias", .number(ob.decimal)), ("output_type", .string(t.description))])
                cur = t
                lastDense = nil
                exact = nil
            case "BatchNormalization":
                try flushBias(n)
                let s = try needSize(n)
                if ops.contains(where: { if case .batchnorm = $0 { return true } else { return false } }) {
                    throw fail(n, "two BatchNormalizations without a Quant between them are not supported")
                }
                if affine == nil && ops.isEmpty, i + 1 < nodes.count, nodes[i + 1].opType == "BipolarQuant" {
                    ops.append(.batchnorm(n, []))   // rtlgen's exact batchnorm + sign folding (at the BipolarQuant)
                    break
                }
                var vecs: [[Rational]] = []
                for (k, nm) in ["scale", "B", "mean", "var"].enumerated() {
                    guard k + 1 < n.inputs.count, let t = g.constants[n.inputs[k + 1]] else { throw fail(n, "must be a constant", nm) }
                    guard t.count == s else { throw fail(n, "has \(t.count) values, expected \(s)", nm) }
                    vecs.append(t.values.map { let (a, b) = WeightText.exactRatio($0); return Rational(a, b) })
                }
                let (en, ed) = WeightText.exactRatio(Double(Float(n.float("epsilon") ?? 1e-5)))
                let eps = Rational(en, ed)
                var chs: [BNChannel] = []
                for c in 0..<s {
                    let v = vecs[3][c] + eps
                    guard v.sign > 0 else { throw fail(n, "var + epsilon is not positive in channel \(c)", "var") }
                    chs.append(BNChannel(gamma: vecs[0][c], beta: vecs[1][c], mean: vecs[2][c], v: v))
                }
                ops.append(.batchnorm(n, chs))
            case "Sigmoid", "Tanh", "Softmax", "LeakyRelu", "Elu":
                throw fail(n, "\(n.opType) in a QONNX graph is not supported: qonnx computes it in float, rtlgen's tables are hls4ml's approximations (use a float ONNX graph with an hls4ml configuration)")
            case "Trunc":
                if affine != nil || !ops.isEmpty { try materialize(n) }
                // qonnx Trunc v2 (6 inputs): y = out_scale * R(clamp(round_half_even(x / scale) / 2^t)),
                // 2^t = out_scale / scale: a cast to the scale's grid (half even), then a cast to
                // fixed<out_bw, out_bw + log2(out_scale)> with R and saturation.
                try flushBias(n)
                guard n.inputs.count == 6 else {
                    throw fail(n, "Trunc with \(n.inputs.count) inputs (qonnx Trunc v1 rescales its output by 2^-(in_bw - out_bw)) is not supported; Trunc v2 (x, scale, zeropt, in_bitwidth, out_scale, out_bitwidth) is")
                }
                guard cur != .bipolar else { throw fail(n, "a Trunc of bipolar values is not supported") }
                let es = try QONNXQuant.scaleExponent(n, g, file: file)
                let zp = try QONNXQuant.scalar(n, 2, "zeropt", g, file: file)
                guard zp == 0 else { throw fail(n, "zero point \(zp) is not supported (only 0)", "zeropt") }
                let os = try QONNXQuant.scalar(n, 4, "out_scale", g, file: file)
                guard let eo = QONNXQuant.powerOfTwo(os), eo >= es, eo - es <= 64 else {
                    throw fail(n, "out_scale \(os) is not the scale times a power of two >= 1: no exact fixed-point type", "out_scale")
                }
                let bw = try QONNXQuant.scalar(n, 5, "out_bitwidth", g, file: file)
                guard bw == bw.rounded(), bw >= 1, bw <= 64 else { throw fail(n, "bit width \(bw) is not an integer from 1 to 64", "out_bitwidth") }
                let signed = (n.int("signed") ?? 1) != 0, narrow = (n.int("narrow") ?? 0) != 0
                let mode = (n.string("rounding_mode") ?? "FLOOR").uppercased()
                guard let r = QONNXQuant.roundingModes[mode] else {
                    throw fail(n, "rounding mode \(mode) has no ap_fixed equivalent (supported: ROUND, HALF_EVEN, FLOOR, DOWN, HALF_UP, HALF_DOWN)", "rounding_mode")
                }
                if !signed && narrow { throw fail(n, "an unsigned narrow range has no ap_fixed saturation mode", "narrow") }
                func cast(_ t: FixedType, _ suffix: String) {
                    if let e = exact, e == out.count - 1 {
                        out[e] = out[e].map { $0.0 == "output_type" ? ("output_type", .string(t.description)) : $0 }
                    } else {
                        out.append([("name", .string(name(n) + suffix)), ("op", .string("linear")), ("output_type", .string(t.description))])
                    }
                    cur = t
                    exact = nil
                    lastDense = nil
                }
                if cur.fracBits > -es {
                    // round(x / scale), half to even, with headroom (it never saturates).
                    let ib = max(cur.intBits + 2, es + 2)
                    guard ib - es <= maxWidth else { throw fail(n, "rounding to the scale's grid needs more than \(maxWidth) bits", "scale") }
                    cast(FixedType(signed: true, width: ib - es, intBits: ib, rounding: .RND_CONV, overflow: .SAT), "_round")
                }
                let b = Int(bw)
                cast(FixedType(signed: signed, width: b, intBits: b + eo, rounding: r, overflow: signed && narrow ? .SAT_SYM : .SAT), "")
            default:
                if ONNXImporter.shapeNoOps.contains(n.opType) { try ONNXImporter.checkNoOp(n, g, size: size, file: file); break }
                throw ONNXImporter.unsupported(n, file: file)
            }
            i += 1
        }
        if let (bn, _) = pendingBias { throw fail(bn, "the bias of a bipolar layer must be followed by a BipolarQuant or MultiThreshold (it is folded into the thresholds)") }
        if affine != nil || !ops.isEmpty, let lastNode = nodes.last { try materialize(lastNode) }
        guard let inSize = try ONNXImporter.inputSize(g, file: file) ?? firstRows(g, q) else {
            throw InputError(file: file, field: "graph.input '\(g.inputName)'", message: "the input size is unknown (declare its shape)")
        }
        let inputName = g.inputName
        return (inputName, inType, inSize, out.map { .object($0) }, inputScale)
    }


    static func firstRows(_ g: ONNXGraph, _ q: [String: QConst]) -> Int? {
        for n in g.chain where n.opType == "Gemm" || n.opType == "MatMul" {
            guard n.inputs.count >= 2, let w = q[n.inputs[1]], w.shape.count == 2 else { return nil }
            return n.opType == "Gemm" && (n.int("transB") ?? 0) != 0 ? w.shape[1] : w.shape[0]
        }
        return nil
    }

    /// Constants with exact codes: initializers (their exact binary values), and the constant
    /// nodes Quant, BipolarQuant, Identity and Transpose (2-D) evaluated exactly.
    static func fold(_ g: inout ONNXGraph, _ q: inout [String: QConst], file: String) throws {
        func exactConst(_ t: ONNXTensor) -> QConst? {
            let ds = t.values.map { Dyadic($0) }
            let f = max(0, ds.map { $0.frac }.max() ?? 0)
            let nums = ds.map { $0.at(f) }
            guard let ty = Dyadic.type(lo: min(0, nums.min() ?? 0), hi: max(0, nums.max() ?? 0), frac: f, maxWidth: maxWidth) else { return nil }
            return QConst(shape: t.shape, type: ty, codes: nums.map { Int128($0) }, bipolar: false)
        }
        for (k, t) in g.constants { if let c = exactConst(t) { q[k] = c } }
        for n in g.constantNodes {
            guard let src = n.inputs.first, let out = n.outputs.first, !out.isEmpty else { continue }
            switch n.opType {
            case "Quant" where !QONNXQuant.isPlain(n, g):
                // A real or per-channel scale, or a zero point: integer codes q - zp, each with its scale.
                guard let t = g.constants[src] else { throw InputError(file: file, field: n.label, message: "input '\(src)' is not a constant") }
                let sq = try QONNXQuant.scaled(n, g, shape: t.shape, file: file)
                var codes: [Int128] = [], scales: [Rational] = [], reals: [Double] = []
                for (k, v) in t.values.enumerated() {
                    let (a, b) = WeightText.exactRatio(v)
                    let c = sq.code(Rational(a, b), k) - sq.zeroPoint(k)
                    guard let c128 = Int128(exactly: c) else { throw InputError(file: file, field: n.label, message: "a code does not fit 128 bits") }
                    codes.append(c128)
                    scales.append(sq.scale(k))
                    reals.append(Requant.double(Rational(c) * sq.scale(k)))
                }
                let ty = Dyadic.type(lo: BigInt(min(0, codes.min() ?? 0)), hi: BigInt(max(0, codes.max() ?? 0)), frac: 0, maxWidth: maxWidth)!
                q[out] = QConst(shape: t.shape, type: ty, codes: codes, bipolar: false, elemScale: scales)
                g.constants[out] = ONNXTensor(shape: t.shape, values: reals)
            case "Quant", "BipolarQuant":
                guard let t = g.constants[src] else { throw InputError(file: file, field: n.label, message: "input '\(src)' is not a constant") }
                let qq = n.opType == "Quant" ? try QONNXQuant.quant(n, g, file: file) : try QONNXQuant.bipolar(n, g, file: file)
                let codes = qq.codes(t.values)
                q[out] = QConst(shape: t.shape, type: qq.type, codes: codes, bipolar: qq.bipolar)
                // The float values qonnx computes (for a following constant op reading them).
                let scale = qq.type == .bipolar ? 1.0 : Double(sign: .plus, exponent: -qq.type.fracBits, significand: 1)
                g.constants[out] = ONNXTensor(shape: t.shape, values: codes.map { Double($0) * scale })
            case "Identity":
                if let t = g.constants[src] { g.constants[out] = t }
                if let c = q[src] { q[out] = c }
            case "Transpose":
                guard let t = g.constants[src], t.shape.count == 2, (n.ints("perm") ?? [1, 0]) == [1, 0] else {
                    throw InputError(file: file, field: n.label, message: "only the transpose of a 2-D constant is supported")
                }
                let (r, c) = (t.shape[0], t.shape[1])
                var v = [Double](repeating: 0, count: r * c)
                for i in 0..<r { for j in 0..<c { v[j * r + i] = t.values[i * c + j] } }
                g.constants[out] = ONNXTensor(shape: [c, r], values: v)
                if let qc = q[src] {
                    var codes = [Int128](repeating: 0, count: r * c)
                    for i in 0..<r { for j in 0..<c { codes[j * r + i] = qc.codes[i * c + j] } }
                    var es: [Rational]? = nil
                    if let s = qc.elemScale {
                        var e = [Rational](repeating: .zero, count: r * c)
                        for i in 0..<r { for j in 0..<c { e[j * r + i] = s[i * c + j] } }
                        es = e
                    }
                    q[out] = QConst(shape: [c, r], type: qc.type, codes: codes, bipolar: qc.bipolar, elemScale: es)
                }
            default:
                throw InputError(file: file, field: n.label, message: "computes a constant with \(n.opType): only Quant, BipolarQuant, Identity and Transpose of constants are supported")
            }
        }
    }
}
