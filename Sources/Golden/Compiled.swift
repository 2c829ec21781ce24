// The golden model compiled once into a flat evaluation plan on 64-bit integers, for
// `rtlgen predict` over millions of samples. Every step is derived from the exact semantics
// (ModelIR/Semantics) of its layer: a dense layer uses its DensePlan's grids and exact
// accumulator ranges (so a 64-bit sum provably cannot overflow), an element-wise op with a small
// input type becomes a table filled by the layer's own `evaluate` (a linear one on a wider type a
// cast), a standalone batchnorm a per-channel scale and shift on its channels' dense plans, and
// every layer the plan has no 64-bit step for (softmax, multi_threshold, wide activations) runs
// through `Layer.evaluate` itself. A model with any type wider than 62 bits is not compiled (nil): the
// caller uses GoldenModel. Tests compare every output with GoldenModel on the examples and on
// random models.
import FixedPoint
import ModelIR

public struct CompiledModel: Sendable {
    public let inputSize: Int
    public let outputSize: Int
    let ops: [Op]
    let flat: FlatConstants
    let exactSteps: [(Layer, LayerPlan, FixedType)]
    /// Largest vector between steps.
    let maxWidth: Int
    /// How many layers run through `Layer.evaluate` (for tests and reports).
    public let exactLayers: Int

    enum Step: Sendable {
        /// Auto accumulator: acc_j = bias_j + sum_i x_i * kernel[i * nOut + j] (pre-aligned), cast.
        case dense(nIn: Int, nOut: Int, kernel: [Int64], bias: [Int64], cast: Cast64)
        /// Explicit accumulator: each product cast to it (`product`, whose `wrap` is accum_type's),
        /// summed with wrap, then cast out. `kernelT` is [j * nIn + i].
        case denseExplicit(nIn: Int, nOut: Int, kernelT: [Int64], bias: [Int64], product: Cast64, wrap: Cast64, cast: Cast64)
        /// y = cast(max(x, 0)).
        case relu(Cast64)
        /// y = cast(x) (a linear activation on a type too wide for a table).
        case cast(Cast64)
        /// y_j = cast(x_j * scale_j + bias_j), pre-aligned (a standalone batchnorm).
        case scaleShift(scale: [Int64], bias: [Int64], cast: Cast64)
        /// y = table[x - lo].
        case table(lo: Int64, entries: [Int64])
        case sign
        /// y_j = +1 if x_j >= t_j (geq) or x_j <= t_j, else -1.
        case threshold(codes: [Int64], geq: [Bool])
        /// The layer's own exact evaluation.
        case exact(Layer, LayerPlan, FixedType)
    }

    /// nil when a type of the model is wider than 62 bits (use GoldenModel).
    public init?(_ g: GoldenModel) {
        let model = g.model
        guard model.input.type.width <= 62 else { return nil }
        var steps: [Step] = []
        var maxWidth = model.input.size
        var exact = 0
        for (i, layer) in model.layers.enumerated() {
            let (n, t) = model.inputOf(layer: i)
            guard layer.outputType.width <= 62 else { return nil }
            maxWidth = max(maxWidth, layer.outputSize)
            if let s = CompiledModel.step(layer, inputSize: n, inputType: t, plan: g.plans[i]) {
                steps.append(s)
            } else {
                steps.append(.exact(layer, g.plans[i], t))
                exact += 1
            }
        }
        var ints: [Int64] = []
        var ops: [Op] = []
        var exactSteps: [(Layer, LayerPlan, FixedType)] = []
        func put(_ v: [Int64]) -> Int { ints.append(contentsOf: v); return ints.count - v.count }
        for step in steps {
            switch step {
            case let .dense(nIn, nOut, kernel, bias, cast):
                ops.append(Op(kind: .dense, nIn: nIn, nOut: nOut, k: put(kernel), b: put(bias), cast: cast))
            case let .denseExplicit(nIn, nOut, kernelT, bias, product, _, cast):
                ops.append(Op(kind: .denseExplicit, nIn: nIn, nOut: nOut, k: put(kernelT), b: put(bias), cast: cast, product: product))
            case let .relu(c):
                ops.append(Op(kind: .relu, cast: c))
            case let .cast(c):
                ops.append(Op(kind: .cast, cast: c))
            case let .scaleShift(scale, bias, c):
                ops.append(Op(kind: .scaleShift, k: put(scale), b: put(bias), cast: c))
            case let .table(lo, entries):
                ops.append(Op(kind: .table, k: put(entries), b: put([lo])))
            case .sign:
                ops.append(Op(kind: .sign))
            case let .threshold(codes, geq):
                ops.append(Op(kind: .threshold, k: put(codes), b: put(geq.map { $0 ? 1 : 0 })))
            case let .exact(l, p, t):
                exactSteps.append((l, p, t))
                ops.append(Op(kind: .exact, k: exactSteps.count - 1))
            }
        }
        self.ops = ops
        self.flat = FlatConstants(ints)
        self.exactSteps = exactSteps
        self.maxWidth = maxWidth
        inputSize = model.input.size
        outputSize = model.outputSize
        exactLayers = exact
    }

    static func step(_ layer: Layer, inputSize n: Int, inputType t: FixedType, plan: LayerPlan) -> Step? {
        let out = layer.outputType
        switch layer.op {
        case let .dense(d):
            guard case let .dense(p) = plan else { return nil }
            return dense(d, p, inputType: t, outputType: out)
        case .relu:
            guard let c = Cast64(to: out, srcFrac: t.fracBits, lo: 0, hi: max(t.maxCode, 0)) else { return nil }
            return .relu(c)
        case let .activation(a):
            if let s = table(layer, inputType: t, plan: plan) { return s }
            if case .linear = a, let c = Cast64(to: out, srcFrac: t.fracBits, lo: t.minCode, hi: t.maxCode) { return .cast(c) }
            return nil
        case let .binary(b):
            switch b {
            case let .binaryDense(bd), let .ternaryDense(bd):
                // The exact sum of +-x, cast from the input grid: a dense layer with weights
                // -1/0/+1, no bias, aligned as given.
                let xMag = max(t.minCode.magnitude, t.maxCode.magnitude)
                let (bound, o) = xMag.multipliedReportingOverflow(by: UInt128(max(bd.inputs, 1)))
                guard !o, bound < UInt128(1) << 62,
                      let c = Cast64(to: out, srcFrac: t.fracBits, lo: -Int128(bound), hi: Int128(bound)) else { return nil }
                var k = [Int64](repeating: 0, count: bd.inputs * bd.units)
                for i in 0..<bd.inputs { for j in 0..<bd.units { k[i * bd.units + j] = Int64(bd.kernel[i][j]) } }
                return .dense(nIn: bd.inputs, nOut: bd.units, kernel: k, bias: [Int64](repeating: 0, count: bd.units), cast: c)
            case .sign:
                return .sign
            case let .batchnorm(bn):
                return scaleShift(bn, inputType: t, outputType: out)
            case let .threshold(th):
                let limit = Int128(1) << 62
                guard th.rules.allSatisfy({ $0.code >= -limit && $0.code < limit }) else { return nil }
                return .threshold(codes: th.rules.map { Int64($0.code) }, geq: th.rules.map(\.geq))
            case .ternaryTanh:
                return table(layer, inputType: t, plan: plan)
            default:
                return nil
            }
        case .softmax:
            return nil
        case let .kind(k):
            // A convolution as its unrolled (sparse) dense layer: the same arithmetic; a reshape
            // as a cast. Other kinds, and convolutions too large to unroll, run exactly.
            guard case let .kind(info, _) = plan else { return nil }
            if let conv = k.base as? Conv, info.size * layer.outputSize <= 1 << 22 {
                let u = conv.unrolledDense(info)
                guard let p = try? DensePlan(dense: u, inputType: t) else { return nil }
                return dense(u, p, inputType: t, outputType: out)
            }
            if k.base is Reshape, let c = Cast64(to: out, srcFrac: t.fracBits, lo: t.minCode, hi: t.maxCode) { return .cast(c) }
            return nil
        }
    }

    /// An element-wise op on a small input type: its output for every input code, from the
    /// layer's own evaluation.
    static func table(_ layer: Layer, inputType t: FixedType, plan: LayerPlan) -> Step? {
        let lo = t.minCode, hi = t.maxCode
        guard hi - lo < 1 << 16 else { return nil }
        var entries: [Int64] = []
        entries.reserveCapacity(Int(hi - lo) + 1)
        var c = lo
        while c <= hi {
            entries.append(Int64(layer.evaluate([c], inputType: t, plan: plan)[0]))
            c += 1
        }
        return .table(lo: Int64(lo), entries: entries)
    }

    /// A standalone batchnorm: channel j is the 1 x 1 dense layer `channelDense(j)`; compiled when
    /// every channel's plan puts the sum on the same grid with the same alignment (the same types
    /// give the same plan shape), the cast then built over the union of the channels' ranges.
    static func scaleShift(_ bn: BatchNorm, inputType t: FixedType, outputType out: FixedType) -> Step? {
        guard t.width <= 62, !bn.scale.isEmpty, bn.scaleType != nil, bn.biasType != nil else { return nil }
        var scale: [Int64] = [], bias: [Int64] = []
        var lo = Int128.max, hi = Int128.min
        var shape: (Int, Int, Int)?
        for j in bn.scale.indices {
            let d = bn.channelDense(j)
            guard let p = try? DensePlan(dense: d, inputType: t), p.accumType == nil, let r = p.accRanges.first else { return nil }
            let here = (p.accFrac, p.productShift, p.biasShift)
            if let s0 = shape, s0 != here { return nil }
            shape = here
            lo = min(lo, r.lo)
            hi = max(hi, r.hi)
            scale.append(Int64(truncatingIfNeeded: d.kernel[0][0] << p.productShift))
            bias.append(Int64(truncatingIfNeeded: d.bias[0] << p.biasShift))
        }
        guard let (accFrac, _, _) = shape, let c = Cast64(to: out, srcFrac: accFrac, lo: lo, hi: hi) else { return nil }
        return .scaleShift(scale: scale, bias: bias, cast: c)
    }

    static func dense(_ d: Dense, _ p: DensePlan, inputType t: FixedType, outputType out: FixedType) -> Step? {
        let limit = Int128(1) << 62
        let nIn = d.inputs, nOut = d.units
        if let a = p.accumType {
            // Every full product exact in 62 bits; the cast to accum_type from the product grid.
            let xMag = max(t.minCode.magnitude, t.maxCode.magnitude)
            let wMag = max(d.kernelType.minCode.magnitude, d.kernelType.maxCode.magnitude)
            let (pm, o) = xMag.multipliedReportingOverflow(by: wMag)
            guard !o, pm < UInt128(limit), a.width <= 62,
                  let product = Cast64(to: a, srcFrac: p.productFrac, lo: -Int128(pm), hi: Int128(pm)),
                  let wrap = Cast64(to: a, srcFrac: a.fracBits, lo: a.minCode, hi: a.maxCode),
                  let cast = Cast64(to: out, srcFrac: a.fracBits, lo: a.minCode, hi: a.maxCode) else { return nil }
            var kt = [Int64](repeating: 0, count: nIn * nOut)
            for i in 0..<nIn { for j in 0..<nOut { kt[j * nIn + i] = Int64(d.kernel[i][j]) } }
            let bias = (0..<nOut).map { Int64(a.cast(code: d.bias[$0], frac: d.biasType.fracBits)) }
            return .denseExplicit(nIn: nIn, nOut: nOut, kernelT: kt, bias: bias, product: product, wrap: wrap, cast: cast)
        }
        // Auto: the exact sum's range is known per output; when it fits 62 bits, the sum computed
        // modulo 2^64 (wrapping adds and multiplies of pre-shifted terms) is the exact sum.
        guard t.width <= 62, !p.accRanges.isEmpty || nOut == 0 else { return nil }
        let lo = p.accRanges.map(\.lo).min() ?? 0, hi = p.accRanges.map(\.hi).max() ?? 0
        guard let cast = Cast64(to: out, srcFrac: p.accFrac, lo: lo, hi: hi) else { return nil }
        var k = [Int64](repeating: 0, count: nIn * nOut)
        for i in 0..<nIn {
            for j in 0..<nOut { k[i * nOut + j] = Int64(truncatingIfNeeded: d.kernel[i][j] << p.productShift) }
        }
        let bias = d.bias.map { Int64(truncatingIfNeeded: $0 << p.biasShift) }
        return .dense(nIn: nIn, nOut: nOut, kernel: k, bias: bias, cast: cast)
    }

    /// Scratch space of one evaluating thread.
    public struct Scratch {
        var a: [Int64]
        var b: [Int64]
        var acc: [Int64]
        public init(_ m: CompiledModel) {
            a = [Int64](repeating: 0, count: m.maxWidth)
            b = a
            acc = a
        }
    }

    /// Evaluates one sample: `x` holds `inputSize` input codes, `y` receives `outputSize` output
    /// codes of the model's output type.
    public func evaluate(_ x: UnsafePointer<Int64>, _ y: UnsafeMutablePointer<Int64>, scratch s: inout Scratch) {
        s.a.withUnsafeMutableBufferPointer { a in
            s.b.withUnsafeMutableBufferPointer { b in
                s.acc.withUnsafeMutableBufferPointer { acc in
                    var cur = a.baseAddress!, nxt = b.baseAddress!
                    cur.update(from: x, count: inputSize)
                    var n = inputSize
                    let ints = flat.ints
                    ops.withUnsafeBufferPointer { ops in
                        for op in ops {
                            n = run(op, ints, cur, n, nxt, acc.baseAddress!)
                            swap(&cur, &nxt)
                        }
                    }
                    y.update(from: cur, count: outputSize)
                }
            }
        }
    }

    /// One step from `x` (n values) into `y`; returns the output count.
    @inline(__always)
    func run(_ op: Op, _ ints: UnsafeMutablePointer<Int64>, _ x: UnsafeMutablePointer<Int64>, _ n: Int,
             _ y: UnsafeMutablePointer<Int64>, _ acc: UnsafeMutablePointer<Int64>) -> Int {
        switch op.kind {
        case .dense:
            let nIn = op.nIn, nOut = op.nOut
            let bias = ints + op.b
            for j in 0..<nOut { acc[j] = bias[j] }
            for i in 0..<nIn {
                let xi = x[i]
                if xi == 0 { continue }
                let row = ints + op.k + i * nOut
                for j in 0..<nOut { acc[j] &+= xi &* row[j] }
            }
            for j in 0..<nOut { y[j] = op.cast.apply(acc[j]) }
            return nOut
        case .denseExplicit:
            let nIn = op.nIn, nOut = op.nOut
            for j in 0..<nOut {
                var a = ints[op.b + j]
                let col = ints + op.k + j * nIn
                for i in 0..<nIn {
                    let w = col[i]
                    if w == 0 { continue }
                    a &+= op.product.apply(x[i] * w)
                }
                y[j] = op.cast.apply(op.product.wrap(a))
            }
            return nOut
        case .relu:
            for i in 0..<n { y[i] = op.cast.apply(x[i] > 0 ? x[i] : 0) }
            return n
        case .cast:
            for i in 0..<n { y[i] = op.cast.apply(x[i]) }
            return n
        case .scaleShift:
            let k = ints + op.k, b = ints + op.b
            for i in 0..<n { y[i] = op.cast.apply(x[i] &* k[i] &+ b[i]) }
            return n
        case .table:
            let e = ints + op.k
            let lo = ints[op.b]
            for i in 0..<n { y[i] = e[Int(x[i] &- lo)] }
            return n
        case .sign:
            for i in 0..<n { y[i] = x[i] >= 0 ? 1 : -1 }
            return n
        case .threshold:
            let codes = ints + op.k, geq = ints + op.b
            for i in 0..<n { y[i] = (geq[i] != 0 ? x[i] >= codes[i] : x[i] <= codes[i]) ? 1 : -1 }
            return n
        case .exact:
            let (layer, plan, t) = exactSteps[op.k]
            let xs = (0..<n).map { Int128(x[$0]) }
            let ys = layer.evaluate(xs, inputType: t, plan: plan)
            for (i, v) in ys.enumerated() { y[i] = Int64(v) }
            return ys.count
        }
    }
}

/// One step of the flat plan (a class: read in place by every sample, never copied), its
/// constants at offsets into one Int64 array.
final class Op: Sendable {
    enum Kind: Sendable { case dense, denseExplicit, relu, cast, scaleShift, table, sign, threshold, exact }
    let kind: Kind
    let nIn: Int
    let nOut: Int
    /// Offsets into the constants: kernel / table / threshold codes, and bias / table low end /
    /// threshold directions (exact: `k` indexes the exact steps).
    let k: Int
    let b: Int
    let cast: Cast64
    /// denseExplicit: the product cast to accum_type (its `wrap` wraps the sum).
    let product: Cast64

    init(kind: Kind, nIn: Int = 0, nOut: Int = 0, k: Int = 0, b: Int = 0, cast: Cast64 = .identity, product: Cast64 = .identity) {
        self.kind = kind
        self.nIn = nIn
        self.nOut = nOut
        self.k = k
        self.b = b
        self.cast = cast
        self.product = product
    }
}

/// The constants of a compiled model, read-only once built (shared by every thread).
final class FlatConstants: @unchecked Sendable {
    let ints: UnsafeMutablePointer<Int64>
    init(_ values: [Int64]) {
        ints = .allocate(capacity: max(values.count, 1))
        ints.initialize(from: values, count: values.count)
    }
    deinit { ints.deallocate() }
}
