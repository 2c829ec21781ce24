// The native JSON front end (format "rtlgen-model", version 1): parses the text into a `Model` as
// written (types, codes quantized to their declared types, real thresholds and batchnorm
// parameters as given) and hands it to `ModelCore.validate`, which checks and normalizes it.
// Problems of the spelling (malformed JSON, unknown fields, wrong kinds of values) are reported
// here, everything else by the core; both as one InputError naming the file and the field.
import Foundation
import BigInt
import FixedPoint

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

    /// A vector of decimals quantized to `type` (its length is checked by the model core).
    public func codes(_ key: String, type: FixedType) throws -> [Int128] {
        try array(key).enumerated().map { i, v in try quantizeNumber(v, type: type, field: "\(fieldPath(key))[\(i)]") }
    }

    /// A kernel in Keras layout [n_in][units]: an array of rows, each an array of values read by
    /// `element` (with its field path). Shapes are checked by the model core.
    public func matrix<T>(_ key: String, units: Int, _ element: (JSONValue, String) throws -> T) throws -> [[T]] {
        try array(key).enumerated().map { i, row in
            let rf = "\(fieldPath(key))[\(i)]"
            guard case let .array(vals) = row else {
                throw InputError(file: file, field: rf, message: "expected an array of \(units) numbers, found \(row.kindName)")
            }
            return try vals.enumerated().map { j, v in try element(v, "\(rf)[\(j)]") }
        }
    }

    /// An exact decimal.
    public func rational(_ v: JSONValue, field: String) throws -> Rational {
        guard case let .number(t) = v else {
            throw InputError(file: file, field: field, message: "expected a number, found \(v.kindName)")
        }
        do { return try Rational(decimal: t) } catch let e as DecimalParseError {
            throw InputError(file: file, field: field, message: e.description)
        }
    }

    /// A vector of exact decimals (its length is checked by the model core).
    public func rationals(_ key: String) throws -> [Rational] {
        try array(key).enumerated().map { try rational($1, field: "\(fieldPath(key))[\($0)]") }
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
    /// Reads a native model file and validates it. Throws InputError.
    public static func load(path: String) throws -> Model {
        let text = try readInputText(path: path)
        return try parse(text: text, file: path)
    }

    /// Parses and validates native model text (`file` names it in errors). Throws InputError.
    public static func parse(text: String, file: String) throws -> Model {
        try ModelCore.validate(try unvalidatedModel(text: text, file: file), file: file)
    }

    /// The model as the text spells it, before `ModelCore.validate`: layer output sizes are 0
    /// (derived by the core), thresholds and batchnorm parameters are real numbers.
    public static func unvalidatedModel(text: String, file: String) throws -> Model {
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
        let description = try top.optionalString("description")

        let inp = try JSONObjectReader(file: file, path: "input", value: try top.value("input"))
        try inp.checkKeys(["name", "size", "shape", "type", "scale", "zero_point"])
        let inputName = try inp.has("name") ? inp.string("name") : "x"
        // "shape" (channels last, e.g. [9, 16, 1]) may stand for "size" or come with it.
        let shape: [Int]? = inp.has("shape") ? try Shapes.ints(inp, "shape", min: 1, max: 1_000_000) : nil
        if let shape, shape.isEmpty { throw inp.fail("shape", "expected at least one dimension") }
        let size = inp.has("size") || shape == nil ? try inp.int("size") : shape!.reduce(1, *)
        // "scale" / "zero_point": a real input x becomes the code cast(x / scale + zero_point, type).
        var scale: InputScale? = nil
        if inp.has("scale") || inp.has("zero_point") {
            var text = "1"
            if inp.has("scale") {
                guard case let .number(t) = try inp.value("scale") else { throw inp.fail("scale", "expected a number, found \(try inp.value("scale").kindName)") }
                text = t
            }
            let zp = inp.has("zero_point") ? try inp.int("zero_point", min: -(1 << 62), max: 1 << 62) : 0
            do { scale = try InputScale(scaleText: text, zeroPoint: BigInt(zp)) } catch let e as DecimalParseError { throw inp.fail("scale", e.description) }
        }
        let input = InputSpec(name: inputName, size: size, type: try inp.type("type"), shape: shape, scale: scale)

        // The type flowing into each layer, for the ops whose output_type defaults to it.
        var flowing = input.type
        let layers = try top.array("layers").enumerated().map { i, lv -> Layer in
            let l = try parseLayer(i, lv)
            if case let .binary(.batchnorm(bn)) = l.op, !bn.hasOutputType { return l }
            flowing = l.outputType
            return l
        }
        func parseLayer(_ i: Int, _ lv: JSONValue) throws -> Layer {
            let r = try JSONObjectReader(file: file, path: "layers[\(i)]", value: lv)
            let lname = try r.string("name")
            let opName = try r.string("op")
            if let kind = LayerKinds.readers[opName] {
                let k = try kind(r)
                let out: FixedType
                if LayerKinds.outputTypeOptional.contains(opName), !r.has("output_type") {
                    out = flowing
                } else {
                    out = try r.type("output_type")
                }
                return Layer(name: lname, op: .of(k), outputType: out)
            }
            guard let parser = layerParsers[opName] else {
                let all = Set(layerParsers.keys).union(LayerKinds.readers.keys)
                throw r.fail("op", "unknown op '\(opName)' (supported: \(all.sorted().joined(separator: ", ")))")
            }
            return try parser(r, lname)
        }
        return Model(name: name, description: description, input: input, layers: layers)
    }

    /// Per-op readers: (reader, layer name) -> the layer as written.
    nonisolated(unsafe) static var layerParsers: [String: (JSONObjectReader, String) throws -> Layer] = [
        "dense": parseDense,
        "relu": parseRelu,
        "softmax": parseSoftmax,
    ].merging(binaryLayerParsers) { a, _ in a }
     .merging(activationParsers) { a, _ in a }

    static func parseDense(_ r: JSONObjectReader, name: String) throws -> Layer {
        try r.checkKeys(["name", "op", "units", "kernel", "bias", "kernel_type", "bias_type", "accum_type", "output_type"])
        let units = try r.int("units")
        let kt = try r.type("kernel_type")
        let bt = try r.type("bias_type")
        let out = try r.type("output_type")
        var accum: FixedType? = nil
        if r.has("accum_type") {
            let s = try r.string("accum_type")
            if s != "auto" { accum = try r.type("accum_type") }
        }
        let kernel = try r.matrix("kernel", units: units) { v, field in try r.quantizeNumber(v, type: kt, field: field) }
        let bias = r.has("bias") ? try r.codes("bias", type: bt) : Array(repeating: 0, count: (1...Dense.maxUnits).contains(units) ? units : 0)
        let dense = Dense(units: units, kernelType: kt, biasType: bt, accumType: accum, kernel: kernel, bias: bias)
        return Layer(name: name, op: .dense(dense), outputType: out)
    }

    static func parseRelu(_ r: JSONObjectReader, name: String) throws -> Layer {
        try r.checkKeys(["name", "op", "output_type"])
        return Layer(name: name, op: .relu, outputType: try r.type("output_type"))
    }
}
