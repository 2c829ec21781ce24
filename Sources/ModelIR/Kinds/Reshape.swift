// Data movement without arithmetic: Flatten / Reshape (an order rule: the data is flat in
// row-major channels-last order before and after, so the values pass through unchanged and only
// the shape changes) and ZeroPadding1D/2D (zeros around the spatial dimensions). Their hardware is
// wiring. `output_type` may be left out (the input's type); when given, each value is cast to it.
import FixedPoint

public struct Reshape: LayerKind, Equatable {
    /// The output shape; nil for `flatten` (one dimension).
    public var shape: [Int]?
    public init(shape: [Int]?) { self.shape = shape }

    public var opName: String { shape == nil ? "flatten" : "reshape" }
    public static let opNames: Set<String> = ["flatten", "reshape"]
    public var mayBeCombinational: Bool { true }

    public func validate(_ c: KindCheck) throws -> [Int] {
        guard let s = shape else { return [c.input.size] }
        guard !s.isEmpty, s.allSatisfy({ $0 >= 1 }) else { throw c.fail("shape", "expected positive dimensions, found \(s)") }
        guard s.reduce(1, *) == c.input.size else {
            throw c.fail("shape", "\(s) holds \(s.reduce(1, *)) values; the input \(c.input.shape) has \(c.input.size)")
        }
        return s
    }

    public func evaluate(_ x: [Int128], input: TensorInfo, outputType: FixedType, plan: (any Sendable)?) -> [Int128] {
        x.map { outputType.cast(code: $0, frac: input.type.fracBits) }
    }

    public func jsonFields() -> [(String, JSONValue)] { shape.map { [("shape", Shapes.json($0))] } ?? [] }

    static let readers: [String: LayerKinds.Reader] = [
        "flatten": { r in
            try r.checkKeys(["name", "op", "output_type"])
            return Reshape(shape: nil)
        },
        "reshape": { r in
            try r.checkKeys(["name", "op", "shape", "output_type"])
            return Reshape(shape: try Shapes.ints(r, "shape", min: 1, max: 1_000_000))
        },
    ]
}

public struct ZeroPad: LayerKind, Equatable {
    public var rank: Int
    /// (before, after) per spatial dimension: [top, bottom, left, right] in 2D, [left, right] in 1D.
    public var pads: [Int]
    public init(rank: Int, pads: [Int]) { self.rank = rank; self.pads = pads }

    public var opName: String { "zero_pad\(rank)d" }
    public static let opNames: Set<String> = ["zero_pad1d", "zero_pad2d"]
    public var mayBeCombinational: Bool { true }

    func outSpatial(_ input: TensorInfo) -> [Int] {
        input.spatial.enumerated().map { d, n in n + pads[2 * d] + pads[2 * d + 1] }
    }

    public func validate(_ c: KindCheck) throws -> [Int] {
        try c.requireSpatialRank(rank, op: opName)
        guard pads.count == 2 * rank else { throw c.fail("padding", "expected \(2 * rank) amounts (before, after per spatial dimension)") }
        guard c.input.type.encoding == .plain else { throw c.fail("", "a \(opName) layer needs a fixed-point input, not \(c.input.type)") }
        return outSpatial(c.input) + [c.input.channels]
    }

    /// For each output value, the input value it copies (nil: a zero of the padding).
    public func sources(_ input: TensorInfo) -> [Int?] {
        let os = outSpatial(input)
        let c = input.channels
        var out: [Int?] = []
        let cells = os.reduce(1, *)
        for cell in 0..<cells {
            var rest = cell
            var idx = [Int](repeating: 0, count: os.count)
            for d in os.indices.reversed() { idx[d] = rest % os[d]; rest /= os[d] }
            var src = 0
            var inside = true
            for d in os.indices {
                let i = idx[d] - pads[2 * d]
                if i < 0 || i >= input.spatial[d] { inside = false; break }
                src = src * input.spatial[d] + i
            }
            for ch in 0..<c { out.append(inside ? src * c + ch : nil) }
        }
        return out
    }

    public func evaluate(_ x: [Int128], input: TensorInfo, outputType: FixedType, plan: (any Sendable)?) -> [Int128] {
        sources(input).map { outputType.cast(code: $0.map { x[$0] } ?? 0, frac: input.type.fracBits) }
    }

    public func jsonFields() -> [(String, JSONValue)] { [("padding", Shapes.json(pads))] }

    static func read(_ r: JSONObjectReader, rank: Int) throws -> any LayerKind {
        try r.checkKeys(["name", "op", "padding", "output_type"])
        let p = try Shapes.ints(r, "padding", min: 0, max: 4096)
        return ZeroPad(rank: rank, pads: p)
    }

    static let readers: [String: LayerKinds.Reader] = ["zero_pad1d": { try read($0, rank: 1) }, "zero_pad2d": { try read($0, rank: 2) }]
}
