import BigInt
import FixedPoint
import Golden
import ModelIR
@testable import Netlist
import XCTest

/// Binary and ternary dense layers through the shared shift-add CMVM (BinaryDenseShiftAdd.swift).
final class BinarySharingTests: XCTestCase {
    func kernel(_ n: Int, _ m: Int, ternary: Bool, seed: UInt64) -> [[Int8]] {
        var rng = TestRNG(seed: seed)
        return (0..<n).map { _ in (0..<m).map { _ in ternary ? rng.pick([1, 0, -1]) : rng.pick([1, -1]) } }
    }

    /// The matrix rewriting is exact: over the raw bits of bipolar inputs, 2 * row . c - row sum
    /// equals the golden sum over the decoded +-1 values; over fixed-point codes, row . x.
    func testPartialSumMatrixIsExact() {
        var rng = TestRNG(seed: 3)
        for ternary in [false, true] {
            let d = BinaryDense(units: 7, kernel: kernel(19, 7, ternary: ternary, seed: 11))
            let bits = BinaryPartialSums(d, bipolarInputs: true)
            let codes = BinaryPartialSums(d, bipolarInputs: false)
            XCTAssertEqual(bits.termShift, 1)
            XCTAssertEqual(codes.termShift, 0)
            for _ in 0..<50 {
                let c: [Int128] = (0..<19).map { _ in rng.bool() ? 1 : 0 }
                let x: [Int128] = (0..<19).map { _ in Int128(rng.int(-40...40)) }
                let yb = BinaryLayerOp.binaryDense(d).evaluate(c.map { 2 * $0 - 1 }, inputType: .bipolar, outputType: .integer(signed: true, width: 8))
                let t = FixedType.integer(signed: true, width: 8)
                let yx = BinaryLayerOp.binaryDense(d).evaluate(x, inputType: t, outputType: .integer(signed: true, width: 12))
                for j in 0..<7 {
                    XCTAssertEqual(bits.accumulate(c, neuron: j), yb[j])
                    XCTAssertEqual(codes.accumulate(x, neuron: j), yx[j])
                }
            }
        }
    }

    static func model(inType: String, n: Int, m: Int, op: String, seed: UInt64) -> String {
        BinaryLoweringTests.binaryModel(inType: inType, nIn: n, units: m, op: op, seed: seed)
    }

    /// Bipolar and fixed-point inputs, binary and ternary weights: the shared lowering equals the
    /// golden model cycle by cycle, shares partial sums across neurons and needs fewer adders than
    /// the per-neuron lowering (`multipliers: dsp` keeps it); the report's adder depth is at most
    /// a balanced tree's plus the offset.
    func testSharedLoweringIsExactAndSmaller() throws {
        var rng = TestRNG(seed: 21)
        for (inType, op) in [("bipolar", "binary_dense"), ("fixed<10,4>", "binary_dense"), ("bipolar", "ternary_dense"), ("fixed<7,2>", "ternary_dense")] {
            let n = 40, m = 24
            let model = try ModelLoader.parse(text: Self.model(inType: inType, n: n, m: m, op: op, seed: 7), file: "b.json")
            let shared = DesignLowering.lower(model)
            var dspOptions = LoweringOptions()
            dspOptions.multipliers = .dsp
            let perNeuron = DesignLowering.lower(model, options: dspOptions)
            let l = shared.layers[0], old = perNeuron.layers[0]
            let nodes = l.details.first { $0.0 == "shift_add_shared_nodes" }?.1 ?? 0
            XCTAssertGreaterThan(nodes, 0, "\(op) \(inType)")
            XCTAssertLessThan(l.adders, old.adders, "\(op) \(inType): \(l.adders) vs \(old.adders) adders")
            XCTAssertNil(old.details.first { $0.0 == "shift_add_shared_nodes" }, "dsp keeps the per-neuron lowering")
            let depth = l.details.first { $0.0 == "adder_depth" }?.1 ?? -1
            XCTAssertGreaterThanOrEqual(depth, 6, "\(op) \(inType)")   // 40 terms need 6 levels at least
            XCTAssertLessThanOrEqual(depth, 8, "\(op) \(inType)")
            XCTAssertNil(l.details.first { $0.0 == "popcount_depth" })
            let t = model.input.type
            let samples: [[Int128]] = (0..<40).map { _ in
                (0..<n).map { _ in t.isBipolar ? (rng.bool() ? 1 : -1) : t.minCode + Int128(rng.int(0...Int(t.maxCode - t.minCode))) }
            }
            for clock in [4.0, 1.5] {
                _ = try checkThroughNetlist(model, samples: samples, clock: clock, what: "\(op) \(inType) at \(clock) ns")
            }
        }
    }

    /// Extreme inputs (all +1, all -1, the input type's limits) reach the accumulator's ends.
    func testExtremeInputs() throws {
        for (inType, op) in [("bipolar", "binary_dense"), ("fixed<6,6>", "ternary_dense")] {
            let model = try ModelLoader.parse(text: Self.model(inType: inType, n: 33, m: 5, op: op, seed: 2), file: "b.json")
            let t = model.input.type
            let lo = t.isBipolar ? Int128(-1) : t.minCode, hi = t.isBipolar ? Int128(1) : t.maxCode
            let samples: [[Int128]] = [Array(repeating: lo, count: 33), Array(repeating: hi, count: 33),
                                       (0..<33).map { $0 % 2 == 0 ? lo : hi }, (0..<33).map { $0 % 3 == 0 ? hi : lo }]
            XCTAssertEqual(try checkThroughNetlist(model, samples: samples, clock: 4, what: "\(op) \(inType) extremes"), 4)
        }
    }
}
