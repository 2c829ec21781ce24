// The ONNX / QONNX importer on graphs built here as protobuf messages: the hls4ml mapping of
// float graphs, QONNX's exact semantics (types, rounding modes, narrow ranges, BipolarQuant(0) =
// +1, MultiThreshold counting with >=), and damaged or unsupported files (one InputError naming
// the file, node and field; never a crash).
@testable import FrontEnds
import FixedPoint
import Foundation
import Golden
import ModelIR
import XCTest

/// A tiny ONNX graph builder: a chain from "x".
struct OnnxBuilder {
    var nodes: [Onnx_NodeProto] = []
    var inits: [Onnx_TensorProto] = []
    var cur = "x"
    var k = 0
    let nIn: Int

    init(nIn: Int) { self.nIn = nIn }

    mutating func const(_ values: [Double], _ shape: [Int]) -> String {
        k += 1
        var t = Onnx_TensorProto()
        t.name = "c\(k)"
        t.dataType = 1
        t.dims = shape.map(Int64.init)
        t.floatData = values.map { Float($0) }
        inits.append(t)
        return t.name
    }

    static func attr(_ name: String, i: Int64? = nil, f: Float? = nil, s: String? = nil) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        if let i { a.i = i; a.type = .int }
        if let f { a.f = f; a.type = .float }
        if let s { a.s = Data(s.utf8); a.type = .string }
        return a
    }

    mutating func op(_ type: String, _ extra: [String] = [], domain: String = "", _ attrs: [Onnx_AttributeProto] = []) {
        k += 1
        var n = Onnx_NodeProto()
        n.opType = type
        n.name = "\(type.lowercased())_\(k)"
        n.domain = domain
        n.input = [cur] + extra
        n.output = ["t\(k)"]
        n.attribute = attrs
        nodes.append(n)
        cur = "t\(k)"
    }

    mutating func quant(scale: Double, bits: Int, signed: Int64 = 1, narrow: Int64 = 0, mode: String = "ROUND") {
        let s = const([scale], []), z = const([0], []), b = const([Double(bits)], [])
        op("Quant", [s, z, b], domain: "qonnx.custom_op.general",
           [Self.attr("signed", i: signed), Self.attr("narrow", i: narrow), Self.attr("rounding_mode", s: mode)])
    }

    /// A constant quantized by a Quant node (a quantized weight).
    mutating func quantConst(_ values: [Double], _ shape: [Int], scale: Double, bits: Int, narrow: Int64 = 0) -> String {
        let w = const(values, shape), s = const([scale], []), z = const([0], []), b = const([Double(bits)], [])
        k += 1
        var n = Onnx_NodeProto()
        n.opType = "Quant"
        n.name = "wq_\(k)"
        n.domain = "qonnx.custom_op.general"
        n.input = [w, s, z, b]
        n.output = ["wq\(k)"]
        n.attribute = [Self.attr("signed", i: 1), Self.attr("narrow", i: narrow), Self.attr("rounding_mode", s: "ROUND")]
        nodes.append(n)
        return "wq\(k)"
    }

    func data(outputs: Int) throws -> Data {
        var g = Onnx_GraphProto()
        g.name = "test_graph"
        g.node = nodes
        g.node[g.node.count - 1].output = ["y"]
        g.initializer = inits
        func info(_ name: String, _ n: Int) -> Onnx_ValueInfoProto {
            var v = Onnx_ValueInfoProto()
            v.name = name
            var d0 = Onnx_TensorShapeProto.Dimension(), d1 = Onnx_TensorShapeProto.Dimension()
            d0.dimValue = 1
            d1.dimValue = Int64(n)
            v.type.tensorType.elemType = 1
            v.type.tensorType.shape.dim = [d0, d1]
            return v
        }
        g.input = [info("x", nIn)]
        g.output = [info("y", outputs)]
        var m = Onnx_ModelProto()
        m.irVersion = 8
        m.graph = g
        return try m.serializedData()
    }
}

final class ONNXImporterTests: XCTestCase {
    func load(_ d: Data) throws -> Model {
        try ONNXImporter.model(data: d, file: "t.onnx", config: .defaults(file: "t.onnx"), options: ImportOptions())
    }

    func expectError(_ d: Data, _ want: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try load(d), file: file, line: line) { e in
            XCTAssertTrue(e is InputError && "\(e)".contains(want) && "\(e)".contains("t.onnx"), "\(e)", file: file, line: line)
            XCTAssertFalse("\(e)".contains("\n"), "one line: \(e)", file: file, line: line)
        }
    }

    func testFloatGraphAsHLS4ML() throws {
        var b = OnnxBuilder(nIn: 2)
        let w = b.const([0.5, -0.1249, 1, 0.3], [2, 2])
        b.op("MatMul", [w])
        b.op("Add", [b.const([0.125, -2], [2])])
        b.op("Relu")
        b.op("Gemm", [b.const([1, -1], [1, 2]), b.const([0.25], [1])], [OnnxBuilder.attr("transB", i: 1)])
        b.op("Sigmoid")
        let m = try load(try b.data(outputs: 1))
        XCTAssertEqual(m.layers.map { $0.opName }, ["dense", "batchnorm", "relu", "dense", "batchnorm", "sigmoid"])
        let t = FixedType(signed: true, width: 16, intBits: 6)
        XCTAssertEqual(m.input.type, t)
        guard case let .dense(d) = m.layers[0].op else { return XCTFail("dense") }
        // hls4ml's decimal text then truncation: -0.1249 -> "-0.1249023438" -> code -128 (= -0.125).
        XCTAssertEqual(d.kernel, [[512, Int128(WeightText.code(-0.1249, type: t, rounding: .hls4ml))], [1024, Int128(WeightText.code(Double(Float(0.3)), type: t, rounding: .hls4ml))]])
        XCTAssertEqual(d.bias, [0, 0], "the bias is hls4ml's ApplyAlpha layer after the dense")
        XCTAssertEqual(d.accumType, t)
    }

    func testQuantizedGraphIsExact() throws {
        var b = OnnxBuilder(nIn: 2)
        b.quant(scale: 0.25, bits: 6)                        // fixed<6,4,RND_CONV,SAT>
        let w = b.quantConst([0.5, -0.74, 1.3, 0.1], [2, 2], scale: 0.5, bits: 3, narrow: 1)   // codes 1, -1, 3 (sat 3), 0
        b.op("MatMul", [w])
        b.quant(scale: 0.125, bits: 8, mode: "HALF_UP")
        let m = try load(try b.data(outputs: 2))
        XCTAssertEqual(m.input.type.description, "fixed<6,4,RND_CONV,SAT>")
        XCTAssertEqual(m.layers.count, 1)
        guard case let .dense(d) = m.layers[0].op else { return XCTFail("dense") }
        XCTAssertEqual(d.kernelType.description, "fixed<3,2,RND_CONV,SAT_SYM>")
        XCTAssertEqual(d.kernel, [[1, -1], [3, 0]])   // -0.74/0.5 = -1.48 -> -1; 1.3/0.5 = 2.6 -> 3 (max of the narrow range)
        XCTAssertNil(d.accumType, "exact accumulation")
        XCTAssertEqual(m.layers[0].outputType.description, "fixed<8,5,RND_INF,SAT>")
        // x = (1.25, -0.5): y0 = 1.25*0.5 - 0.5*1.5 = -0.125; y1 = 1.25*(-0.5) + 0 = -0.625 -> codes -1, -5.
        let g = try GoldenModel(m)
        XCTAssertEqual(g.evaluate(codes: [5, -2]), [-1, -5])
    }

    func testQuantRoundingModesAndRanges() throws {
        func inputType(_ mode: String, signed: Int64 = 1, narrow: Int64 = 0) throws -> FixedType {
            var b = OnnxBuilder(nIn: 1)
            b.quant(scale: 1.0 / 8, bits: 5, signed: signed, narrow: narrow, mode: mode)
            b.op("Relu")
            return try load(try b.data(outputs: 1)).input.type
        }
        XCTAssertEqual(try inputType("ROUND").rounding, .RND_CONV)
        XCTAssertEqual(try inputType("HALF_EVEN").rounding, .RND_CONV)
        XCTAssertEqual(try inputType("FLOOR").rounding, .TRN)
        XCTAssertEqual(try inputType("DOWN").rounding, .TRN_ZERO)
        XCTAssertEqual(try inputType("HALF_UP").rounding, .RND_INF)
        XCTAssertEqual(try inputType("HALF_DOWN").rounding, .RND_ZERO)
        XCTAssertEqual(try inputType("ROUND", narrow: 1).overflow, .SAT_SYM)
        let u = try inputType("ROUND", signed: 0)
        XCTAssertFalse(u.signed)
        XCTAssertEqual(u.description, "ufixed<5,2,RND_CONV,SAT>")
        // A tie rounds as QONNX says: HALF_UP 0.0625 at scale 1/8 -> 0.125; ROUND (even) -> 0.
        XCTAssertEqual(try inputType("HALF_UP").quantize(double: 0.0625), 1)
        XCTAssertEqual(try inputType("ROUND").quantize(double: 0.0625), 0)
        XCTAssertEqual(try inputType("HALF_DOWN").quantize(double: -0.0625), 0)
        // Narrow signed 5-bit: -2 saturates to -15/8, not -16/8.
        XCTAssertEqual(try inputType("ROUND", narrow: 1).quantize(double: -2), -15)
    }

    func testBipolarQuantZeroIsPlusOneAndMultiThresholdCountsGreaterEqual() throws {
        var b = OnnxBuilder(nIn: 2)
        b.op("BipolarQuant", [b.const([1], [])], domain: "qonnx.custom_op.general")
        b.op("MatMul", [b.const([1, -1, 1, 1], [2, 2])])          // float weights: exact codes
        b.op("MultiThreshold", [b.const([-2, 0, 2], [1, 3])], domain: "qonnx.custom_op.general",
             [OnnxBuilder.attr("out_scale", f: 0.5), OnnxBuilder.attr("out_bias", f: -1)])
        let m = try load(try b.data(outputs: 2))
        XCTAssertEqual(m.input.type, .bipolar)
        XCTAssertEqual(m.input.type.quantize(double: 0), 1, "BipolarQuant(0) = +1")
        XCTAssertEqual(m.input.type.quantize(double: -0.0), 1, "BipolarQuant(-0) = +1")
        let g = try GoldenModel(m)
        // x = (+1, +1): sums (2, 0): #(2 >= -2, 0, 2) = 3 -> 0.5; #(0 >= ..) = 2 -> 0 (a sum equal to a threshold counts).
        let out = g.evaluate(codes: [1, 1])
        let t = m.layers.last!.outputType
        XCTAssertEqual(out.map { t.decimalString($0) }, ["0.5", "0"])
    }

    func testTrunc() throws {
        // v2: x on the 2^-4 grid, scale 2^-4, out_scale 2^-2, 5 bits, FLOOR -> fixed<5,3,TRN,SAT> fused into the cast.
        var b = OnnxBuilder(nIn: 1)
        b.quant(scale: 1.0 / 16, bits: 8)
        b.op("Trunc", [b.const([1.0 / 16], []), b.const([0], []), b.const([8], []), b.const([0.25], []), b.const([5], [])],
             domain: "qonnx.custom_op.general", [OnnxBuilder.attr("rounding_mode", s: "FLOOR")])
        let m = try load(try b.data(outputs: 1))
        XCTAssertEqual(m.layers.map { $0.outputType.description }, ["fixed<5,3,TRN,SAT>"])
        // -0.0625 floors to -0.25; 7.9 saturates to 3.75.
        let g = try GoldenModel(m)
        XCTAssertEqual(g.evaluate(codes: [-1]), [-1])
        XCTAssertEqual(g.evaluate(codes: [127]), [15])
        // v1 (5 inputs) is refused with its reason.
        var v1 = OnnxBuilder(nIn: 1)
        v1.quant(scale: 1.0 / 16, bits: 8)
        v1.op("Trunc", [v1.const([1.0 / 16], []), v1.const([0], []), v1.const([8], []), v1.const([5], [])], domain: "qonnx.custom_op.general")
        expectError(try v1.data(outputs: 1), "(Trunc): Trunc with 5 inputs (qonnx Trunc v1 rescales its output")
    }

    func testDamagedAndUnsupported() throws {
        var b = OnnxBuilder(nIn: 2)
        b.op("MatMul", [b.const([1, 2, 3, 4], [2, 2])])
        b.op("Relu")
        let good = try b.data(outputs: 2)
        XCTAssertNoThrow(try load(good))
        expectError(Data("garbage, not a protobuf \u{1} \u{2} \u{3}".utf8), "not a valid ONNX file")
        expectError(good.prefix(good.count / 2), "t.onnx")
        expectError(Data(), "not an ONNX model")
        // A missing initializer.
        var miss = b
        miss.inits.removeFirst()
        expectError(try miss.data(outputs: 2), "no initializer holds (a missing initializer?)")
        // A weight of the wrong shape.
        var wrong = OnnxBuilder(nIn: 3)
        wrong.op("MatMul", [wrong.const([1, 2, 3, 4], [2, 2])])
        expectError(try wrong.data(outputs: 2), "the weight has shape (2, 2): 2 inputs, but the layer receives 3")
        // Values that do not match the shape.
        var short = OnnxBuilder(nIn: 2)
        short.op("MatMul", [short.const([1, 2, 3], [2, 2])])
        expectError(try short.data(outputs: 2), "holds 3 values, its shape (2, 2) needs 4")
        // An unsupported operator, named.
        var lrn = OnnxBuilder(nIn: 2)
        lrn.op("LRN", [lrn.const([1], [1])])
        expectError(try lrn.data(outputs: 2), "node 'lrn_2' (LRN): unsupported operator LRN")
        // A Conv on a flat (batch, n) input: a conv graph needs its channels-last input shape.
        var conv = OnnxBuilder(nIn: 2)
        conv.op("Conv", [conv.const([1], [1])])
        expectError(try conv.data(outputs: 2), "a convolutional graph needs a declared input shape")
        // QONNX without an exact fixed-point equivalent.
        // A real input scale (Brevitas) is the model's input scale, but values with that scale have
        // no fixed-point type to leave the graph with.
        var ns = OnnxBuilder(nIn: 2)
        ns.quant(scale: 0.3, bits: 8)
        ns.op("Relu")
        expectError(try ns.data(outputs: 2), "(Relu): the values reaching it have a scale that is not a power of two")
        var ceil = OnnxBuilder(nIn: 2)
        ceil.quant(scale: 0.5, bits: 8, mode: "CEIL")
        ceil.op("Relu")
        expectError(try ceil.data(outputs: 2), "(Quant).rounding_mode: rounding mode CEIL has no ap_fixed equivalent")
        var un = OnnxBuilder(nIn: 2)
        un.quant(scale: 0.5, bits: 8, signed: 0, narrow: 1)
        un.op("Relu")
        expectError(try un.data(outputs: 2), "(Quant).narrow: an unsigned narrow range")
        // The whole file through ModelSource (by extension), and a byte-by-byte truncation sweep: never a crash.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rtlgen-onnx-\(ProcessInfo.processInfo.processIdentifier).onnx")
        try good.write(to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(try ModelSource.kind(path: dir.path), .onnx)
        XCTAssertEqual(try ModelSource.load(ModelRequest(path: dir.path)).model.layers.count, 2)
        for n in 0..<good.count {
            do { _ = try load(good.prefix(n)) } catch let e as InputError { XCTAssertFalse("\(e)".contains("\n")) }
        }
    }

    func testSharedModelsImport() throws {
        let ex = root.deletingLastPathComponent().appendingPathComponent("shared/models/hls4ml-example-models/onnx")
        guard FileManager.default.fileExists(atPath: ex.path) else { throw XCTSkip("shared example models not found") }
        let bnn = try ONNXImporter.model(path: ex.appendingPathComponent("bnn_model_fc_1layer.onnx").path, config: .defaults(file: "x"), options: ImportOptions())
        XCTAssertEqual(bnn.layers.map { $0.opName }, ["binary_dense", "threshold"])
        let three = try ONNXImporter.model(path: ex.appendingPathComponent("three_layer_keras.onnx").path, config: .defaults(file: "x"), options: ImportOptions())
        XCTAssertEqual(three.layers.last?.opName, "softmax")
        XCTAssertEqual(three.input.size, 16)
    }
}
