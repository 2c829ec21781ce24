// Brevitas-style QONNX (QONNXScaled.swift): real input scales and zero points (the model's input
// scale), per-channel weight scales, float biases, BatchNormalization with a negative gamma and
// Relu requantized exactly into multi_threshold layers; and the refusals, one line each. The
// independent oracle is Tests/onnx/brevitas_exact.py (make brevitas-parity); here the values
// are checked against a direct evaluation with rationals on inputs away from rounding ties.
@testable import FrontEnds
import BigInt
import FixedPoint
import Foundation
import Golden
import ModelIR
import XCTest

final class BrevitasImportTests: XCTestCase {
    func load(_ d: Data) throws -> Model {
        try ONNXImporter.model(data: d, file: "t.onnx", config: .defaults(file: "t.onnx"), options: ImportOptions())
    }

    func expectError(_ d: Data, _ want: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try load(d), file: file, line: line) { e in
            XCTAssertTrue(e is InputError && "\(e)".contains(want) && "\(e)".contains("t.onnx"), "\(e)", file: file, line: line)
            XCTAssertFalse("\(e)".contains("\n"), "one line: \(e)", file: file, line: line)
        }
    }

    /// Quant with tensors for the scale and the zero point.
    func quant(_ b: inout OnnxBuilder, scale: [Double], scaleShape: [Int], zp: Double, bits: Int, signed: Int64 = 1) {
        let s = b.const(scale, scaleShape), z = b.const([zp], []), w = b.const([Double(bits)], [])
        b.op("Quant", [s, z, w], domain: "qonnx.custom_op.general",
             [OnnxBuilder.attr("signed", i: signed), OnnxBuilder.attr("narrow", i: 0), OnnxBuilder.attr("rounding_mode", s: "ROUND")])
    }

    func weight(_ b: inout OnnxBuilder, _ values: [Double], _ shape: [Int], scale: [Double], scaleShape: [Int]) -> String {
        let w = b.const(values, shape), s = b.const(scale, scaleShape), z = b.const([0], []), bits = b.const([8], [])
        b.k += 1
        var n = Onnx_NodeProto()
        n.opType = "Quant"
        n.name = "wq_\(b.k)"
        n.domain = "qonnx.custom_op.general"
        n.input = [w, s, z, bits]
        n.output = ["wq\(b.k)"]
        n.attribute = [OnnxBuilder.attr("signed", i: 1), OnnxBuilder.attr("narrow", i: 1), OnnxBuilder.attr("rounding_mode", s: "ROUND")]
        b.nodes.append(n)
        return "wq\(b.k)"
    }

    /// in(0.3, zp 3, uint8) -> Gemm(per-channel weight scales, float bias) -> BN(gamma -1.5, 0.8) -> Relu -> Quant(0.07, uint4)
    func brevitasGraph() -> OnnxBuilder {
        var b = OnnxBuilder(nIn: 2)
        quant(&b, scale: [0.3], scaleShape: [], zp: 3, bits: 8, signed: 0)
        let w = weight(&b, [0.5, -0.2, 0.11, 0.9], [2, 2], scale: [0.01, 0.007], scaleShape: [2, 1])
        b.op("Gemm", [w, b.const([0.05, -0.3], [2])], [OnnxBuilder.attr("transB", i: 1)])
        b.op("BatchNormalization", [b.const([-1.5, 0.8], [2]), b.const([0.2, -0.1], [2]), b.const([0.1, 0.3], [2]), b.const([0.7, 1.9], [2])],
             [OnnxBuilder.attr("epsilon", f: 1e-5)])
        b.op("Relu")
        quant(&b, scale: [0.07], scaleShape: [], zp: 0, bits: 4, signed: 0)
        return b
    }

    func testBrevitasChainIsExactThresholds() throws {
        let m = try load(try brevitasGraph().data(outputs: 2))
        XCTAssertEqual(m.input.type.description, "ufixed<8,8,RND_CONV,SAT>")
        XCTAssertEqual(m.input.scale?.zeroPoint, 3)
        XCTAssertEqual(m.input.scale?.scale, Rational(BigInt(Float(0.3).significandBitPattern | (1 << 23)), BigInt(1) << 25))
        XCTAssertEqual(m.layers.map { $0.opName }, ["dense", "multi_threshold"])
        guard case let .dense(d) = m.layers[0].op else { return XCTFail("dense") }
        // Integer weight codes round(w / s): 0.5/0.01 = 50, -0.2/0.01 = -20 (row 0 = unit 0), 0.11/0.007 = 15.7 -> 16, 0.9/0.007 -> 127 (narrow max);
        // unit 0 falls with the accumulator (gamma < 0): its column is negated.
        XCTAssertEqual(d.kernel, [[-50, 16], [20, 127]])
        // The real semantics, directly: code = clip(round(relu(bn(s_x s_w (q - zp) . k + b)) / 0.07)).
        let g = try GoldenModel(m)
        let f32 = { (x: Double) in Double(Float(x)) }
        for x in [[0.0, 0.0], [1.0, -2.0], [5.5, 3.3], [-4.2, 7.1], [30.0, -30.0], [0.61, 0.29]] {
            let q = x.map { min(max(($0 / f32(0.3)).rounded(.toNearestOrEven) + 3, 0), 255) - 3 }
            let k: [[Double]] = [[50, -20], [16, 127]]
            let s = [f32(0.01), f32(0.007)], bias = [f32(0.05), f32(-0.3)]
            let gamma = [f32(-1.5), f32(0.8)], beta = [f32(0.2), f32(-0.1)], mean = [f32(0.1), f32(0.3)], v = [f32(0.7), f32(1.9)]
            var want: [Int128] = []
            for c in 0..<2 {
                let u = f32(0.3) * s[c] * (q[0] * k[c][0] + q[1] * k[c][1]) + bias[c]
                let y = max(0, beta[c] + (u - mean[c]) * gamma[c] / (v[c] + Double(Float(1e-5))).squareRoot())
                let t = y / f32(0.07)
                XCTAssertGreaterThan(abs(t - t.rounded(.down) - 0.5), 1e-6, "not a tie")
                want.append(Int128(min(15, t.rounded(.toNearestOrEven))))
            }
            let codes = x.map { m.input.quantize(numerator: BigInt(Int(($0 * 1024).rounded())), denominator: 1024) }
            // The last Quant outputs the real values q * 0.07 (exactly, in the output type).
            let unit = m.outputType.quantize(double: f32(0.07))
            XCTAssertEqual(g.evaluate(codes: codes), want.map { $0 * unit }, "\(x)")
        }
    }

    func testInputScaleRoundTripsAndQuantizes() throws {
        let m = try load(try brevitasGraph().data(outputs: 2))
        let text = ModelWriter.json(m)
        XCTAssertTrue(text.contains("\"zero_point\": 3"), text)
        XCTAssertEqual(try ModelLoader.parse(text: text, file: "m.json"), m)
        // round(x / s + zp), half to even (QONNX rounds after adding the zero point):
        // 0.45 / 0.3 + 5 = 6.5 -> 6, 0.75 / 0.3 + 5 = 7.5 -> 8; saturation at the type's range.
        let s = try InputScale(scaleText: "0.3", zeroPoint: 5)
        let u8 = FixedType(signed: false, width: 8, intBits: 8, rounding: .RND_CONV, overflow: .SAT)
        XCTAssertEqual(s.quantize(numerator: 45, denominator: 100, to: u8), 6)
        XCTAssertEqual(s.quantize(numerator: 75, denominator: 100, to: u8), 8)
        XCTAssertEqual(s.quantize(double: -100, to: u8), 0)
        XCTAssertEqual(s.quantize(double: 1e9, to: u8), 255)
        XCTAssertThrowsError(try ModelLoader.parse(text: text.replacingOccurrences(of: "\"zero_point\": 3", with: "\"zero_point\": 3.5"), file: "m.json"))
    }

    func testRefusals() throws {
        // A weight scale that varies along the inputs.
        var a = OnnxBuilder(nIn: 2)
        quant(&a, scale: [0.3], scaleShape: [], zp: 0, bits: 8)
        a.op("Gemm", [weight(&a, [0.5, -0.2, 0.11, 0.9], [2, 2], scale: [0.01, 0.007], scaleShape: [1, 2])], [OnnxBuilder.attr("transB", i: 1)])
        quant(&a, scale: [0.07], scaleShape: [], zp: 0, bits: 4)
        expectError(try a.data(outputs: 2), "the weight scale differs along the inputs of unit 0")
        // Per-channel activation scales.
        var c = OnnxBuilder(nIn: 2)
        quant(&c, scale: [0.3, 0.2], scaleShape: [2], zp: 0, bits: 8)
        c.op("Relu")
        expectError(try c.data(outputs: 2), "(Quant).scale: has 2 different values: per-channel scales are supported for weights only")
        // A zero point that is not an integer.
        var z = OnnxBuilder(nIn: 2)
        quant(&z, scale: [0.3], scaleShape: [], zp: 0.5, bits: 8)
        z.op("Relu")
        expectError(try z.data(outputs: 2), "(Quant).zeropt: zero point 0.5 is not an integer")
        // Too many levels to requantize into thresholds.
        var w = OnnxBuilder(nIn: 2)
        quant(&w, scale: [0.3], scaleShape: [], zp: 0, bits: 8)
        w.op("MatMul", [w.const([1, 2, 3, 4], [2, 2])])
        quant(&w, scale: [0.1], scaleShape: [], zp: 0, bits: 16)
        expectError(try w.data(outputs: 2), "(Quant).bitwidth: requantizing to 65536 levels (16 bits) needs 65535 thresholds per channel; at most 4095")
        // A batchnorm whose output is not quantized.
        var n = OnnxBuilder(nIn: 2)
        quant(&n, scale: [0.3], scaleShape: [], zp: 0, bits: 8)
        n.op("MatMul", [n.const([1, 2, 3, 4], [2, 2])])
        n.op("BatchNormalization", [n.const([1, 1], [2]), n.const([0, 0], [2]), n.const([0, 0], [2]), n.const([1, 1], [2])])
        n.op("MatMul", [n.const([1, 2, 3, 4], [2, 2])])
        expectError(try n.data(outputs: 2), "(BatchNormalization): a BatchNormalization must be followed by a Quant")
        // A falling channel with no dense layer before it to negate.
        var f = OnnxBuilder(nIn: 2)
        quant(&f, scale: [0.3], scaleShape: [], zp: 0, bits: 8)
        f.op("BatchNormalization", [f.const([-1, 1], [2]), f.const([0, 0], [2]), f.const([0, 0], [2]), f.const([1, 1], [2])])
        quant(&f, scale: [0.1], scaleShape: [], zp: 0, bits: 4)
        expectError(try f.data(outputs: 2), "channel 0 falls as its input rises (a negative BatchNormalization scale) and there is no dense layer directly before it")
    }
}
