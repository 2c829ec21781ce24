// The model core: the one function every front end calls. A `Model` built in code (by the native
// JSON reader, an importer, or the random model generators) is checked and normalized here, and
// only the model this returns goes on to the golden model, the lowering and the writer.
//
//   validate  name rules (identifiers, unique layer names ignoring case), sizes and shapes of
//             every parameter against the layer's input, types each op accepts, width plans
//             (DensePlan, SoftmaxPlan, 120/128-bit magnitude bounds), bus sizes;
//   normalize real thresholds placed on the input grid, batchnorm parameters turned into channels,
//             batchnorm + sign folded into one exact threshold layer, a standalone batchnorm
//             quantized, multi_threshold tables and layer output sizes derived.
//
// Errors are `InputError`s naming the file and the field by its JSON path (`layers[2].kernel`),
// so every front end reports problems the same way. The checks per op family live in
// ValidateDense.swift, ValidateBinary.swift, ValidateActivation.swift and ValidateSoftmax.swift.
import FixedPoint

public enum ModelCore {
    /// Checks and normalizes `model`; `file` names the source in error messages. Returns the
    /// model every later stage may rely on (validating it again returns it unchanged).
    /// Throws `InputError`.
    public static func validate(_ model: Model, file: String) throws -> Model {
        guard isIdentifier(model.name) else {
            throw InputError(file: file, field: "name",
                             message: "'\(model.name)' must be an identifier: a letter, then letters, digits or '_' (it names the HDL top)")
        }
        let input = model.input
        try LayerCheck.range(input.size, 1, 1_000_000, file: file, field: "input.size")
        guard !model.layers.isEmpty else {
            throw InputError(file: file, field: "layers", message: "a model needs at least one layer")
        }
        var names = Set<String>()
        func checkName(_ i: Int) throws {
            let name = model.layers[i].name
            let field = "layers[\(i)].name"
            guard isIdentifier(name) else {
                throw InputError(file: file, field: field, message: "'\(name)' must be an identifier (letters, digits, '_')")
            }
            guard !names.contains(name.lowercased()) else {
                throw InputError(file: file, field: field, message: "duplicate layer name '\(name)' (names are compared ignoring case, as VHDL does)")
            }
            names.insert(name.lowercased())
        }
        // Pass 1, layer by layer: names, and every check of a layer against its input (a batchnorm:
        // its parameters; it passes its input type on when it declares no output type).
        var checked: [(layer: Layer, check: LayerCheck, channels: [BNChannel]?)] = []
        var size = input.size
        var inType = input.type
        if let s = input.scale {
            guard s.scale.sign > 0 else { throw InputError(file: file, field: "input.scale", message: "the scale \(s.scaleText) must be > 0") }
            guard input.type.encoding == .plain else { throw InputError(file: file, field: "input.scale", message: "a scaled input needs a fixed-point type, not \(input.type)") }
        }
        guard !input.shape.isEmpty, input.shape.allSatisfy({ $0 >= 1 }), input.shape.reduce(1, *) == input.size else {
            throw InputError(file: file, field: "input.shape", message: "the shape \(input.shape) does not hold input.size = \(input.size) values")
        }
        var shape = input.shape
        for (i, l) in model.layers.enumerated() {
            try checkName(i)
            let check = LayerCheck(file: file, path: "layers[\(i)]", nIn: size, inType: inType)
            if case let .binary(.batchnorm(bn)) = l.op {
                // A batchnorm keeps its input's shape (pass 2 sets its size and type).
                var v = l
                v.outputShape = shape
                checked.append((v, check, try check.batchNormChannels(bn)))
                inType = bn.hasOutputType ? l.outputType : inType
            } else if case let .kind(k) = l.op {
                let kc = KindCheck(file: file, path: "layers[\(i)]", input: TensorInfo(shape: shape, type: inType), outputType: l.outputType)
                var v = l
                v.outputShape = try k.base.validate(kc)
                let n = v.outputShape.reduce(1, *)
                try check.checkSize(l, n)
                v.outputSize = n
                checked.append((v, check, nil))
                size = n
                shape = v.outputShape
                inType = v.outputType
            } else {
                var v = try check.layer(l)
                // Element-wise layers keep the shape; every other layer gives a vector.
                v.outputShape = v.outputSize == size && l.op.keepsShape ? shape : [v.outputSize]
                checked.append((v, check, nil))
                size = v.outputSize
                shape = v.outputShape
                inType = v.outputType
            }
        }
        // Pass 2, the normalizer: a batchnorm directly followed by sign/binary_tanh becomes one
        // exact `threshold` layer named after the batchnorm; any other is quantized.
        var layers: [Layer] = []
        var i = 0
        while i < checked.count {
            let (l, check, channels) = checked[i]
            if let channels, case let .binary(.batchnorm(bn)) = l.op {
                if i + 1 < checked.count, case .binary(.sign) = checked[i + 1].layer.op {
                    try check.checkSize(l, check.nIn)
                    let th = BatchNormFold.threshold(channels, inputType: check.inType)
                    layers.append(Layer(name: l.name, op: .binary(.threshold(th)), outputType: .bipolar, outputSize: check.nIn,
                                        outputShape: checked[i + 1].layer.outputShape))
                    i += 2
                    continue
                }
                var v = try check.standaloneBatchNorm(l, bn, channels: channels)
                v.outputShape = l.outputShape
                if v.outputShape.reduce(1, *) != v.outputSize { v.outputShape = [v.outputSize] }
                layers.append(v)
            } else {
                layers.append(l)
            }
            i += 1
        }
        let result = Model(name: model.name, description: model.description, input: input, layers: layers)
        let inBits = input.size * input.type.width
        let outBits = result.outputSize * result.outputType.width
        if inBits > 1 << 20 || outBits > 1 << 20 {
            throw InputError(file: file, field: "input", message: "unsupported: the input or output bus would exceed 2^20 bits")
        }
        return result
    }

    /// The name rule of the model and its layers (they name HDL modules and signals): a letter,
    /// then letters, digits or single '_', not ending in '_', at most 64 characters.
    public static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, (f >= "a" && f <= "z") || (f >= "A" && f <= "Z") else { return false }
        guard !s.hasSuffix("_"), !s.contains("__") else { return false }
        return s.count <= 64 && s.unicodeScalars.allSatisfy {
            ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "_"
        }
    }
}

extension LayerOp {
    /// An element-wise op: its output has its input's shape (channels last).
    var keepsShape: Bool {
        switch self {
        case .relu, .activation: return true
        case let .binary(b):
            switch b {
            case .binaryDense, .ternaryDense: return false
            default: return true
            }
        case .dense, .softmax: return false
        case .kind: return false
        }
    }
}

/// One layer under validation: where it is (for error messages) and what flows into it.
struct LayerCheck {
    let file: String
    /// "layers[i]".
    let path: String
    let nIn: Int
    /// The previous layer's output type (bipolar and ternary as declared).
    let inType: FixedType

    func field(_ key: String) -> String { key.isEmpty ? path : "\(path).\(key)" }

    func fail(_ key: String, _ message: String) -> InputError {
        InputError(file: file, field: field(key), message: message)
    }

    static func range(_ v: Int, _ lower: Int, _ upper: Int, file: String, field: String) throws {
        guard v >= lower && v <= upper else {
            throw InputError(file: file, field: field, message: "\(v) is out of range [\(lower), \(upper)]")
        }
    }

    func range(_ key: String, _ v: Int, _ lower: Int, _ upper: Int) throws {
        try Self.range(v, lower, upper, file: file, field: field(key))
    }

    /// A per-channel parameter list must have one value per input.
    func perChannel(_ key: String, _ count: Int) throws {
        guard count == nIn else { throw fail(key, "expected \(nIn) values (one per channel), found \(count)") }
    }

    /// Every code of `codes` lies in `type`'s range.
    func codesInRange(_ key: String, _ codes: [Int128], _ type: FixedType) throws {
        for (j, c) in codes.enumerated() where c < type.minCode || c > type.maxCode {
            throw fail("\(key)[\(j)]", "code \(c) is outside the range of \(type)")
        }
    }

    /// Checks and normalizes one layer (every op but a batchnorm, see ModelCore.validate).
    func layer(_ l: Layer) throws -> Layer {
        var out = l
        var size = nIn
        switch l.op {
        case let .dense(d):
            try dense(d)
            size = d.units
        case .relu:
            break
        case let .binary(b):
            let (op, n) = try binary(b, outputType: l.outputType)
            out.op = .binary(op)
            size = n
        case let .activation(a):
            try activation(a)
        case let .softmax(s):
            try softmax(s, outputType: l.outputType)
            if s.implementation == .argmax { size = 1 }
        case .kind:
            preconditionFailure("layer kinds are validated by ModelCore.validate")
        }
        switch l.op {
        case .activation, .softmax:
            if l.outputType.isBipolar {
                throw fail("output_type", "a \(l.opName) layer cannot output bipolar; give it an arithmetic output type and add a `sign` layer after it")
            }
        default: break
        }
        try checkSize(l, size)
        out.outputSize = size
        return out
    }

    /// A layer's declared output size (0: derive it) must be the one its op gives.
    func checkSize(_ l: Layer, _ size: Int) throws {
        guard l.outputSize == 0 || l.outputSize == size else {
            throw fail("", "the layer declares \(l.outputSize) outputs, but a \(l.opName) layer of \(nIn) inputs has \(size)")
        }
    }

    /// The "unsupported width" error of a dense-like plan.
    func plan(_ d: Dense, inputType: FixedType) throws {
        do { _ = try DensePlan(dense: d, inputType: inputType) } catch let DensePlan.PlanError.tooWide(why) {
            throw fail("", "unsupported width: \(why)")
        }
    }
}
