import BigInt
import FixedPoint
import Golden
import ModelIR
@testable import Netlist
import RandomModels
import XCTest

/// Runs `samples` through the lowered design cycle by cycle (with clock-enable stalls) and
/// compares every output with the golden model. Bus values use the types' stored encodings.
func checkThroughNetlist(_ model: Model, samples: [[Int128]], clock: Double, what: String) throws -> Int {
    let golden = try GoldenModel(model)
    let design = DesignLowering.lower(model, options: LoweringOptions(clockPeriodNs: clock))
    for m in design.modules { m.eliminateDeadSignals() }
    let sim = NetlistInterpreter(design.top, library: design.modules)
    let t = model.input.type, ot = model.outputType
    var expected = samples.map { golden.evaluate(codes: $0) }
    var next = 0, cycle = 0, compared = 0
    sim.evaluate(inputs: ["rst": 1])
    sim.clock()
    while !expected.isEmpty && cycle < 10 * samples.count + 100 {
        let ce = cycle % 5 != 2
        var bus = BigInt(0)
        if next < samples.count {
            for c in samples[next].reversed() { bus = (bus << t.width) | BigInt(t.encode(c)) }
        }
        sim.evaluate(inputs: ["rst": 0, "ce": ce ? 1 : 0, "in_valid": next < samples.count ? 1 : 0, "in_data": bus])
        if ce && sim.output("out_valid") == 1 {
            let out = sim.output("out_data")
            let got = (0..<model.outputSize).map { j -> Int128 in
                let bits = (out >> (j * ot.width)) & ((BigInt(1) << ot.width) - 1)
                return ot.decode(UInt128(Int128(bits)))
            }
            XCTAssertEqual(got, expected.removeFirst(), what)
            compared += 1
        }
        sim.clock()
        if ce && next < samples.count { next += 1 }
        cycle += 1
    }
    XCTAssertTrue(expected.isEmpty, "\(what): \(expected.count) outputs missing")
    return compared
}

final class BinaryLoweringTests: XCTestCase {
    /// The binary/ternary random family (bipolar and fixed inputs, every new op) through the
    /// netlist interpreter equals the golden model, at two clock targets.
    func testRandomBinaryModelsMatchGoldenThroughTheNetlist() throws {
        var compared = 0
        var ops = Set<String>()
        for seed in UInt64(1)...24 {
            let model = try ModelLoader.parse(text: RandomBinaryModel.generate(seed: seed), file: "binary_\(seed)")
            model.layers.forEach { ops.insert($0.opName) }
            let t = model.input.type
            var rng = TestRNG(seed: seed)
            let samples: [[Int128]] = (0..<60).map { _ in
                (0..<model.input.size).map { _ in t.isBipolar ? (rng.bool() ? 1 : -1) : t.minCode + Int128(rng.int(0...Int(t.maxCode - t.minCode))) }
            }
            compared += try checkThroughNetlist(model, samples: samples, clock: seed % 2 == 0 ? 4.0 : 1.5, what: "seed \(seed)")
        }
        XCTAssertEqual(compared, 24 * 60)
        // The family exercises every new op (after folding, batchnorm + sign appears as threshold).
        for op in ["binary_dense", "ternary_dense", "sign", "ternary_tanh", "threshold", "multi_threshold", "batchnorm"] {
            XCTAssertTrue(ops.contains(op), "the random family never produced \(op)")
        }
    }

    static func binaryModel(inType: String, nIn: Int, units: Int, op: String = "binary_dense", seed: UInt64 = 5) -> String {
        var rng = TestRNG(seed: seed)
        let kernel = (0..<nIn).map { _ in "[" + (0..<units).map { _ in op == "ternary_dense" ? rng.pick(["1", "0", "-1"]) : rng.pick(["1", "-1"]) }.joined(separator: ",") + "]" }
        return """
        {"format": "rtlgen-model", "version": 1, "name": "b", "input": {"size": \(nIn), "type": "\(inType)"},
         "layers": [{"name": "bd1", "op": "\(op)", "units": \(units), "kernel": [\(kernel.joined(separator: ","))], "output_type": "fixed<24,14>"}]}
        """
    }

    /// A binary_dense (and a ternary_dense) with n inputs and m outputs instantiates no
    /// multiplier: no `.mul` operation in its module, for bipolar and for fixed-point inputs.
    /// A dense layer with the same +-1 weights written as 0.75 has multipliers (the check can fail).
    func testBinaryDenseHasNoMultiplier() throws {
        for (inType, op) in [("bipolar", "binary_dense"), ("fixed<10,4>", "binary_dense"), ("bipolar", "ternary_dense"), ("fixed<10,4>", "ternary_dense")] {
            for (n, m) in [(37, 9), (64, 32), (8, 3)] {
                let model = try ModelLoader.parse(text: Self.binaryModel(inType: inType, nIn: n, units: m, op: op), file: "b.json")
                let design = DesignLowering.lower(model)
                let mod = design.layers[0].module
                let muls = mod.defs.filter { if case .mul = $0 { return true }; return false }.count
                XCTAssertEqual(muls, 0, "\(op) \(inType) \(n)x\(m)")
                XCTAssertEqual(design.layers[0].multipliers, 0)
                // Shared shift-add partial sums (XNOR-popcount over bipolar bits): an adder depth
                // of about log2(n) (shared nodes may add levels), each neuron's signals named.
                let depth = design.layers[0].details.first { $0.0 == "adder_depth" }?.1 ?? -1
                XCTAssertGreaterThanOrEqual(depth, 2, "\(n) inputs")
                XCTAssertLessThanOrEqual(depth, 4 + Int(log2(Double(n)).rounded(.up)), "\(op) \(inType) \(n) inputs")   // shared nodes may deepen the tree
                XCTAssertTrue(mod.signals.contains { $0.name.hasPrefix("bd1_n0_") })
            }
        }
        let dense = Self.binaryModel(inType: "fixed<10,4>", nIn: 8, units: 3)
            .replacingOccurrences(of: "\"op\": \"binary_dense\"", with: "\"op\": \"dense\", \"kernel_type\": \"fixed<4,2>\", \"bias_type\": \"fixed<4,2>\"")
            .replacingOccurrences(of: "-1", with: "0.75")
        // (with multipliers: dsp; the default shift-add lowering has no `*` at all)
        var dspOptions = LoweringOptions()
        dspOptions.multipliers = .dsp
        let d = DesignLowering.lower(try ModelLoader.parse(text: dense, file: "d.json"), options: dspOptions)
        XCTAssertGreaterThan(d.layers[0].module.defs.filter { if case .mul = $0 { return true }; return false }.count, 0)
    }

    /// A 64-input popcount meets a tight clock by pipelining: more latency at 1 ns than at 10 ns,
    /// and the same results.
    func testPopcountIsPipelinedToTheClock() throws {
        let model = try ModelLoader.parse(text: Self.binaryModel(inType: "bipolar", nIn: 64, units: 4), file: "b.json")
        let slow = DesignLowering.lower(model, options: LoweringOptions(clockPeriodNs: 10)).latency
        let fast = DesignLowering.lower(model, options: LoweringOptions(clockPeriodNs: 1.2)).latency
        XCTAssertGreaterThan(fast, slow)
        var rng = TestRNG(seed: 9)
        let samples: [[Int128]] = (0..<50).map { _ in (0..<64).map { _ in rng.bool() ? 1 : -1 } }
        _ = try checkThroughNetlist(model, samples: samples, clock: 1.2, what: "64-input popcount at 1.2 ns")
    }
}
