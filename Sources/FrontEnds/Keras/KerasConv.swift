// Keras / QKeras convolutional networks -> the model core's conv, pooling, reshape and padding
// kinds, as hls4ml 1.3 converts them (io_parallel, channels last):
//
//   Conv1D / Conv2D / QConv1D / QConv2D  -> conv1d / conv2d (hls4ml class Conv1D / Conv2D); the
//       layer's `activation` becomes a layer "<conv>_<activation>" as for Dense; QConv kernel and
//       bias quantizers as for QDense (quantized_bits only).
//   MaxPooling / AveragePooling 1D/2D    -> max_pool / avg_pool (hls4ml class Pooling1D / Pooling2D)
//   GlobalMax / GlobalAveragePooling     -> global pools (hls4ml class GlobalPooling1D / 2D)
//   Flatten / Reshape                    -> flatten / reshape (hls4ml Reshape: in place in
//       io_parallel, so the input's type whatever the configuration says)
//   ZeroPadding1D / 2D                   -> zero_pad1d / 2d (hls4ml ZeroPadding1D / 2D: a copy cast to
//       its result type)
//   BatchNormalization after a conv      -> folded into the conv exactly when hls4ml's
//       FuseBatchNormalization folds it (the conv's result precision is 'auto', quantizers
//       compatible), else a standalone per-element batchnorm with the per-channel parameters
//       tiled over the positions (KerasImporter.hlsLayers).
//
// Precisions are hls4ml's (HLSConfig's precedence) with its 1.3 'auto' inference
// (infer_precision.py): conv accum/result = the exact width of the window's sum including the
// bias, capped by Model.Precision.maximum; pooling accum = the input type (max) or
// fixed<W+2e, I+e> (average, e = ceil(log2 window)), pooling / reshape / padding result = the
// input type; global pooling is not inferred by hls4ml (its 'auto' is the model default).
import Foundation
import FixedPoint
import ModelIR

/// A spatial layer of hls4ml's layer list, with its input shape (channels last).
struct SpatialLayer {
    enum Op {
        case conv(rank: Int, filters: Int, kernelSize: [Int], strides: [Int], padding: Padding,
                  kernel: HDF5Array, bias: HDF5Array?, kernelQuantizer: QKerasQuantizer?, biasQuantizer: QKerasQuantizer?)
        case pool(Pool)
        /// nil: Flatten.
        case reshape([Int]?)
        case zeroPad(rank: Int, pads: [Int])
    }
    var op: Op
    var inShape: [Int]
    var outShape: [Int]
    /// A following BatchNormalization folded in (hls4ml's FuseBatchNormalization): per-filter
    /// scale and bias as hls4ml computes them (float32 unless the weights are float64).
    var fusedScale: [Double]? = nil
    var fusedBias: [Double]? = nil
    var float64 = false
}

enum KerasConv {
    /// Keras classes mapped here.
    static let classes: Set<String> = ["Conv1D", "Conv2D", "QConv1D", "QConv2D", "MaxPooling1D", "MaxPooling2D",
                                       "AveragePooling1D", "AveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
                                       "GlobalAveragePooling1D", "GlobalAveragePooling2D", "Reshape", "ZeroPadding1D", "ZeroPadding2D",
                                       "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
                                       "GlobalAvgPool1D", "GlobalAvgPool2D"]
    /// Keras classes refused with a specific message.
    static let refused: [String: String] = [
        "DepthwiseConv1D": "depthwise convolutions are not supported", "DepthwiseConv2D": "depthwise convolutions are not supported",
        "SeparableConv1D": "separable convolutions are not supported", "SeparableConv2D": "separable convolutions are not supported",
        "QDepthwiseConv2D": "depthwise convolutions are not supported", "QSeparableConv1D": "separable convolutions are not supported",
        "QSeparableConv2D": "separable convolutions are not supported", "Conv1DTranspose": "transposed convolutions are not supported",
        "Conv2DTranspose": "transposed convolutions are not supported", "Conv3D": "3D convolutions are not supported",
        "QConv2DBatchnorm": "QConv2DBatchnorm is not supported (use QConv2D + BatchNormalization)",
    ]

    /// Does the model hold a layer of this file (then shapes are tracked and Flatten is a layer)?
    static func isSpatialModel(_ g: KerasGraph) -> Bool {
        g.layers.contains { classes.contains($0.className) || refused[$0.className] != nil }
    }

    /// hls4ml's layers for one Keras layer of this file (nil: not a class of this file), and the
    /// output shape.
    static func layers(_ l: KerasLayer, shape: [Int], src: KerasSource) throws -> ([HLSLayer], [Int])? {
        let file = src.architectureFile
        func fail(_ field: String, _ m: String) -> InputError {
            InputError(file: file, field: field.isEmpty ? l.path : "\(l.path).\(field)", message: m)
        }
        if let m = refused[l.className] { throw fail("class_name", "\(l.className): \(m)") }
        guard classes.contains(l.className) else { return nil }
        if let df = l.string("data_format"), df != "channels_last" {
            throw fail("data_format", "\(df) is not supported: only channels_last data (hls4ml's io_parallel layout)")
        }
        func ints(_ k: String, count: Int, default d: [Int]? = nil) throws -> [Int] {
            switch l.config[k] {
            case let .number(t)?:
                guard let v = Int(t), v >= 0, v <= 65536 else { throw fail(k, "expected a non-negative integer") }
                return [Int](repeating: v, count: count)
            case let .array(a)?:
                let v = a.compactMap { e -> Int? in if case let .number(t) = e { return Int(t) }; return nil }
                guard v.count == a.count, v.count == count, v.allSatisfy({ $0 >= 0 && $0 <= 65536 }) else {
                    throw fail(k, "expected \(count) non-negative integer\(count == 1 ? "" : "s")")
                }
                return v
            case nil, .null?:
                if let d { return d }
                throw fail(k, "missing")
            default:
                throw fail(k, "expected \(count) integer\(count == 1 ? "" : "s")")
            }
        }
        func padding() throws -> Padding {
            switch l.string("padding") ?? "valid" {
            case "valid": return .valid
            case "same": return .same
            case let p: throw fail("padding", "'\(p)' is not supported (valid or same)")
            }
        }
        func rank(of cls: String) -> Int { cls.contains("1D") ? 1 : 2 }
        func needRank(_ r: Int) throws {
            guard shape.count == r + 1 else {
                throw fail("", "\(l.className) needs an input of \(r) spatial dimension\(r == 1 ? "" : "s") and channels, found shape (\(shape.map(String.init).joined(separator: ", ")))")
            }
        }
        func outSpatial(_ window: [Int], _ strides: [Int], _ pad: Padding, what: String) throws -> [Int] {
            guard strides.allSatisfy({ $0 >= 1 }), window.allSatisfy({ $0 >= 1 }) else { throw fail("strides", "expected positive values") }
            var out: [Int] = []
            for d in 0..<window.count {
                guard let r = pad.resolve(dim: d, n: shape[d], k: window[d], s: strides[d]) else {
                    throw fail(what, "the \(what == "kernel_size" ? "kernel" : "pool window") (\(window.map(String.init).joined(separator: ", "))) is larger than its \(pad.name)-padded input (\(shape.dropLast().map(String.init).joined(separator: ", ")))")
                }
                out.append(r.out)
            }
            return out
        }
        let cls = l.className
        switch cls {
        case "Conv1D", "Conv2D", "QConv1D", "QConv2D":
            let r = rank(of: cls)
            try needRank(r)
            guard let filters = l.int("filters"), filters >= 1, filters <= 65536 else { throw fail("filters", "expected a positive integer") }
            let ks = try ints("kernel_size", count: r)
            let st = try ints("strides", count: r, default: [Int](repeating: 1, count: r))
            if try ints("dilation_rate", count: r, default: [Int](repeating: 1, count: r)).contains(where: { $0 != 1 }) {
                throw fail("dilation_rate", "a dilation rate > 1 is not supported")
            }
            if let g = l.int("groups"), g != 1 { throw fail("groups", "groups = \(g) is not supported (only 1)") }
            let pad = try padding()
            let os = try outSpatial(ks, st, pad, what: "kernel_size")
            let cin = shape[r]
            let useBias = l.bool("use_bias") ?? true
            let w = try src.weights.arrays(layer: l.name, names: useBias ? ["kernel", "bias"] : ["kernel"])
            guard let k = w["kernel"] else { throw InputError(file: src.weights.file.path, field: l.name, message: "missing weight 'kernel' of layer '\(l.name)'") }
            guard k.shape == ks + [cin, filters] else {
                throw InputError(file: src.weights.file.path, field: "\(l.name)/kernel",
                                 message: "has shape (\(k.shape.map(String.init).joined(separator: ", "))), expected (\((ks + [cin, filters]).map(String.init).joined(separator: ", ")))")
            }
            var b: HDF5Array? = nil
            if useBias {
                guard let bb = w["bias"] else { throw InputError(file: src.weights.file.path, field: l.name, message: "missing weight 'bias' of layer '\(l.name)' (use_bias is true)") }
                guard bb.shape == [filters] else {
                    throw InputError(file: src.weights.file.path, field: "\(l.name)/bias", message: "has shape (\(bb.shape.map(String.init).joined(separator: ", "))), expected (\(filters))")
                }
                b = bb
            }
            var kq: QKerasQuantizer? = nil, bq: QKerasQuantizer? = nil
            if cls.hasPrefix("Q") {
                kq = try QKerasQuantizer.parseKernel(l.config["kernel_quantizer"], file: file, field: "\(l.path).kernel_quantizer")
                bq = try QKerasQuantizer.parse(l.config["bias_quantizer"], file: file, field: "\(l.path).bias_quantizer")
                for (q, f) in [(kq, "kernel_quantizer"), (bq, "bias_quantizer")] where q != nil && q?.kind != .quantizedBits {
                    throw fail(f, "only quantized_bits quantizers are supported on a \(cls)")
                }
            }
            let out = os + [filters]
            var layers = [HLSLayer(name: l.name, className: "Conv\(r)D",
                                   kind: .spatial(SpatialLayer(op: .conv(rank: r, filters: filters, kernelSize: ks, strides: st, padding: pad, kernel: k, bias: b,
                                                                         kernelQuantizer: kq, biasQuantizer: bq),
                                                               inShape: shape, outShape: out, float64: k.isFloat64)),
                                   source: l.path)]
            if let act = try KerasImporter.denseActivation(l, file: file), act != "linear" || !src.keras3 {
                layers.append(try KerasImporter.activationLayer(name: "\(l.name)_\(act)", act: act, source: "\(l.path).activation", file: file))
            }
            return (layers, out)
        case "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D":
            let r = rank(of: cls)
            try needRank(r)
            let ps = try ints("pool_size", count: r, default: [Int](repeating: 2, count: r))
            let st = try ints("strides", count: r, default: ps)
            let pad = try padding()
            let os = try outSpatial(ps, st, pad, what: "pool_size")
            let p = Pool(op: cls.hasPrefix("Max") ? .max : .average, rank: r, poolSize: ps, strides: st, padding: pad)
            let out = os + [shape[r]]
            return ([HLSLayer(name: l.name, className: "Pooling\(r)D", kind: .spatial(SpatialLayer(op: .pool(p), inShape: shape, outShape: out)), source: l.path)], out)
        case "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
             "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D":
            let r = rank(of: cls)
            try needRank(r)
            if l.bool("keepdims") == true { throw fail("keepdims", "keepdims = true is not supported (add a Reshape after the pooling)") }
            let p = Pool(op: cls.hasPrefix("GlobalMax") ? .max : .average, rank: r, global: true)
            let out = [shape[r]]
            return ([HLSLayer(name: l.name, className: "GlobalPooling\(r)D", kind: .spatial(SpatialLayer(op: .pool(p), inShape: shape, outShape: out)), source: l.path)], out)
        case "Reshape":
            guard case let .array(a)? = l.config["target_shape"] else { throw fail("target_shape", "expected a list of dimensions") }
            var dims: [Int] = []
            for e in a {
                guard case let .number(t) = e, let v = Int(t), v == -1 || (v >= 1 && v <= 1_000_000) else {
                    throw fail("target_shape", "expected positive dimensions (or one -1)")
                }
                dims.append(v)
            }
            let n = shape.reduce(1, *)
            if let i = dims.firstIndex(of: -1) {
                let rest = dims.enumerated().filter { $0.offset != i }.map { $0.element }.reduce(1, *)
                guard dims.filter({ $0 == -1 }).count == 1, rest > 0, n % rest == 0 else { throw fail("target_shape", "cannot reshape \(shape) to \(dims)") }
                dims[i] = n / rest
            }
            guard !dims.isEmpty, dims.reduce(1, *) == n else {
                throw fail("target_shape", "(\(dims.map(String.init).joined(separator: ", "))) holds \(dims.reduce(1, *)) values; the input (\(shape.map(String.init).joined(separator: ", "))) has \(n)")
            }
            return ([HLSLayer(name: l.name, className: "Reshape", kind: .spatial(SpatialLayer(op: .reshape(dims), inShape: shape, outShape: dims)), source: l.path)], dims)
        case "ZeroPadding1D", "ZeroPadding2D":
            let r = rank(of: cls)
            try needRank(r)
            var pads: [Int]
            switch l.config["padding"] {
            case let .number(t)?:
                guard let v = Int(t), v >= 0, v <= 4096 else { throw fail("padding", "expected a non-negative integer") }
                pads = [Int](repeating: v, count: 2 * r)
            case let .array(a)?:
                func int(_ e: JSONValue) -> Int? { if case let .number(t) = e, let v = Int(t), v >= 0, v <= 4096 { return v }; return nil }
                if r == 1 {
                    let v = a.compactMap(int)
                    guard v.count == 2, a.count == 2 else { throw fail("padding", "expected (left, right)") }
                    pads = v
                } else {
                    pads = []
                    guard a.count == 2 else { throw fail("padding", "expected ((top, bottom), (left, right))") }
                    for e in a {
                        if let v = int(e) { pads += [v, v]; continue }
                        guard case let .array(p) = e, p.count == 2, let b0 = int(p[0]), let a0 = int(p[1]) else {
                            throw fail("padding", "expected ((top, bottom), (left, right))")
                        }
                        pads += [b0, a0]
                    }
                }
            default:
                throw fail("padding", "expected the padding amounts")
            }
            var out: [Int] = []
            for d in 0..<r { out.append(shape[d] + pads[2 * d] + pads[2 * d + 1]) }
            out.append(shape[r])
            return ([HLSLayer(name: l.name, className: "ZeroPadding\(r)D", kind: .spatial(SpatialLayer(op: .zeroPad(rank: r, pads: pads), inShape: shape, outShape: out)), source: l.path)], out)
        default:
            return nil
        }
    }

    /// Flatten: hls4ml's Reshape layer (in place in io_parallel).
    static func flatten(_ l: KerasLayer, shape: [Int], file: String) throws -> HLSLayer {
        if let df = l.string("data_format"), df != "channels_last" {
            throw InputError(file: file, field: "\(l.path).data_format", message: "\(df) is not supported: only channels_last data (hls4ml's io_parallel layout)")
        }
        let n = shape.reduce(1, *)
        return HLSLayer(name: l.name, className: "Reshape", kind: .spatial(SpatialLayer(op: .reshape(nil), inShape: shape, outShape: [n])), source: l.path)
    }

    /// hls4ml's passes on the layer list that depend on the configuration: a linear activation
    /// after a conv whose result precision is 'auto' is merged into it (MergeLinearActivation),
    /// and a BatchNormalization directly after such a conv is folded into its weights
    /// (FuseBatchNormalization: unless a QKeras quantizer of the conv meets batchnorm parameters
    /// other than 1 / 0).
    static func configPasses(_ layers: [HLSLayer], config: HLSConfig) throws -> [HLSLayer] {
        var out: [HLSLayer] = []
        var i = 0
        while i < layers.count {
            var l = layers[i]
            i += 1
            guard case var .spatial(s) = l.kind, case let .conv(_, filters, _, _, _, _, _, kq, bq) = s.op,
                  try config.precisionOrAuto(layer: l.name, className: l.className, variable: "result") == nil else {
                out.append(l)
                continue
            }
            if i < layers.count, case .activation("linear") = layers[i].kind { i += 1 }
            if i < layers.count, case let .batchnorm(gamma, beta, mean, variance, eps) = layers[i].kind {
                let bn = layers[i]
                guard let e = Double(eps), e.isFinite else { throw InputError(file: config.file, field: "\(bn.source).epsilon", message: "expected a number") }
                // hls4ml tiles nothing for a conv's batchnorm: per filter (the tiled copy has
                // the same values at index f of the first position).
                let n = mean.count
                func first(_ v: [Double]?) -> [Double]? { v.map { Array($0.prefix(filters)) } }
                guard n % filters == 0 else { out.append(l); continue }
                let (scale, bb) = KerasImporter.batchnormScaleBias(gamma: first(gamma), beta: first(beta), mean: Array(mean.prefix(filters)),
                                                                    variance: Array(variance.prefix(filters)), epsilon: e, float64: bn.float64)
                // hls4ml's scale_compatible / bias_compatible (a plain batchnorm has no quantizers).
                let scaleOK = kq == nil || scale.allSatisfy { $0 == 1 }
                let biasOK = bq == nil || bb.allSatisfy { $0 == 0 }
                if scaleOK && biasOK {
                    s.fusedScale = scale
                    s.fusedBias = bb
                    s.float64 = s.float64 || bn.float64
                    l = HLSLayer(name: l.name, className: l.className, kind: .spatial(s), source: l.source)
                    i += 1
                }
            }
            out.append(l)
        }
        return out
    }

    /// hls4ml 1.3's inferred conv accumulator / result (_infer_common_precision).
    static func inferConv(input x: FixedType, weight w: FixedType, bias b: FixedType, nOps: Int, config: HLSConfig) throws -> FixedType {
        guard x.encoding == .plain, w.encoding == .plain, b.encoding == .plain else {
            guard let d = try config.modelDefaultPrecision() else {
                throw InputError(file: config.file, field: "HLSConfig.Model.Precision", message: "'auto' cannot be the model default")
            }
            return d
        }
        var e = 0
        while (1 << e) < nOps { e += 1 }
        var width = w.width + x.width + e
        var integers = w.intBits + x.intBits + e
        var signed = w.signed || x.signed
        let frac = width - integers
        integers = max(integers + (b.signed && !signed ? 1 : 0), b.intBits + (signed && !b.signed ? 1 : 0)) + 1
        width = integers + max(frac, b.width - b.intBits)
        signed = signed || b.signed
        if let m = try config.maximumPrecision() {
            width = min(width, m.width)
            integers = min(integers, m.intBits)
        }
        return FixedType(signed: signed, width: width, intBits: integers)
    }

    /// One spatial layer as a `Layer` of the model core, and its output size.
    static func emit(_ l: HLSLayer, _ s: SpatialLayer, name: String, inType: FixedType, config: HLSConfig, options: ImportOptions,
                     file: String) throws -> (Layer, Int) {
        func auto(_ v: String) throws -> FixedType? { try config.precisionOrAuto(layer: l.name, className: l.className, variable: v) }
        func defaultPrecision(_ v: String) throws -> FixedType {
            guard let d = try config.modelDefaultPrecision() else {
                throw InputError(file: config.file, field: config.precisionSource(layer: l.name, className: l.className, variable: v),
                                 message: "'auto' cannot be resolved: the model default precision is 'auto' too")
            }
            return d
        }
        func code(_ d: Double, _ t: FixedType) throws -> Int128 {
            guard d.isFinite else { throw InputError(file: file, field: l.source, message: "a parameter is not a finite number (\(d))") }
            return WeightText.code(d, type: t, rounding: options.weightRounding)
        }
        let outSize = s.outShape.reduce(1, *)
        switch s.op {
        case let .conv(rank, filters, ks, st, pad, kernel, bias, kq, bq):
            let kt = try kq?.hlsType ?? auto("weight") ?? defaultPrecision("weight")
            // hls4ml gives a missing bias zeros of type ap_uint<1>.
            let bt = bias == nil && s.fusedBias == nil ? FixedType.integer(signed: false, width: 1)
                : try bq?.hlsType ?? auto("bias") ?? defaultPrecision("bias")
            let cin = s.inShape[rank]
            let inferred = try inferConv(input: inType, weight: kt, bias: bt, nOps: cin * ks.reduce(1, *), config: config)
            let accum: FixedType? = options.exactAccumulators ? nil : try auto("accum") ?? inferred
            let result = try auto("result") ?? inferred
            var k: [Int128] = []
            k.reserveCapacity(kernel.values.count)
            for (i, w) in kernel.values.enumerated() {
                var v = w
                if let sc = s.fusedScale {
                    // numpy: bn_scale * weight, broadcast over the last axis (filters).
                    v = s.float64 ? sc[i % filters] * w : Double(Float(sc[i % filters]) * Float(w))
                }
                if let kq { v = kq.apply(v) }
                k.append(try code(v, kt))
            }
            let b: [Int128] = try (0..<filters).map { f in
                var v = bias?.values[f] ?? 0
                if let sc = s.fusedScale, let sb = s.fusedBias {
                    v = s.float64 ? sc[f] * v + sb[f] : Double(Float(sc[f]) * Float(v) + Float(sb[f]))
                }
                if let bq { v = bq.apply(v) }
                return try code(v, bt)
            }
            let c = Conv(rank: rank, filters: filters, kernelSize: ks, strides: st, padding: pad, kernelType: kt, biasType: bt,
                         accumType: accum, kernel: k, bias: b)
            return (Layer(name: name, op: .of(c), outputType: result), outSize)
        case var .pool(p):
            if p.global {
                // hls4ml infers no types for global pooling: 'auto' is the model default.
                p.accumType = try auto("accum") ?? defaultPrecision("accum")
                return (Layer(name: name, op: .of(p), outputType: try auto("result") ?? defaultPrecision("result")), outSize)
            }
            p.accumType = try auto("accum")  // nil: hls4ml's inference, the core's auto
            if p.op == .max, !inType.signed {
                let g = WindowGeometry.make(inSpatial: Array(s.inShape.dropLast()), window: p.poolSize, strides: p.strides, padding: p.padding)
                if case let .success(g) = g, g.padBefore.contains(where: { $0 > 0 }) || g.padAfter.contains(where: { $0 > 0 }) {
                    throw InputError(file: file, field: l.source,
                                     message: "max pooling with padding on an unsigned input (\(inType)) is not supported: hls4ml 1.3 pads with the value of the type's top bit (2^(I-1), not the smallest value), so its results differ from Keras; rtlgen will not silently (use a signed input type or valid padding)")
                }
            }
            return (Layer(name: name, op: .of(p), outputType: try auto("result") ?? inType), outSize)
        case let .reshape(shape):
            return (Layer(name: name, op: .of(Reshape(shape: shape)), outputType: inType), outSize)
        case let .zeroPad(rank, pads):
            return (Layer(name: name, op: .of(ZeroPad(rank: rank, pads: pads)), outputType: try auto("result") ?? inType), outSize)
        }
    }
}
