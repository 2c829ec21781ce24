// Per-element quantization: each value of the input is cast to its own fixed-point type (its own
// width, integer bits, rounding and overflow), then, losslessly when the types fit, to the
// layer's `output_type`. This is how heterogeneous-precision models (HGQ2: every activation with
// its own bit width) are held exactly: the layer's output type is one type wide enough for every
// element's type, and each element carries its own quantization step. An element whose type is
// `null` has no bit at all and is the constant 0 (HGQ2's k + i + f <= 0).
//
//   {"name": "fc2_iq", "op": "quantize", "types": ["ufixed<5,2,RND>", "fixed<7,3,RND>", null, ...],
//    "output_type": "fixed<9,4>"}
//
// y[j] = cast(cast(x[j], types[j]), output_type). Its hardware is one cast per element (wiring,
// a rounding increment and an overflow check).
import FixedPoint

public struct Quantize: LayerKind, Equatable {
    /// One type per input value (nil: the constant 0).
    public var types: [FixedType?]
    public init(types: [FixedType?]) { self.types = types }

    public var opName: String { "quantize" }
    public static let opNames: Set<String> = ["quantize"]
    public var mayBeCombinational: Bool { true }

    public func validate(_ c: KindCheck) throws -> [Int] {
        guard c.input.type.encoding == .plain else { throw c.fail("", "a quantize layer needs a fixed-point input, not \(c.input.type)") }
        guard c.outputType.encoding == .plain else { throw c.fail("output_type", "a quantize layer outputs a fixed-point type, not \(c.outputType)") }
        guard types.count == c.input.size else {
            throw c.fail("types", "expected \(c.input.size) types (one per input value), found \(types.count)")
        }
        for (j, t) in types.enumerated() {
            if let t, t.encoding != .plain { throw c.fail("types[\(j)]", "expected a fixed-point type or null, found \(t)") }
        }
        return c.input.shape
    }

    /// The value `x` (a code of `inputType`) through element j's type, as a code of `outputType`.
    @inlinable
    public func element(_ j: Int, _ x: Int128, inputFrac: Int, outputType: FixedType) -> Int128 {
        guard let t = types[j] else { return 0 }
        return outputType.cast(code: t.cast(code: x, frac: inputFrac), frac: t.fracBits)
    }

    public func evaluate(_ x: [Int128], input: TensorInfo, outputType: FixedType, plan: (any Sendable)?) -> [Int128] {
        x.indices.map { element($0, x[$0], inputFrac: input.type.fracBits, outputType: outputType) }
    }

    public func jsonFields() -> [(String, JSONValue)] {
        [("types", .array(types.map { $0.map { .string($0.description) } ?? .null }))]
    }

    public func reportDetails(input: TensorInfo) -> [(String, String)] {
        let distinct = Set(types.map { $0?.description ?? "null" })
        return [("element types", "\(distinct.count) distinct"), ("zero elements", "\(types.filter { $0 == nil }.count)")]
    }

    /// The smallest type that holds every value of every type in `types` exactly (nil types give
    /// 0); nil when `types` holds no bit at all or the union would need more than 120 bits.
    public static func union(_ types: [FixedType?]) -> FixedType? {
        let ts = types.compactMap { $0 }
        guard let f = ts.map(\.fracBits).max() else { return nil }
        var lo: Int128 = 0, hi: Int128 = 0
        for t in ts {
            let s = f - t.fracBits
            guard s + t.width <= 120 else { return nil }
            lo = min(lo, t.minCode << s)
            hi = max(hi, t.maxCode << s)
        }
        let r = CodeRange(lo, hi)
        let signed = lo < 0
        let w = signed ? r.signedWidth : r.unsignedWidth
        return FixedType(signed: signed, width: w, intBits: w - f)
    }

    static let readers: [String: LayerKinds.Reader] = [
        "quantize": { r in
            try r.checkKeys(["name", "op", "types", "output_type"])
            let ts: [FixedType?] = try r.array("types").enumerated().map { j, v in
                switch v {
                case .null: return nil
                case let .string(s):
                    do { return try FixedType.parse(s) } catch let e as TypeParseError {
                        throw InputError(file: r.file, field: "\(r.fieldPath("types"))[\(j)]", message: e.description)
                    }
                default:
                    throw InputError(file: r.file, field: "\(r.fieldPath("types"))[\(j)]", message: "expected a type string or null, found \(v.kindName)")
                }
            }
            return Quantize(types: ts)
        },
    ]
}
