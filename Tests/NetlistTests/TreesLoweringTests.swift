// Tree ensembles in hardware (Netlist/Lowering/Kinds/TreesLowering.swift): random ensembles run
// in the netlist interpreter against the golden model; comparators shared per distinct
// (feature, threshold); inputs cast when the input type is not the threshold type.
import FixedPoint
import Golden
import ModelIR
@testable import Netlist
import XCTest

final class TreesLoweringTests: XCTestCase {
    func model(seed: UInt64) throws -> Model {
        var r = TestRNG(seed: seed)
        let th = try FixedType.parse(r.pick(["fixed<10,4>", "fixed<7,3>"]))
        let inT = r.bool() ? th : try FixedType.parse(r.pick(["fixed<12,5>", "ufixed<9,3>"]))
        let score = try FixedType.parse(r.pick(["fixed<8,3>", "fixed<11,5>"]))
        let nf = r.int(2...5), k = r.int(1...3)
        func code(_ t: FixedType) -> Int128 { t.minCode + Int128(r.int(0...Int(t.maxCode - t.minCode))) }
        func tree(depth: Int) -> TreeEnsemble.Tree {
            var t = TreeEnsemble.Tree(feature: [], threshold: [], left: [], right: [], value: [])
            func node(_ d: Int) -> Int {
                let i = t.feature.count
                t.feature.append(-2); t.threshold.append(0); t.left.append(-1); t.right.append(-1); t.value.append(0)
                if d < depth && (d == 0 || r.int(0...3) > 0) {
                    t.feature[i] = r.int(0...(nf - 1))
                    t.threshold[i] = Int128(r.int(-4...4)) * (th.maxCode / 5)
                    let a = node(d + 1), b = node(d + 1)
                    t.left[i] = a; t.right[i] = b
                } else { t.value[i] = code(score) }
                return i
            }
            _ = node(0)
            return t
        }
        var trees: [[TreeEnsemble.Tree]] = []
        for _ in 0..<r.int(3...20) { trees.append((0..<k).map { _ in tree(depth: r.int(1...4)) }) }
        let bdt = TreeEnsemble(nFeatures: nf, nClasses: k, split: r.bool() ? .lt : .le, thresholdType: th, scoreType: score,
                               baseScore: (0..<k).map { _ in code(score) }, trees: trees)
        return try ModelCore.validate(Model(name: "bdt", input: InputSpec(name: "x", size: nf, type: inT),
                                            layers: [Layer(name: "bdt", op: .of(bdt), outputType: score)]), file: "t")
    }

    func testEnsemblesMatchGolden() throws {
        for seed in 1...8 as ClosedRange<UInt64> {
            let m = try model(seed: seed)
            guard case let .kind(k) = m.layers[0].op, let b = k.base as? TreeEnsemble else { return XCTFail() }
            let design = DesignLowering.lower(m)
            XCTAssertEqual(design.initiationInterval, 1)
            let l = design.layers[0]
            let comparators = l.details.first { $0.0 == "comparators" }?.1
            let shared = l.details.first { $0.0 == "shared_comparisons" }?.1
            XCTAssertEqual(comparators, b.distinctComparisons.count)
            XCTAssertEqual((comparators ?? 0) + (shared ?? 0), b.internalNodes)
            XCTAssertGreaterThan(shared ?? 0, 0, "seed \(seed): thresholds are drawn from 9 values, some must repeat")
            // Half the samples with values on the thresholds (the < / <= boundary).
            var samples = randomSamples(m, count: 40, seed: seed)
            if m.input.type == b.thresholdType {
                var r = TestRNG(seed: seed + 100)
                for s in samples.indices where s % 2 == 0 {
                    for f in samples[s].indices where r.bool() { samples[s][f] = Int128(r.int(-4...4)) * (b.thresholdType.maxCode / 5) }
                }
            }
            XCTAssertEqual(runReuseDesign(design, model: m, samples: samples, seed: seed, what: "bdt \(seed)"), 40)
        }
    }
}
