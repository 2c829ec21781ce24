import BigInt
import FixedPoint
import Golden
import ModelIR
@testable import Netlist
import XCTest

/// Multiplierless dense layers: the CSD recoding, the shared-subexpression program and the
/// lowered netlist, each checked against plain integer arithmetic or the golden model.
final class ShiftAddTests: XCTestCase {
    func testCSDDigitsSumToTheValueWithNoAdjacentDigits() {
        var rng = TestRNG(seed: 7)
        var values: [Int128] = [0, 1, -1, 2, -2, 3, -3, 7, -7, 0x55, -0x55, Int128.max, Int128.min + 1, 1 << 100, -(1 << 100)]
        for _ in 0..<2000 { values.append(Int128(Int64(bitPattern: rng.next())) >> rng.int(0...60)) }
        for v in values {
            let ds = CSD.digits(v)
            var sum: Int128 = 0
            for d in ds { sum = d.negative ? sum &- (Int128(1) &<< d.shift) : sum &+ (Int128(1) &<< d.shift) }
            XCTAssertEqual(sum, v)
            for (x, y) in zip(ds, ds.dropFirst()) { XCTAssertGreaterThan(y.shift, x.shift + 1, "adjacent digits in \(v)") }
        }
        // 7 = 8 - 1: two digits, not three.
        XCTAssertEqual(CSD.digits(7).count, 2)
    }

    /// minimalDigits: the value, CSD's digit count, and binary (digits of one sign) where it has
    /// as few digits as CSD.
    func testMinimalDigitsSumToTheValueWithCSDsCount() {
        var rng = TestRNG(seed: 8)
        var values: [Int128] = [0, 1, -1, 3, -3, 5, 7, -7, 11, -13, 23, 0x55, Int128.max, Int128.min + 1, Int128.min]
        for _ in 0..<2000 { values.append(Int128(Int64(bitPattern: rng.next())) >> rng.int(0...60)) }
        for v in values {
            let ds = CSD.minimalDigits(v)
            var sum: Int128 = 0
            for d in ds { sum = d.negative ? sum &- (Int128(1) &<< d.shift) : sum &+ (Int128(1) &<< d.shift) }
            XCTAssertEqual(sum, v)
            XCTAssertEqual(ds.count, CSD.digits(v).count, "\(v)")
            if v.magnitude.nonzeroBitCount == ds.count { XCTAssertTrue(ds.allSatisfy { $0.negative == (v < 0) }, "\(v)") }
        }
        XCTAssertEqual(CSD.minimalDigits(3).map { $0.shift }, [0, 1])      // 2 + 1, not 4 - 1
        XCTAssertEqual(CSD.minimalDigits(-3).map { $0.negative }, [true, true])
        XCTAssertEqual(CSD.minimalDigits(7).count, 2)                      // 8 - 1 stays
    }

    /// The two recodings a layer chooses between: both programs compute the matrix, the plain
    /// (unshared) programs start from CSD.digits resp. CSD.minimalDigits of each weight.
    func testBothRecodingsComputeTheMatrix() {
        let w: [[Int128]] = [[3, -3, 7, 0], [5, 11, -13, 23], [3, 0, 0x55, -1]]
        let widths = [8, 8, 6, 9]
        for digits in [CMVMDigits.minimal, .csd] {
            let plain = CMVMSolver.solve(matrix: w, inputWidths: widths, share: false, digits: digits)
            let shared = CMVMSolver.solve(matrix: w, inputWidths: widths, digits: digits)
            XCTAssertEqual(plain.matrix(), w)
            XCTAssertEqual(shared.matrix(), w)
            let recode = digits == .csd ? CSD.digits : CSD.minimalDigits
            XCTAssertEqual(plain.outputs[0].count, w[0].map { recode($0).count }.reduce(0, +))
            XCTAssertEqual(plain.outputs[0].filter { $0.node == 0 }.map(\.shift).sorted(), recode(3).map { $0.shift }.sorted())
            // Unshared: a balanced tree over the longest output's terms (one more with the bias).
            let longest = plain.outputs.map { $0.count }.max()!
            func levels(_ t: Int) -> Int { var l = 0; while (1 << l) < t { l += 1 }; return l }
            XCTAssertEqual(plain.adderDepth(), levels(longest))
            XCTAssertEqual(plain.adderDepth(extraTerm: true), levels(longest + 1))
            XCTAssertGreaterThanOrEqual(shared.adderDepth(), plain.adderDepth())
        }
        // 3 = 2 + 1 (binary) against 4 - 1 (CSD): the programs differ.
        XCTAssertNotEqual(CMVMSolver.solve(matrix: w, inputWidths: widths, share: false, digits: .csd).outputs,
                          CMVMSolver.solve(matrix: w, inputWidths: widths, share: false).outputs)
    }

    /// Random matrices (zeros, +-2^k, negative, wide, repeated rows and columns): the solved
    /// program computes exactly the matrix, shares nodes, and never needs more adders than CSD.
    func testProgramComputesTheMatrix() {
        var rng = TestRNG(seed: 11)
        var sharedSomewhere = false
        for trial in 0..<60 {
            let rows = rng.int(1...12), cols = rng.int(1...10)
            let bits = rng.pick([3, 6, 10, 16, 40])
            var w: [[Int128]] = (0..<rows).map { _ in
                (0..<cols).map { _ in
                    switch rng.int(0...5) {
                    case 0: return 0
                    case 1: return (rng.bool() ? -1 : 1) * (Int128(1) << rng.int(0...bits))
                    default: return Int128(rng.int(-(1 << (bits - 1))...((1 << (bits - 1)) - 1)))
                    }
                }
            }
            if trial % 5 == 0 && rows > 1 { w[rows - 1] = w[0] }   // a repeated row
            let widths = (0..<cols).map { _ in rng.int(1...20) }
            let plain = CMVMSolver.solve(matrix: w, inputWidths: widths, share: false)
            let prog = CMVMSolver.solve(matrix: w, inputWidths: widths)
            XCTAssertEqual(plain.matrix(), w, "trial \(trial)")
            XCTAssertEqual(prog.matrix(), w, "trial \(trial)")
            XCTAssertLessThanOrEqual(prog.adderCount, plain.adderCount, "trial \(trial)")
            if prog.adderCount < plain.adderCount { sharedSomewhere = true }
            // A depth cap is honoured.
            let capped = CMVMSolver.solve(matrix: w, inputWidths: widths, maxDepth: 1)
            XCTAssertEqual(capped.matrix(), w)
            for nd in capped.nodes { XCTAssertTrue(nd.a < cols && nd.b < cols, "depth 1 node uses a node") }
        }
        XCTAssertTrue(sharedSomewhere)
        // Deterministic: the same matrix gives the same program.
        let w: [[Int128]] = [[45, -27, 13], [45, 90, -3], [-27, 13, 45]]
        let a = CMVMSolver.solve(matrix: w, inputWidths: [8, 8, 8]), b = CMVMSolver.solve(matrix: w, inputWidths: [8, 8, 8])
        XCTAssertEqual(a.outputs, b.outputs)
        XCTAssertEqual(a.nodes.map { [$0.a, $0.b, $0.shift] }, b.nodes.map { [$0.a, $0.b, $0.shift] })
    }

    /// One dense layer (with odd weights, zero columns and rows, +-2^k, wide weights, unsigned
    /// and signed inputs, auto and explicit accumulators), lowered shift-add and with DSP
    /// multipliers, interpreted: both equal the golden model on random and extreme inputs.
    func testDenseLayersMatchGolden() throws {
        var rng = TestRNG(seed: 21)
        for trial in 0..<40 {
            let nIn = rng.int(1...7), units = rng.int(1...6)
            let kw = rng.pick([2, 4, 6, 10, 18, 24])
            let kt = "fixed<\(kw),\(rng.int(-2...3))>"
            let it = rng.pick(["fixed<18,6>", "ufixed<12,4>", "fixed<8,3>", "ufixed<1,1>", "fixed<30,10>"])
            let ot = rng.pick(["fixed<18,6,RND_CONV,SAT>", "fixed<16,6>", "fixed<24,12,RND,SAT_SYM>", "ufixed<10,4,TRN,SAT>"])
            let accum = trial % 3 == 0 ? "\"fixed<20,8>\"" : (trial % 7 == 1 ? "\"fixed<40,16,RND>\"" : "\"auto\"")
            let kmax = 1 << (kw - 1)
            let kernel: [[Int]] = (0..<nIn).map { i in
                (0..<units).map { j in
                    if i == 0 && trial % 4 == 0 { return 0 }          // a zero row
                    if j == units - 1 && trial % 5 == 0 { return 0 }  // a zero column
                    switch rng.int(0...4) {
                    case 0: return 0
                    case 1: return (rng.bool() ? -1 : 1) * (1 << rng.int(0...(kw - 2)))
                    case 2: return -kmax
                    default: return rng.int(-kmax...(kmax - 1))
                    }
                }
            }
            let scale = pow(2.0, Double(kw - (Int(kt.split(separator: ",")[1].dropLast()) ?? 0)))
            func row(_ xs: [Int]) -> String { "[" + xs.map { "\(Double($0) / scale)" }.joined(separator: ", ") + "]" }
            let bias = (0..<units).map { _ in rng.int(-kmax...(kmax - 1)) }
            let text = """
            {"format": "rtlgen-model", "version": 1, "name": "sa\(trial)", "input": {"size": \(nIn), "type": "\(it)"},
             "layers": [{"name": "fc", "op": "dense", "units": \(units), "kernel_type": "\(kt)", "bias_type": "\(kt)",
                         "accum_type": \(accum), "output_type": "\(ot)",
                         "kernel": [\(kernel.map(row).joined(separator: ", "))], "bias": \(row(bias))}]}
            """
            let model = try ModelLoader.parse(text: text, file: "sa\(trial).json")
            let golden = try GoldenModel(model)
            let t = model.input.type
            var samples: [[Int128]] = [Array(repeating: t.minCode, count: nIn), Array(repeating: t.maxCode, count: nIn)]
            for _ in 0..<30 { samples.append((0..<nIn).map { _ in t.minCode + Int128(rng.int(0...Int(t.maxCode - t.minCode))) }) }
            for style in [MultiplierStyle.shiftAdd, .dsp] {
                var o = LoweringOptions(clockPeriodNs: trial % 2 == 0 ? 4.0 : 2.0)
                o.multipliers = style
                let design = DesignLowering.lower(model, options: o)
                XCTAssertEqual(design.layers[0].multipliers == 0, style == .shiftAdd || kernel.joined().allSatisfy { $0 == 0 || $0.magnitude.nonzeroBitCount == 1 })
                for m in design.modules { m.eliminateDeadSignals() }
                let sim = NetlistInterpreter(design.top, library: design.modules)
                for x in samples {
                    XCTAssertEqual(runOneSample(sim, design: design, model: model, codes: x), golden.evaluate(codes: x),
                                   "trial \(trial) \(style) \(text)")
                }
            }
        }
    }

    /// Sign extensions folded into offsets (`_yo` / `_xo` operands with an inverted sign bit, the
    /// offsets taken off with the bias): on signed inputs and mixed-sign weights the lowering
    /// folds some operands, and the layer still equals the golden model bit for bit.
    func testFoldedSignExtensionIsExact() throws {
        var rng = TestRNG(seed: 77)
        var folded = 0
        for trial in 0..<12 {
            let nIn = rng.int(3...8), units = rng.int(2...8)
            let kernel: [[Int]] = (0..<nIn).map { _ in (0..<units).map { _ in rng.int(-512...511) } }
            let bias = (0..<units).map { _ in rng.int(-512...511) }
            func row(_ xs: [Int]) -> String { "[" + xs.map { "\(Double($0) / 128.0)" }.joined(separator: ", ") + "]" }
            let text = """
            {"format": "rtlgen-model", "version": 1, "name": "fo\(trial)", "input": {"size": \(nIn), "type": "fixed<18,6>"},
             "layers": [{"name": "fc", "op": "dense", "units": \(units), "kernel_type": "fixed<10,3>", "bias_type": "fixed<10,3>",
                         "accum_type": "auto", "output_type": "\(trial % 2 == 0 ? "fixed<18,6,RND,SAT>" : "fixed<16,6>")",
                         "kernel": [\(kernel.map(row).joined(separator: ", "))], "bias": \(row(bias))}]}
            """
            let model = try ModelLoader.parse(text: text, file: "fo\(trial).json")
            let golden = try GoldenModel(model)
            let design = DesignLowering.lower(model, options: LoweringOptions(clockPeriodNs: 4.0))
            for m in design.modules { m.eliminateDeadSignals() }
            folded += design.modules.flatMap { $0.signals }.filter { $0.name.hasSuffix("_yo") || $0.name.hasSuffix("_xo") }.count
            let sim = NetlistInterpreter(design.top, library: design.modules)
            let t = model.input.type
            var samples: [[Int128]] = [Array(repeating: t.minCode, count: nIn), Array(repeating: t.maxCode, count: nIn)]
            samples.append((0..<nIn).map { $0 % 2 == 0 ? t.minCode : t.maxCode })
            for _ in 0..<40 { samples.append((0..<nIn).map { _ in t.minCode + Int128(rng.int(0...Int(t.maxCode - t.minCode))) }) }
            for x in samples {
                XCTAssertEqual(runOneSample(sim, design: design, model: model, codes: x), golden.evaluate(codes: x), "trial \(trial) \(text)")
            }
        }
        XCTAssertGreaterThan(folded, 0, "no operand was folded")
    }

    /// The per-layer choice: `layerMultipliers` overrides the default for one layer only.
    func testPerLayerStyle() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/muon_recal/model.json")
        let model = try ModelLoader.load(path: url.path)
        var o = LoweringOptions()
        let all = DesignLowering.lower(model, options: o)
        XCTAssertEqual(all.layers.map { $0.multipliers }.reduce(0, +), 0)
        o.layerMultipliers["fc2"] = .dsp
        let mixed = DesignLowering.lower(model, options: o)
        XCTAssertGreaterThan(mixed.layers[2].multipliers, 0)
        XCTAssertEqual(mixed.layers.enumerated().filter { $0.offset != 2 }.map { $0.element.multipliers }.reduce(0, +), 0)
    }
}
