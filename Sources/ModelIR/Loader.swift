// Reading and validating the native model file (format "rtlgen-model", version 1).
// Every problem becomes one InputError naming the file and the offending field.
import Foundation
import FixedPoint

/// Bad user input: a file, the field inside it, and what is wrong. Exit status 2.
public struct InputError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let field: String
    public let message: String
    public init(file: String, field: String, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }
    public var description: String {
        field.isEmpty ? "\(file): \(message)" : "\(file): \(field): \(message)"
    }
}

/// Reads a user's text file (a regular file or a pipe such as /dev/stdin) as UTF-8.
public func readInputText(path: String) throws -> String {
    guard let h = FileHandle(forReadingAtPath: path) else {
        throw InputError(file: path, field: "", message: "cannot read the file")
    }
    defer { try? h.close() }
    guard let data = try? h.readToEnd() ?? Data() else {
        throw InputError(file: path, field: "", message: "cannot read the file")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw InputError(file: path, field: "", message: "not UTF-8 text")
    }
    return text
}

/// Typed access to a JSON object with error paths.
public struct JSONObjectReader {
    public let file: String
    public let path: String
    public let members: [(String, JSONValue)]

    public init(file: String, path: String, value: JSONValue) throws {
        guard case let .object(m) = value else {
            throw InputError(file: file, field: path, message: "expected an object, found \(value.kindName)")
        }
        self.file = file
        self.path = path
        self.members = m
    }

    public func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func fail(_ key: String, _ message: String) -> InputError {
        InputError(file: file, field: fieldPath(key), message: message)
    }

    public func has(_ key: String) -> Bool { members.contains { $0.0 == key } }

    public func value(_ key: String) throws -> JSONValue {
        guard let v = members.first(where: { $0.0 == key })?.1 else { throw fail(key, "missing required field") }
        return v
    }

    public func string(_ key: String) throws -> String {
        guard case let .string(s) = try value(key) else { throw fail(key, "expected a string, found \(try value(key).kindName)") }
        return s
    }

    public func optionalString(_ key: String) throws -> String? {
        has(key) ? try string(key) : nil
    }

    public func int(_ key: String, min lower: Int = Int.min, max upper: Int = Int.max) throws -> Int {
        guard case let .number(t) = try value(key), let v = Int(t) else {
            throw fail(key, "expected an integer, found \(describe(try value(key)))")
        }
        guard v >= lower && v <= upper else { throw fail(key, "\(v) is out of range [\(lower), \(upper)]") }
        return v
    }

    public func type(_ key: String) throws -> FixedType {
        let s = try string(key)
        do { return try FixedType.parse(s) } catch let e as TypeParseError { throw fail(key, e.description) }
    }

    /// Rejects keys outside `allowed` (catches typos such as "kernal").
    public func checkKeys(_ allowed: [String]) throws {
        for (k, _) in members where !allowed.contains(k) {
            throw fail(k, "unknown field (expected one of: \(allowed.joined(separator: ", ")))")
        }
    }

    public func array(_ key: String) throws -> [JSONValue] {
        guard case let .array(a) = try value(key) else { throw fail(key, "expected an array, found \(try value(key).kindName)") }
        return a
    }

    /// A vector of decimals quantized to `type`.
    public func codes(_ key: String, count: Int, type: FixedType) throws -> [Int128] {
        let a = try array(key)
        guard a.count == count else { throw fail(key, "expected \(count) values, found \(a.count)") }
        return try a.enumerated().map { i, v in try quantizeNumber(v, type: type, field: "\(fieldPath(key))[\(i)]") }
    }

    public func quantizeNumber(_ v: JSONValue, type: FixedType, field: String) throws -> Int128 {
        guard case let .number(t) = v else {
            throw InputError(file: file, field: field, message: "expected a number, found \(v.kindName)")
        }
        do { return try type.quantize(decimal: t) } catch let e as DecimalParseError {
            throw InputError(file: file, field: field, message: e.description)
        }
    }

    private func describe(_ v: JSONValue) -> String {
        if case let .number(t) = v { return t }
        return v.kindName
    }
}

public enum ModelLoader {
    /// Reads a native model file. Throws InputError.
    public static func load(path: String) throws -> Model {
        let text = try readInputText(path: path)
        return try parse(text: text, file: path)
    }

    public static func parse(text: String, file: String) throws -> Model {
        let root: JSONValue
        do { root = try JSONParser.parse(text) } catch let e as JSONSyntaxError {
            throw InputError(file: file, field: "", message: "malformed JSON at line \(e.line), column \(e.column): \(e.message)")
        }
        let top = try JSONObjectReader(file: file, path: "", value: root)
        try top.checkKeys(["format", "version", "name", "description", "input", "layers"])
        let format = try top.string("format")
        guard format == "rtlgen-model" else { throw top.fail("format", "expected \"rtlgen-model\", found \"\(format)\"") }
        let version = try top.int("version")
        guard version == 1 else { throw top.fail("version", "version \(version) is not supported (expected 1)") }
        let name = try top.string("name")
        guard isIdentifier(name) else {
            throw top.fail("name", "'\(name)' must be an identifier: a letter, then letters, digits or '_' (it names the HDL top)")
        }
        let description = try top.optionalString("description")

        let inp = try JSONObjectReader(file: file, path: "input", value: try top.value("input"))
        try inp.checkKeys(["name", "size", "type"])
        let inputName = try inp.has("name") ? inp.string("name") : "x"
        let input = InputSpec(name: inputName, size: try inp.int("size", min: 1, max: 1_000_000), type: try inp.type("type"))

        let layerValues = try top.array("layers")
        guard !layerValues.isEmpty else { throw top.fail("layers", "a model needs at least one layer") }
        var layers: [Layer] = []
        var names = Set<String>()
        var size = input.size
        for (i, lv) in layerValues.enumerated() {
            let r = try JSONObjectReader(file: file, path: "layers[\(i)]", value: lv)
            let lname = try r.string("name")
            guard isIdentifier(lname) else { throw r.fail("name", "'\(lname)' must be an identifier (letters, digits, '_')") }
            guard !names.contains(lname.lowercased()) else {
                throw r.fail("name", "duplicate layer name '\(lname)' (names are compared ignoring case, as VHDL does)")
            }
            names.insert(lname.lowercased())
            let opName = try r.string("op")
            guard let parser = layerParsers[opName] else {
                throw r.fail("op", "unknown op '\(opName)' (supported: \(layerParsers.keys.sorted().joined(separator: ", ")))")
            }
            let inType = layers.last?.outputType ?? input.type
            let layer = try parser(r, lname, size, inType)
            var tableOp = false
            switch layer.op {
            case .activation, .softmax: tableOp = true
            default: break
            }
            if tableOp && layer.outputType.isBipolar {
                throw r.fail("output_type", "a \(layer.opName) layer cannot output bipolar; give it an arithmetic output type and add a `sign` layer after it")
            }
            layers.append(layer)
            size = layer.outputSize
        }
        layers = try foldBatchNormSign(layers, input: input, file: file)
        let model = Model(name: name, description: description, input: input, layers: layers)
        try checkSupported(model, file: file)
        return model
    }

    /// Per-op readers: (reader, name, input size, input type) -> Layer.
    nonisolated(unsafe) static var layerParsers: [String: (JSONObjectReader, String, Int, FixedType) throws -> Layer] = [
        "dense": parseDense,
        "relu": parseRelu,
        "softmax": parseSoftmax,
    ].merging(binaryLayerParsers) { a, _ in a }
     .merging(activationParsers.mapValues { p in { r, name, n, t in try p(r, name, n, t.arithmeticView) } }) { a, _ in a }

    static func parseDense(_ r: JSONObjectReader, name: String, nIn: Int, inType: FixedType) throws -> Layer {
        try r.checkKeys(["name", "op", "units", "kernel", "bias", "kernel_type", "bias_type", "accum_type", "output_type"])
        let units = try r.int("units", min: 1, max: 1_000_000)
        let kt = try r.type("kernel_type")
        let bt = try r.type("bias_type")
        let out = try r.type("output_type")
        var accum: FixedType? = nil
        if r.has("accum_type") {
            let s = try r.string("accum_type")
            if s != "auto" {
                let a = try r.type("accum_type")
                if a.encoding != .plain {
                    throw r.fail("accum_type", "\(a) cannot be an accumulator type; use a fixed-point type or \"auto\"")
                }
                if a.overflow != .WRAP {
                    throw r.fail("accum_type", "an explicit accumulator with overflow mode \(a.overflow.rawValue) is not supported: a saturating sum depends on the order of additions, which an adder tree does not have; use WRAP or \"auto\"")
                }
                accum = a
            }
        }
        let rows = try r.array("kernel")
        guard rows.count == nIn else {
            throw r.fail("kernel", "expected \(nIn) rows (one per input, Keras layout [n_in][units]), found \(rows.count)")
        }
        var kernel: [[Int128]] = []
        kernel.reserveCapacity(nIn)
        for (i, row) in rows.enumerated() {
            guard case let .array(vals) = row else {
                throw InputError(file: r.file, field: "\(r.fieldPath("kernel"))[\(i)]", message: "expected an array of \(units) numbers, found \(row.kindName)")
            }
            guard vals.count == units else {
                throw InputError(file: r.file, field: "\(r.fieldPath("kernel"))[\(i)]", message: "expected \(units) values (units), found \(vals.count)")
            }
            kernel.append(try vals.enumerated().map { j, v in
                try r.quantizeNumber(v, type: kt, field: "\(r.fieldPath("kernel"))[\(i)][\(j)]")
            })
        }
        let bias = r.has("bias") ? try r.codes("bias", count: units, type: bt) : Array(repeating: 0, count: units)
        let dense = Dense(units: units, kernelType: kt, biasType: bt, accumType: accum, kernel: kernel, bias: bias)
        do { _ = try DensePlan(dense: dense, inputType: inType) } catch let DensePlan.PlanError.tooWide(why) {
            throw InputError(file: r.file, field: r.path, message: "unsupported width: \(why)")
        }
        return Layer(name: name, op: .dense(dense), outputType: out, outputSize: units)
    }

    static func parseRelu(_ r: JSONObjectReader, name: String, nIn: Int, inType: FixedType) throws -> Layer {
        try r.checkKeys(["name", "op", "output_type"])
        return Layer(name: name, op: .relu, outputType: try r.type("output_type"), outputSize: nIn)
    }

    static func checkSupported(_ model: Model, file: String) throws {
        let inBits = model.input.size * model.input.type.width
        let outBits = model.outputSize * model.outputType.width
        if inBits > 1 << 20 || outBits > 1 << 20 {
            throw InputError(file: file, field: "input", message: "unsupported: the input or output bus would exceed 2^20 bits")
        }
    }

    public static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, (f >= "a" && f <= "z") || (f >= "A" && f <= "Z") else { return false }
        guard !s.hasSuffix("_"), !s.contains("__") else { return false }
        return s.count <= 64 && s.unicodeScalars.allSatisfy {
            ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "_"
        }
    }
}
