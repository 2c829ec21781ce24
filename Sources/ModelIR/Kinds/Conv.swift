// Conv1D / Conv2D (channels last), as Keras defines them and hls4ml 1.3's io_parallel computes
// them: every output position is a dense layer applied to its window. For position p and filter f,
//
//     acc = bias[f] + sum over the window's cells c inside the input and channels i of
//           x[c][i] * kernel[offset(c)][i][f]
//     y[p][f] = cast(acc, output_type)
//
// with exactly a dense layer's arithmetic (`Dense.evaluate`): `accum_type: auto` is exact; an
// explicit accumulator takes each full product and the bias cast to it and wraps. Cells of the
// padding hold zero (their products vanish, in hls4ml as here). The output is flat in
// channels-last order: position-major (row-major over the output's spatial dimensions), then filter.
import FixedPoint

public struct Conv: LayerKind, Equatable {
    /// Spatial dimensions: 1 (Conv1D) or 2 (Conv2D).
    public var rank: Int
    public var filters: Int
    public var kernelSize: [Int]
    public var strides: [Int]
    public var padding: Padding
    public var kernelType: FixedType
    public var biasType: FixedType
    /// nil: "auto" (exact).
    public var accumType: FixedType?
    /// Codes of `kernelType`, flat in Keras order (kernel dims..., input channels, filters).
    public var kernel: [Int128]
    /// Codes of `biasType`, one per filter.
    public var bias: [Int128]

    public init(rank: Int, filters: Int, kernelSize: [Int], strides: [Int], padding: Padding, kernelType: FixedType,
                biasType: FixedType, accumType: FixedType?, kernel: [Int128], bias: [Int128]) {
        self.rank = rank
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.kernelType = kernelType
        self.biasType = biasType
        self.accumType = accumType
        self.kernel = kernel
        self.bias = bias
    }

    public var opName: String { "conv\(rank)d" }
    public static let opNames: Set<String> = ["conv1d", "conv2d"]

    /// The dense layer of one window: rows in window order (offset-major, then input channel),
    /// one column per filter.
    public func windowDense(channels: Int) -> Dense {
        let rows = kernelSize.reduce(1, *) * channels
        let k = (0..<rows).map { r in Array(kernel[(r * filters)..<((r + 1) * filters)]) }
        return Dense(units: filters, kernelType: kernelType, biasType: biasType, accumType: accumType, kernel: k, bias: bias)
    }

    public func geometry(_ input: TensorInfo) -> WindowGeometry? {
        guard case let .success(g) = WindowGeometry.make(inSpatial: input.spatial, window: kernelSize, strides: strides, padding: padding) else { return nil }
        return g
    }

    /// The whole layer as one (sparse) dense layer over the flat input: column p * filters + f
    /// holds position p's window weights of filter f on the rows of the input cells it reads.
    /// The same arithmetic as `evaluate` (zero weights add nothing, in either accumulator).
    public func unrolledDense(_ input: TensorInfo) -> Dense {
        let g = geometry(input)!
        let c = input.channels
        let nOut = g.positions * filters
        var k = [[Int128]](repeating: [Int128](repeating: 0, count: nOut), count: input.size)
        for p in 0..<g.positions {
            for off in 0..<g.windowSize {
                guard let cell = g.inputCell(position: p, offset: off) else { continue }
                for i in 0..<c {
                    for f in 0..<filters { k[cell * c + i][p * filters + f] = kernel[((off * c) + i) * filters + f] }
                }
            }
        }
        return Dense(units: nOut, kernelType: kernelType, biasType: biasType, accumType: accumType, kernel: k,
                     bias: (0..<g.positions).flatMap { _ in bias })
    }

    public func validate(_ c: KindCheck) throws -> [Int] {
        try c.requireSpatialRank(rank, op: opName)
        guard (1...65536).contains(filters) else { throw c.fail("filters", "\(filters) is out of range [1, 65536]") }
        guard kernelSize.count == rank else { throw c.fail("kernel_size", "expected \(rank) values") }
        guard strides.count == rank else { throw c.fail("strides", "expected \(rank) values") }
        let ch = c.input.channels
        let expected = kernelSize.reduce(1, *) * ch * filters
        guard kernel.count == expected else {
            throw c.fail("kernel", "expected \(kernelSize.map(String.init).joined(separator: " x ")) x \(ch) x \(filters) values (kernel size x input channels x filters, Keras layout), found \(kernel.count)")
        }
        try c.codesInRange("kernel", kernel, kernelType)
        guard bias.count == filters else { throw c.fail("bias", "expected \(filters) values (one per filter), found \(bias.count)") }
        try c.codesInRange("bias", bias, biasType)
        guard case let .success(g) = WindowGeometry.make(inSpatial: c.input.spatial, window: kernelSize, strides: strides, padding: padding) else {
            throw c.fail("kernel_size", "the kernel \(kernelSize) is larger than the \(padding.name)-padded input \(c.input.spatial)")
        }
        // The accumulator rules and width plan of the window's dense layer.
        let check = LayerCheck(file: c.file, path: c.path, nIn: kernelSize.reduce(1, *) * ch, inType: c.input.type)
        try check.dense(windowDense(channels: ch))
        if c.input.type.encoding != .plain { throw c.fail("", "a \(opName) layer needs a fixed-point input, not \(c.input.type)") }
        let outBits = g.positions * filters * c.outputType.width
        guard outBits <= 1 << 20 else { throw c.fail("", "unsupported: the output bus would exceed 2^20 bits") }
        return g.outSpatial + [filters]
    }

    public func plan(input: TensorInfo) throws -> (any Sendable)? {
        let d = windowDense(channels: input.channels)
        return ConvPlan(dense: d, plan: try DensePlan(dense: d, inputType: input.type), geometry: geometry(input)!)
    }

    public func evaluate(_ x: [Int128], input: TensorInfo, outputType: FixedType, plan: (any Sendable)?) -> [Int128] {
        let p = (plan as? ConvPlan) ?? (try! self.plan(input: input) as! ConvPlan)
        let g = p.geometry
        let c = input.channels
        var y: [Int128] = []
        y.reserveCapacity(g.positions * filters)
        var window = [Int128](repeating: 0, count: g.windowSize * c)
        for pos in 0..<g.positions {
            for off in 0..<g.windowSize {
                let cell = g.inputCell(position: pos, offset: off)
                for i in 0..<c { window[off * c + i] = cell.map { x[$0 * c + i] } ?? 0 }
            }
            y.append(contentsOf: p.dense.evaluate(plan: p.plan, x: window, outputType: outputType))
        }
        return y
    }

    public func jsonFields() -> [(String, JSONValue)] {
        // The kernel nested in Keras layout: [k0]([k1])[in channel][filter].
        let inner = filters
        let rows = kernel.count / max(inner, 1)
        let perRow: [JSONValue] = (0..<rows).map { r in .array(kernel[(r * inner)..<((r + 1) * inner)].map { .number(kernelType.decimalString($0)) }) }
        let ch = rows / max(kernelSize.reduce(1, *), 1)
        var nested: [JSONValue] = stride(from: 0, to: perRow.count, by: max(ch, 1)).map { .array(Array(perRow[$0..<min($0 + ch, perRow.count)])) }
        if rank == 2 {
            let kw = kernelSize[1]
            nested = stride(from: 0, to: nested.count, by: kw).map { .array(Array(nested[$0..<min($0 + kw, nested.count)])) }
        }
        return [("filters", .number(String(filters))), ("kernel_size", Shapes.json(kernelSize)), ("strides", Shapes.json(strides)),
                ("padding", padding.json), ("kernel", .array(nested)),
                ("bias", .array(bias.map { .number(biasType.decimalString($0)) })),
                ("kernel_type", .string(kernelType.description)), ("bias_type", .string(biasType.description)),
                ("accum_type", .string(accumType?.description ?? "auto"))]
    }

    public func reportDetails(input: TensorInfo) -> [(String, String)] {
        guard let g = geometry(input) else { return [] }
        return [("kernel_size", kernelSize.map(String.init).joined(separator: "x")), ("strides", strides.map(String.init).joined(separator: "x")),
                ("padding", padding.name), ("output_positions", String(g.positions))]
    }

    static func read(_ r: JSONObjectReader, rank: Int) throws -> any LayerKind {
        try r.checkKeys(["name", "op", "filters", "kernel_size", "strides", "padding", "kernel", "bias", "kernel_type", "bias_type", "accum_type", "output_type"])
        let filters = try r.int("filters", min: 1, max: 65536)
        let ks = try Shapes.perDim(r, "kernel_size", rank: rank)
        let st = try Shapes.perDim(r, "strides", rank: rank, default: [Int](repeating: 1, count: rank))
        let pad = try Padding.read(r, rank: rank)
        let kt = try r.type("kernel_type")
        let bt = r.has("bias_type") ? try r.type("bias_type") : kt
        var accum: FixedType? = nil
        if r.has("accum_type"), try r.string("accum_type") != "auto" { accum = try r.type("accum_type") }
        // The nested kernel, flattened in order; its shape is checked here, its length by validate.
        var flat: [Int128] = []
        func walk(_ v: JSONValue, _ field: String, depth: Int) throws {
            if depth == rank + 2 {
                flat.append(try r.quantizeNumber(v, type: kt, field: field))
                return
            }
            guard case let .array(a) = v else {
                throw InputError(file: r.file, field: field, message: "expected a nested array of depth \(rank + 2) (Keras layout: kernel size x input channels x filters), found \(v.kindName)")
            }
            let want = depth < rank ? ks[depth] : (depth == rank + 1 ? filters : nil)
            if let want, a.count != want {
                throw InputError(file: r.file, field: field, message: "expected \(want) entries, found \(a.count)")
            }
            for (i, e) in a.enumerated() { try walk(e, "\(field)[\(i)]", depth: depth + 1) }
        }
        try walk(try r.value("kernel"), r.fieldPath("kernel"), depth: 0)
        let bias = r.has("bias") ? try r.codes("bias", type: bt) : [Int128](repeating: 0, count: filters)
        return Conv(rank: rank, filters: filters, kernelSize: ks, strides: st, padding: pad, kernelType: kt, biasType: bt,
                    accumType: accum, kernel: flat, bias: bias)
    }

    static let readers: [String: LayerKinds.Reader] = ["conv1d": { try read($0, rank: 1) }, "conv2d": { try read($0, rank: 2) }]
}

/// What a convolution derives once: the window's dense layer and its plan, the geometry.
public struct ConvPlan: Sendable {
    public let dense: Dense
    public let plan: DensePlan
    public let geometry: WindowGeometry
}
