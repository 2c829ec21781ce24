// The seam for layer families. A family (convolution, pooling, reshape, ...) is one type that
// conforms to `LayerKind`: its parameters, its shape rule and checks, its exact semantics on
// integer codes, and its native JSON spelling, all in one file under Kinds/. Its hardware is one
// conformance to `KindLowering` in Netlist/Lowering/Kinds/, and an importer maps its source
// layers to it. Nothing else changes when a family is added: the model core, the golden model,
// the writer and the reader reach it through `LayerOp.kind` and `LayerKinds.readers`.
import FixedPoint

/// One layer family.
public protocol LayerKind: Sendable {
    /// The op name in the native model file.
    var opName: String { get }
    /// Checks the parameters against the layer's input and returns the output shape (channels
    /// last). Errors through `c.fail(field, message)`.
    func validate(_ c: KindCheck) throws -> [Int]
    /// Whatever the layer derives once from its input before it evaluates samples (nil: nothing).
    func plan(input: TensorInfo) throws -> (any Sendable)?
    /// The layer on input codes `x`: output codes of `outputType`.
    func evaluate(_ x: [Int128], input: TensorInfo, outputType: FixedType, plan: (any Sendable)?) -> [Int128]
    /// The fields after name and op, before output_type, as the native writer prints them.
    func jsonFields() -> [(String, JSONValue)]
    /// Equality with another kind (for `Model`'s Equatable).
    func isEqual(to other: any LayerKind) -> Bool
    /// Whether the layer may be emitted without a register of its own (wiring, a compare and a mux).
    var mayBeCombinational: Bool { get }
    /// The report's per-layer figures beyond sizes and types (e.g. kernel size, positions).
    func reportDetails(input: TensorInfo) -> [(String, String)]
}

extension LayerKind {
    public func plan(input: TensorInfo) throws -> (any Sendable)? { nil }
    public var mayBeCombinational: Bool { false }
    public func reportDetails(input: TensorInfo) -> [(String, String)] { [] }
}

extension LayerKind where Self: Equatable {
    public func isEqual(to other: any LayerKind) -> Bool { (other as? Self) == self }
}

/// A layer kind in a `LayerOp` (an existential with value equality).
public struct AnyLayerKind: Sendable, Equatable {
    public let base: any LayerKind
    public init(_ base: any LayerKind) { self.base = base }
    public static func == (a: AnyLayerKind, b: AnyLayerKind) -> Bool { a.base.isEqual(to: b.base) }
}

extension LayerOp {
    /// A layer family behind the seam.
    public static func of(_ k: any LayerKind) -> LayerOp { .kind(AnyLayerKind(k)) }
}

/// A layer of a kind under validation: where it is (for error messages) and what flows into it.
public struct KindCheck {
    public let file: String
    /// "layers[i]".
    public let path: String
    public let input: TensorInfo
    public let outputType: FixedType

    public func fail(_ key: String, _ message: String) -> InputError {
        InputError(file: file, field: key.isEmpty ? path : "\(path).\(key)", message: message)
    }

    /// Every code of `codes` lies in `type`'s range.
    public func codesInRange(_ key: String, _ codes: [Int128], _ type: FixedType) throws {
        for (j, c) in codes.enumerated() where c < type.minCode || c > type.maxCode {
            throw fail("\(key)[\(j)]", "code \(c) is outside the range of \(type)")
        }
    }

    /// The input has `rank` spatial dimensions plus channels (channels last).
    public func requireSpatialRank(_ rank: Int, op: String) throws {
        guard input.shape.count == rank + 1 else {
            let want = rank == 1 ? "[steps, channels]" : "[height, width, channels]"
            throw fail("", "a \(op) layer needs an input of shape \(want) (channels last); its input has shape \(input.shape)"
                + (input.shape.count == 1 ? " (give the model input a \"shape\", or add a reshape layer)" : ""))
        }
    }
}

/// The registry of layer kinds the native reader knows: op name -> reader.
public enum LayerKinds {
    public typealias Reader = @Sendable (JSONObjectReader) throws -> any LayerKind
    /// One entry per op name; a new family adds its readers here.
    public static let readers: [String: Reader] = Conv.readers
        .merging(Pool.readers) { a, _ in a }
        .merging(Reshape.readers) { a, _ in a }
        .merging(ZeroPad.readers) { a, _ in a }
        .merging(TreeEnsemble.readers) { a, _ in a }
        .merging(Quantize.readers) { a, _ in a }

    /// Ops whose `output_type` may be left out (then the input's type: pure data movement).
    public static let outputTypeOptional: Set<String> = Reshape.opNames.union(ZeroPad.opNames)
}

/// Spatial padding of a convolution or a pooling window: Keras's `valid` and `same`, or explicit
/// (before, after) amounts per spatial dimension (ONNX `pads`, ZeroPadding folded in).
public enum Padding: Sendable, Equatable {
    case valid
    case same
    case explicit([Int])   // [before_0, after_0, before_1, after_1, ...]

    public var name: String {
        switch self {
        case .valid: return "valid"
        case .same: return "same"
        case .explicit: return "explicit"
        }
    }

    /// Output length and (before, after) padding of one dimension of `n` inputs, a window of
    /// `k`, stride `s` (Keras: `same` gives ceil(n / s) outputs, the odd pixel of padding after).
    public func resolve(dim d: Int, n: Int, k: Int, s: Int) -> (out: Int, before: Int, after: Int)? {
        switch self {
        case .valid:
            guard n >= k else { return nil }
            return ((n - k) / s + 1, 0, 0)
        case .same:
            let out = (n + s - 1) / s
            let total = max((out - 1) * s + k - n, 0)
            return (out, total / 2, total - total / 2)
        case let .explicit(p):
            let b = p[2 * d], a = p[2 * d + 1]
            guard n + b + a >= k else { return nil }
            return ((n + b + a - k) / s + 1, b, a)
        }
    }

    public var json: JSONValue {
        switch self {
        case .valid, .same: return .string(name)
        case let .explicit(p): return .array(p.map { .number(String($0)) })
        }
    }

    static func read(_ r: JSONObjectReader, rank: Int) throws -> Padding {
        guard r.has("padding") else { return .valid }
        switch try r.value("padding") {
        case let .string(s):
            switch s {
            case "valid": return .valid
            case "same": return .same
            default: throw r.fail("padding", "expected \"valid\", \"same\" or an array of \(2 * rank) amounts [before, after, ...], found \"\(s)\"")
            }
        case .array:
            let p = try Shapes.ints(r, "padding", min: 0, max: 4096)
            guard p.count == 2 * rank else { throw r.fail("padding", "expected \(2 * rank) amounts [before, after per spatial dimension], found \(p.count)") }
            return .explicit(p)
        default:
            throw r.fail("padding", "expected \"valid\", \"same\" or an array of amounts")
        }
    }
}

/// Window geometry shared by convolution and pooling: per spatial dimension, the output length
/// and the padding before it.
public struct WindowGeometry: Sendable, Equatable {
    public var inSpatial: [Int]
    public var window: [Int]
    public var strides: [Int]
    public var outSpatial: [Int]
    public var padBefore: [Int]
    public var padAfter: [Int]

    /// A window larger than a padded input dimension.
    public struct TooLarge: Error { public let dimension: Int }

    /// Fails when the window is larger than a padded input dimension.
    public static func make(inSpatial: [Int], window: [Int], strides: [Int], padding: Padding) -> Result<WindowGeometry, TooLarge> {
        var g = WindowGeometry(inSpatial: inSpatial, window: window, strides: strides, outSpatial: [], padBefore: [], padAfter: [])
        for d in inSpatial.indices {
            guard let (o, b, a) = padding.resolve(dim: d, n: inSpatial[d], k: window[d], s: strides[d]) else { return .failure(TooLarge(dimension: d)) }
            g.outSpatial.append(o)
            g.padBefore.append(b)
            g.padAfter.append(a)
        }
        return .success(g)
    }

    public var positions: Int { outSpatial.reduce(1, *) }
    public var windowSize: Int { window.reduce(1, *) }

    /// The spatial index (flat, row-major) of the input cell at window offset `k` (flat,
    /// row-major) of output position `p`, or nil when it lies in the padding.
    public func inputCell(position p: Int, offset k: Int) -> Int? {
        var rest = p, off = k
        var pos = [Int](repeating: 0, count: outSpatial.count), o = pos
        for d in outSpatial.indices.reversed() {
            pos[d] = rest % outSpatial[d]; rest /= outSpatial[d]
            o[d] = off % window[d]; off /= window[d]
        }
        var cell = 0
        for d in outSpatial.indices {
            let i = pos[d] * strides[d] + o[d] - padBefore[d]
            guard i >= 0, i < inSpatial[d] else { return nil }
            cell = cell * inSpatial[d] + i
        }
        return cell
    }
}

/// Small readers for shapes and integer lists.
public enum Shapes {
    public static func ints(_ r: JSONObjectReader, _ key: String, min lower: Int, max upper: Int) throws -> [Int] {
        try r.array(key).enumerated().map { i, v in
            guard case let .number(t) = v, let n = Int(t) else {
                throw InputError(file: r.file, field: "\(r.fieldPath(key))[\(i)]", message: "expected an integer, found \(v.kindName)")
            }
            guard n >= lower, n <= upper else {
                throw InputError(file: r.file, field: "\(r.fieldPath(key))[\(i)]", message: "\(n) is out of range [\(lower), \(upper)]")
            }
            return n
        }
    }

    /// An integer or a list of `rank` integers (Keras allows `3` for `[3, 3]`).
    public static func perDim(_ r: JSONObjectReader, _ key: String, rank: Int, default d: [Int]? = nil, max upper: Int = 4096) throws -> [Int] {
        guard r.has(key) else {
            if let d { return d }
            throw r.fail(key, "missing required field")
        }
        if case .number = try r.value(key) { return [Int](repeating: try r.int(key, min: 1, max: upper), count: rank) }
        let v = try ints(r, key, min: 1, max: upper)
        guard v.count == rank else { throw r.fail(key, "expected \(rank) values (one per spatial dimension), found \(v.count)") }
        return v
    }

    public static func json(_ v: [Int]) -> JSONValue { .array(v.map { .number(String($0)) }) }
}
