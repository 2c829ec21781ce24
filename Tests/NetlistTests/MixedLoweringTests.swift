import BigInt
import FixedPoint
import Foundation
import ModelIR
@testable import Netlist
import XCTest

final class MixedLoweringTests: XCTestCase {
    /// Arithmetic layers (activation tables, dense, leaky_relu) fed by a bipolar `sign` output
    /// read it as its value, -1 or +1, in the golden model and in the hardware alike.
    func testActivationsAfterBipolarLayers() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../models/bipolar_mix.json")
        let model = try ModelLoader.load(path: url.path)
        XCTAssertTrue(model.inputOf(layer: 1).type.isBipolar)
        XCTAssertTrue(model.inputOf(layer: 4).type.isBipolar)
        let t = model.input.type
        var samples: [[Int128]] = []
        for a in stride(from: t.minCode, through: t.maxCode, by: 5) {
            samples.append([a, -a - 1, a / 3])
        }
        let n = try checkThroughNetlist(model, samples: samples, clock: 4.0, what: "bipolar_mix")
        XCTAssertEqual(n, samples.count)
    }
}
