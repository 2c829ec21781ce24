// Convolutional layers in hardware: unrolled (II = 1) and with a parallelization factor (lanes,
// II = ceil(positions / PF)), pooling, zero padding and flatten, run in the netlist interpreter
// against the golden model, with gaps, stalls and samples held while in_ready is low.
import FixedPoint
import Golden
import ModelIR
@testable import Netlist
import XCTest

final class ConvLoweringTests: XCTestCase {
    /// A small CNN: zero padding, conv2d `same` + relu, max pooling, conv2d with strides and an
    /// explicit accumulator, average pooling `same`, global average, flatten, dense.
    func model(seed: UInt64) throws -> Model {
        var r = TestRNG(seed: seed)
        let w = try FixedType.parse("fixed<5,1>")
        func codes(_ n: Int) -> [Int128] { (0..<n).map { _ in Int128(r.int(-16...15)) } }
        let c1 = Conv(rank: 2, filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: .same, kernelType: w, biasType: w,
                      accumType: nil, kernel: codes(3 * 3 * 2 * 3), bias: codes(3))
        let c2 = Conv(rank: 2, filters: 2, kernelSize: [2, 2], strides: [2, 1], padding: .valid, kernelType: w, biasType: w,
                      accumType: try FixedType.parse("fixed<11,5>"), kernel: codes(2 * 2 * 3 * 2), bias: codes(2))
        let dense = Dense(units: 3, kernelType: w, biasType: w, accumType: nil, kernel: (0..<2).map { _ in codes(3) }, bias: codes(3))
        let t = { (s: String) in try FixedType.parse(s) }
        return try ModelCore.validate(Model(name: "cnn", input: InputSpec(name: "x", size: 5 * 6 * 2, type: try t("fixed<7,3>"), shape: [5, 6, 2]), layers: [
            Layer(name: "pad", op: .of(ZeroPad(rank: 2, pads: [1, 0, 0, 1])), outputType: try t("fixed<7,3>")),
            Layer(name: "conv1", op: .of(c1), outputType: try t("fixed<10,4,RND,SAT>")),
            Layer(name: "relu1", op: .relu, outputType: try t("ufixed<8,3,RND_CONV,SAT>")),
            Layer(name: "pool1", op: .of(Pool(op: .max, rank: 2, poolSize: [2, 2], strides: [1, 2], padding: .valid)), outputType: try t("ufixed<8,3>")),
            Layer(name: "conv2", op: .of(c2), outputType: try t("fixed<12,5>")),
            Layer(name: "avg", op: .of(Pool(op: .average, rank: 2, poolSize: [2, 2], strides: [1, 1], padding: .same)), outputType: try t("fixed<12,4,RND,SAT>")),
            Layer(name: "gap", op: .of(Pool(op: .average, rank: 2, global: true)), outputType: try t("fixed<12,4>")),
            Layer(name: "flat", op: .of(Reshape(shape: nil)), outputType: try t("fixed<12,4>")),
            Layer(name: "fc", op: .dense(dense), outputType: try t("fixed<14,6>")),
        ]), file: "cnn")
    }

    func testUnrolledCNNMatchesGolden() throws {
        for seed in [1, 2] as [UInt64] {
            let m = try model(seed: seed)
            let design = DesignLowering.lower(m)
            XCTAssertEqual(design.initiationInterval, 1)
            XCTAssertEqual(design.layers.map { $0.multipliers }.reduce(0, +), 0, "shift-add, no multiplier")
            XCTAssertEqual(runReuseDesign(design, model: m, samples: randomSamples(m, count: 12, seed: seed), seed: seed, what: "cnn \(seed)"), 12)
        }
    }

    /// PF on both convs: conv1 has 6 x 7 = 42 positions (PF 5: 9 cycles, 5 lanes), conv2 has
    /// 2 x 2 = 4 (PF 3: 2 cycles, 2 lanes): the core's II is 9.
    func testParallelizationFactorMatchesGolden() throws {
        let m = try model(seed: 4)
        var o = LoweringOptions()
        o.parallelizationFactor = 5
        o.layerParallelizationFactors = ["conv2": 3]
        let design = DesignLowering.lower(m, options: o)
        XCTAssertEqual(design.initiationInterval, 9)
        let conv1 = design.layers[1], conv2 = design.layers[4]
        XCTAssertEqual(conv1.initiationInterval, 9)
        XCTAssertEqual(conv1.details.first { $0.0 == "lanes" }?.1, 5)
        XCTAssertEqual(conv2.initiationInterval, 2)
        XCTAssertEqual(conv2.details.first { $0.0 == "lanes" }?.1, 2)
        XCTAssertNotNil(design.top.signal(named: CorePorts.inReady))
        let unrolled = DesignLowering.lower(m)
        XCTAssertLessThan(conv1.adders, unrolled.layers[1].adders, "lanes share the window's arithmetic over the cycles")
        XCTAssertEqual(runReuseDesign(design, model: m, samples: randomSamples(m, count: 10, seed: 4), seed: 4, what: "cnn PF"), 10)
        // PF at least the positions: unrolled.
        o.parallelizationFactor = 64
        o.layerParallelizationFactors = [:]
        XCTAssertEqual(DesignLowering.lower(m, options: o).initiationInterval, 1)
    }
}
