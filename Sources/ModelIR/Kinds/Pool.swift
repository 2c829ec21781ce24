// Max and average pooling, 1D and 2D, windowed and global (channels last), as hls4ml 1.3's
// pooling1d_cl / pooling2d_cl / global_pooling*_cl compute them. Per output position and
// channel, over the window's cells inside the input (padding cells are ignored, as Keras does):
//
//   max:      m = the largest input; y = cast(m, output_type) (through accum_type when explicit)
//   average:  s = the sum of the n cells (auto: exact; explicit accum_type: each input cast to it,
//             the sum wrapping); q = s / n truncated toward zero on the accumulator's grid (hls4ml:
//             `accum_t y; y += x[i]; y /= n`); y = cast(q, output_type)
//
// `accum_type: auto` is hls4ml's inferred pooling accumulator: the input type for max, and for
// average fixed<W + 2e, I + e> (e = ceil(log2(window size))), which holds every sum exactly.
import FixedPoint

public struct Pool: LayerKind, Equatable {
    public enum Op: String, Sendable { case max, average }
    public var op: Op
    /// Spatial dimensions: 1 or 2.
    public var rank: Int
    /// A global pooling: one window over every position (pool size = the input's spatial shape).
    public var global: Bool
    public var poolSize: [Int]
    public var strides: [Int]
    public var padding: Padding
    /// nil: "auto".
    public var accumType: FixedType?

    public init(op: Op, rank: Int, global: Bool = false, poolSize: [Int] = [], strides: [Int] = [], padding: Padding = .valid,
                accumType: FixedType? = nil) {
        self.op = op
        self.rank = rank
        self.global = global
        // A global pooling's window is the whole input: no size, strides or padding of its own.
        self.poolSize = global ? [] : poolSize
        self.strides = global ? [] : strides
        self.padding = global ? .valid : padding
        self.accumType = accumType
    }

    public var opName: String { (global ? "global_" : "") + (op == .max ? "max" : "avg") + "_pool\(rank)d" }
    public static let opNames: Set<String> = Set(["", "global_"].flatMap { g in ["max", "avg"].flatMap { o in [1, 2].map { "\(g)\(o)_pool\($0)d" } } })

    public var mayBeCombinational: Bool { false }

    public func geometry(_ input: TensorInfo) -> WindowGeometry? {
        let (w, s, p) = global ? (input.spatial, input.spatial, Padding.valid) : (poolSize, strides, padding)
        guard case let .success(g) = WindowGeometry.make(inSpatial: input.spatial, window: w, strides: s, padding: p) else { return nil }
        return g
    }

    /// The accumulator of an average (explicit, or auto as hls4ml infers it); the input type for max.
    public func accumulator(_ input: TensorInfo) -> FixedType {
        if let a = accumType { return a }
        let x = input.type
        guard op == .average else { return x }
        let n = global ? input.spatial.reduce(1, *) : poolSize.reduce(1, *)
        var e = 0
        while (1 << e) < n { e += 1 }
        return FixedType(signed: x.signed, width: x.width + 2 * e, intBits: x.intBits + e)
    }

    public func validate(_ c: KindCheck) throws -> [Int] {
        try c.requireSpatialRank(rank, op: opName)
        if !global {
            guard poolSize.count == rank else { throw c.fail("pool_size", "expected \(rank) values") }
            guard strides.count == rank else { throw c.fail("strides", "expected \(rank) values") }
        }
        let x = c.input.type
        guard x.encoding == .plain else { throw c.fail("", "a \(opName) layer needs a fixed-point input, not \(x)") }
        if let a = accumType {
            guard a.encoding == .plain else { throw c.fail("accum_type", "\(a) cannot be an accumulator type; use a fixed-point type or \"auto\"") }
            if op == .average, a.overflow != .WRAP {
                throw c.fail("accum_type", "an explicit accumulator with overflow mode \(a.overflow.rawValue) is not supported: a saturating sum depends on the order of additions; use WRAP or \"auto\"")
            }
            guard a.width <= 120, a.fracBits - x.fracBits <= 100 else { throw c.fail("accum_type", "unsupported width \(a)") }
        }
        // An average divides by a constant reciprocal in 128-bit arithmetic: at most 48-bit sums.
        let limit = op == .average ? 48 : 120
        guard accumulator(c.input).width <= limit else {
            throw c.fail(accumType == nil ? "" : "accum_type", "unsupported width: the \(opName) accumulator \(accumulator(c.input)) is wider than \(limit) bits")
        }
        guard let g = geometry(c.input) else {
            throw c.fail("pool_size", "the pool window \(poolSize) is larger than the \(padding.name)-padded input \(c.input.spatial)")
        }
        return (global ? [] : g.outSpatial) + [c.input.channels]
    }

    public func plan(input: TensorInfo) throws -> (any Sendable)? { geometry(input) }

    /// The input cells (flat spatial indices) of output position `p`, padding left out.
    public static func cells(_ g: WindowGeometry, position p: Int) -> [Int] {
        (0..<g.windowSize).compactMap { g.inputCell(position: p, offset: $0) }
    }

    public func evaluate(_ x: [Int128], input: TensorInfo, outputType: FixedType, plan: (any Sendable)?) -> [Int128] {
        let g = (plan as? WindowGeometry) ?? geometry(input)!
        let c = input.channels
        let xf = input.type.fracBits
        let acc = accumulator(input)
        var y: [Int128] = []
        y.reserveCapacity(g.positions * c)
        for p in 0..<g.positions {
            let cells = Self.cells(g, position: p)
            for ch in 0..<c {
                let v = cells.map { x[$0 * c + ch] }
                switch op {
                case .max:
                    let m = v.max()!
                    if let a = accumType {
                        y.append(outputType.cast(code: a.cast(code: m, frac: xf), frac: a.fracBits))
                    } else {
                        y.append(outputType.cast(code: m, frac: xf))
                    }
                case .average:
                    let q = Self.average(v, inputFrac: xf, accum: acc, explicit: accumType != nil)
                    y.append(outputType.cast(code: q, frac: acc.fracBits))
                }
            }
        }
        return y
    }

    /// The average's code on the accumulator's grid: the sum (exact, or each term cast to the
    /// accumulator and wrapped) divided by the count, truncated toward zero.
    public static func average(_ v: [Int128], inputFrac: Int, accum a: FixedType, explicit: Bool) -> Int128 {
        var s: Int128 = 0
        if explicit {
            for t in v { s = a.wrapCode(s &+ a.cast(code: t, frac: inputFrac)) }
        } else {
            for t in v { s += t << (a.fracBits - inputFrac) }
        }
        return s / Int128(v.count)
    }

    public func jsonFields() -> [(String, JSONValue)] {
        var f: [(String, JSONValue)] = []
        if !global {
            f = [("pool_size", Shapes.json(poolSize)), ("strides", Shapes.json(strides)), ("padding", padding.json)]
        }
        f.append(("accum_type", .string(accumType?.description ?? "auto")))
        return f
    }

    public func reportDetails(input: TensorInfo) -> [(String, String)] {
        guard let g = geometry(input) else { return [] }
        return [("window", g.window.map(String.init).joined(separator: "x")), ("positions", String(g.positions)),
                ("accumulator", accumulator(input).description)]
    }

    static func read(_ r: JSONObjectReader, op: Op, rank: Int, global: Bool) throws -> any LayerKind {
        var accum: FixedType? = nil
        if r.has("accum_type"), try r.string("accum_type") != "auto" { accum = try r.type("accum_type") }
        if global {
            try r.checkKeys(["name", "op", "accum_type", "output_type"])
            return Pool(op: op, rank: rank, global: true, accumType: accum)
        }
        try r.checkKeys(["name", "op", "pool_size", "strides", "padding", "accum_type", "output_type"])
        let ps = try Shapes.perDim(r, "pool_size", rank: rank, default: [Int](repeating: 2, count: rank))
        let st = try Shapes.perDim(r, "strides", rank: rank, default: ps)
        return Pool(op: op, rank: rank, poolSize: ps, strides: st, padding: try Padding.read(r, rank: rank), accumType: accum)
    }

    static let readers: [String: LayerKinds.Reader] = {
        var m: [String: LayerKinds.Reader] = [:]
        for global in [false, true] {
            for op in [Op.max, .average] {
                for rank in [1, 2] {
                    let p = Pool(op: op, rank: rank, global: global)
                    m[p.opName] = { try read($0, op: op, rank: rank, global: global) }
                }
            }
        }
        return m
    }()
}
