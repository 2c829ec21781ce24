import BigInt
import FixedPoint
import Golden
import ModelIR
@testable import Netlist
import XCTest
import Foundation

/// Deterministic generator for tests (SplitMix64).
struct TestRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
    mutating func bool() -> Bool { next() & 1 == 1 }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(0...(xs.count - 1))] }
}

func code(_ bits: BigInt, _ t: FixedType) -> Int128 {
    let v = Int128(bits)
    return t.signed && t.width < 128 && v >= (Int128(1) << (t.width - 1)) ? v - (Int128(1) << t.width) : v
}

final class CastLoweringTests: XCTestCase {
    /// The cast logic, interpreted, equals FixedType.cast for every code of the source type,
    /// for every rounding and overflow mode, and for shifts in both directions.
    func testCastLogicMatchesGoldenExhaustively() {
        let sources = [
            FixedType(signed: true, width: 7, intBits: 3),
            FixedType(signed: false, width: 6, intBits: 2),
            FixedType(signed: true, width: 5, intBits: -1),
            FixedType(signed: true, width: 1, intBits: 1),
        ]
        var checked = 0
        for src in sources {
            for (tw, ti, ts) in [(4, 2, true), (3, 1, false), (6, 5, true), (5, 8, true), (8, 2, false), (2, -2, true), (1, 0, true), (9, 3, true)] {
                for q in RoundingMode.allCases {
                    for o in OverflowMode.allCases {
                        let dst = FixedType(signed: ts, width: tw, intBits: ti, rounding: q, overflow: o)
                        let m = Module(name: "t")
                        let b = DatapathBuilder(module: m, delays: DelayModel(clockPeriodNs: 1000))
                        let inp = b.input("x", width: src.width, repr: src.signed ? .signed : .unsigned)
                        let y = b.cast(Val(sig: inp, frac: src.fracBits, range: CodeRange(of: src)), to: dst, name: "c")
                        m.define("y", width: dst.width, repr: .bus, .copy(y.sig), role: .output)
                        let sim = NetlistInterpreter(m, library: [])
                        var c = src.minCode
                        while c <= src.maxCode {
                            sim.evaluate(inputs: ["x": bigInt(c)])
                            let got = code(sim.output("y"), dst)
                            let want = dst.cast(code: c, frac: src.fracBits)
                            XCTAssertEqual(got, want, "\(src) code \(c) -> \(dst)")
                            if got != want { return }
                            XCTAssertTrue(y.range.lo <= got && got <= y.range.hi, "range of \(dst) from \(src)")
                            checked += 1
                            c += 1
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 10_000)
    }

    /// The per-mode increment logic equals RoundingMode.roundsUp on all 16 input combinations.
    func testRoundIncrementTruthTables() {
        for mode in RoundingMode.allCases {
            let m = Module(name: "r")
            let b = DatapathBuilder(module: m, delays: DelayModel())
            let neg = b.input("neg", width: 1, repr: .bit)
            let lsb = b.input("lsb", width: 1, repr: .bit)
            let half = b.input("half", width: 1, repr: .bit)
            let sticky = b.input("sticky", width: 1, repr: .bit)
            let inc = b.roundIncrement(mode, neg: neg, lsb: lsb, half: half, sticky: sticky, name: "i")
                ?? b.bitConst(false, name: "zero")
            m.define("y", width: 1, repr: .bit, .copy(inc), role: .output)
            let sim = NetlistInterpreter(m, library: [])
            for k in 0..<16 {
                let bits = (0..<4).map { (k >> $0) & 1 == 1 }
                sim.evaluate(inputs: ["neg": bits[0] ? 1 : 0, "lsb": bits[1] ? 1 : 0, "half": bits[2] ? 1 : 0, "sticky": bits[3] ? 1 : 0])
                let want = mode.roundsUp(negative: bits[0], lsbOdd: bits[1], half: bits[2], sticky: bits[3])
                XCTAssertEqual(sim.output("y") != 0, want, "\(mode) \(bits)")
            }
        }
    }
}

import Driver
import RandomModels

/// One sample through an interpreted core: presented with in_valid, then `latency` clock edges
/// with ce high; returns the output codes.
func runOneSample(_ sim: NetlistInterpreter, design: Design, model: Model, codes x: [Int128]) -> [Int128] {
    let t = model.input.type
    var bus = BigInt(0)
    for c in x.reversed() { bus = (bus << t.width) | (bigInt(c) & ((BigInt(1) << t.width) - 1)) }
    sim.evaluate(inputs: ["rst": 0, "ce": 1, "in_valid": 1, "in_data": bus])
    for _ in 0..<design.latency { sim.clock(); sim.evaluate(inputs: ["rst": 0, "ce": 1, "in_valid": 0, "in_data": bus]) }
    let out = sim.output("out_data")
    let ot = model.outputType
    return (0..<model.outputSize).map { code((out >> ($0 * ot.width)) & ((BigInt(1) << ot.width) - 1), ot) }
}

final class DesignInterpreterTests: XCTestCase {
    /// Random models, lowered and interpreted cycle by cycle (with clock-enable stalls), give the
    /// golden outputs after exactly `latency` enabled edges.
    func testRandomModelsMatchGoldenThroughTheNetlist() throws {
        var compared = 0
        for seed in UInt64(1)...20 {
            let model = try ModelLoader.parse(text: RandomModel.generate(seed: seed), file: "random_\(seed)")
            let golden = try GoldenModel(model)
            let design = DesignLowering.lower(model, options: LoweringOptions(clockPeriodNs: seed % 2 == 0 ? 4.0 : 2.0))
            for m in design.modules { m.eliminateDeadSignals() }
            let sim = NetlistInterpreter(design.top, library: design.modules)
            let t = model.input.type
            var rng = TestRNG(seed: seed)
            let samples: [[Int128]] = (0..<40).map { _ in
                (0..<model.input.size).map { _ in t.minCode + Int128(rng.int(0...Int(min(t.maxCode - t.minCode, 1 << 40)))) }
            }
            var expected = samples.map { golden.evaluate(codes: $0) }
            var next = 0
            var cycle = 0
            sim.evaluate(inputs: ["rst": 1])
            sim.clock()
            while !expected.isEmpty && cycle < 400 {
                let ce = cycle % 5 != 2
                var bus = BigInt(0)
                if next < samples.count {
                    for c in samples[next].reversed() {
                        bus = (bus << t.width) | (bigInt(c) & ((BigInt(1) << t.width) - 1))
                    }
                }
                sim.evaluate(inputs: ["rst": 0, "ce": ce ? 1 : 0, "in_valid": next < samples.count ? 1 : 0, "in_data": bus])
                if ce && sim.output("out_valid") == 1 {
                    let out = sim.output("out_data")
                    let ot = model.outputType
                    let got = (0..<model.outputSize).map { code((out >> ($0 * ot.width)) & ((BigInt(1) << ot.width) - 1), ot) }
                    XCTAssertEqual(got, expected.removeFirst(), "seed \(seed)")
                    compared += 1
                }
                sim.clock()
                if ce && next < samples.count { next += 1 }
                cycle += 1
            }
            XCTAssertTrue(expected.isEmpty, "seed \(seed): \(expected.count) outputs missing")
        }
        XCTAssertEqual(compared, 20 * 40)
    }

    /// 64-bit data times 64-bit weights into a 128-bit explicit accumulator: accepted, and the
    /// netlist equals the golden model on random codes (Verilator/GHDL were checked by hand).
    func testSixtyFourBitDataAndWeights() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models/wide64.json")
        let model = try ModelLoader.load(path: url.path)
        let golden = try GoldenModel(model)
        let design = DesignLowering.lower(model)
        for m in design.modules { m.eliminateDeadSignals() }
        let sim = NetlistInterpreter(design.top, library: design.modules)
        var rng = TestRNG(seed: 64)
        for _ in 0..<50 {
            let x: [Int128] = (0..<3).map { _ in Int128(Int64(bitPattern: rng.next())) }
            XCTAssertEqual(runOneSample(sim, design: design, model: model, codes: x), golden.evaluate(codes: x))
        }
        // Two unsigned 64-bit factors need 128 unsigned bits: rejected as unsupported.
        let text = try String(contentsOf: url, encoding: .utf8)
            .replacingOccurrences(of: "\"fixed<64,20>\"", with: "\"ufixed<64,20>\"")
            .replacingOccurrences(of: "\"fixed<64,10,RND_CONV>\"", with: "\"ufixed<64,10,RND_CONV>\"")
        XCTAssertThrowsError(try ModelLoader.parse(text: text, file: "u64.json")) { e in
            XCTAssertTrue("\(e)".contains("more than 128 bits"), "\(e)")
        }
    }

    /// The delay model: a carry chain costs a LUT level plus the chain (0.037 ns per further
    /// CARRY8, so width matters little); LUT-level logic (the saturation muxes of a cast, a
    /// ReLU's mux behind them) joins the LUT level in front while each output bit reads at most
    /// 6 signals, and takes a new level beyond.
    func testDelayModelCarryChainsAndLutPacking() {
        let d = DelayModel(clockPeriodNs: 4)
        XCTAssertEqual(d.budget, 4 - 0.155, accuracy: 1e-9)
        XCTAssertEqual(d.carryChainNs(8), 0.25 + 0.15 + 0.188, accuracy: 1e-9)
        XCTAssertEqual(d.carryChainNs(16), 0.25 + 0.15 + 0.188 + 0.109, accuracy: 1e-9)
        XCTAssertEqual(d.carryChainNs(32) - d.carryChainNs(24), 0.037, accuracy: 1e-9)
        let (s0, s1, s2) = (SignalID(index: 0), SignalID(index: 1), SignalID(index: 2))
        let mux = Op.mux(s0, s1, s2)
        func t(_ ns: Double) -> Timing { Timing(ns: ns) }
        // The cast: x > MAX (compare), x < MIN (compare), the low bits of x; two muxes with
        // constants -> one LUT level after the latest input.
        let lo = d.timing(of: mux, width: 18, operandWidths: [1, 18, 18], operands: [t(1.0), nil, t(0.9)])
        XCTAssertEqual(lo.ns, 1.0 + d.lutLevelNs, accuracy: 1e-9)
        let hi = d.timing(of: mux, width: 18, operandWidths: [1, 18, 18], operands: [t(1.1), nil, lo])
        XCTAssertEqual(hi.ns, 1.1 + d.lutLevelNs, accuracy: 1e-9, "3 inputs per bit: the same LUT level")
        XCTAssertEqual(hi.cone?.inputs, 3)
        // A ReLU behind it (sign of the saturated value, the saturated value): 6 inputs, one level.
        let relu = d.timing(of: mux, width: 17, operandWidths: [1, 17, 17], operands: [hi, nil, hi])
        XCTAssertEqual(relu.ns, 1.1 + d.lutLevelNs, accuracy: 1e-9)
        // A seventh input needs a second level.
        let more = d.timing(of: .bitwise(.and, s0, s1), width: 1, operandWidths: [1, 1], operands: [relu, t(0.5)])
        XCTAssertEqual(more.ns, relu.ns + d.lutLevelNs, accuracy: 1e-9)
        // Slices and extensions pass the cone on; an adder starts a new one.
        XCTAssertEqual(d.timing(of: .slice(s0, lo: 3), width: 4, operandWidths: [17], operands: [relu]), relu)
        let add = d.timing(of: .add(s0, s1), width: 20, operandWidths: [20, 20], operands: [relu, t(0)])
        XCTAssertNil(add.cone)
        XCTAssertEqual(add.ns, relu.ns + d.carryChainNs(20), accuracy: 1e-9)
    }

    /// report.json's and the headers' per-stage depth: one delay per register rank of the core,
    /// every one within the clock budget (the builder registers operands before a path would
    /// exceed it), each layer's stages placed where its ranks are, and an open or combinational
    /// layer's tail counted in the next layer's first stage. Three examples, up to three clocks.
    func testStageDelaysCoverEveryStageWithinTheBudget() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples")
        var open = 0
        for (name, periods) in [("muon_recal", [2.5, 4.0, 6.0]), ("keras_bnn", [2.5, 4.0]), ("jet_tagger", [4.0])] {
            let model = try ModelLoader.load(path: examples.appendingPathComponent("\(name)/model.json").path)
            for period in periods {
                let options = LoweringOptions(clockPeriodNs: period)
                let design = DesignLowering.lower(model, options: options)
                let ds = try XCTUnwrap(design.stageDelaysNs)
                XCTAssertEqual(ds.count, design.latency, "\(name) at \(period) ns")
                for d in ds { XCTAssertLessThanOrEqual(d, options.delays.budget + 1e-9, "\(name) at \(period) ns: \(ds)") }
                XCTAssertGreaterThan(ds.max() ?? 0, options.delays.budget / 2, "\(name): stages are filled")
                var offset = 0
                for hw in design.layers {
                    let tail = hw.outputArrivalNs > 0
                    if tail { open += 1 }
                    XCTAssertEqual(hw.stageDelaysNs.count, hw.latency + (tail ? 1 : 0), hw.module.name)
                    for (k, d) in hw.stageDelaysNs.enumerated() where offset + k < ds.count {
                        XCTAssertLessThanOrEqual(d, ds[offset + k] + 1e-9)
                    }
                    if tail, offset + hw.latency < ds.count {
                        XCTAssertEqual(hw.stageDelaysNs.last!, hw.outputArrivalNs, accuracy: 1e-9)
                    }
                    offset += hw.latency
                }
                XCTAssertTrue(design.top.header.contains { $0.hasPrefix("longest path per stage") }, name)
            }
        }
        XCTAssertGreaterThan(open, 0, "some layer ends open or combinational")
    }

    /// A ReLU (or threshold, sign, linear, relu_max) between layers may be combinational (no
    /// register, no clk/ce ports, latency 0); a last layer keeps its register, and the whole
    /// pipeline is never longer than with every layer registered (the chain is scheduled at
    /// once, so a combinational layer may pay off several layers later). Checked on the muon
    /// example (ReLU) and keras_bnn (thresholds) at three clock periods.
    func testCombinationalReluOnlyWhereItShortensThePipeline() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples")
        let base = try ModelLoader.load(path: examples.appendingPathComponent("muon_recal/model.json").path)
        let bnn = try ModelLoader.load(path: examples.appendingPathComponent("keras_bnn/model.json").path)
        // The same network with a ReLU as its last layer too.
        var layers = base.layers
        layers.append(Layer(name: "relu_last", op: .relu, outputType: try FixedType.parse("ufixed<12,4,RND,SAT>"), outputSize: base.outputSize))
        let withLastRelu = Model(name: "m", description: nil, input: base.input, layers: layers)
        var combinational = 0
        var kinds: Set<String> = []
        for model in [base, withLastRelu, bnn] {
            for period in [2.0, 4.0, 5.0] {
                let options = LoweringOptions(clockPeriodNs: period)
                let design = DesignLowering.lower(model, options: options)
                var registeredTotal = 0
                for (i, hw) in design.layers.enumerated() {
                    let registered = LayerLowering.lower(layer: model.layers[i], index: i, model: model, top: "r", options: options)
                    registeredTotal += registered.latency
                    let hasClock = hw.module.ports.contains { hw.module[$0].name == "clk" }
                    if hw.isCombinational {
                        combinational += 1
                        XCTAssertTrue(model.layers[i].op.mayBeCombinational, model.layers[i].name)
                        kinds.insert(model.layers[i].opName)
                        XCTAssertLessThan(i + 1, model.layers.count, "the last layer must end in a register")
                        XCTAssertEqual(hw.latency, 0)
                        XCTAssertFalse(hasClock)
                        XCTAssertGreaterThan(hw.outputArrivalNs, 0)
                        // A combinational layer (registered inputs, at most half a stage of
                        // logic) or an open one (output registers removed, possibly behind
                        // another open layer): either way its logic ends within the stage it
                        // shares with the next layer.
                        XCTAssertLessThanOrEqual(hw.outputArrivalNs, options.delays.budget)
                    } else {
                        XCTAssertTrue(hasClock)
                        XCTAssertGreaterThanOrEqual(hw.latency, 1)
                    }
                }
                XCTAssertLessThanOrEqual(design.latency, registeredTotal)
                // The core still equals the golden model, cycle by cycle.
                for m in design.modules { m.eliminateDeadSignals() }
                let golden = try GoldenModel(model)
                let sim = NetlistInterpreter(design.top, library: design.modules)
                var rng = TestRNG(seed: UInt64(period * 10))
                let t = model.input.type
                for _ in 0..<6 {
                    let x: [Int128] = (0..<model.input.size).map { _ in t.minCode + Int128(rng.int(0...Int(t.maxCode - t.minCode))) }
                    XCTAssertEqual(runOneSample(sim, design: design, model: model, codes: x), golden.evaluate(codes: x))
                }
            }
        }
        XCTAssertGreaterThan(combinational, 0)
        // keras_bnn's thresholds are combinational; the muon network's ReLUs now mostly follow a
        // dense layer with open (unregistered) outputs, and are registered or open themselves.
        XCTAssertTrue(kinds.contains("threshold"), "\(kinds)")
        XCTAssertTrue(kinds.isSubset(of: ["relu", "threshold"]), "\(kinds)")
    }

    /// The random regression models load, and across the first 40 seeds they use every
    /// element-wise activation op, the stable softmax and argmax (so `make sim`, the interpreter
    /// and the reference keep exercising them after the generator changes).
    func testRandomModelsCoverEveryActivationOp() throws {
        var ops: Set<String> = []
        for seed in UInt64(1)...40 {
            let text = RandomModel.generate(seed: seed)
            XCTAssertNoThrow(try ModelLoader.parse(text: text, file: "random_\(seed)"), "seed \(seed)")
            let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            for layer in json?["layers"] as? [[String: Any]] ?? [] {
                let op = layer["op"] as? String ?? "?"
                ops.insert(op == "softmax" ? "softmax:\(layer["implementation"] as? String ?? "?")" : op)
            }
        }
        let expected: Set<String> = ["dense", "relu", "sigmoid", "tanh", "lut", "leaky_relu", "relu_max", "relu6",
                                     "hard_sigmoid", "hard_tanh", "linear", "elu", "selu", "softmax:stable", "softmax:argmax"]
        XCTAssertEqual(ops, expected)
    }

    /// The same model gives byte-identical HDL.
    func testEmissionIsDeterministic() throws {
        let text = RandomModel.generate(seed: 3)
        func files() throws -> [String] {
            let m = try ModelLoader.parse(text: text, file: "m")
            return try Builder.generate(model: m, options: BuildOptions()).files.map { $0.0 + "\n" + $0.1 }
        }
        XCTAssertEqual(try files(), try files())
    }
}
