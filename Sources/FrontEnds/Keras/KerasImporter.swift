// Keras / QKeras -> rtlgen's native model, as hls4ml 1.3 converts it (Vivado backend,
// io_parallel, Latency strategy). The Keras layers become hls4ml's layer list (a Dense with an
// activation becomes a Dense and an Activation named "<dense>_<activation>", as in hls4ml; a
// Sequential model without an InputLayer gets an input named "<first layer>_input"), each
// layer's types come from the hls4ml configuration with hls4ml's precedence (HLSConfig.swift),
// and the layers are built as the model core's `Layer` values and handed to `ModelCore.validate`
// (so an imported model is checked and normalized exactly like a hand-written one); `rtlgen
// import` prints the native writer's text of the result.
import BigInt
import FixedPoint
import Foundation
import ModelIR

public struct ImportOptions: Sendable {
    /// How float weights become codes (default: as hls4ml does).
    public var weightRounding: WeightRounding = .hls4ml
    /// Dense accumulators: hls4ml's accum precision (default) or rtlgen's exact `auto`.
    public var exactAccumulators = false
    public init() {}
}

/// One layer of hls4ml's layer list, before types are assigned.
struct HLSLayer {
    enum Kind {
        case dense(kernel: HDF5Array, bias: HDF5Array?, kernelQuantizer: QKerasQuantizer?, biasQuantizer: QKerasQuantizer?)
        case activation(String)          // relu, linear, sigmoid, tanh, binary_tanh, ternary_tanh, hard_sigmoid
        case softmax
        case leakyRelu(alpha: String)
        case elu(alpha: String)
        case batchnorm(gamma: [Double]?, beta: [Double]?, mean: [Double], variance: [Double], epsilon: String)
        /// A dense layer with +-1 (binary) or -1/0/+1 (ternary) weights: BinaryDense / TernaryDense
        /// (hls4ml's BinaryQuantizer / TernaryQuantizer: xnor layers after a batchnorm + binary_tanh)
        /// or a QDense with a binary / ternary kernel quantizer (`qkeras`). `bias`: codes of
        /// `biasType` (nil: the configuration's bias type), nil when the layer has none.
        case binaryDense(kernel: [[Int8]], bias: [Double]?, biasQuantizer: QKerasQuantizer?, biasType: FixedType?, ternary: Bool, qkeras: Bool)
        /// Conv, pooling, flatten / reshape, zero padding (KerasConv.swift).
        case spatial(SpatialLayer)
        /// A QKeras quantized_relu_po2 activation (QKerasReluPo2.swift): two layers.
        case reluPo2(QKerasQuantizer)
    }
    let name: String
    /// hls4ml's class name (the LayerType key).
    let className: String
    let kind: Kind
    /// Where it came from in the architecture (for messages).
    let source: String
    /// The layer's weights are float64 (numpy computes batchnorm scales in float64 then).
    var float64 = false
    /// ternary_tanh: hls4ml's TernaryTanh threshold (nil: none given, as for a Keras
    /// Activation('ternary_tanh')); only 0.5 is hls4ml's plain ternary_tanh.
    var ternaryThreshold: Double? = nil

    /// A ternary activation with hls4ml's plain thresholds (+-0.5): Activation('ternary_tanh')
    /// (no threshold attribute: hls4ml's `get_attr('threshold', 0.5)`) or a QKeras ternary with
    /// threshold 0.5.
    var isPlainTernary: Bool {
        if case .activation("ternary_tanh") = kind { return (ternaryThreshold ?? 0.5) == 0.5 }
        return false
    }

    /// This ternary activation is merged with the batchnorm before it (hls4ml's
    /// MergeBatchNormAndQuantizedTanh with quantize 3; rtlgen: one exact multi_threshold layer).
    func foldsIntoBatchNorm(previous p: HLSLayer) -> Bool {
        if case .batchnorm = p.kind { return isPlainTernary }
        return false
    }

    /// This layer ends one of hls4ml's ternary BatchNormalizationQuantizedTanh layers (int<2>
    /// output): a plain ternary activation after a batchnorm, or a ternary activation with another
    /// threshold (hls4ml's ExtractTernaryThreshold scaling merged with it).
    func isTernaryBNQT(previous p: HLSLayer?) -> Bool {
        guard case .activation("ternary_tanh") = kind else { return false }
        if !isPlainTernary { return true }
        if let p, case .batchnorm = p.kind { return true }
        return false
    }
}

public enum KerasImporter {
    /// Converts a Keras source with an hls4ml configuration to the native model JSON text (what
    /// `rtlgen import` writes): the native writer's text of the imported model.
    public static func nativeJSON(_ src: KerasSource, config: HLSConfig, options: ImportOptions) throws -> String {
        ModelWriter.json(try model(src, config: config, options: options))
    }

    /// The model itself, built with the model core's initializers (exact parameters) and checked
    /// and normalized by `ModelCore.validate`, the one entry point every front end calls.
    public static func model(_ src: KerasSource, config: HLSConfig, options: ImportOptions) throws -> Model {
        let file = src.architectureFile
        let graph = try KerasGraph.parse(src.architecture, file: file)
        // HGQ2 models: exactly as HGQ2 computes them (HGQ2Importer.swift), not as hls4ml converts.
        if HGQ2Importer.isHGQ2(graph) { return try HGQ2Importer.model(graph, src: src, config: config) }
        let (inputName, rawLayers, size) = try hlsLayers(graph, src: src)
        let spatial = KerasConv.isSpatialModel(graph)
        let layers = spatial ? try KerasConv.configPasses(rawLayers, config: config) : rawLayers
        // A LayerName entry must name a layer of the model (hls4ml's names).
        let known = Set([inputName.lowercased()] + rawLayers.map { $0.name.lowercased() })
        for n in config.layerNames where !known.contains(n.lowercased()) {
            throw InputError(file: config.file, field: "HLSConfig.LayerName.\(n)",
                             message: "names no layer of the model (its layers, as hls4ml names them: \(([inputName] + layers.map { $0.name }).joined(separator: ", ")))")
        }
        var names = NameTable()
        let inType = try config.precision(layer: inputName, className: "InputLayer", variable: "result")
        var out: [Layer] = []
        var n = size
        var prevType = inType
        var prov = Provenance(name: Array(repeating: nil, count: layers.count), inputSize: Array(repeating: 0, count: layers.count))
        for (i, l) in layers.enumerated() {
            prov.inputSize[i] = n
            let next = i + 1 < layers.count ? layers[i + 1] : nil
            if case .activation("linear") = l.kind,
               try config.precision(layer: l.name, className: l.className, variable: "result") == prevType {
                continue  // hls4ml's EliminateLinearActivation: no cast, no layer
            }
            // hls4ml's BatchNormalizationQuantizedTanh: a batchnorm followed by binary_tanh (its
            // output is hls4ml's 1-bit xnor data; rtlgen's exact threshold, bipolar), or by a
            // ternary activation (quantize 3: int<2> data), which rtlgen folds into the batchnorm's
            // layer: the activation itself is then no layer of its own.
            if i >= 1, l.foldsIntoBatchNorm(previous: layers[i - 1]) { continue }
            if case let .reluPo2(q) = l.kind {
                let ls = try reluPo2Layers(l, q, inType: prevType, names: &names, file: file)
                out.append(contentsOf: ls)
                prov.name[i] = ls.last!.name
                prevType = ls.last!.outputType
                continue
            }
            var afterBNQT = false
            if i >= 2, case .activation("binary_tanh") = layers[i - 1].kind, case .batchnorm = layers[i - 2].kind { afterBNQT = true }
            let afterTernaryBNQT = i >= 1 && layers[i - 1].isTernaryBNQT(previous: i >= 2 ? layers[i - 2] : nil)
            let (layer, units) = try emit(l, next: next, nIn: n, inType: prevType, afterBNQT: afterBNQT, afterTernaryBNQT: afterTernaryBNQT,
                                          config: config, options: options, names: &names, file: file)
            out.append(layer)
            prov.name[i] = layer.name
            n = units
            prevType = layer.outputType
            // hls4ml removes a linear activation before it retypes an xnor dense's output
            // (EliminateLinearActivation runs before QuantizeDenseOutput): compare with the
            // dense's configured result type.
            if case .binaryDense = l.kind { prevType = try config.precision(layer: l.name, className: l.className, variable: "result") }
        }
        guard !out.isEmpty else {
            throw InputError(file: file, field: "config.layers", message: "the model computes nothing (only input, dropout or flatten layers)")
        }
        let name = NameTable.identifier(config.projectName ?? graph.modelName, fallback: "keras_model")
        let model = Model(name: name,
                          description: "imported from \((file as NSString).lastPathComponent) as hls4ml 1.3 converts it (weights: \(options.weightRounding.rawValue), accumulators: \(options.exactAccumulators ? "auto" : "hls4ml"))",
                          input: InputSpec(name: NameTable.identifier(inputName, fallback: "x"), size: size, type: inType,
                                           shape: spatial ? graph.inputShape : nil),
                          layers: out)
        let validated = try ModelCore.validate(model, file: "\(file) (as imported)")
        try selfCheck(layers, prov, model: validated, file: file)
        return validated
    }

    // MARK: Keras layers -> hls4ml's layer list

    static func hlsLayers(_ g: KerasGraph, src: KerasSource) throws -> (String, [HLSLayer], Int) {
        let file = src.architectureFile
        var inputName = g.inputName ?? (g.layers[0].name + "_input")
        var out: [HLSLayer] = []
        var size = g.inputSize
        // Shapes are tracked (and Flatten is a layer) in models with conv / pooling / padding layers.
        let spatial = KerasConv.isSpatialModel(g)
        var shape = spatial ? g.inputShape : [size]
        func fail(_ l: KerasLayer, _ field: String, _ m: String) -> InputError {
            InputError(file: file, field: field.isEmpty ? l.path : "\(l.path).\(field)", message: m)
        }
        for (i, l) in g.layers.enumerated() {
            switch l.className {
            case "InputLayer", "Input":
                if i == 0 { inputName = l.name } else { throw fail(l, "", "a second InputLayer: only single-input chains are supported") }
            case "Dropout", "AlphaDropout", "GaussianDropout", "GaussianNoise", "ActivityRegularization":
                continue
            case "Flatten":
                if spatial && shape.count > 1 {
                    out.append(try KerasConv.flatten(l, shape: shape, file: file))
                    shape = [size]
                }
                continue
            case "Dense", "QDense":
                guard let units = l.int("units"), units >= 1, units <= 1_000_000 else { throw fail(l, "units", "expected a positive integer") }
                if shape.count > 1 { throw fail(l, "", "a Dense layer on a multi-dimensional input (\(shape.map(String.init).joined(separator: ", "))) is not supported: add a Flatten before it") }
                let useBias = l.bool("use_bias") ?? true
                let w = try src.weights.arrays(layer: l.name, names: useBias ? ["kernel", "bias"] : ["kernel"])
                guard let k = w["kernel"] else { throw InputError(file: src.weights.file.path, field: l.name, message: "missing weight 'kernel' of layer '\(l.name)'") }
                guard k.shape == [size, units] else {
                    throw InputError(file: src.weights.file.path, field: "\(l.name)/kernel", message: "has shape (\(k.shape.map(String.init).joined(separator: ", "))), expected (\(size), \(units)) for \(size) inputs and \(units) units")
                }
                var b: HDF5Array? = nil
                if useBias {
                    guard let bb = w["bias"] else { throw InputError(file: src.weights.file.path, field: l.name, message: "missing weight 'bias' of layer '\(l.name)' (use_bias is true)") }
                    guard bb.shape == [units] else {
                        throw InputError(file: src.weights.file.path, field: "\(l.name)/bias", message: "has shape (\(bb.shape.map(String.init).joined(separator: ", "))), expected (\(units))")
                    }
                    b = bb
                }
                var kq: QKerasQuantizer? = nil, bq: QKerasQuantizer? = nil
                if l.className == "QDense" {
                    kq = try QKerasQuantizer.parseKernel(l.config["kernel_quantizer"], file: file, field: "\(l.path).kernel_quantizer")
                    bq = try QKerasQuantizer.parse(l.config["bias_quantizer"], file: file, field: "\(l.path).bias_quantizer")
                }
                if let kq, kq.kind == .binary || kq.kind == .ternary {
                    // A QDense with a binary / ternary kernel (hls4ml: QKerasBinaryQuantizer, an
                    // xnor kernel; QKerasQuantizer for ternary, int<2>).
                    let w = (0..<size).map { i in (0..<units).map { j in kq.weightCode(k.values[i * units + j]) } }
                    out.append(HLSLayer(name: l.name, className: "Dense",
                                        kind: .binaryDense(kernel: w, bias: b?.values, biasQuantizer: bq, biasType: nil, ternary: kq.kind == .ternary, qkeras: true),
                                        source: l.path))
                } else {
                    out.append(HLSLayer(name: l.name, className: "Dense", kind: .dense(kernel: k, bias: b, kernelQuantizer: kq, biasQuantizer: bq), source: l.path))
                }
                size = units
                shape = [units]
                // hls4ml adds "<dense>_<activation>" for every activation, "linear" too (its Keras 3
                // converter skips linear); a linear one whose result type equals the dense's is
                // removed again (emitted below only as a cast).
                if let act = try denseActivation(l, file: file), act != "linear" || !src.keras3 {
                    out.append(try activationLayer(name: "\(l.name)_\(act)", act: act, source: "\(l.path).activation", file: file))
                }
            case "BinaryDense", "TernaryDense":
                // BinaryNet-style layers (hls4ml's example keras_bnn): latent real weights, quantized
                // at inference as hls4ml does (BinaryQuantizer: w >= 0 -> +1, else -1;
                // TernaryQuantizer: w > 0.5 -> +1, w <= -0.5 -> -1, else 0), biases too.
                let ternary = l.className == "TernaryDense"
                guard let units = l.int("units"), units >= 1, units <= 1_000_000 else { throw fail(l, "units", "expected a positive integer") }
                if let h = l.number("H"), Double(h) != 1 {
                    throw fail(l, "H", "H = \(h) is not supported (hls4ml uses weights of +-1 whatever H; rtlgen will not silently)")
                }
                let useBias = l.bool("use_bias") ?? true
                let w = try src.weights.arrays(layer: l.name, names: useBias ? ["kernel", "bias"] : ["kernel"])
                guard let k = w["kernel"] else { throw InputError(file: src.weights.file.path, field: l.name, message: "missing weight 'kernel' of layer '\(l.name)'") }
                guard k.shape == [size, units] else {
                    throw InputError(file: src.weights.file.path, field: "\(l.name)/kernel", message: "has shape (\(k.shape.map(String.init).joined(separator: ", "))), expected (\(size), \(units)) for \(size) inputs and \(units) units")
                }
                func q(_ x: Double) -> Int8 { ternary ? (x > 0.5 ? 1 : (x <= -0.5 ? -1 : 0)) : (x >= 0 ? 1 : -1) }
                var bias: [Double]? = nil
                if useBias {
                    guard let bb = w["bias"] else { throw InputError(file: src.weights.file.path, field: l.name, message: "missing weight 'bias' of layer '\(l.name)' (use_bias is true)") }
                    guard bb.shape == [units] else {
                        throw InputError(file: src.weights.file.path, field: "\(l.name)/bias", message: "has shape (\(bb.shape.map(String.init).joined(separator: ", "))), expected (\(units))")
                    }
                    bias = bb.values.map { Double(q($0)) }
                }
                let kernel = (0..<size).map { i in (0..<units).map { j in q(k.values[i * units + j]) } }
                out.append(HLSLayer(name: l.name, className: "Dense",
                                    kind: .binaryDense(kernel: kernel, bias: bias, biasQuantizer: nil, biasType: bias == nil ? nil : .integer(signed: true, width: 2),
                                                       ternary: ternary, qkeras: false),
                                    source: l.path))
                size = units
                shape = [units]
                if let act = try denseActivation(l, file: file), act != "linear" || !src.keras3 {
                    out.append(try activationLayer(name: "\(l.name)_\(act)", act: act, source: "\(l.path).activation", file: file))
                }
            case "Activation":
                guard let act = l.string("activation") else { throw fail(l, "activation", "expected an activation name") }
                out.append(try activationLayer(name: l.name, act: act, source: l.path, file: file))
            case "ReLU":
                let maxV = l.config["max_value"] ?? .null
                let slope = l.number("negative_slope") ?? "0"
                let th = l.number("threshold") ?? "0"
                guard maxV == .null, (try? ExactDecimal(parsing: slope))?.numerator == 0, (try? ExactDecimal(parsing: th))?.numerator == 0 else {
                    throw fail(l, "", "ReLU with max_value, negative_slope or threshold is not supported (hls4ml ignores them; rtlgen will not silently)")
                }
                out.append(HLSLayer(name: l.name, className: "Activation", kind: .activation("relu"), source: l.path))
            case "LeakyReLU":
                let a = l.number("negative_slope") ?? l.number("alpha") ?? "0.3"
                out.append(HLSLayer(name: l.name, className: "LeakyReLU", kind: .leakyRelu(alpha: a), source: l.path))
            case "ELU":
                out.append(HLSLayer(name: l.name, className: "ELU", kind: .elu(alpha: l.number("alpha") ?? "1.0"), source: l.path))
            case "Softmax":
                out.append(HLSLayer(name: l.name, className: "Softmax", kind: .softmax, source: l.path))
            case "BatchNormalization", "QBatchNormalization":
                if l.className == "QBatchNormalization" {
                    for q in ["gamma_quantizer", "beta_quantizer", "mean_quantizer", "variance_quantizer"] where (l.config[q] ?? .null) != .null {
                        throw fail(l, q, "QBatchNormalization quantizers are not supported (hls4ml 1.3 ignores them too); remove the quantizer or use BatchNormalization")
                    }
                }
                let lastAxis = JSONValue.number(String(shape.count))  // the channels (batch is axis 0)
                if case let .array(ax)? = l.config["axis"] {
                    guard ax.count == 1, ax[0] == .number("-1") || ax[0] == lastAxis else { throw fail(l, "axis", "only the last axis is supported") }
                } else if let ax = l.int("axis"), ax != -1 && ax != shape.count {
                    throw fail(l, "axis", "only the last axis is supported")
                }
                let scale = l.bool("scale") ?? true, center = l.bool("center") ?? true
                let names = (scale ? ["gamma"] : []) + (center ? ["beta"] : []) + ["moving_mean", "moving_variance"]
                let w = try src.weights.arrays(layer: l.name, names: names)
                // After a conv: per channel, tiled over the positions (rtlgen's batchnorm is per element).
                let ch = shape.last ?? size
                func vec(_ k: String) throws -> [Double] {
                    guard let a = w[k] else { throw InputError(file: src.weights.file.path, field: l.name, message: "missing weight '\(k)' of layer '\(l.name)'") }
                    guard a.shape == [ch] else {
                        throw InputError(file: src.weights.file.path, field: "\(l.name)/\(k)", message: "has shape (\(a.shape.map(String.init).joined(separator: ", "))), expected (\(ch))")
                    }
                    return ch == size ? a.values : (0..<size).map { a.values[$0 % ch] }
                }
                let eps = l.number("epsilon") ?? "0.001"
                var bn = HLSLayer(name: l.name, className: "BatchNormalization",
                                  kind: .batchnorm(gamma: scale ? try vec("gamma") : nil, beta: center ? try vec("beta") : nil,
                                                   mean: try vec("moving_mean"), variance: try vec("moving_variance"), epsilon: eps),
                                  source: l.path)
                bn.float64 = w["moving_variance"]?.isFloat64 ?? false
                out.append(bn)
            case "QActivation":
                let q = try QKerasQuantizer.parseActivation(l.config["activation"], file: file, field: "\(l.path).activation")
                switch q.kind {
                case .po2:
                    throw fail(l, "activation", "quantized_po2 as an activation is not supported")  // parseActivation refuses it first
                case .quantizedRelu:
                    if q.negativeSlope != 0 { throw fail(l, "activation", "quantized_relu with negative_slope is not supported") }
                    out.append(HLSLayer(name: l.name, className: "Activation", kind: .activation("relu"), source: l.path))
                case .quantizedBits:
                    out.append(HLSLayer(name: l.name, className: "Activation", kind: .activation("linear"), source: l.path))
                case .reluPo2:
                    out.append(HLSLayer(name: l.name, className: "Activation", kind: .reluPo2(q), source: l.path))
                case .binary:
                    out.append(HLSLayer(name: l.name, className: "Activation", kind: .activation("binary_tanh"), source: l.path))
                case .ternary:
                    // hls4ml takes QKeras' threshold (0.33 when none is given).
                    var t = HLSLayer(name: l.name, className: "TernaryTanh", kind: .activation("ternary_tanh"), source: l.path)
                    t.ternaryThreshold = q.threshold ?? 0.33
                    out.append(t)
                }
            default:
                if let (ls, s) = try KerasConv.layers(l, shape: shape, src: src) {
                    out.append(contentsOf: ls)
                    shape = s
                    size = s.reduce(1, *)
                    continue
                }
                throw fail(l, "class_name", "unsupported layer \(l.className) (supported: InputLayer, Dense, BinaryDense, TernaryDense, Activation, ReLU, LeakyReLU, ELU, Softmax, BatchNormalization, Dropout, Flatten, QDense, QActivation, Conv1D, Conv2D, QConv1D, QConv2D, pooling 1D/2D and global, Reshape, ZeroPadding1D/2D)")
            }
        }
        return (inputName, out, g.inputSize)
    }

    static func denseActivation(_ l: KerasLayer, file: String) throws -> String? {
        switch l.config["activation"] {
        case nil, .null?: return nil
        case let .string(s)?: return s
        default: throw InputError(file: file, field: "\(l.path).activation", message: "expected an activation name (a QKeras quantizer here is not supported: use a QActivation layer)")
        }
    }

    static func activationLayer(name: String, act: String, source: String, file: String) throws -> HLSLayer {
        switch act {
        case "relu", "linear", "sigmoid", "tanh", "binary_tanh":
            return HLSLayer(name: name, className: "Activation", kind: .activation(act), source: source)
        case "ternary_tanh":
            // hls4ml's Keras parser keeps class_name 'Activation' (only a QKeras ternary
            // QActivation becomes a TernaryTanh, with a threshold).
            return HLSLayer(name: name, className: "Activation", kind: .activation(act), source: source)
        case "softmax":
            return HLSLayer(name: name, className: "Softmax", kind: .softmax, source: source)
        case "elu":
            return HLSLayer(name: name, className: "ELU", kind: .elu(alpha: "1.0"), source: source)
        case "hard_sigmoid":
            return HLSLayer(name: name, className: "HardActivation", kind: .activation(act), source: source)
        case "leaky_relu":
            return HLSLayer(name: name, className: "LeakyReLU", kind: .leakyRelu(alpha: "0.2"), source: source)
        default:
            throw InputError(file: file, field: source, message: "unsupported activation '\(act)' (supported: relu, linear, sigmoid, tanh, softmax, elu, leaky_relu, hard_sigmoid, binary_tanh)")
        }
    }
}
