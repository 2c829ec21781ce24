// Convolution, pooling, reshape and zero padding (ModelIR/Kinds): the golden semantics against a
// direct reference written here from Keras's definitions (output lengths and `same` padding as
// Keras computes them, sums over the kernel in nested loops), the unrolled dense layer against
// the windowed evaluation, the native JSON round trip, and the errors users see.
import FixedPoint
@testable import ModelIR
import XCTest

fileprivate struct RNG {
    var s: UInt64
    mutating func next() -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
    mutating func code(_ t: FixedType) -> Int128 { t.minCode + Int128(int(0...Int(t.maxCode - t.minCode))) }
}

/// Keras: `valid` gives floor((n - k) / s) + 1 outputs, `same` ceil(n / s), padded
/// max((out - 1) * s + k - n, 0) in total with the smaller half before.
private func kerasPad(_ n: Int, _ k: Int, _ s: Int, same: Bool) -> (out: Int, before: Int) {
    if !same { return ((n - k) / s + 1, 0) }
    let out = (n + s - 1) / s
    return (out, max((out - 1) * s + k - n, 0) / 2)
}

final class ConvTests: XCTestCase {
    let x8 = try! FixedType.parse("fixed<7,3>")
    let u8 = try! FixedType.parse("ufixed<6,2>")
    let w5 = try! FixedType.parse("fixed<5,1>")

    /// A random conv (1D or 2D) and the reference output of every position and filter.
    fileprivate func randomConv(_ r: inout RNG, rank: Int) -> (Model, reference: ([Int128]) -> [Int128]) {
        let w5 = self.w5
        let inT = r.int(0...1) == 0 ? x8 : u8
        let spatial = (0..<rank).map { _ in r.int(3...7) }
        let ch = r.int(1...3), filters = r.int(1...3)
        let ks = (0..<rank).map { d in r.int(1...min(3, spatial[d])) }
        let st = (0..<rank).map { _ in r.int(1...2) }
        let same = r.int(0...1) == 1
        let explicitAccum = r.int(0...2) == 0
        let acc = try! FixedType.parse("fixed<12,5>")   // narrow: wraps on some inputs
        let out = try! FixedType.parse(r.int(0...1) == 0 ? "fixed<10,4,RND,SAT>" : "fixed<9,3,RND_CONV,WRAP>")
        let kernel = (0..<(ks.reduce(1, *) * ch * filters)).map { _ in r.code(w5) }
        let bias = (0..<filters).map { _ in r.code(w5) }
        let conv = Conv(rank: rank, filters: filters, kernelSize: ks, strides: st, padding: same ? .same : .valid,
                        kernelType: w5, biasType: w5, accumType: explicitAccum ? acc : nil, kernel: kernel, bias: bias)
        let m = Model(name: "c", input: InputSpec(name: "x", size: spatial.reduce(1, *) * ch, type: inT, shape: spatial + [ch]),
                      layers: [Layer(name: "conv", op: .of(conv), outputType: out)])
        let geo = (0..<rank).map { kerasPad(spatial[$0], ks[$0], st[$0], same: same) }
        let pf = w5.fracBits + inT.fracBits
        let reference: ([Int128]) -> [Int128] = { x in
            var y: [Int128] = []
            let outDims = geo.map { $0.out }
            for p in 0..<outDims.reduce(1, *) {
                let (o0, o1) = rank == 1 ? (p, 0) : (p / outDims[1], p % outDims[1])
                for f in 0..<filters {
                    var exact = Int128(bias[f]) << (pf - w5.fracBits)
                    var wrapped = acc.cast(code: bias[f], frac: w5.fracBits)
                    for a in 0..<ks[0] {
                        for b in 0..<(rank == 2 ? ks[1] : 1) {
                            let i0 = o0 * st[0] + a - geo[0].before
                            let i1 = rank == 2 ? o1 * st[1] + b - geo[1].before : 0
                            guard i0 >= 0, i0 < spatial[0], i1 >= 0, i1 < (rank == 2 ? spatial[1] : 1) else { continue }
                            for c in 0..<ch {
                                let xi = rank == 1 ? i0 * ch + c : (i0 * spatial[1] + i1) * ch + c
                                let wi = (rank == 1 ? a * ch + c : (a * ks[1] + b) * ch + c) * filters + f
                                exact += x[xi] * kernel[wi]
                                wrapped = acc.wrapCode(wrapped + acc.cast(code: x[xi] * kernel[wi], frac: pf))
                            }
                        }
                    }
                    y.append(explicitAccum ? out.cast(code: wrapped, frac: acc.fracBits) : out.cast(code: exact, frac: pf))
                }
            }
            return y
        }
        return (m, reference)
    }

    func testConvEqualsKerasReference() throws {
        var r = RNG(s: 7)
        var compared = 0
        for trial in 0..<60 {
            let (m0, reference) = randomConv(&r, rank: 1 + trial % 2)
            let m = try ModelCore.validate(m0, file: "t")
            let layer = m.layers[0]
            let plan = try layer.plan(input: m.tensorInto(layer: 0))
            for _ in 0..<20 {
                let x = (0..<m.input.size).map { _ in r.code(m.input.type) }
                let y = layer.evaluate(x, inputType: m.input.type, plan: plan)
                XCTAssertEqual(y, reference(x), "trial \(trial): \(ModelWriter.layerJSON(layer))")
                XCTAssertEqual(y.count, layer.outputSize)
                compared += 1
            }
            // The unrolled (sparse) dense layer the hardware is built from gives the same outputs.
            guard case let .kind(k) = layer.op, let conv = k.base as? Conv else { return XCTFail() }
            let u = conv.unrolledDense(m.tensorInto(layer: 0))
            let up = try DensePlan(dense: u, inputType: m.input.type)
            let x = (0..<m.input.size).map { _ in r.code(m.input.type) }
            XCTAssertEqual(u.evaluate(plan: up, x: x, outputType: layer.outputType), reference(x))
        }
        XCTAssertEqual(compared, 1200)
    }

    /// Max and average pooling against a direct reference: padding cells ignored, the average
    /// truncated toward zero on the accumulator grid (auto: 2 log2(window) more fractional bits).
    func testPoolingEqualsReference() throws {
        var r = RNG(s: 11)
        for trial in 0..<80 {
            let rank = 1 + trial % 2
            let spatial = (0..<rank).map { _ in r.int(2...7) }
            let ch = r.int(1...3)
            let ps = (0..<rank).map { d in r.int(1...min(3, spatial[d])) }
            let st = (0..<rank).map { _ in r.int(1...3) }
            let same = r.int(0...1) == 1, global = trial % 5 == 0
            let op: Pool.Op = r.int(0...1) == 0 ? .max : .average
            let inT = trial % 3 == 0 ? u8 : x8
            let pool = Pool(op: op, rank: rank, global: global, poolSize: ps, strides: st, padding: same ? .same : .valid)
            let out = try FixedType.parse("fixed<12,4,RND,SAT>")
            let m = try ModelCore.validate(Model(name: "p", input: InputSpec(name: "x", size: spatial.reduce(1, *) * ch, type: inT, shape: spatial + [ch]),
                                                 layers: [Layer(name: "pool", op: .of(pool), outputType: out)]), file: "t")
            let layer = m.layers[0]
            let plan = try layer.plan(input: m.tensorInto(layer: 0))
            let win = global ? spatial : ps, strides = global ? spatial : st
            let geo = (0..<rank).map { kerasPad(spatial[$0], win[$0], strides[$0], same: same && !global) }
            var e = 0
            while (1 << e) < win.reduce(1, *) { e += 1 }
            for _ in 0..<15 {
                let x = (0..<m.input.size).map { _ in r.code(inT) }
                var want: [Int128] = []
                let outDims = geo.map { $0.out }
                for p in 0..<outDims.reduce(1, *) {
                    let (o0, o1) = rank == 1 ? (p, 0) : (p / outDims[1], p % outDims[1])
                    for c in 0..<ch {
                        var vals: [Int128] = []
                        for a in 0..<win[0] {
                            for b in 0..<(rank == 2 ? win[1] : 1) {
                                let i0 = o0 * strides[0] + a - geo[0].before
                                let i1 = rank == 2 ? o1 * strides[1] + b - geo[1].before : 0
                                guard i0 >= 0, i0 < spatial[0], i1 >= 0, i1 < (rank == 2 ? spatial[1] : 1) else { continue }
                                vals.append(x[(rank == 1 ? i0 : i0 * spatial[1] + i1) * ch + c])
                            }
                        }
                        if op == .max {
                            want.append(out.cast(code: vals.max()!, frac: inT.fracBits))
                        } else {
                            let s = vals.reduce(0, +) << e
                            want.append(out.cast(code: s / Int128(vals.count), frac: inT.fracBits + e))
                        }
                    }
                }
                XCTAssertEqual(layer.evaluate(x, inputType: inT, plan: plan), want, "trial \(trial): \(ModelWriter.layerJSON(layer))")
            }
        }
    }

    func testZeroPadAndFlatten() throws {
        let text = """
        {"format": "rtlgen-model", "version": 1, "name": "zp", "input": {"shape": [2, 3, 2], "type": "fixed<8,4>"},
         "layers": [{"name": "pad", "op": "zero_pad2d", "padding": [1, 0, 0, 2]},
                    {"name": "flat", "op": "flatten"}]}
        """
        let m = try ModelLoader.parse(text: text, file: "zp.json")
        XCTAssertEqual(m.input.size, 12)
        XCTAssertEqual(m.layers[0].outputShape, [3, 5, 2])
        XCTAssertEqual(m.layers[1].outputShape, [30])
        XCTAssertEqual(m.layers[1].outputType, m.input.type)
        let y = try GoldenLike.run(m, Array(1...12).map { Int128($0) })
        // Row 0 is padding; rows 1-2 hold the input's rows, then two padding columns.
        XCTAssertEqual(y, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                           1, 2, 3, 4, 5, 6, 0, 0, 0, 0,
                           7, 8, 9, 10, 11, 12, 0, 0, 0, 0])
    }

    /// Two batchnorms in a row keep the tensor's shape (the pooling behind them needs it).
    func testBatchNormsKeepTheShape() throws {
        // One channel per value (24 = 4 x 3 x 2), as the importers expand a channels-last batchnorm.
        let scale = Array(repeating: "0.5, -1.25", count: 12).joined(separator: ", ")
        let bias = Array(repeating: "0.25, 1", count: 12).joined(separator: ", ")
        let bn = #"{"op": "batchnorm", "scale": [S], "bias": [B], "scale_type": "fixed<8,2>", "bias_type": "fixed<8,3>", "output_type": "fixed<12,5>"}"#
            .replacingOccurrences(of: "[S]", with: "[\(scale)]").replacingOccurrences(of: "[B]", with: "[\(bias)]")
        func named(_ n: String) -> String { bn.replacingOccurrences(of: "{", with: "{\"name\": \"\(n)\", ") }
        let text = """
        {"format": "rtlgen-model", "version": 1, "name": "bns", "input": {"shape": [4, 3, 2], "type": "fixed<8,4>"},
         "layers": [\(named("bn1")), \(named("bn2")),
                    {"name": "pool", "op": "max_pool2d", "pool_size": [2, 3], "output_type": "fixed<12,5>"}]}
        """
        let m = try ModelLoader.parse(text: text, file: "bns.json")
        XCTAssertEqual(m.layers.map(\.outputShape), [[4, 3, 2], [4, 3, 2], [2, 1, 2]])
    }

    /// parse(json(m)) == m for conv models (nested Keras-layout kernels, every field written).
    func testRoundTrip() throws {
        var r = RNG(s: 3)
        for trial in 0..<20 {
            let (m0, _) = randomConv(&r, rank: 1 + trial % 2)
            var layers = m0.layers
            layers.append(Layer(name: "pool", op: .of(Pool(op: trial % 2 == 0 ? .max : .average, rank: 1 + trial % 2, global: trial % 4 == 1,
                                                           poolSize: [Int](repeating: 1, count: 1 + trial % 2), strides: [Int](repeating: 1, count: 1 + trial % 2))),
                                outputType: try FixedType.parse("fixed<12,4>")))
            layers.append(Layer(name: "flat", op: .of(Reshape(shape: nil)), outputType: try FixedType.parse("fixed<12,4>")))
            let m = try ModelCore.validate(Model(name: m0.name, input: m0.input, layers: layers), file: "t")
            let again = try ModelLoader.parse(text: ModelWriter.json(m), file: "again")
            XCTAssertEqual(again, m, "trial \(trial)")
            XCTAssertEqual(try ModelCore.validate(m, file: "t"), m)
        }
    }

    func testErrorsNameTheField() {
        func check(_ layers: String, shape: String = "[5, 4, 1]", _ field: String, _ words: [String], file: StaticString = #filePath, line: UInt = #line) {
            let text = """
            {"format": "rtlgen-model", "version": 1, "name": "e", "input": {"shape": \(shape), "type": "fixed<8,4>"}, "layers": [\(layers)]}
            """
            do {
                _ = try ModelLoader.parse(text: text, file: "e.json")
                XCTFail("accepted: \(layers)", file: file, line: line)
            } catch let e as InputError {
                XCTAssertEqual(e.file, "e.json", file: file, line: line)
                XCTAssertEqual(e.field, field, "\(e)", file: file, line: line)
                for w in words { XCTAssertTrue(e.message.contains(w), "\(e.message) lacks \(w)", file: file, line: line) }
            } catch { XCTFail("\(error)", file: file, line: line) }
        }
        let k33 = "[[[[0.5]],[[0.5]],[[0.5]]],[[[0.5]],[[0.5]],[[0.5]]],[[[0.5]],[[0.5]],[[0.5]]]]"
        let conv = { (extra: String) in #"{"name": "c", "op": "conv2d", "filters": 1, "kernel_size": [3, 3], "kernel": \#(k33), "kernel_type": "fixed<4,2>", "output_type": "fixed<8,4>"\#(extra)}"# }
        check(conv(""), shape: "[2, 4, 1]", "layers[0].kernel_size", ["larger than", "valid"])
        check(conv(""), shape: "[20]", "layers[0]", ["[height, width, channels]", "shape"])
        check(conv(#", "padding": "full""#), "layers[0].padding", ["valid", "same"])
        check(conv(#", "dilation": 2"#), "layers[0].dilation", ["unknown field"])
        check(#"{"name": "c", "op": "conv2d", "filters": 2, "kernel_size": [3, 3], "kernel": \#(k33), "kernel_type": "fixed<4,2>", "output_type": "fixed<8,4>"}"#,
              "layers[0].kernel[0][0][0]", ["expected 2 entries"])
        check(#"{"name": "r", "op": "reshape", "shape": [3, 7]}"#, "layers[0].shape", ["holds 21", "20"])
        check(#"{"name": "p", "op": "max_pool2d", "pool_size": [6, 1], "output_type": "fixed<8,4>"}"#, "layers[0].pool_size", ["larger than"])
        check(#"{"name": "p", "op": "avg_pool2d", "accum_type": "fixed<16,8,TRN,SAT>", "output_type": "fixed<8,4>"}"#, "layers[0].accum_type", ["SAT"])
        check(#"{"name": "d", "op": "relu", "output_type": "fixed<8,4>"}"#, shape: #"[3, 3], "size": 10"#, "input.shape", ["does not hold"])
        check(#"{"name": "p", "op": "global_avg_pool2d", "accum_type": "fixed<60,20>", "output_type": "fixed<8,4>"}"#, "layers[0].accum_type", ["wider than 48"])
    }
}

/// The layers' own evaluation in sequence (what the golden model does), for these tests.
enum GoldenLike {
    static func run(_ m: Model, _ x0: [Int128]) throws -> [Int128] {
        var x = x0
        for i in m.layers.indices {
            let p = try m.layers[i].plan(input: m.tensorInto(layer: i))
            x = m.layers[i].evaluate(x, inputType: m.inputOf(layer: i).type, plan: p)
        }
        return x
    }
}
