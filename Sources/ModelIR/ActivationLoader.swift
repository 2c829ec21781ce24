// Reading and writing the activation layers of the native model file (issue 3).
import BigInt
import FixedPoint

extension ModelLoader {
    /// Per-op readers of the activation layers (merged into `layerParsers`).
    nonisolated(unsafe) static let activationParsers: [String: (JSONObjectReader, String, Int, FixedType) throws -> Layer] = [
        "sigmoid": { try parseFunctionTable($0, $1, $2, $3, .sigmoid) },
        "tanh": { try parseFunctionTable($0, $1, $2, $3, .tanh) },
        "lut": parseLut,
        "leaky_relu": parseLeakyRelu,
        "relu_max": { try parseReluMax($0, $1, $2, $3, relu6: false) },
        "relu6": { try parseReluMax($0, $1, $2, $3, relu6: true) },
        "hard_sigmoid": { try parseHard($0, $1, $2, $3, tanh: false) },
        "hard_tanh": { try parseHard($0, $1, $2, $3, tanh: true) },
        "linear": parseLinear,
        "elu": { try parseExpTable($0, $1, $2, $3, selu: false) },
        "selu": { try parseExpTable($0, $1, $2, $3, selu: true) },
    ]

    static let defaultTableType = FixedType(signed: true, width: 18, intBits: 8)
    /// hls4ml's default precision of a layer parameter (`param_t`): its model default.
    static let defaultParamType = FixedType(signed: true, width: 16, intBits: 6)
    static let maxTableSize = 65536

    static func layer(_ r: JSONObjectReader, _ name: String, _ n: Int, _ a: Activation) throws -> Layer {
        Layer(name: name, op: .activation(a), outputType: try r.type("output_type"), outputSize: n)
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

    static func tableSize(_ r: JSONObjectReader) throws -> Int {
        guard r.has("table_size") else { return 1024 }
        guard case let .number(t) = try r.value("table_size"), let v = Int(t) else {
            throw r.fail("table_size", "expected an integer (a power of two), found \(try r.value("table_size").kindName)")
        }
        guard v >= 2 && v <= maxTableSize && v & (v - 1) == 0 else {
            throw r.fail("table_size", "\(v) is not a power of two between 2 and \(maxTableSize)")
        }
        return v
    }

    /// Rejects a layer whose exact intermediate values would not fit 128-bit arithmetic.
    static func checkMagnitude(_ r: JSONObjectReader, _ bound: BigInt, _ what: String) throws {
        if bound >= BigInt(1) << 120 {
            throw InputError(file: r.file, field: r.path, message: "unsupported width: \(what) would exceed 120 bits")
        }
    }

    static func maxMagnitude(_ t: FixedType) -> BigInt {
        Swift.max(BigInt(bigInt(t.minCode).magnitude), BigInt(bigInt(t.maxCode).magnitude))
    }

    static func parseFunctionTable(_ r: JSONObjectReader, _ name: String, _ n: Int, _ inType: FixedType,
                                   _ f: FunctionTable.Function) throws -> Layer {
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
        return try layer(r, name, n, f == .sigmoid ? .sigmoid(t) : .tanh(t))
    }

    static func parseLut(_ r: JSONObjectReader, name: String, nIn: Int, inType: FixedType) throws -> Layer {
        try r.checkKeys(["name", "op", "output_type", "table", "table_type", "index_bits"])
        let tt = try r.type("table_type")
        let values = try r.array("table")
        guard !values.isEmpty else { throw r.fail("table", "the table is empty (it needs 2^index_bits values)") }
        let k: Int
        if r.has("index_bits") {
            k = try r.int("index_bits", min: 1, max: 16)
            guard values.count == 1 << k else {
                throw r.fail("table", "expected 2^\(k) = \(1 << k) values (index_bits \(k)), found \(values.count)")
            }
        } else {
            guard values.count >= 2 && values.count & (values.count - 1) == 0 && values.count <= 1 << 16 else {
                throw r.fail("table", "the table length \(values.count) is not a power of two between 2 and 65536")
            }
            k = values.count.trailingZeroBitCount
        }
        guard k <= inType.width else {
            throw r.fail("index_bits", "\(k) index bits exceed the \(inType.width)-bit input type \(inType)")
        }
        let entries = try values.enumerated().map { i, v in
            try r.quantizeNumber(v, type: tt, field: "\(r.fieldPath("table"))[\(i)]")
        }
        return try layer(r, name, nIn, .lut(UserTable(indexBits: k, tableType: tt, entries: entries)))
    }

    static func parseLeakyRelu(_ r: JSONObjectReader, name: String, nIn: Int, inType: FixedType) throws -> Layer {
        try r.checkKeys(["name", "op", "output_type", "alpha", "alpha_type"])
        let at = try optionalType(r, "alpha_type", defaultParamType)
        let alpha = try param(r, "alpha", type: at, default: nil)
        try checkMagnitude(r, maxMagnitude(inType) * maxMagnitude(at), "the product alpha * x")
        return try layer(r, name, nIn, .leakyRelu(LeakyRelu(alpha: alpha, alphaType: at)))
    }

    static func parseReluMax(_ r: JSONObjectReader, _ name: String, _ n: Int, _ inType: FixedType, relu6: Bool) throws -> Layer {
        if relu6 {
            try r.checkKeys(["name", "op", "output_type"])
            return try layer(r, name, n, .reluMax(try ReluMax(maxText: "6", spelledRelu6: true)))
        }
        try r.checkKeys(["name", "op", "output_type", "max"])
        guard case let .number(t) = try r.value("max") else {
            throw r.fail("max", "expected a number, found \(try r.value("max").kindName)")
        }
        let rm: ReluMax
        do { rm = try ReluMax(maxText: t, spelledRelu6: false) } catch let e as DecimalParseError {
            throw r.fail("max", e.description)
        }
        guard rm.max.numerator.sign != .minus else { throw r.fail("max", "\(t) is negative (max must be >= 0)") }
        return try layer(r, name, n, .reluMax(rm))
    }

    static func parseHard(_ r: JSONObjectReader, _ name: String, _ n: Int, _ inType: FixedType, tanh: Bool) throws -> Layer {
        try r.checkKeys(["name", "op", "output_type", "slope", "slope_type", "shift", "shift_type"])
        let st = try optionalType(r, "slope_type", FixedType(signed: false, width: 16, intBits: 0))
        let ht = try optionalType(r, "shift_type", FixedType(signed: false, width: 2, intBits: 0))
        let h = HardParams(slope: try param(r, "slope", type: st, default: "0.2"), slopeType: st,
                           shift: try param(r, "shift", type: ht, default: "0.5"), shiftType: ht)
        let ps = h.productShift(input: inType), ss = h.shiftShift(input: inType)
        guard ps <= 120 && ss <= 120 else { throw InputError(file: r.file, field: r.path, message: "unsupported width: the grids of slope*x and shift are more than 120 bits apart") }
        let bound = (maxMagnitude(inType) * maxMagnitude(st)) << ps + maxMagnitude(ht) << ss + (BigInt(2) << h.frac(input: inType))
        try checkMagnitude(r, bound * 2, "slope * x + shift")
        return try layer(r, name, n, tanh ? .hardTanh(h) : .hardSigmoid(h))
    }

    static func parseLinear(_ r: JSONObjectReader, name: String, nIn: Int, inType: FixedType) throws -> Layer {
        try r.checkKeys(["name", "op", "output_type"])
        return try layer(r, name, nIn, .linear)
    }

    static func parseExpTable(_ r: JSONObjectReader, _ name: String, _ n: Int, _ inType: FixedType, selu: Bool) throws -> Layer {
        try r.checkKeys(selu ? ["name", "op", "output_type", "table_size", "table_type"]
                             : ["name", "op", "output_type", "table_size", "table_type", "alpha", "alpha_type"])
        let size = try tableSize(r)
        let tt = try optionalType(r, "table_type", defaultTableType)
        if selu {
            try checkMagnitude(r, maxMagnitude(inType) << 16, "the product lambda * x")
            return try layer(r, name, n, .selu(ExpTable(selu: true, size: size, tableType: tt, alpha: nil, alphaType: nil)))
        }
        let at = try optionalType(r, "alpha_type", defaultParamType)
        let alpha = try param(r, "alpha", type: at, default: "1.0")
        try checkMagnitude(r, maxMagnitude(tt) * maxMagnitude(at), "the product alpha * table entry")
        return try layer(r, name, n, .elu(ExpTable(selu: false, size: size, tableType: tt, alpha: alpha, alphaType: at)))
    }
}

extension Activation {
    /// The layer's parameters as written back to a model file ("as understood").
    public var jsonFields: [(String, JSONValue)] {
        func num(_ i: Int) -> JSONValue { .number(String(i)) }
        switch self {
        case let .sigmoid(t), let .tanh(t):
            return [("table_size", num(t.size)), ("table_type", .string(t.tableType.description)),
                    ("table", .string(t.mode.rawValue))]
        case let .lut(u):
            return [("index_bits", num(u.indexBits)), ("table_type", .string(u.tableType.description)),
                    ("table", .array(u.entries.map { .number(u.tableType.decimalString($0)) }))]
        case let .leakyRelu(l):
            return [("alpha", .number(l.alphaType.decimalString(l.alpha))), ("alpha_type", .string(l.alphaType.description))]
        case let .reluMax(r):
            return r.spelledRelu6 ? [] : [("max", .number(r.maxText))]
        case let .hardSigmoid(h), let .hardTanh(h):
            return [("slope", .number(h.slopeType.decimalString(h.slope))), ("slope_type", .string(h.slopeType.description)),
                    ("shift", .number(h.shiftType.decimalString(h.shift))), ("shift_type", .string(h.shiftType.description))]
        case .linear:
            return []
        case let .elu(e):
            return [("alpha", .number(e.alphaType!.decimalString(e.alpha!))), ("alpha_type", .string(e.alphaType!.description)),
                    ("table_size", num(e.size)), ("table_type", .string(e.tableType.description))]
        case let .selu(e):
            return [("table_size", num(e.size)), ("table_type", .string(e.tableType.description))]
        }
    }
}
