// Reading the activation layers of the native model file (issue 3): the spelling and its
// defaults; the model core checks sizes and widths against the layer's input.
import BigInt
import FixedPoint

extension ModelLoader {
    /// Per-op readers of the activation layers (merged into `layerParsers`).
    nonisolated(unsafe) static let activationParsers: [String: (JSONObjectReader, String) throws -> Layer] = [
        "sigmoid": { try parseFunctionTable($0, $1, .sigmoid) },
        "tanh": { try parseFunctionTable($0, $1, .tanh) },
        "lut": parseLut,
        "leaky_relu": parseLeakyRelu,
        "relu_max": { try parseReluMax($0, $1, relu6: false) },
        "relu6": { try parseReluMax($0, $1, relu6: true) },
        "hard_sigmoid": { try parseHard($0, $1, tanh: false) },
        "hard_tanh": { try parseHard($0, $1, tanh: true) },
        "linear": parseLinear,
        "elu": { try parseExpTable($0, $1, selu: false) },
        "selu": { try parseExpTable($0, $1, selu: true) },
    ]

    static let defaultTableType = ActivationDefaults.tableType
    static let defaultParamType = ActivationDefaults.paramType

    static func layer(_ r: JSONObjectReader, _ name: String, _ a: Activation) throws -> Layer {
        Layer(name: name, op: .activation(a), outputType: try r.type("output_type"))
    }

    static func optionalType(_ r: JSONObjectReader, _ key: String, _ def: FixedType) throws -> FixedType {
        r.has(key) ? try r.type(key) : def
    }

    /// A decimal parameter quantized to `type` (the default is given as decimal text).
    static func param(_ r: JSONObjectReader, _ key: String, type: FixedType, default def: String?) throws -> Int128 {
        if r.has(key) { return try r.quantizeNumber(try r.value(key), type: type, field: r.fieldPath(key)) }
        guard let d = def else { throw r.fail(key, "missing required field") }
        return try type.quantize(decimal: d)
    }

    /// table_size (default 1024); the model core checks it is a power of two in range.
    static func tableSize(_ r: JSONObjectReader) throws -> Int {
        guard r.has("table_size") else { return ActivationDefaults.tableSize }
        guard case let .number(t) = try r.value("table_size"), let v = Int(t) else {
            throw r.fail("table_size", "expected an integer (a power of two), found \(try r.value("table_size").kindName)")
        }
        return v
    }

    static func parseFunctionTable(_ r: JSONObjectReader, _ name: String, _ f: FunctionTable.Function) throws -> Layer {
        try r.checkKeys(["name", "op", "output_type", "table_size", "table_type", "table"])
        let size = try tableSize(r)
        let tt = try optionalType(r, "table_type", defaultTableType)
        var mode = TableMode.hls4ml
        if r.has("table") {
            let s = try r.string("table")
            guard let m = TableMode(rawValue: s) else {
                throw r.fail("table", "unknown table implementation '\(s)' (expected \"hls4ml\" or \"centered\")")
            }
            mode = m
        }
        let t = FunctionTable(function: f, mode: mode, size: size, tableType: tt)
        return try layer(r, name, f == .sigmoid ? .sigmoid(t) : .tanh(t))
    }

    static func parseLut(_ r: JSONObjectReader, name: String) throws -> Layer {
        try r.checkKeys(["name", "op", "output_type", "table", "table_type", "index_bits"])
        let tt = try r.type("table_type")
        let values = try r.array("table")
        guard !values.isEmpty else { throw r.fail("table", "the table is empty (it needs 2^index_bits values)") }
        let k: Int
        if r.has("index_bits") {
            k = try r.int("index_bits")
        } else {
            guard values.count >= 2 && values.count & (values.count - 1) == 0 && values.count <= 1 << 16 else {
                throw r.fail("table", "the table length \(values.count) is not a power of two between 2 and 65536")
            }
            k = values.count.trailingZeroBitCount
        }
        let entries = try values.enumerated().map { i, v in
            try r.quantizeNumber(v, type: tt, field: "\(r.fieldPath("table"))[\(i)]")
        }
        return try layer(r, name, .lut(UserTable(indexBits: k, tableType: tt, entries: entries)))
    }

    static func parseLeakyRelu(_ r: JSONObjectReader, name: String) throws -> Layer {
        try r.checkKeys(["name", "op", "output_type", "alpha", "alpha_type"])
        let at = try optionalType(r, "alpha_type", defaultParamType)
        let alpha = try param(r, "alpha", type: at, default: nil)
        return try layer(r, name, .leakyRelu(LeakyRelu(alpha: alpha, alphaType: at)))
    }

    static func parseReluMax(_ r: JSONObjectReader, _ name: String, relu6: Bool) throws -> Layer {
        if relu6 {
            try r.checkKeys(["name", "op", "output_type"])
            return try layer(r, name, .reluMax(try ReluMax(maxText: "6", spelledRelu6: true)))
        }
        try r.checkKeys(["name", "op", "output_type", "max"])
        guard case let .number(t) = try r.value("max") else {
            throw r.fail("max", "expected a number, found \(try r.value("max").kindName)")
        }
        let rm: ReluMax
        do { rm = try ReluMax(maxText: t, spelledRelu6: false) } catch let e as DecimalParseError {
            throw r.fail("max", e.description)
        }
        return try layer(r, name, .reluMax(rm))
    }

    static func parseHard(_ r: JSONObjectReader, _ name: String, tanh: Bool) throws -> Layer {
        try r.checkKeys(["name", "op", "output_type", "slope", "slope_type", "shift", "shift_type"])
        let st = try optionalType(r, "slope_type", ActivationDefaults.slopeType)
        let ht = try optionalType(r, "shift_type", ActivationDefaults.shiftType)
        let h = HardParams(slope: try param(r, "slope", type: st, default: ActivationDefaults.slope), slopeType: st,
                           shift: try param(r, "shift", type: ht, default: ActivationDefaults.shift), shiftType: ht)
        return try layer(r, name, tanh ? .hardTanh(h) : .hardSigmoid(h))
    }

    static func parseLinear(_ r: JSONObjectReader, name: String) throws -> Layer {
        try r.checkKeys(["name", "op", "output_type"])
        return try layer(r, name, .linear)
    }

    static func parseExpTable(_ r: JSONObjectReader, _ name: String, selu: Bool) throws -> Layer {
        try r.checkKeys(selu ? ["name", "op", "output_type", "table_size", "table_type"]
                             : ["name", "op", "output_type", "table_size", "table_type", "alpha", "alpha_type"])
        let size = try tableSize(r)
        let tt = try optionalType(r, "table_type", defaultTableType)
        if selu {
            return try layer(r, name, .selu(ExpTable(selu: true, size: size, tableType: tt, alpha: nil, alphaType: nil)))
        }
        let at = try optionalType(r, "alpha_type", defaultParamType)
        let alpha = try param(r, "alpha", type: at, default: ActivationDefaults.eluAlpha)
        return try layer(r, name, .elu(ExpTable(selu: false, size: size, tableType: tt, alpha: alpha, alphaType: at)))
    }
}
