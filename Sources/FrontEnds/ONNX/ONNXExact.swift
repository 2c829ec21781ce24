// A QONNX graph as exact rtlgen layers. Every value stays exact: the input type is the first
// quantizer's type; a Gemm / MatMul (+ Add) is a dense layer with exact accumulation whose output
// type holds every possible sum exactly, unless the next node quantizes (Quant), then it is cast
// there (what qonnx computes: the float sum, then the quantizer); weights quantized by a Quant /
// BipolarQuant are the quantizer's codes, float weights their exact binary values;
// BipolarQuant is `sign` (0 -> +1); a bias between a bipolar dense and a BipolarQuant or a
// MultiThreshold moves into the thresholds (x + b >= t  <=>  x >= t - b); MultiThreshold is
// `multi_threshold` (counts x >= T_i) with an output type that holds out_bias + k * out_scale
// exactly; BatchNormalization directly before a BipolarQuant is rtlgen's exact threshold folding.
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
}

enum ONNXExact {
    /// The value ranges are limited so that every exact type fits comfortably in 128-bit codes.
    static let maxWidth = 64

    static func layers(_ g0: ONNXGraph, file: String) throws -> (String, FixedType, Int, [JSONValue]) {
        var g = g0
        var q: [String: QConst] = [:]
        try fold(&g, &q, file: file)
        var chain = g.chain[...]
        // The input type: the first quantizer.
        guard let first = chain.first, first.opType == "Quant" || first.opType == "BipolarQuant" else {
            throw InputError(file: file, field: chain.first?.label ?? "graph", message: "a QONNX graph must quantize its input first (a Quant or BipolarQuant node): otherwise its input type is unknown")
        }
        let iq = first.opType == "Quant" ? try QONNXQuant.quant(first, g, file: file) : try QONNXQuant.bipolar(first, g, file: file)
        if iq.bipolar && iq.type != .bipolar {
            throw InputError(file: file, field: "\(first.label).scale", message: "a bipolar input must have scale 1")
        }
        chain = chain.dropFirst()
        var size = try ONNXImporter.inputSize(g, file: file)
        var cur = iq.type          // the type of the data path after the last layer
        var out: [[(String, JSONValue)]] = []
        /// Index of the last layer whose output type is its exact type (a following Quant may replace it).
        var exact: Int? = nil
        /// A bias not yet applied (after a bipolar dense), to be moved into the next thresholds.
        var pendingBias: (ONNXNode, [Dyadic])? = nil
        var count: [String: Int] = [:]
        func name(_ n: ONNXNode) -> String {
            defer { count[n.opType, default: 0] += 1 }
            return n.name.isEmpty || n.name.count > 40 ? "\(n.opType)_\(count[n.opType, default: 0])" : n.name
        }
        func fail(_ n: ONNXNode, _ m: String, _ f: String = "") -> InputError { InputError(file: file, field: f.isEmpty ? n.label : "\(n.label).\(f)", message: m) }
        func needSize(_ n: ONNXNode) throws -> Int {
            guard let s = size else { throw fail(n, "the input size is unknown (declare the graph input's shape)") }
            return s
        }
        func flushBias(_ before: ONNXNode) throws {
            if let (bn, _) = pendingBias {
                throw fail(bn, "the bias of a bipolar layer must be followed by a BipolarQuant or MultiThreshold (it is folded into the thresholds); found \(before.label)")
            }
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
                let kernel: [[Int128]] = (0..<nIn).map { r in (0..<units).map { c in w.codes[m.at(r, c)] } }
                let lname = name(n)
                if cur == .bipolar && w.type == .bipolar {
                    // XNOR-popcount: +-1 inputs, +-1 weights; the sum lies in [-nIn, nIn].
                    guard let t = Dyadic.type(lo: BigInt(-nIn), hi: BigInt(nIn), frac: 0) else { throw fail(n, "too many inputs") }
                    out.append([("name", .string(lname)), ("op", .string("binary_dense")), ("units", .number(String(units))),
                                ("kernel", .array(kernel.map { .array($0.map { .number(String($0)) }) })), ("output_type", .string(t.description))])
                    exact = out.count - 1
                    cur = t
                    if let b = biasConst {
                        pendingBias = (biasNode, b.codes.map { Dyadic(num: BigInt($0), frac: b.type == .bipolar ? 0 : b.type.fracBits) })
                    }
                } else {
                    guard cur != .bipolar || w.type != .bipolar else { throw fail(n, "unreachable") }
                    let kt = w.type == .bipolar ? FixedType(signed: true, width: 2, intBits: 2) : w.type
                    let bt = biasConst.map { $0.type == .bipolar ? FixedType(signed: true, width: 2, intBits: 2) : $0.type } ?? FixedType(signed: false, width: 1, intBits: 1)
                    let bias = biasConst?.codes ?? Array(repeating: 0, count: units)
                    // Exact range of every output: bias + sum of w * x over the input's range.
                    let xt = cur == .bipolar ? FixedType(signed: true, width: 2, intBits: 2) : cur
                    let frac = max(xt.fracBits + kt.fracBits, bt.fracBits)
                    var lo = BigInt(0), hi = BigInt(0), first = true
                    let xlo = BigInt(cur == .bipolar ? -1 : xt.minCode), xhi = BigInt(cur == .bipolar ? 1 : xt.maxCode)
                    for c in 0..<units {
                        var l = BigInt(bias[c]) << (frac - bt.fracBits), h = l
                        let sh = frac - xt.fracBits - kt.fracBits
                        for r in 0..<nIn {
                            let wv = BigInt(kernel[r][c])
                            let a = (wv * xlo) << sh, b = (wv * xhi) << sh
                            l += min(a, b); h += max(a, b)
                        }
                        if first { lo = l; hi = h; first = false } else { lo = min(lo, l); hi = max(hi, h) }
                    }
                    guard let t = Dyadic.type(lo: lo, hi: hi, frac: frac, maxWidth: maxWidth) else {
                        throw fail(n, "its exact sums need more than \(maxWidth) bits: quantize its output with a Quant node")
                    }
                    out.append([("name", .string(lname)), ("op", .string("dense")), ("units", .number(String(units))),
                                ("kernel", .array(kernel.map { .array($0.map { .number(kt.decimalString($0)) }) })),
                                ("bias", .array(bias.map { .number(bt.decimalString($0)) })),
                                ("kernel_type", .string(kt.description)), ("bias_type", .string(bt.description)),
                                ("accum_type", .string("auto")), ("output_type", .string(t.description))])
                    exact = out.count - 1
                    cur = t
                }
                size = units
            case "Add":
                throw fail(n, "an Add that is not the bias of a MatMul is not supported")
            case "Relu":
                try flushBias(n)
                let t = cur == .bipolar ? FixedType(signed: false, width: 1, intBits: 1) : (cur.signed ? FixedType(signed: false, width: max(1, cur.width - 1), intBits: cur.intBits - 1) : cur)
                out.append([("name", .string(name(n))), ("op", .string("relu")), ("output_type", .string(t.description))])
                exact = out.count - 1
                cur = t
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
                exact = nil
            case "BipolarQuant":
                let bq = try QONNXQuant.bipolar(n, g, file: file)
                guard bq.type == .bipolar else { throw fail(n, "a BipolarQuant with a scale other than 1 inside the graph is not supported", "scale") }
                if let (_, b) = pendingBias {
                    // sign(x + b) = +1  <=>  x >= -b
                    out.append([("name", .string(name(n))), ("op", .string("threshold")),
                                ("thresholds", .array(b.map { .number(Dyadic(num: -$0.num, frac: $0.frac).decimal) })), ("output_type", .string("bipolar"))])
                    pendingBias = nil
                } else {
                    out.append([("name", .string(name(n))), ("op", .string("sign")), ("output_type", .string("bipolar"))])
                }
                cur = .bipolar
                exact = nil
            case "MultiThreshold":
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
                exact = nil
            case "BatchNormalization":
                try flushBias(n)
                guard i + 1 < nodes.count, nodes[i + 1].opType == "BipolarQuant" else {
                    throw fail(n, "in a QONNX graph a BatchNormalization is supported only directly before a BipolarQuant (exact threshold folding); qonnx computes it in float32, which has no exact fixed-point equivalent")
                }
                let s = try needSize(n)
                var vecs: [[JSONValue]] = []
                for (k, nm) in ["scale", "B", "mean", "var"].enumerated() {
                    guard k + 1 < n.inputs.count, let t = g.constants[n.inputs[k + 1]] else { throw fail(n, "must be a constant", nm) }
                    guard t.count == s else { throw fail(n, "has \(t.count) values, expected \(s)", nm) }
                    vecs.append(t.values.map { .number(exactDecimal($0)) })
                }
                out.append([("name", .string(name(n))), ("op", .string("batchnorm")), ("gamma", .array(vecs[0])), ("beta", .array(vecs[1])),
                            ("mean", .array(vecs[2])), ("variance", .array(vecs[3])),
                            ("epsilon", .number(exactDecimal(Double(Float(n.float("epsilon") ?? 1e-5)))))])
                exact = nil
            case "Sigmoid", "Tanh", "Softmax", "LeakyRelu", "Elu":
                throw fail(n, "\(n.opType) in a QONNX graph is not supported: qonnx computes it in float, rtlgen's tables are hls4ml's approximations (use a float ONNX graph with an hls4ml configuration)")
            case "Trunc":
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
        guard let inSize = try ONNXImporter.inputSize(g, file: file) ?? firstRows(g, q) else {
            throw InputError(file: file, field: "graph.input '\(g.inputName)'", message: "the input size is unknown (declare its shape)")
        }
        let inputName = g.inputName
        return (inputName, iq.type, inSize, out.map { .object($0) })
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
                    q[out] = QConst(shape: [c, r], type: qc.type, codes: codes, bipolar: qc.bipolar)
                }
            default:
                throw InputError(file: file, field: n.label, message: "computes a constant with \(n.opType): only Quant, BipolarQuant, Identity and Transpose of constants are supported")
            }
        }
    }
}
