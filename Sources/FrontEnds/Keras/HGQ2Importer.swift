// HGQ2 models (PyPI hgq2 0.2 on Keras 3, `.keras` archives) -> the model core, exactly as HGQ2's
// own inference pass computes them (not as hls4ml converts them: an HGQ2 model's quantizers fix
// every type, so no hls4ml configuration applies). docs/importers.md, "HGQ2".
//
// Every weight, bias and activation has its own bit width. Weights and biases become exact codes
// of one kernel / bias type per layer (the smallest type holding every quantized value); each
// activation quantizer (a layer's input quantizer `iq`, output quantizer `oq`, a standalone
// `Quantizer`) becomes a per-element `quantize` layer (ModelIR/Kinds/Quantize.swift: each value
// cast to its own ap_fixed type, then held in the union of those types), or a plain cast when
// every element has the same type. Dense sums are exact (an `auto` accumulator and an output
// type wide enough for the exact sum, as HGQ2 computes them in float32, exact for such models);
// ReLU is exact. The model input's type is chosen so that rounding the input once to it and then
// per element gives HGQ2's per-element rounding of the float input (below).
import BigInt
import FixedPoint
import Foundation
import ModelIR

enum HGQ2Importer {
    /// An HGQ2 model: a layer registered by the hgq package (module "hgq...", "hgq>QDense").
    static func isHGQ2(_ g: KerasGraph) -> Bool {
        g.layers.contains { ($0.module ?? "").hasPrefix("hgq") || ($0.registeredName ?? "").hasPrefix("hgq>") }
    }

    static let supported = "QDense, QEinsumDense (a dense equation), Quantizer, QUnaryFunctionLUT (relu / linear), and Keras InputLayer, ReLU, Activation (relu / linear), Dropout, Flatten"

    /// The HGQ2 model of `g` (weights from `src`), validated by the model core.
    static func model(_ g: KerasGraph, src: KerasSource, config: HLSConfig) throws -> Model {
        let file = src.architectureFile
        guard config.appliesNothing else {
            throw InputError(file: config.file, field: "HLSConfig", message: "an HGQ2 model's quantizers set every type; hls4ml precisions and settings do not apply (give the .keras file alone)")
        }
        guard case .keras3 = src.weights.layout else {
            throw InputError(file: src.weights.file.path, field: "layers", message: "an HGQ2 model needs its Keras 3 weights (model.weights.h5 of the .keras archive: the quantizers' bit widths are there)")
        }
        var b = Builder(file: file, weights: src.weights, size: g.inputSize)
        for l in g.layers {
            try b.add(l)
        }
        guard !b.layers.isEmpty else {
            throw InputError(file: file, field: "config.layers", message: "the model computes nothing")
        }
        guard let inType = b.inputType else {
            throw InputError(file: file, field: "config.layers", message: "the model has no quantizer: HGQ2 would compute it in floating point")
        }
        let inputName = g.inputName ?? (g.layers[0].name + "_input")
        let model = Model(name: NameTable.identifier(config.projectName ?? g.modelName, fallback: "hgq2_model"),
                          description: "imported from \((file as NSString).lastPathComponent) as HGQ2's inference pass computes it (exact fixed point, per-element types)",
                          input: InputSpec(name: NameTable.identifier(inputName, fallback: "x"), size: g.inputSize, type: inType),
                          layers: b.layers)
        return try ModelCore.validate(model, file: "\(file) (as imported)")
    }

    /// The layer list under construction: the current tensor's size and type.
    struct Builder {
        let file: String
        let weights: KerasWeights
        var size: Int
        /// The model input's type: set by the first quantizer (nil before it: data still float).
        var inputType: FixedType? = nil
        var type: FixedType? = nil
        var layers: [Layer] = []
        var names = NameTable()

        init(file: String, weights: KerasWeights, size: Int) {
            self.file = file
            self.weights = weights
            self.size = size
        }

        func fail(_ l: KerasLayer, _ field: String, _ m: String) -> InputError {
            InputError(file: file, field: field.isEmpty ? l.path : "\(l.path).\(field)", message: m)
        }

        /// The layer's group in model.weights.h5 ("layers/q_dense"), found by its name.
        func group(_ l: KerasLayer) throws -> String {
            guard let v = try weights.keras3Group(l.name) else {
                throw InputError(file: weights.file.path, field: "layers/*/vars", message: "no weights for layer '\(l.name)' (missing group)")
            }
            return String(v.dropLast("/vars".count))
        }

        func bool(_ l: KerasLayer, _ k: String, _ d: Bool) throws -> Bool {
            switch l.config[k] {
            case nil, .null?: return d
            case let .bool(v)?: return v
            default: throw fail(l, k, "expected true or false")
            }
        }

        mutating func add(_ l: KerasLayer) throws {
            let hgq = (l.module ?? "").hasPrefix("hgq") || (l.registeredName ?? "").hasPrefix("hgq>")
            switch (hgq, l.className) {
            case (_, "InputLayer"), (_, "Input"):
                return
            case (false, "Dropout"), (false, "Flatten"):
                return   // vector models only (a Dense on a multi-dimensional input is refused below)
            case (true, "QDense"), (true, "QEinsumDense"):
                try dense(l)
            case (true, "Quantizer"):
                let g = try group(l)
                try quantize(l, conf: l.config["config"], confField: "\(l.path).config", group: "\(g)/quantizer/vars", name: l.name)
            case (true, "QUnaryFunctionLUT"):
                guard case let .string(act)? = l.config["activation"], ["relu", "linear"].contains(act) else {
                    throw fail(l, "activation", "only relu and linear are supported (other functions are float32 library calls whose values rtlgen cannot reproduce exactly)")
                }
                let g = try group(l)
                if try bool(l, "enable_iq", true) {
                    try quantize(l, conf: l.config["iq_conf"], confField: "\(l.path).iq_conf", group: "\(g)/iq/quantizer/vars", name: "\(l.name)_iq")
                }
                if act == "relu" { try relu(l, name: "\(l.name)_relu") }
                if try bool(l, "enable_oq", true) {
                    try quantize(l, conf: l.config["oq_conf"], confField: "\(l.path).oq_conf", group: "\(g)/oq/quantizer/vars", name: "\(l.name)_oq")
                }
            case (false, "ReLU"):
                for k in ["max_value", "negative_slope", "threshold"] {
                    if let v = l.config[k], v != .null, v != .number("0"), v != .number("0.0") {
                        throw fail(l, k, "\(JSONWriter.compact(v)) is not supported (a plain ReLU only)")
                    }
                }
                try relu(l, name: l.name)
            case (false, "Activation"):
                guard case let .string(act)? = l.config["activation"], ["relu", "linear"].contains(act) else {
                    throw fail(l, "activation", "only relu and linear are supported in an HGQ2 model (other activations run in float32)")
                }
                if act == "relu" { try relu(l, name: l.name) }
            default:
                throw fail(l, "", "\(hgq ? "HGQ2 layer" : "layer") \(l.className) is not supported in an HGQ2 model (supported: \(HGQ2Importer.supported))")
            }
        }

        /// Data must be fixed point from here on.
        func requireQuantized(_ l: KerasLayer) throws -> FixedType {
            guard let t = type else {
                throw fail(l, "", "\(l.className) reads the model's float input: the first HGQ2 layer must quantize it (an input quantizer: enable_iq, or a Quantizer layer)")
            }
            return t
        }

        mutating func relu(_ l: KerasLayer, name: String) throws {
            let t = try requireQuantized(l)
            // max(x, 0) holds exactly in the unsigned type of the same grid.
            let hi = t.maxCode
            let w = hi <= 0 ? 1 : CodeRange(0, hi).unsignedWidth
            let out = FixedType(signed: false, width: w, intBits: w - t.fracBits)
            layers.append(Layer(name: names.unique(name), op: .relu, outputType: out))
            type = out
        }

        /// A quantizer on the current tensor (size values, one per element).
        mutating func quantize(_ l: KerasLayer, conf: JSONValue?, confField: String, group: String, name: String) throws {
            let q = try HGQ2Quantizer.read(conf: conf, confField: confField, group: group, shape: [1, size], weights: weights, file: file)
            if q.roundsOnly {
                throw InputError(file: file, field: "\(confField).config.is_weight", message: "an activation quantizer with is_weight true and WRAP overflow only rounds in HGQ2 (no bound on its values): not supported")
            }
            let ts = q.types
            let nonNil = ts.compactMap { $0 }
            let homogeneous = nonNil.count == ts.count && Set(nonNil).count == 1
            guard type != nil else {
                // The model's input: HGQ2 rounds each float input at its own grid. rtlgen rounds the
                // input once, to a type whose grid is finer, then each element: exact for TRN (any
                // finer grid) and RND (at least one bit finer: floor(floor(x 2^F + 2^(F-f-1)) /
                // 2^(F-f)) = floor(x 2^f + 1/2)); other rounding modes need one grid for all.
                // Overflow: a wider range first changes nothing (WRAP: a multiple of every
                // element's modulus; SAT: the clipped value still saturates each element).
                if homogeneous {
                    inputType = nonNil[0]
                    type = nonNil[0]
                    return
                }
                guard let maxF = nonNil.map(\.fracBits).max(), let maxI = nonNil.map(\.intBits).max() else {
                    inputType = FixedType(signed: true, width: 2, intBits: 2)   // every input dropped
                    type = inputType
                    try emitQuantize(ts, name: name, l)
                    return
                }
                let f0: Int
                var r0 = RoundingMode.TRN
                switch q.rounding {
                case .TRN: f0 = maxF
                case .RND: f0 = maxF + 1
                default:
                    guard Set(nonNil.map(\.fracBits)).count == 1 else {
                        throw InputError(file: file, field: "\(confField).config.round_mode",
                                         message: "\(q.rounding.rawValue) on the model input with fractional bits that differ per input is not supported: rtlgen rounds its input once (TRN and RND input quantizers, or one fractional width for every input, are)")
                    }
                    f0 = maxF
                    r0 = q.rounding
                }
                let i0 = maxI + 1
                guard i0 + f0 <= 64 else {
                    throw InputError(file: file, field: confField, message: "the input type would need \(i0 + f0) bits (at most 64)")
                }
                let t0 = FixedType(signed: true, width: i0 + f0, intBits: i0, rounding: r0, overflow: q.overflow == .WRAP ? .WRAP : .SAT)
                inputType = t0
                type = t0
                try emitQuantize(ts, name: name, l)
                return
            }
            if homogeneous {
                let t = nonNil[0]
                layers.append(Layer(name: names.unique(name), op: .activation(.linear), outputType: t))
                type = t
                return
            }
            try emitQuantize(ts, name: name, l)
        }

        mutating func emitQuantize(_ ts: [FixedType?], name: String, _ l: KerasLayer) throws {
            let out: FixedType
            if ts.allSatisfy({ $0 == nil }) {
                out = FixedType(signed: false, width: 1, intBits: 1)
            } else {
                guard let u = Quantize.union(ts) else { throw fail(l, "", "the union of its per-element types needs more than 120 bits") }
                out = u
            }
            layers.append(Layer(name: names.unique(name), op: .of(Quantize(types: ts)), outputType: out))
            type = out
        }

        mutating func dense(_ l: KerasLayer) throws {
            let units: Int
            var useBias: Bool
            if l.className == "QEinsumDense" {
                guard case let .string(eq)? = l.config["equation"] else { throw fail(l, "equation", "expected a string") }
                // "bc,cd->bd" / "...c,cd->...d": a dense layer on a vector.
                let parts = eq.replacingOccurrences(of: " ", with: "").split(separator: "-")
                let lhs = parts.first.map(String.init) ?? ""
                let rhs = parts.count == 2 && parts[1].hasPrefix(">") ? String(parts[1].dropFirst()) : ""
                let ops = lhs.split(separator: ",").map(String.init)
                var ok = false
                if ops.count == 2, ops[1].count == 2, let c = ops[1].first, let d = ops[1].last, c != d, ops[0].hasSuffix(String(c)) {
                    let pre = String(ops[0].dropLast())
                    ok = (pre == "..." || (pre.count == 1 && pre.first!.isLetter && pre.first! != c && pre.first! != d)) && rhs == pre + String(d)
                }
                guard ok else { throw fail(l, "equation", "'\(eq)' is not supported (only a dense product on a vector, such as 'bc,cd->bd' or '...c,cd->...d')") }
                let out: Int?
                switch l.config["output_shape"] {
                case let .number(t)?: out = Int(t)
                case let .array(a)? where a.count == 1: if case let .number(t) = a[0] { out = Int(t) } else { out = nil }
                default: out = nil
                }
                guard let u = out, u >= 1, u <= 1_000_000 else { throw fail(l, "output_shape", "expected one positive integer") }
                units = u
                switch l.config["bias_axes"] {
                case nil, .null?: useBias = false
                case let .string(s)? where s == String(ops[1].last!): useBias = true
                default: throw fail(l, "bias_axes", "only a bias on the output axis ('\(ops[1].last!)') is supported")
                }
            } else {
                guard let u = l.int("units"), u >= 1, u <= 1_000_000 else { throw fail(l, "units", "expected a positive integer") }
                units = u
                useBias = try bool(l, "use_bias", true)
            }
            if let qc = l.config["quantization_config"], qc != .null { throw fail(l, "quantization_config", "Keras' own quantization is not supported") }
            if let r = l.config["lora_rank"], r != .null { throw fail(l, "lora_rank", "LoRA is not supported") }
            let act: String
            switch l.config["activation"] {
            case nil, .null?: act = "linear"
            case let .string(a)?: act = a
            default: throw fail(l, "activation", "expected an activation name")
            }
            guard act == "relu" || act == "linear" else {
                throw fail(l, "activation", "'\(act)' is not supported (relu and linear are exact; other activations run in float32)")
            }
            let g = try group(l)
            let nIn = size
            if try bool(l, "enable_iq", true) {
                try quantize(l, conf: l.config["iq_conf"], confField: "\(l.path).iq_conf", group: "\(g)/iq/quantizer/vars", name: "\(l.name)_iq")
            }
            let inType = try requireQuantized(l)
            // The layer's own variables: kernel, bias (when it has one), then the ebops counters.
            let f5 = weights.file
            let vars = "\(g)/vars"
            let members = f5.kind(vars) == .group ? try f5.members(vars).compactMap { Int($0) }.sorted() : []
            guard members.count >= (useBias ? 2 : 1), members.prefix(2) == Array(0..<min(2, members.count))[...] else {
                throw InputError(file: f5.path, field: vars, message: "expected the kernel\(useBias ? " and the bias" : "") as variables 0\(useBias ? " and 1" : "")")
            }
            let k = try f5.array("\(vars)/0")
            guard k.shape == [nIn, units] else {
                throw InputError(file: f5.path, field: "\(vars)/0", message: "the kernel has shape (\(k.shape.map(String.init).joined(separator: ", "))), expected (\(nIn), \(units)) for \(nIn) inputs and \(units) units")
            }
            let kq = try HGQ2Quantizer.read(conf: l.config["kq_conf"], confField: "\(l.path).kq_conf", group: "\(g)/kq/quantizer/vars", shape: [nIn, units], weights: weights, file: file)
            let kv = try exactValues(k.values, kq, field: "\(l.path).kernel")
            var bv: [(BigInt, Int)] = Array(repeating: (0, 0), count: units)
            if useBias {
                let bb = try f5.array("\(vars)/1")
                guard bb.shape == [units] else {
                    throw InputError(file: f5.path, field: "\(vars)/1", message: "the bias has shape (\(bb.shape.map(String.init).joined(separator: ", "))), expected (\(units))")
                }
                let bq = try HGQ2Quantizer.read(conf: l.config["bq_conf"], confField: "\(l.path).bq_conf", group: "\(g)/bq/quantizer/vars", shape: [units], weights: weights, file: file)
                bv = try exactValues(bb.values, bq, field: "\(l.path).bias")
            }
            let (kt, kc) = try codes(kv, field: "\(l.path).kernel")
            let (bt, bc) = try codes(bv, field: "\(l.path).bias")
            let kernel = (0..<nIn).map { i in Array(kc[(i * units)..<((i + 1) * units)]) }
            let d = Dense(units: units, kernelType: kt, biasType: bt, accumType: nil, kernel: kernel, bias: bc)
            // The exact sum's type: the plan's exact accumulator ranges on the plan's grid.
            let plan: DensePlan
            do { plan = try DensePlan(dense: d, inputType: inType) } catch let DensePlan.PlanError.tooWide(m) {
                throw fail(l, "", m)
            }
            let lo = plan.accRanges.map(\.lo).min() ?? 0, hi = plan.accRanges.map(\.hi).max() ?? 0
            let r = CodeRange(min(lo, 0), max(hi, 0))
            let signed = r.lo < 0
            let w = signed ? r.signedWidth : r.unsignedWidth
            guard w <= 120 else { throw fail(l, "", "the exact sum needs \(w) bits (at most 120)") }
            let outType = FixedType(signed: signed, width: w, intBits: w - plan.accFrac)
            layers.append(Layer(name: names.unique(l.name), op: .dense(d), outputType: outType))
            type = outType
            size = units
            if act == "relu" { try relu(l, name: "\(l.name)_relu") }
            if try bool(l, "enable_oq", false) {
                try quantize(l, conf: l.config["oq_conf"], confField: "\(l.path).oq_conf", group: "\(g)/oq/quantizer/vars", name: "\(l.name)_oq")
            }
        }

        /// HGQ2's quantized weights (float32 steps), each as an exact value num * 2^-frac.
        func exactValues(_ raw: [Double], _ q: HGQ2Quantizer, field: String) throws -> [(BigInt, Int)] {
            try raw.enumerated().map { j, v in
                let y = q.weightValue(Float(v), j)
                guard y.isFinite, abs(y) < 0x1p60 else { throw InputError(file: file, field: "\(field)[\(j)]", message: "the quantized value \(y) is out of range") }
                let (n0, den) = WeightText.exactRatio(Double(y))
                var num = n0, frac = den.trailingZeroBitCount
                if num == 0 { return (0, 0) }
                let tz = min(num.trailingZeroBitCount, frac)   // lowest terms
                num >>= tz
                frac -= tz
                return (num, frac)
            }
        }

        /// Codes of the smallest type holding every value exactly.
        func codes(_ vals: [(BigInt, Int)], field: String) throws -> (FixedType, [Int128]) {
            let frac = vals.filter { $0.0 != 0 }.map(\.1).max() ?? 0
            let cs: [Int128] = try vals.enumerated().map { j, v in
                let c = v.0 << (frac - v.1)
                guard c.bitWidth <= 64, let x = Int128(exactly: c) else {
                    throw InputError(file: file, field: "\(field)[\(j)]", message: "the quantized values span more than 64 bits")
                }
                return x
            }
            let r = CodeRange(min(cs.min() ?? 0, 0), max(cs.max() ?? 0, 0))
            let signed = r.lo < 0
            let w = max(signed ? r.signedWidth : r.unsignedWidth, 1)
            guard w <= 64 else { throw InputError(file: file, field: field, message: "the quantized values need a \(w)-bit type (at most 64)") }
            return (FixedType(signed: signed, width: w, intBits: w - frac), cs)
        }
    }
}

extension HLSConfig {
    /// hls4ml's default configuration with nothing set (what a model file alone gets).
    var appliesNothing: Bool {
        modelPrecision == ["default": "fixed<16,6>"] && typePrecision.isEmpty && namePrecision.isEmpty
            && typeSettings.isEmpty && nameSettings.isEmpty && layerNames.isEmpty
    }
}
