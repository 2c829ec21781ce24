// Binary and ternary Keras / QKeras networks (BinaryDense, TernaryDense, QDense with binary /
// ternary kernels, QActivation binary / ternary), as hls4ml 1.3 converts them; their damaged
// forms (one InputError, one line); and the HDF5 reader's child process on damaged files.
// The fixtures are written by scripts/make_qkeras_binary.py (their hls4ml parity:
// Tests/hls4ml/importers_binary.py).
import Driver
@testable import FrontEnds
import Golden
import FixedPoint
import Foundation
import ModelIR
import XCTest

final class KerasBinaryTests: XCTestCase {
    let qkJSON = fixtures.appendingPathComponent("qkeras_binary.json").path
    let qkH5 = fixtures.appendingPathComponent("qkeras_binary_weights.h5").path
    let bnnJSON = fixtures.appendingPathComponent("small_bnn.json").path
    let bnnH5 = fixtures.appendingPathComponent("small_bnn_weights.h5").path

    func tmp() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("rtlgen-bin-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    func load(_ json: String, _ h5: String) throws -> Model {
        try ModelSource.load(ModelRequest(path: json, weights: h5)).model
    }

    /// The JSON text of a fixture with `edit` applied, imported with the fixture's weights.
    func edited(_ json: String, _ h5: String, _ edit: (String) -> String) throws -> ModelRequest {
        let d = try tmp()
        let p = d.appendingPathComponent("m.json")
        let text = edit(try String(contentsOfFile: json, encoding: .utf8))
        XCTAssertNotEqual(text, try String(contentsOfFile: json, encoding: .utf8), "the edit changed nothing")
        try text.write(to: p, atomically: true, encoding: .utf8)
        return ModelRequest(path: p.path, weights: h5)
    }

    func expectError(_ r: ModelRequest, _ want: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ModelSource.load(r), file: file, line: line) { e in
            XCTAssertTrue(e is InputError && "\(e)".contains(want), "\(e)", file: file, line: line)
            XCTAssertFalse("\(e)".contains("\n"), "one line: \(e)", file: file, line: line)
        }
    }

    func testQKerasBinaryAndTernaryKernelsAndActivations() throws {
        let m = try load(qkJSON, qkH5)
        // fc1 binary kernel on real input: a dense with int<2> weights; bn1 + act1: rtlgen's exact
        // threshold; fc2 binary kernel after it: the xnor popcount (binary_dense, the configured
        // result type); act2 ternary (QKeras threshold 0.33): a multi_threshold; fc3 ternary kernel
        // on ternary input, fc4 ternary kernel on bipolar input: dense layers with int<2> weights.
        XCTAssertEqual(m.layers.map { $0.opName }, ["dense", "threshold", "binary_dense", "multi_threshold", "dense", "threshold", "dense"])
        XCTAssertEqual(m.layers.map { $0.name }, ["fc1", "bn1", "fc2", "act2", "fc3", "bn3", "fc4"])
        guard case let .dense(fc1) = m.layers[0].op, case let .binary(.binaryDense(fc2)) = m.layers[2].op,
              case let .dense(fc3) = m.layers[4].op, case let .binary(.multiThreshold(t)) = m.layers[3].op else {
            return XCTFail("unexpected ops")
        }
        XCTAssertEqual(fc1.kernelType.description, "int<2>")
        XCTAssertEqual(fc1.biasType.description, "fixed<8,4>")  // quantized_bits(8,3)
        XCTAssertTrue(fc1.kernel.allSatisfy { $0.allSatisfy { $0 == 1 || $0 == -1 } })
        XCTAssertEqual(m.layers[2].outputType.description, "fixed<16,6>")
        XCTAssertEqual(fc2.units, 8)
        // ternary(alpha=1, threshold=0.4): some weights fall in the dead band.
        XCTAssertTrue(fc3.kernel.contains { $0.contains(0) })
        XCTAssertTrue(fc3.kernel.allSatisfy { $0.allSatisfy { abs($0) <= 1 } })
        // hls4ml: hi = floor(0.33 * 2^10) / 2^10 = 337/1024, lo = floor(-0.33 * 2^10) / 2^10 = -338/1024;
        // y = #(x >= lo + 2^-10) + #(x >= hi + 2^-10) - 1, thresholds as codes of fixed<16,6>.
        XCTAssertEqual(t.thresholds[0], [-337, 338])
        // The activation on codes: x = 338/1024 -> +1, 337/1024 -> 0, -337/1024 -> 0, -338/1024 -> -1.
        let inT = m.inputOf(layer: 3).type
        let y = BinaryLayerOp.multiThreshold(t).evaluate([338, 337, -337, -338, 0, 0, 0, 0], inputType: inT, outputType: m.layers[3].outputType)
        XCTAssertEqual(Array(y.prefix(4)), [1, 0, 0, -1])
    }

    func testBinaryDenseAndTernaryDenseAsHls4ml() throws {
        let m = try load(bnnJSON, bnnH5)
        XCTAssertEqual(m.layers.map { $0.opName }, ["dense", "threshold", "binary_dense", "threshold", "ternary_dense", "batchnorm"])
        // bd1 has a bias: hls4ml's BinaryQuantizer makes it +-1 (int<2>); the xnor layers after a
        // batchnorm + binary_tanh output int<ceil(log2 n) + 2>: 6 inputs -> int<5>, 5 -> int<5>.
        guard case let .dense(bd1) = m.layers[0].op, case let .binary(.ternaryDense(td3)) = m.layers[4].op else { return XCTFail("ops") }
        XCTAssertEqual(bd1.biasType.description, "int<2>")
        XCTAssertTrue(bd1.bias.allSatisfy { $0 == 1 || $0 == -1 })
        XCTAssertEqual(m.layers[2].outputType.description, "int<5>")
        XCTAssertEqual(m.layers[4].outputType.description, "int<5>")
        XCTAssertTrue(td3.kernel.allSatisfy { $0.allSatisfy { abs($0) <= 1 } })
        XCTAssertTrue(td3.kernel.contains { $0.contains(0) }, "ternary: |w| < 0.5 -> 0")
        // The same model through the native writer and reader (what `rtlgen import` writes).
        XCTAssertEqual(try ModelLoader.parse(text: ModelWriter.json(m), file: "x"), m)
    }

    func testDamagedBinaryModelsGiveOneMessage() throws {
        // A binary kernel of the wrong shape (units 5 where the weights have 6).
        expectError(try edited(bnnJSON, bnnH5) { $0.replacingOccurrences(of: "\"units\": 6", with: "\"units\": 5") },
                    "bd1/kernel: has shape (4, 6), expected (4, 5)")
        // BinaryNet's H other than 1 (hls4ml ignores it).
        expectError(try edited(bnnJSON, bnnH5) { $0.replacingOccurrences(of: "\"H\": 1.0", with: "\"H\": 2.0") }, "H = 2.0 is not supported")
        // A missing weight of a BinaryDense.
        expectError(try edited(bnnJSON, bnnH5) { $0.replacingOccurrences(of: "\"td3\"", with: "\"td9\"") }, "no weights for layer")
        // A ternary kernel threshold that is not a positive number, or "auto".
        expectError(try edited(qkJSON, qkH5) { $0.replacingOccurrences(of: "\"threshold\": 0.4", with: "\"threshold\": -0.4") },
                    "threshold -0.4: expected a positive number")
        expectError(try edited(qkJSON, qkH5) { $0.replacingOccurrences(of: "\"threshold\": 0.4", with: "\"threshold\": \"auto\"") },
                    "threshold: expected a number")
        // Binary quantizers with 0/1 outputs, alpha scales, stochastic rounding.
        expectError(try edited(qkJSON, qkH5) { $0.replacingOccurrences(of: "\"use_01\": false", with: "\"use_01\": true") }, "use_01")
        expectError(try edited(qkJSON, qkH5) { $0.replacingOccurrences(of: "\"alpha\": 1, \"use_stochastic_rounding\": false}, \"registered_name\": \"binary\"",
                                                                       with: "\"alpha\": \"auto_po2\", \"use_stochastic_rounding\": false}, \"registered_name\": \"binary\"") },
                    "alpha \"auto_po2\" is not supported")
        // quantized_relu as a kernel quantizer; a binary bias quantizer.
        expectError(try edited(qkJSON, qkH5) { $0.replacingOccurrences(of: "\"class_name\": \"binary\", \"config\": {\"use_01\": false, \"alpha\": 1, \"use_stochastic_rounding\": false}, \"registered_name\": \"binary\"}, \"bias_quantizer\"",
                                                                       with: "\"class_name\": \"quantized_relu\", \"config\": {\"bits\": 4, \"integer\": 0}}, \"bias_quantizer\"") },
                    "quantized_relu is not a weight quantizer")
        // A batchnorm with a negative gamma followed by hls4ml's plain ternary (threshold 0.5):
        // the exact rule reverses the comparisons there (hls4ml does not): refused.
        expectError(try edited(qkJSON, qkH5) { text in
            text.replacingOccurrences(of: "\"name\": \"act1\", \"trainable\": true, \"dtype\": \"float32\", \"activation\": \"binary\"",
                                      with: "\"name\": \"act1\", \"trainable\": true, \"dtype\": \"float32\", \"activation\": \"ternary(threshold=0.5)\"")
        }, "channel 4: a negative gamma (-1.5263078212738037109375) before a ternary activation is not supported")
    }

    /// hls4ml's example ternary jet tagger (Tests/models/keras): each BatchNormalization +
    /// Activation('ternary_tanh') is one exact multi_threshold (int<2>, hls4ml's
    /// BatchNormalizationQuantizedTanh), each TernaryDense after it sums exactly into
    /// int<ceil(log2 n) + 2> (hls4ml's QuantizeDenseOutput), the first TernaryDense is hls4ml's
    /// dense with int<2> weights, the last BatchNormalization stays a fixed<16,6> batchnorm.
    func testTernaryJetTaggerAsHls4ml() throws {
        let dir = root.appendingPathComponent("Tests/models/keras")
        let m = try load(dir.appendingPathComponent("KERAS_3layer_ternary_small.json").path,
                         dir.appendingPathComponent("KERAS_3layer_ternary_small_weights.h5").path)
        XCTAssertEqual(m.layers.map { $0.opName }, ["dense", "multi_threshold", "ternary_dense", "multi_threshold", "ternary_dense",
                                                    "multi_threshold", "ternary_dense", "batchnorm"])
        XCTAssertEqual(m.layers.map { $0.name }, ["fc1", "bn1", "fc2", "bn2", "fc3", "bn3", "output", "bn"])
        XCTAssertEqual(m.layers.map { $0.outputType.description },
                       ["fixed<16,6>", "int<2>", "int<8>", "int<2>", "int<7>", "int<2>", "int<7>", "fixed<16,6>"])
        // The fold is exact: at each channel's thresholds lo and hi (codes of the input type), the
        // batchnorm of the stored float32 parameters is <= -1/2 just below lo and > -1/2 at lo,
        // <= 1/2 just below hi and > 1/2 at hi (checked in float64, far from the boundaries here).
        let w = try HDF5File(path: dir.appendingPathComponent("KERAS_3layer_ternary_small_weights.h5").path)
        for (k, bn) in ["bn1", "bn2", "bn3"].enumerated() {
            guard case let .binary(.multiThreshold(t)) = m.layers[1 + 2 * k].op else { return XCTFail("\(bn)") }
            func a(_ n: String) throws -> [Double] { try w.array("\(bn)/\(bn)/\(n):0").values }
            let (g, b, mu, v) = (try a("gamma"), try a("beta"), try a("moving_mean"), try a("moving_variance"))
            let step = pow(2.0, Double(-t.frac))
            for j in 0..<g.count {
                func y(_ c: Int128) -> Double { b[j] + (Double(c) * step - mu[j]) * g[j] / (v[j] + 1e-6).squareRoot() }
                let (lo, hi) = (t.thresholds[j][0], t.thresholds[j][1])
                XCTAssertTrue(y(lo - 1) <= -0.5 && y(lo) > -0.5, "\(bn)[\(j)] lo")
                XCTAssertTrue(y(hi - 1) <= 0.5 && y(hi) > 0.5, "\(bn)[\(j)] hi")
            }
        }
    }

    /// The importer's self-check restates hls4ml's rewrites: it refuses a model that keeps a
    /// batchnorm and the ternary_tanh after it apart (what the importer once did with this exact
    /// chain), or a TernaryDense after the merge that is not retyped.
    func testSelfCheckRefusesWhatHls4mlRewrites() throws {
        let bn = HLSLayer(name: "bn1", className: "BatchNormalization",
                          kind: .batchnorm(gamma: [1], beta: [0], mean: [0], variance: [1], epsilon: "0.001"), source: "config.layers[1] (bn1)")
        let act = HLSLayer(name: "act1", className: "Activation", kind: .activation("ternary_tanh"), source: "config.layers[2] (act1)")
        let td = HLSLayer(name: "fc2", className: "Dense", kind: .binaryDense(kernel: [[1]], bias: nil, biasQuantizer: nil, biasType: nil, ternary: true, qkeras: false),
                          source: "config.layers[3] (fc2)")
        let f16 = FixedType(signed: true, width: 16, intBits: 6)
        func model(_ layers: [Layer]) -> Model { Model(name: "m", description: "", input: InputSpec(name: "x", size: 1, type: f16), layers: layers) }
        let mt = BinaryLayerOp.multiThreshold(MultiThreshold(thresholds: [[0, 1]], frac: 10))
        let prov = KerasImporter.Provenance(name: ["bn1", nil, "fc2"], inputSize: [1, 1, 1])
        // Right: one int<2> multi_threshold, fc2 int<ceil(log2 1) + 2> = int<2>.
        XCTAssertNoThrow(try KerasImporter.selfCheck([bn, act, td], prov, model: model([
            Layer(name: "bn1", op: .binary(mt), outputType: .integer(signed: true, width: 2)),
            Layer(name: "fc2", op: .binary(.ternaryDense(BinaryDense(units: 1, kernel: [[1]]))), outputType: .integer(signed: true, width: 2))]), file: "f"))
        // The old import: a fixed-point batchnorm, then ternary_tanh on its own.
        let old = KerasImporter.Provenance(name: ["bn1", "act1", "fc2"], inputSize: [1, 1, 1])
        XCTAssertThrowsError(try KerasImporter.selfCheck([bn, act, td], old, model: model([
            Layer(name: "bn1", op: .relu, outputType: f16), Layer(name: "act1", op: .binary(.ternaryTanh), outputType: .ternary),
            Layer(name: "fc2", op: .dense(Dense(units: 1, kernelType: .integer(signed: true, width: 2), biasType: .integer(signed: false, width: 1), accumType: f16,
                                                kernel: [[1]], bias: [0])), outputType: f16)]), file: "f")) { e in
            XCTAssertTrue("\(e)".contains("importer self-check failed: hls4ml merges 'bn1' and 'act1' into one BatchNormalizationQuantizedTanh"), "\(e)")
        }
        // Merged, but fc2 left in fixed<16,6>.
        XCTAssertThrowsError(try KerasImporter.selfCheck([bn, act, td], prov, model: model([
            Layer(name: "bn1", op: .binary(mt), outputType: .integer(signed: true, width: 2)),
            Layer(name: "fc2", op: .binary(.ternaryDense(BinaryDense(units: 1, kernel: [[1]]))), outputType: f16)]), file: "f")) { e in
            XCTAssertTrue("\(e)".contains("QuantizeDenseOutput makes 'fc2'"), "\(e)")
        }
    }

    /// quantized_po2 kernels (scripts/make_qkeras_po2.py): QKeras' exponents, hls4ml's weights as
    /// fixed-point codes of +-2^e, and the refusals (boundary weights, po2 biases and activations);
    /// quantized_relu_po2 activations. hls4ml parity: Tests/hls4ml/importers.py.
    func testQuantizedPo2() throws {
        let q4 = try XCTUnwrap(QKerasQuantizer.parseKernel(.string("quantized_po2(4)"), file: "f", field: "k"))
        XCTAssertEqual([q4.minExp, q4.maxExp], [-4, 3])
        func e(_ q: QKerasQuantizer, _ x: Double) -> [Int]? { q.po2Weight(x).map { [$0.negative ? -1 : 1, $0.exponent] } }
        XCTAssertEqual(e(q4, 0), [1, -4])            // sign(0) = +1, |x| < 1e-7: the smallest exponent
        XCTAssertEqual(e(q4, -1e-9), [-1, -4])
        XCTAssertEqual(e(q4, 0.3), [1, -2])          // log2 0.3 = -1.74
        XCTAssertEqual(e(q4, -0.7), [-1, -1])        // -0.515
        XCTAssertEqual(e(q4, 1e-3), [1, -4])         // clipped up
        XCTAssertEqual(e(q4, 40), [1, 3])            // clipped down (y = x + (xq - x) is still 8 here)
        XCTAssertNil(q4.po2Weight(Double(Float(0.5.squareRoot()))), "2^-0.5: TensorFlow's logs disagree")
        let q5 = try XCTUnwrap(QKerasQuantizer.parseKernel(.string("quantized_po2(5, max_value=2)"), file: "f", field: "k"))
        XCTAssertEqual([q5.minExp, q5.maxExp], [-8, 7])
        XCTAssertEqual(e(q5, 3.5), [1, 1])           // max_value 2
        let qs = try XCTUnwrap(QKerasQuantizer.parseKernel(.string("quantized_po2(4, max_value=0.5)"), file: "f", field: "k"))
        XCTAssertEqual([qs.minExp, qs.maxExp], [-8, 7])  // no exponent sign bit when max_value <= 1
        XCTAssertThrowsError(try QKerasQuantizer.parse(.string("quantized_po2(4)"), file: "f", field: "bias_quantizer")) { e in
            XCTAssertTrue("\(e)".contains("quantized_po2 bias quantizer is not supported"), "\(e)")
        }
        // quantized_relu_po2 (QKerasReluPo2.swift; its QKeras parity: Tests/hls4ml/relu_po2.py).
        let r4 = try QKerasQuantizer.parseActivation(.string("quantized_relu_po2(4)"), file: "f", field: "a")
        XCTAssertEqual([r4.minExp, r4.maxExp], [-8, 7])
        let r3 = try QKerasQuantizer.parseActivation(.string("quantized_relu_po2(3, max_value=1)"), file: "f", field: "a")
        XCTAssertEqual([r3.minExp, r3.maxExp], [-8, 7])   // no exponent sign bit when max_value <= 1
        for (x, want) in [(-3.0, -8), (0.0, -8), (5e-8, -8), (1e-3, -8), (0.3, -2), (1.0, 0), (1.4142, 0), (1.4143, 1), (200.0, 7)] {
            XCTAssertEqual(KerasImporter.reluPo2Exponent(Float(x), r4), want, "relu_po2(4) of \(x)")
        }
        XCTAssertEqual(KerasImporter.reluPo2Exponent(3, r3), 0, "max_value 1 clips the exponent's input")
        for (text, want) in [("quantized_relu_po2(9)", "exponents up to 255 leave float32's range"), ("quantized_relu_po2(4, negative_slope=0.5)", "negative_slope 0.5 is not supported"),
                             ("quantized_relu_po2(4, quadratic_approximation=1)", "quadratic_approximation is not supported")] {
            XCTAssertThrowsError(try QKerasQuantizer.parseActivation(.string(text), file: "f", field: "a"), text) { e in
                XCTAssertTrue("\(e)".contains(want), "\(e)")
            }
        }
        XCTAssertThrowsError(try QKerasQuantizer.parseKernel(.string("quantized_relu_po2(4)"), file: "f", field: "k")) { e in
            XCTAssertTrue("\(e)".contains("quantized_relu_po2 is not a weight quantizer"), "\(e)")
        }
        // The fixture qkeras_relu_po2 (scripts/make_qkeras_po2.py): 200 rows of the reference that
        // `make relu-po2` composes from hls4ml's dense layers and QKeras' relu_po2 (recorded with
        // --record), identical.
        let rp = try ModelSource.load(ModelRequest(path: fixtures.appendingPathComponent("qkeras_relu_po2.json").path)).model
        XCTAssertEqual(rp.layers.map(\.opName), ["dense", "multi_threshold", "lut", "dense", "multi_threshold", "lut", "dense"])
        let got = String(decoding: try PredictFile.run(model: rp, inputPath: fixtures.appendingPathComponent("qkeras_relu_po2_x.csv").path) { _ in }, as: UTF8.self)
        let want = try String(contentsOf: fixtures.appendingPathComponent("qkeras_relu_po2_y.csv"), encoding: .utf8)
        XCTAssertEqual(want.split(separator: "\n").count, 200)
        XCTAssertEqual(got, want, "qkeras_relu_po2: rtlgen predict vs the recorded hls4ml + QKeras reference")
        // The staircase on every code of an input type equals QKeras' exponent, as 2^e exactly.
        let r8 = try QKerasQuantizer.parseActivation(.string("quantized_relu_po2(8)"), file: "f", field: "a")
        XCTAssertEqual([r8.minExp, r8.maxExp], [-128, 127])
        for (q, ts) in [(r4, "fixed<10,4>"), (r3, "ufixed<8,3>"), (r8, "fixed<10,4>"), (try QKerasQuantizer.parseActivation(.object([("class_name", .string("quantized_relu_po2")), ("config", .object([("bits", .number("3")), ("log2_rounding", .string("floor"))]))]), file: "f", field: "a"), "fixed<9,6>")] {
            let t = try FixedType.parse(ts)
            var names = NameTable()
            let hl = HLSLayer(name: "act", className: "Activation", kind: .reluPo2(q), source: "a")
            let ls = try KerasImporter.reluPo2Layers(hl, q, inType: t, names: &names, file: "f")
            XCTAssertEqual(ls.map(\.opName), ["multi_threshold", "lut"])
            let n = Int(t.maxCode - t.minCode + 1)
            let m = try ModelCore.validate(Model(name: "p", input: InputSpec(name: "x", size: n, type: t), layers: ls), file: "p")
            let y = try GoldenModel(m).evaluate(codes: (0..<n).map { t.minCode + Int128($0) })
            let out = m.outputType
            for (j, c) in y.enumerated() {
                let x = t.minCode + Int128(j)
                let e = KerasImporter.reluPo2Exponent(Float(Double(x) * pow(2, Double(-t.fracBits))), q)
                // TensorFlow flushes 2^e below float32's normal range to 0 (relu_po2(8) of x <= 0).
                XCTAssertEqual(c, e < -126 ? 0 : Int128(1) << (e + out.fracBits), "\(ts) code \(x): 2^\(e)")
            }
        }
        XCTAssertThrowsError(try QKerasQuantizer.parseActivation(.string("quantized_po2(4)"), file: "f", field: "a"))
        // The fixture: every kernel a power of two, in the smallest type holding its exponents.
        let m = try load(fixtures.appendingPathComponent("qkeras_po2.json").path, fixtures.appendingPathComponent("qkeras_po2_weights.h5").path)
        XCTAssertEqual(m.layers.map { $0.opName }, ["dense", "relu", "dense", "relu", "dense"])
        for l in m.layers {
            guard case let .dense(d) = l.op else { continue }
            for c in d.kernel.joined() { XCTAssertTrue(c != 0 && (c.magnitude & (c.magnitude - 1)) == 0, "\(l.name): \(c)") }
        }
        guard case let .dense(fc1) = m.layers[0].op, case let .dense(fc3) = m.layers[4].op else { return XCTFail("ops") }
        XCTAssertEqual(fc1.kernelType.description, "fixed<9,5>")   // 2^-4 .. 2^3
        XCTAssertEqual(fc3.kernelType.description, "fixed<11,3>")  // 2^-8 .. 2^1
    }

    func testQuantizerParsing() throws {
        let b = try XCTUnwrap(QKerasQuantizer.parseKernel(.string("binary"), file: "f", field: "k"))
        XCTAssertEqual([0.0, -0.0, 1e-30, -1e-30, 0.7, -3].map(b.weightCode), [1, 1, 1, -1, 1, -1])  // x >= 0 -> +1
        let t = try XCTUnwrap(QKerasQuantizer.parseKernel(.string("ternary"), file: "f", field: "k"))
        XCTAssertEqual([0.0, 0.33, 0.329, -0.33, -0.329, 2].map(t.weightCode), [0, 1, 0, -1, 0, 1])  // |x| >= 0.33 (float32)
        XCTAssertThrowsError(try QKerasQuantizer.parse(.string("binary"), file: "f", field: "bias_quantizer"))
        XCTAssertThrowsError(try QKerasQuantizer.parseKernel(.string("quantized_bits(1e300, 0)"), file: "f", field: "k")) // no trap
        XCTAssertThrowsError(try QKerasQuantizer.parseKernel(.string("stochastic_binary"), file: "f", field: "k"))
    }

    /// The HDF5 reader runs libhdf5 in a child: a damaged file is one message and this process
    /// goes on (and can read the next file).
    func testDamagedHDF5IsReadInAChild() throws {
        let w = try Data(contentsOf: URL(fileURLWithPath: bnnH5))
        var r = SplitMix(seed: 11)
        var damaged = 0, rejected = 0
        let saved = HDF5File.guardSeconds
        HDF5File.guardSeconds = 2  // a stalled child counts as damaged after 2 s (30 s by default)
        defer { HDF5File.guardSeconds = saved }
        for _ in 0..<60 {
            var b = [UInt8](w)
            for _ in 0..<8 { let i = Int(r.next() % UInt64(b.count)); b[i] = UInt8(truncatingIfNeeded: r.next()) }
            do { _ = try HDF5File(image: Data(b), name: "m.h5") } catch let e as InputError {
                XCTAssertTrue(e.message.hasPrefix("damaged HDF5 file") || e.message.hasPrefix("not a readable HDF5 file")
                              || e.message.hasPrefix("too large"), e.message)
                if e.message.hasPrefix("damaged") { damaged += 1 }
                rejected += 1
            }
        }
        // Reading still works afterwards, and the snapshot answers every question.
        let f = try HDF5File(path: bnnH5)
        XCTAssertEqual(try f.stringAttribute(".", "layer_names"), ["bd1", "bn1", "a1", "bd2", "bn2", "a2", "td3", "bn3"])
        XCTAssertEqual(try f.members("bd1"), ["bd1"])
        XCTAssertEqual(f.kind("/bd1//bd1/kernel:0"), .dataset)
        XCTAssertEqual(try f.array("bd1/bd1/kernel:0").shape, [4, 6])
        XCTAssertEqual(f.elementKind("bd1/bd1/kernel:0"), 4)
        XCTAssertEqual(f.kind("nothing/here"), .missing)
        XCTAssertNil(try f.stringAttribute("bd1", "nothing"))
        XCTAssertThrowsError(try f.array("bd1"))
        // Not HDF5 at all; an empty image.
        XCTAssertThrowsError(try HDF5File(image: Data("not hdf5".utf8), name: "x.h5")) { XCTAssertTrue("\($0)".contains("not a readable HDF5 file")) }
        XCTAssertThrowsError(try HDF5File(image: Data(), name: "e.h5"))
        print("damaged HDF5 images: \(rejected) of 60 rejected, \(damaged) of them by the child's failure")
    }
}

struct SplitMix {
    var s: UInt64
    init(seed: UInt64) { s = seed }
    mutating func next() -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `rtlgen import` output, byte for byte, for the Keras files in the repository (the golden texts
/// in Fixtures/imported/ were written by `rtlgen import FILE -o ...`): a change to the importer
/// that changes what a user reads and diffs fails here.
final class ImportOutputRegressionTests: XCTestCase {
    func testImportOutputIsByteIdentical() throws {
        let cases: [(String, String)] = [
            ("examples/muon_student_keras/muon_student.json", "muon_student.json"),
            ("examples/muon_student_keras/muon_student_config.yml", "muon_student_config.json"),
            ("Tests/FrontEndsTests/Fixtures/small_keras3.keras", "small_keras3.json"),
            ("Tests/FrontEndsTests/Fixtures/qkeras_binary.json", "qkeras_binary.json"),
            ("Tests/FrontEndsTests/Fixtures/small_bnn.json", "small_bnn.json"),
        ]
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(root.path)  // the paths as the CLI saw them
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        for (model, golden) in cases {
            let want = try String(contentsOf: fixtures.appendingPathComponent("imported/\(golden)"), encoding: .utf8)
            // What ImportCmd does: the importer's text, read back, written by the native writer.
            let text = try ModelSource.nativeJSON(ModelRequest(path: model))
            let written = ModelWriter.json(try ModelLoader.parse(text: text, file: "\(model) (as imported)"))
            XCTAssertEqual(written, want, model)
            // The model build / predict use is the same model.
            XCTAssertEqual(ModelWriter.json(try ModelSource.load(ModelRequest(path: model)).model), want, model)
        }
    }
}
