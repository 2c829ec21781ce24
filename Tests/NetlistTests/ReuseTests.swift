import BigInt
import FixedPoint
import Golden
import ModelIR
@testable import Netlist
import RandomModels
import XCTest
import Foundation

/// Runs a design with a reuse factor in the interpreter: samples are offered with random gaps
/// and held (in_valid high) until the core takes them (in_valid and in_ready on an enabled edge);
/// checks every output against the golden model, that a held sample is taken exactly II enabled
/// edges after the previous one (in_valid while in_ready is low is ignored), and that each
/// output comes exactly `latency` enabled edges after its sample was taken.
@discardableResult
func runReuseDesign(_ design: Design, model: Model, samples: [[Int128]], seed: UInt64, what: String) -> Int {
    let golden = try! GoldenModel(model)
    let sim = NetlistInterpreter(design.top, library: design.modules)
    let t = model.input.type, ot = model.outputType
    let ii = design.initiationInterval
    var expected = samples.map { golden.evaluate(codes: $0) }
    var rng = TestRNG(seed: seed)
    var next = 0, cycle = 0, edges = 0, compared = 0
    var takenAt: [Int] = []
    var offered = false
    sim.evaluate(inputs: ["rst": 1])
    sim.clock()
    while !expected.isEmpty && cycle < (ii + 2) * samples.count * 3 + design.latency + 100 {
        let ce = cycle % 5 != 2
        // A new sample is offered after a random gap; once offered it is held until taken.
        if !offered && next < samples.count { offered = rng.int(0...3) != 0 }
        var bus = BigInt(0)
        if next < samples.count {
            for c in samples[next].reversed() { bus = (bus << t.width) | BigInt(t.encode(c)) }
        }
        sim.evaluate(inputs: ["rst": 0, "ce": ce ? 1 : 0, "in_valid": offered ? 1 : 0, "in_data": bus])
        let ready = ii == 1 || sim.output(CorePorts.inReady) == 1
        if ce && sim.output("out_valid") == 1 {
            let out = sim.output("out_data")
            let got = (0..<model.outputSize).map { j -> Int128 in
                ot.decode(UInt128(Int128((out >> (j * ot.width)) & ((BigInt(1) << ot.width) - 1))))
            }
            XCTAssertEqual(got, expected.removeFirst(), "\(what): sample \(compared)")
            XCTAssertEqual(edges, takenAt[compared] + design.latency, "\(what): latency of sample \(compared)")
            compared += 1
        }
        let take = ce && offered && ready
        if take {
            if let last = takenAt.last {
                XCTAssertGreaterThanOrEqual(edges - last, ii, "\(what): samples closer than II")
            }
            takenAt.append(edges)
        }
        sim.clock()
        if ce { edges += 1 }
        if take { next += 1; offered = false }
        cycle += 1
    }
    XCTAssertTrue(expected.isEmpty, "\(what): \(expected.count) outputs missing")
    return compared
}

func randomSamples(_ model: Model, count: Int, seed: UInt64) -> [[Int128]] {
    var rng = TestRNG(seed: seed)
    let t = model.input.type
    return (0..<count).map { _ in
        (0..<model.input.size).map { _ in
            t.isBipolar ? (rng.bool() ? 1 : -1) : t.minCode + Int128(rng.int(0...Int(min(t.maxCode - t.minCode, 1 << 40))))
        }
    }
}

final class ReuseTests: XCTestCase {
    func loadExample(_ name: String) throws -> Model {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try ModelLoader.load(path: root.appendingPathComponent("examples/\(name)/model.json").path)
    }

    /// The chunking: K = ceil(n / R) inputs per cycle, C = ceil(n / K) cycles (<= R).
    func testChunks() {
        XCTAssertEqual(LayerLowering.reuseChunks(inputs: 256, reuseFactor: 64).perCycle, 4)
        XCTAssertEqual(LayerLowering.reuseChunks(inputs: 256, reuseFactor: 64).cycles, 64)
        XCTAssertEqual(LayerLowering.reuseChunks(inputs: 5, reuseFactor: 64).cycles, 5)
        XCTAssertEqual(LayerLowering.reuseChunks(inputs: 8, reuseFactor: 3).perCycle, 3)
        XCTAssertEqual(LayerLowering.reuseChunks(inputs: 8, reuseFactor: 3).cycles, 3)
        XCTAssertEqual(LayerLowering.reuseChunks(inputs: 5, reuseFactor: 4).cycles, 3)
    }

    /// The muon student at RF 2, 3, 4 and 8: II, multipliers, latency of the formula, bit-exact
    /// in the interpreter with gaps, stalls and samples held while in_ready is low.
    func testMuonStudentAtSeveralReuseFactors() throws {
        let model = try loadExample("muon_recal")
        let samples = randomSamples(model, count: 15, seed: 3)
        for rf in [2, 3, 4, 8] {
            var o = LoweringOptions()
            o.reuseFactor = rf
            let design = DesignLowering.lower(model, options: o)
            // fc1 has 5 inputs, fc2..fc5 have 8: the core's II is the 8-input layers' C.
            let c8 = LayerLowering.reuseChunks(inputs: 8, reuseFactor: rf)
            XCTAssertEqual(design.initiationInterval, c8.cycles, "RF \(rf)")
            XCTAssertNotNil(design.top.signal(named: CorePorts.inReady))
            let fc2 = design.layers[2]
            XCTAssertEqual(fc2.initiationInterval, c8.cycles)
            XCTAssertEqual(fc2.multipliers, 8 * c8.perCycle, "RF \(rf): K multipliers per output")
            XCTAssertEqual(fc2.module.tables.count, 1)
            XCTAssertEqual(runReuseDesign(design, model: model, samples: samples, seed: UInt64(rf), what: "muon RF \(rf)"), samples.count)
        }
    }

    /// A per-layer reuse factor on one layer only; the others stay unrolled (shift-add, no
    /// multiplier), and RF 1 everywhere gives a core without in_ready.
    func testPerLayerReuseFactor() throws {
        let model = try loadExample("muon_recal")
        var o = LoweringOptions()
        o.layerReuseFactors = ["fc3": 4]
        let design = DesignLowering.lower(model, options: o)
        XCTAssertEqual(design.initiationInterval, 4)
        XCTAssertEqual(design.layers.map { $0.initiationInterval }, [1, 1, 1, 1, 4, 1, 1, 1, 1])
        XCTAssertEqual(design.layers[4].multipliers, 16)
        XCTAssertEqual(design.layers[2].multipliers, 0)
        runReuseDesign(design, model: model, samples: randomSamples(model, count: 12, seed: 9), seed: 4, what: "fc3 RF 4")
        let plain = DesignLowering.lower(model, options: LoweringOptions())
        XCTAssertEqual(plain.initiationInterval, 1)
        XCTAssertNil(plain.top.signal(named: CorePorts.inReady))
    }

    /// Random models (every type, rounding and overflow, explicit wrapping accumulators, odd
    /// sizes that leave a padded last chunk) at reuse factors 2, 3 and 5.
    func testRandomModelsWithReuseMatchGolden() {
        var compared = 0
        var explicitAccum = 0
        for seed in UInt64(1)...16 {
            let model = RandomModel.model(seed: seed)
            for l in model.layers { if case let .dense(d) = l.op, d.accumType != nil { explicitAccum += 1 } }
            var o = LoweringOptions()
            o.reuseFactor = [2, 3, 5][Int(seed % 3)]
            let design = DesignLowering.lower(model, options: o)
            compared += runReuseDesign(design, model: model, samples: randomSamples(model, count: 12, seed: seed), seed: seed,
                                       what: "random \(seed) RF \(o.reuseFactor)")
        }
        XCTAssertEqual(compared, 16 * 12)
        XCTAssertGreaterThan(explicitAccum, 0, "some models have an explicit accumulator")
    }

    /// Binary/ternary random models at reuse factor 2 (dense layers next to binary layers), and a
    /// dense layer on a bipolar input (the 1-bit input decoded from the shifting input register).
    func testBinaryModelsWithReuseMatchGolden() throws {
        for seed in UInt64(1)...12 {
            let model = RandomBinaryModel.model(seed: seed)
            var o = LoweringOptions()
            o.reuseFactor = 2
            let design = DesignLowering.lower(model, options: o)
            runReuseDesign(design, model: model, samples: randomSamples(model, count: 10, seed: seed), seed: seed,
                           what: "binary \(seed) RF 2")
        }
        // And one built for it: 7 bipolar inputs, 3 per cycle (a padded last chunk).
        let text = """
        {"format": "rtlgen-model", "version": 1, "name": "bip",
         "input": {"name": "x", "size": 7, "type": "fixed<6,2>"},
         "layers": [
          {"name": "s1", "op": "sign"},
          {"name": "fc", "op": "dense", "units": 3,
           "kernel": [[0.5, -1.25, 1], [0.25, 0.75, -1], [1.5, 0, -0.5], [-2, 0.25, 0.5], [0.75, 1, 1], [-0.25, -0.5, 0], [1, 1, -1.75]],
           "bias": [0.25, 0, -0.5], "kernel_type": "fixed<5,2>", "bias_type": "fixed<5,2>", "output_type": "fixed<8,4>"}
         ]}
        """
        let model = try ModelLoader.parse(text: text, file: "bip.json")
        var o = LoweringOptions()
        o.reuseFactor = 3
        let design = DesignLowering.lower(model, options: o)
        XCTAssertEqual(design.layers[1].initiationInterval, 3)
        XCTAssertEqual(runReuseDesign(design, model: model, samples: randomSamples(model, count: 40, seed: 5), seed: 5, what: "bipolar dense RF 3"), 40)
    }

    /// The core never takes a sample while in_ready is low: with in_valid held high from reset,
    /// in_ready is high exactly every II enabled edges.
    func testInReadyPattern() throws {
        let model = try loadExample("muon_recal")
        var o = LoweringOptions()
        o.reuseFactor = 4
        let design = DesignLowering.lower(model, options: o)
        let sim = NetlistInterpreter(design.top, library: design.modules)
        sim.evaluate(inputs: ["rst": 1])
        sim.clock()
        var pattern: [Int] = []
        for cycle in 0..<40 {
            let ce = cycle % 7 != 3
            sim.evaluate(inputs: ["rst": 0, "ce": ce ? 1 : 0, "in_valid": 1, "in_data": 0])
            if ce { pattern.append(Int(sim.output(CorePorts.inReady))) }
            sim.clock()
        }
        XCTAssertEqual(pattern.count, 34)
        for (k, r) in pattern.enumerated() { XCTAssertEqual(r, k % 4 == 0 ? 1 : 0, "enabled edge \(k)") }
    }
}
