// ONNX / QONNX -> rtlgen's native model (written as native JSON, what `rtlgen import` shows, then
// read and handed to `ModelCore.validate`, like every front end).
//
// Two readings, decided by the graph:
//   - a plain float ONNX graph (no Quant / BipolarQuant / MultiThreshold / Trunc) is converted as
//     hls4ml 1.3's ONNX front end converts it (after qonnx's cleanup and GemmToMatMul): MatMul
//     (or Gemm) -> Dense with a zero bias, the Add of the bias -> an ApplyAlpha (scale 1, the bias
//     in the `bias` precision), activations and softmax as in the Keras importer, every type from
//     the hls4ml configuration (default fixed<16,6>) and float weights quantized as hls4ml does
//     (KerasImporter.emit: the same code path as a float Keras model);
//   - a QONNX graph is converted exactly: each Quant is a cast to its fixed-point type, dense
//     layers accumulate exactly (`auto`) and are cast only where the graph quantizes
//     (ONNXExact.swift).
import BigInt
import FixedPoint
import Foundation
import ModelIR

public enum ONNXImporter {
    static let qonnxOps: Set<String> = ["Quant", "BipolarQuant", "MultiThreshold", "Trunc", "IntQuant"]
    static let shapeNoOps: Set<String> = ["Flatten", "Reshape", "Identity", "Dropout", "Squeeze", "Unsqueeze"]
    static let supported = "Gemm, MatMul, Add (a bias), Relu, LeakyRelu, Elu, Sigmoid, Tanh, Softmax, BatchNormalization, Quant, BipolarQuant, MultiThreshold, Trunc (v2), Flatten / Reshape / Identity / Dropout (as shape no-ops)"

    /// The native model JSON text of an ONNX file, with an hls4ml configuration (types of a float graph).
    public static func nativeJSON(path: String, config: HLSConfig, options: ImportOptions) throws -> String {
        try nativeJSON(try ONNXGraph.load(path: path), path: path, config: config, options: options)
    }

    static func nativeJSON(_ g: ONNXGraph, path: String, config: HLSConfig, options: ImportOptions) throws -> String {
        let isQONNX = (g.chain + g.constantNodes).contains { qonnxOps.contains($0.opType) }
        if isQONNX, !config.typePrecision.isEmpty || !config.namePrecision.isEmpty {
            throw InputError(file: config.file, field: "HLSConfig", message: "LayerType / LayerName precisions cannot apply to a QONNX graph: its Quant nodes give every type (\((path as NSString).lastPathComponent))")
        }
        var inputName: String, inputType: FixedType, size: Int, layers: [JSONValue]
        var inputScale: InputScale? = nil
        if isQONNX {
            (inputName, inputType, size, layers, inputScale) = try ONNXExact.layers(g, file: path)
        } else {
            (inputName, inputType, size, layers) = try floatLayers(g, config: config, options: options, file: path)
        }
        guard !layers.isEmpty else {
            throw InputError(file: path, field: "graph", message: "the model computes nothing (only shape no-ops)")
        }
        var names = NameTable()
        layers = layers.map { l in
            guard case let .object(f) = l, case let .string(n)? = l["name"] else { return l }
            return .object(f.map { $0.0 == "name" ? ("name", .string(names.unique(n))) : $0 })
        }
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let name = NameTable.identifier(config.projectName ?? (g.graphName.isEmpty ? stem : g.graphName), fallback: "onnx_model")
        let how = isQONNX ? "QONNX, exact" : "as hls4ml 1.3 converts it (weights: \(options.weightRounding.rawValue), accumulators: \(options.exactAccumulators ? "auto" : "hls4ml"))"
        let doc: JSONValue = .object([
            ("format", .string("rtlgen-model")), ("version", .number("1")), ("name", .string(name)),
            ("description", .string("imported from \((path as NSString).lastPathComponent) (\(how))")),
            ("input", .object([("name", .string(NameTable.identifier(inputName, fallback: "x"))), ("size", .number(String(size))),
                               ("type", .string(inputType.description))]
                              + (inputScale.map { [("scale", .number($0.scaleText)), ("zero_point", .number(String($0.zeroPoint)))] } ?? [])
                              + (!isQONNX && ONNXConv.isSpatial(g) ? [("shape", .array(try ONNXConv.inputShape(g, file: path).map { .number(String($0)) }))] : []))),
            ("layers", .array(layers)),
        ])
        return JSONWriter.pretty(doc) + "\n"
    }

    public static func model(path: String, config: HLSConfig, options: ImportOptions) throws -> Model {
        try validate(try nativeJSON(path: path, config: config, options: options), path: path)
    }

    /// An ONNX file's bytes (the fuzzer, tests), `file` naming it in messages.
    public static func model(data: Data, file: String, config: HLSConfig, options: ImportOptions) throws -> Model {
        try validate(try nativeJSON(try ONNXGraph.parse(data: data, file: file), path: file, config: config, options: options), path: file)
    }

    static func validate(_ text: String, path: String) throws -> Model {
        let file = "\(path) (as imported)"
        return try ModelCore.validate(try ModelLoader.unvalidatedModel(text: text, file: file), file: file)
    }

    /// The input's size: the declared shape without its batch dimension, else the first weight's rows.
    static func inputSize(_ g: ONNXGraph, file: String) throws -> Int? {
        let dims = g.inputShape
        if dims.count >= 2, dims.dropFirst().allSatisfy({ $0 > 0 }) {
            let n = dims.dropFirst().reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
            guard n >= 1, n <= 1_000_000 else { throw InputError(file: file, field: "graph.input '\(g.inputName)'", message: "input size \(n) is out of range (1 .. 1,000,000)") }
            return n
        }
        if dims.count == 1, dims[0] > 0 { return dims[0] }
        return nil
    }

    /// A weight matrix as [n_in][units] from MatMul's B or Gemm's B (transB).
    static func weightMatrix(_ n: ONNXNode, _ t: ONNXTensor, transposed: Bool, nIn: Int?, file: String) throws -> (rows: Int, cols: Int, at: (Int, Int) -> Int) {
        guard t.shape.count == 2 else {
            throw InputError(file: file, field: "\(n.label).\(n.inputs[1])", message: "the weight has shape (\(t.shape.map(String.init).joined(separator: ", "))), expected 2 dimensions")
        }
        let (r, c) = transposed ? (t.shape[1], t.shape[0]) : (t.shape[0], t.shape[1])
        if let nIn, r != nIn {
            throw InputError(file: file, field: "\(n.label).\(n.inputs[1])", message: "the weight has shape (\(t.shape.map(String.init).joined(separator: ", ")))\(transposed ? " (transB)" : ""): \(r) inputs, but the layer receives \(nIn)")
        }
        guard c >= 1, c <= Dense.maxUnits else { throw InputError(file: file, field: "\(n.label).\(n.inputs[1])", message: "\(c) units is out of range") }
        let cols = t.shape[1]
        return (r, c, transposed ? { i, j in j * cols + i } : { i, j in i * cols + j })
    }

    /// A bias vector of `units` values (shape (units) or (1, units)).
    static func biasVector(_ n: ONNXNode, _ name: String, _ t: ONNXTensor, units: Int, file: String) throws -> [Double] {
        let ok = t.shape == [units] || t.shape == [1, units] || (units == 1 && t.count == 1)
        guard ok, t.count == units else {
            throw InputError(file: file, field: "\(n.label).\(name)", message: "the bias has shape (\(t.shape.map(String.init).joined(separator: ", "))), expected (\(units))")
        }
        return t.values
    }

    static func gemmChecks(_ n: ONNXNode, file: String) throws {
        for (k, want) in [("alpha", 1.0), ("beta", 1.0)] where (n.float(k) ?? 1) != want {
            throw InputError(file: file, field: "\(n.label).\(k)", message: "\(k) \(n.float(k)!) is not supported (only 1)")
        }
        if (n.int("transA") ?? 0) != 0 { throw InputError(file: file, field: "\(n.label).transA", message: "transA is not supported") }
    }

    /// A shape no-op (Flatten of a (batch, n) tensor, Reshape to (batch, n), Identity, Dropout), else an error.
    static func checkNoOp(_ n: ONNXNode, _ g: ONNXGraph, size: Int?, file: String) throws {
        switch n.opType {
        case "Reshape":
            guard n.inputs.count >= 2, let s = g.constants[n.inputs[1]] else {
                throw InputError(file: file, field: n.label, message: "the target shape must be a constant")
            }
            guard s.values.allSatisfy({ abs($0) < 1e9 }) else { throw InputError(file: file, field: "\(n.label).shape", message: "is not a shape") }
            let dims = s.values.map { Int($0) }
            let rest = dims.count >= 2 ? Array(dims.dropFirst()) : dims
            let ok = dims.count <= 2 && (rest == [-1] || (size != nil && rest == [size!])) && (dims.count < 2 || [1, -1, 0].contains(dims[0]) || dims[0] == g.inputShape.first)
            if !ok {
                throw InputError(file: file, field: "\(n.label).shape", message: "reshape to (\(dims.map(String.init).joined(separator: ", "))) is not a no-op on (batch, \(size.map(String.init) ?? "n")) data")
            }
        case "Flatten":
            if let a = n.int("axis"), a != 1 { throw InputError(file: file, field: "\(n.label).axis", message: "only axis 1 (batch, features) is a no-op") }
        case "Dropout":
            if n.outputs.count > 1, !n.outputs[1].isEmpty {
                throw InputError(file: file, field: n.label, message: "a Dropout whose mask output is used is not supported")
            }
        default: break
        }
    }

    static func unsupported(_ n: ONNXNode, file: String) -> InputError {
        InputError(file: file, field: n.label, message: "unsupported operator \(n.domain.isEmpty ? "" : n.domain + ".")\(n.opType) (supported: \(supported))")
    }

    // MARK: float ONNX, as hls4ml converts it

    static func floatLayers(_ g: ONNXGraph, config: HLSConfig, options: ImportOptions, file: String) throws
        -> (String, FixedType, Int, [JSONValue]) {
        if let c = g.constantNodes.first(where: { !["Identity", "Transpose"].contains($0.opType) }) {
            throw InputError(file: file, field: c.label, message: "computes a constant: only Identity of an initializer is supported here")
        }
        var g = g
        try foldSimpleConstants(&g, file: file)
        var size = try inputSize(g, file: file)
        let inputName = "global_in"
        let inType = try config.precision(layer: inputName, className: "InputLayer", variable: "result")
        var count: [String: Int] = [:]
        func next(_ op: String) -> Int { defer { count[op, default: 0] += 1 }; return count[op, default: 0] }
        var hls: [(HLSLayer, JSONValue?)] = []   // an HLSLayer, or a finished JSON layer (ApplyAlpha)
        // Convolutional graphs: the current tensor's shape and ONNX layout (ONNXConv.swift).
        let spatial = ONNXConv.isSpatial(g)
        var layout = ONNXLayout(shape: spatial ? try ONNXConv.inputShape(g, file: file) : [])
        var i = 0
        let chain = g.chain
        while i < chain.count {
            let n = chain[i]
            switch n.opType {
            case "Conv" where spatial, "MaxPool" where spatial, "AveragePool" where spatial, "GlobalMaxPool" where spatial,
                 "GlobalAveragePool" where spatial, "Transpose" where spatial:
                if let h = try ONNXConv.node(n, g, layout: &layout, index: next, file: file) { hls.append((h, nil)) }
                size = layout.shape.reduce(1, *)
            case "Flatten" where spatial:
                if let h = try ONNXConv.node(n, g, layout: &layout, index: next, file: file) { hls.append((h, nil)) }
            case "MatMul", "Gemm":
                if n.opType == "Gemm" { try gemmChecks(n, file: file) }
                if spatial && layout.shape.count > 1 {
                    throw InputError(file: file, field: n.label, message: "a \(n.opType) on a multi-dimensional tensor (\(layout.shape.map(String.init).joined(separator: ", "))) is not supported: flatten it first")
                }
                guard n.inputs.count >= 2, let w = g.constants[n.inputs[1]] else { throw InputError(file: file, field: n.label, message: "the weight (input 1) must be a constant initializer") }
                let m = try weightMatrix(n, w, transposed: n.opType == "Gemm" && (n.int("transB") ?? 0) != 0, nIn: size, file: file)
                var values = [Double](repeating: 0, count: m.rows * m.cols)
                for r in 0..<m.rows { for c in 0..<m.cols { values[r * m.cols + c] = w.values[m.at(r, c)] } }
                let k = next("MatMul")
                let dname = "Dense_MatMul_\(k)"
                hls.append((HLSLayer(name: dname, className: "Dense",
                                     kind: .dense(kernel: HDF5Array(shape: [m.rows, m.cols], values: values, isFloat64: w.isFloat64), bias: nil, kernelQuantizer: nil, biasQuantizer: nil),
                                     source: n.label), nil))
                size = m.cols
                layout.shape = [m.cols]
                // The bias: Gemm's C, or the Add that follows a MatMul: hls4ml's ApplyAlpha.
                var bias: (ONNXNode, String, ONNXTensor)? = nil
                if n.opType == "Gemm", n.inputs.count >= 3, !n.inputs[2].isEmpty {
                    guard let c = g.constants[n.inputs[2]] else { throw InputError(file: file, field: "\(n.label).C", message: "the bias must be a constant initializer") }
                    bias = (n, n.inputs[2], c)
                } else if i + 1 < chain.count, chain[i + 1].opType == "Add" {
                    let a = chain[i + 1]
                    guard let bn = a.inputs.first(where: { g.constants[$0] != nil }), let c = g.constants[bn] else {
                        throw InputError(file: file, field: a.label, message: "only the Add of a constant bias is supported")
                    }
                    bias = (a, bn, c)
                    i += 1
                }
                if let (bnode, bname, c) = bias {
                    let b = try biasVector(bnode, bname, c, units: m.cols, file: file)
                    let aname = "bn_Add_\(next("Add"))"
                    let bt = try config.precision(layer: aname, className: "ApplyAlpha", variable: "bias")
                    let rt = try config.precision(layer: aname, className: "ApplyAlpha", variable: "result")
                    let codes: [JSONValue] = b.map { .number(bt.decimalString(WeightText.code($0, type: bt, rounding: options.weightRounding))) }
                    hls.append((HLSLayer(name: aname, className: "ApplyAlpha", kind: .activation("linear"), source: bnode.label),
                                .object([("name", .string(aname)), ("op", .string("batchnorm")),
                                         ("scale", .array(Array(repeating: .number("1"), count: m.cols))), ("bias", .array(codes)),
                                         ("scale_type", .string("uint<1>")), ("bias_type", .string(bt.description)),
                                         ("output_type", .string(rt.description))])))
                }
            case "Add":
                throw InputError(file: file, field: n.label, message: "an Add that is not the bias of a MatMul is not supported")
            case "Relu", "Sigmoid", "Tanh":
                hls.append((HLSLayer(name: "\(n.opType)_\(next(n.opType))", className: "Activation", kind: .activation(n.opType.lowercased()), source: n.label), nil))
            case "LeakyRelu":
                let a = n.float("alpha") ?? 0.01
                hls.append((HLSLayer(name: "LeakyRelu_\(next(n.opType))", className: "LeakyReLU", kind: .leakyRelu(alpha: exactDecimal(Double(Float(a)))), source: n.label), nil))
            case "Elu":
                let a = n.float("alpha") ?? 1
                hls.append((HLSLayer(name: "Elu_\(next(n.opType))", className: "ELU", kind: .elu(alpha: exactDecimal(Double(Float(a)))), source: n.label), nil))
            case "Softmax":
                if let ax = n.int("axis"), ax != -1 && ax != 1 { throw InputError(file: file, field: "\(n.label).axis", message: "only the feature axis (1 or -1) is supported") }
                hls.append((HLSLayer(name: "Softmax_\(next(n.opType))", className: "Softmax", kind: .softmax, source: n.label), nil))
            case "BatchNormalization":
                guard let s = size else { throw InputError(file: file, field: n.label, message: "the input size is unknown (declare the graph input's shape)") }
                // On a conv's output: per channel, tiled over the positions (rtlgen's batchnorm is per element).
                let ch = spatial && layout.shape.count > 1 ? layout.shape.last! : s
                var vecs: [[Double]] = []
                for (k, nm) in ["scale", "B", "mean", "var"].enumerated() {
                    guard k + 1 < n.inputs.count, let t = g.constants[n.inputs[k + 1]] else { throw InputError(file: file, field: "\(n.label).\(nm)", message: "must be a constant initializer") }
                    guard t.count == ch, t.shape == [ch] else { throw InputError(file: file, field: "\(n.label).\(nm)", message: "has shape (\(t.shape.map(String.init).joined(separator: ", "))), expected (\(ch))") }
                    vecs.append(ch == s ? t.values : (0..<s).map { t.values[$0 % ch] })
                }
                let eps = Double(Float(n.float("epsilon") ?? 1e-5))
                var bn = HLSLayer(name: "BatchNormalization_\(next(n.opType))", className: "BatchNormalization",
                                  kind: .batchnorm(gamma: vecs[0], beta: vecs[1], mean: vecs[2], variance: vecs[3], epsilon: exactDecimal(eps)), source: n.label)
                bn.float64 = g.constants[n.inputs[4]]?.isFloat64 ?? false
                hls.append((bn, nil))
            default:
                if shapeNoOps.contains(n.opType) { try checkNoOp(n, g, size: size, file: file); break }
                throw unsupported(n, file: file)
            }
            i += 1
        }
        guard var n = try inputSize(g, file: file) ?? firstRows(hls) else {
            throw InputError(file: file, field: "graph.input '\(g.inputName)'", message: "the input size is unknown (declare its shape or start with a MatMul/Gemm)")
        }
        let inSize = n
        // A LayerName entry must name a layer (hls4ml's names), as for Keras models.
        let known = [inputName] + hls.map { $0.0.name }
        for l in config.layerNames where !known.contains(where: { $0.lowercased() == l.lowercased() }) {
            throw InputError(file: config.file, field: "HLSConfig.LayerName.\(l)",
                             message: "names no layer of the model (its layers, as hls4ml names them: \(known.joined(separator: ", ")))")
        }
        var out: [JSONValue] = []
        var names = NameTable()
        // The input type a layer sees (the Keras emitter uses it only for ternary thresholds,
        // which float ONNX graphs do not have).
        var prevType = inType
        for (k, (l, json)) in hls.enumerated() {
            if let json { out.append(json); continue }
            let nextL = k + 1 < hls.count ? hls[k + 1].0 : nil
            let (layer, units) = try KerasImporter.emit(l, next: nextL, nIn: n, inType: prevType, config: config, options: options, names: &names, file: file)
            out.append(ModelWriter.layerJSON(layer))
            n = units
            prevType = layer.outputType
        }
        return (inputName, inType, inSize, out)
    }

    static func firstRows(_ hls: [(HLSLayer, JSONValue?)]) -> Int? {
        for (l, _) in hls { if case let .dense(k, _, _, _) = l.kind { return k.shape[0] } }
        return nil
    }

    /// Identity / Transpose (2-D) of constants, folded into constants.
    static func foldSimpleConstants(_ g: inout ONNXGraph, file: String) throws {
        for n in g.constantNodes {
            guard let src = n.inputs.first.flatMap({ g.constants[$0] }), let out = n.outputs.first else { continue }
            switch n.opType {
            case "Identity":
                g.constants[out] = src
            case "Transpose":
                guard src.shape.count == 2, (n.ints("perm") ?? [1, 0]) == [1, 0] else {
                    throw InputError(file: file, field: n.label, message: "only the transpose of a 2-D constant is supported")
                }
                let (r, c) = (src.shape[0], src.shape[1])
                var v = [Double](repeating: 0, count: r * c)
                for i in 0..<r { for j in 0..<c { v[j * r + i] = src.values[i * c + j] } }
                g.constants[out] = ONNXTensor(shape: [c, r], values: v, isFloat64: src.isFloat64)
            default: break
            }
        }
    }
}
