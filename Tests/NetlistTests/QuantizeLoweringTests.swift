// The per-element quantize layer (ModelIR/Kinds/Quantize.swift, HGQ2's heterogeneous activation
// quantizers) in hardware: random per-element types over every rounding and overflow mode, signed
// and unsigned, narrower and wider than the input, elements without bits; run in the netlist
// interpreter against the golden model, on every input code and on random ones.
import FixedPoint
import Golden
import ModelIR
@testable import Netlist
import XCTest

final class QuantizeLoweringTests: XCTestCase {
    func model(seed: UInt64, inType: FixedType, n: Int) throws -> Model {
        var r = TestRNG(seed: seed)
        let types: [FixedType?] = (0..<n).map { _ in
            if r.int(0...9) == 0 { return nil }
            let signed = r.int(0...1) == 1
            let w = r.int(1...9)
            let i = r.int(-2...6)
            let q = RoundingMode.allCases[r.int(0...(RoundingMode.allCases.count - 1))]
            let o = [OverflowMode.WRAP, .SAT, .SAT_SYM, .SAT_ZERO][r.int(0...3)]
            return FixedType(signed: signed, width: w, intBits: i, rounding: q, overflow: o)
        }
        let out = Quantize.union(types) ?? FixedType(signed: false, width: 1, intBits: 1)
        let dense = Dense(units: 2, kernelType: try FixedType.parse("fixed<4,2>"), biasType: try FixedType.parse("fixed<4,2>"), accumType: nil,
                          kernel: (0..<n).map { _ in [Int128(r.int(-8...7)), Int128(r.int(-8...7))] }, bias: [1, -3])
        return try ModelCore.validate(Model(name: "q", input: InputSpec(name: "x", size: n, type: inType), layers: [
            Layer(name: "q1", op: .of(Quantize(types: types)), outputType: out),
            Layer(name: "fc", op: .dense(dense), outputType: try FixedType.parse("fixed<24,12>")),
        ]), file: "q")
    }

    func testQuantizeMatchesGolden() throws {
        for (seed, t) in [(1, "fixed<8,3>"), (2, "ufixed<7,2>"), (3, "fixed<10,6>"), (4, "fixed<6,-1>")] as [(UInt64, String)] {
            let m = try model(seed: seed, inType: try FixedType.parse(t), n: 12)
            let design = DesignLowering.lower(m)
            XCTAssertEqual(runReuseDesign(design, model: m, samples: randomSamples(m, count: 40, seed: seed), seed: seed, what: "quantize \(seed)"), 40)
        }
    }

    /// Each element is exactly its own cast, held without loss in the union type.
    func testGoldenIsTheElementCast() throws {
        let m = try model(seed: 9, inType: try FixedType.parse("fixed<8,3>"), n: 12)
        guard case let .kind(k) = m.layers[0].op, let q = k.base as? Quantize else { return XCTFail() }
        let out = m.layers[0].outputType
        for c in m.input.type.minCode...m.input.type.maxCode {
            let y = q.evaluate(Array(repeating: c, count: 12), input: TensorInfo(shape: [12], type: m.input.type), outputType: out, plan: nil)
            for (j, t) in q.types.enumerated() {
                guard let t else { XCTAssertEqual(y[j], 0); continue }
                let e = t.cast(code: c, frac: m.input.type.fracBits)
                XCTAssertEqual(y[j], e << (out.fracBits - t.fracBits), "element \(j) (\(t)) of code \(c)")
            }
        }
    }
}
