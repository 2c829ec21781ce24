// The HGQ2 importer (Sources/FrontEnds/Keras/HGQ2Importer.swift) against HGQ2's own recorded
// forward pass (the fixtures of scripts/make_hgq2_models.py: three .keras models, 200 input rows
// each and HGQ2 0.2's outputs on them), and its refusals (one message naming the file and field).
// The live comparison with HGQ2 itself (10,000 rows, build and simulation) is `make hgq2-parity`.
import Driver
@testable import FrontEnds
import FixedPoint
import Foundation
import Golden
import ModelIR
import XCTest

let hgq2Dir = fixtures.appendingPathComponent("hgq2")

final class HGQ2ImporterTests: XCTestCase {
    let models = ["hgq2_muon_student", "hgq2_tagger", "hgq2_mixed"]

    func path(_ m: String, _ suffix: String) -> String { hgq2Dir.appendingPathComponent(m + suffix).path }

    /// rtlgen predict on the recorded inputs: byte for byte HGQ2's recorded outputs (exact
    /// decimals of its float32 results), on the fast and the exact path.
    func testEveryRowEqualsHGQ2() throws {
        for m in models {
            let model = try ModelSource.load(ModelRequest(path: path(m, ".keras"))).model
            let want = try String(contentsOfFile: path(m, "_y.csv"), encoding: .utf8)
            XCTAssertEqual(want.split(separator: "\n").count, 200)
            for fast in [true, false] {
                let got = String(decoding: try PredictFile.run(model: model, inputPath: path(m, "_x.csv"), fast: fast) { _ in }, as: UTF8.self)
                let g = got.split(separator: "\n"), w = want.split(separator: "\n")
                XCTAssertEqual(g.count, w.count, m)
                let same = zip(g, w).filter { $0 == $1 }.count
                XCTAssertEqual(same, w.count, "\(m) (fast \(fast)): \(same) / \(w.count) rows equal HGQ2's")
            }
        }
    }

    /// The layers: per-element quantizers become `quantize` layers with heterogeneous types (or a
    /// cast when homogeneous), dense sums are exact (auto accumulators).
    func testLayerMapping() throws {
        let m = try ModelSource.load(ModelRequest(path: path("hgq2_muon_student", ".keras"))).model
        XCTAssertEqual(m.layers.map(\.opName), ["quantize", "dense", "relu", "quantize", "dense", "relu", "quantize", "dense", "relu",
                                                "quantize", "dense", "relu", "quantize", "dense"])
        XCTAssertEqual(m.layers.map(\.name).prefix(4), ["fc1_iq", "fc1", "fc1_relu", "fc2_iq"])
        // The input is rounded once (TRN, one bit finer than the finest RND input quantizer),
        // then per element.
        XCTAssertEqual(m.input.type.rounding, .TRN)
        for l in m.layers {
            if case let .kind(k) = l.op, let q = k.base as? Quantize {
                XCTAssertGreaterThan(Set(q.types.map { $0?.description ?? "0" }).count, 2, "\(l.name): heterogeneous")
                for t in q.types.compactMap({ $0 }) {
                    XCTAssertLessThanOrEqual(t.fracBits, l.outputType.fracBits, "\(l.name): the union holds \(t)")
                }
            }
            if case let .dense(d) = l.op { XCTAssertNil(d.accumType, "\(l.name): exact sum") }
        }
        let mixed = try ModelSource.load(ModelRequest(path: path("hgq2_mixed", ".keras"))).model
        XCTAssertEqual(mixed.layers.map(\.opName), ["quantize", "dense", "relu", "quantize", "relu", "linear", "quantize", "dense", "relu",
                                                    "quantize", "dense", "quantize"])
        XCTAssertEqual(mixed.input.type.rounding, .RND_CONV, "one fractional width: the input type rounds as the quantizer")
        // The native model file holds the quantize layers and reads back the same model.
        let text = ModelWriter.json(mixed)
        XCTAssertTrue(text.contains("\"op\": \"quantize\""))
        XCTAssertEqual(try ModelLoader.parse(text: text, file: "mixed.json"), mixed)
    }

    func load(config: String, weights: Data, name: String = "edited.keras") throws -> Model {
        let src = try KerasFiles.load(jsonText: config, jsonName: name, weights: try KerasFiles.weights(image: weights, name: "w.h5"))
        return try KerasImporter.model(src, config: .defaults(file: name), options: ImportOptions())
    }

    func expectRefusal(_ m: String, _ edit: (String) -> String, field: String, _ want: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (cfg, w) = try KerasFiles.archiveEntries(path: path(m, ".keras"))
        let edited = edit(cfg)
        XCTAssertNotEqual(edited, cfg, "the edit changed nothing", file: file, line: line)
        XCTAssertThrowsError(try load(config: edited, weights: w), file: file, line: line) { e in
            guard let e = e as? InputError else { return XCTFail("\(e)", file: file, line: line) }
            XCTAssertEqual(e.file, "edited.keras", file: file, line: line)
            XCTAssertTrue(e.field.contains(field), "field \(e.field)", file: file, line: line)
            XCTAssertTrue(e.message.contains(want), "\(e)", file: file, line: line)
            XCTAssertFalse("\(e)".contains("\n"), file: file, line: line)
        }
    }

    func first(_ s: String, _ a: String, _ b: String) -> String {
        guard let r = s.range(of: a) else { return s }
        return s.replacingCharacters(in: r, with: b)
    }

    func testRefusals() throws {
        try expectRefusal("hgq2_tagger", { self.first($0, "\"overflow_mode\": \"SAT\"", "\"overflow_mode\": \"WRAP_SM\"") },
                          field: "iq_conf.config.overflow_mode", "'WRAP_SM' is not supported")
        try expectRefusal("hgq2_tagger", { self.first($0, "\"q_type\": \"kif\"", "\"q_type\": \"float\"") },
                          field: "iq_conf.config.q_type", "only the fixed-point quantizers kbi and kif")
        try expectRefusal("hgq2_tagger", { self.first($0, "\"activation\": \"relu\"", "\"activation\": \"tanh\"") },
                          field: "config.layers[1] (fc1).activation", "'tanh' is not supported")
        try expectRefusal("hgq2_tagger", { self.first($0, "\"scaler\": null", "\"scaler\": 2.0") },
                          field: "config.scaler", "2.0 is not supported")
        try expectRefusal("hgq2_tagger", { self.first($0, "\"class_name\": \"QDense\"", "\"class_name\": \"QBatchNormDense\"") },
                          field: "config.layers[1] (fc1)", "HGQ2 layer QBatchNormDense is not supported")
        try expectRefusal("hgq2_tagger", { self.first($0, "\"bc,cd->bd\"", "\"bc,dc->bd\"") },
                          field: "(out).equation", "'bc,dc->bd' is not supported")
        // The tagger's input quantizer rounds TRN (exact through one finer input type); half to
        // even with a fractional width per input cannot be done by one input rounding.
        try expectRefusal("hgq2_tagger", { self.first($0, "\"round_mode\": \"TRN\"", "\"round_mode\": \"RND_CONV\"") },
                          field: "iq_conf.config.round_mode", "RND_CONV on the model input with fractional bits that differ per input is not supported")
        // The first QDense without its input quantizer would compute on float inputs.
        try expectRefusal("hgq2_muon_student", { self.first($0, "\"enable_iq\": true", "\"enable_iq\": false") },
                          field: "config.layers[1] (fc1)", "reads the model's float input")
        // A QUnaryFunctionLUT of a function other than relu / linear.
        try expectRefusal("hgq2_mixed", { self.first($0, "\"activation\": \"relu\", \"allow_heterogeneous_table\"", "\"activation\": \"sigmoid\", \"allow_heterogeneous_table\"") },
                          field: "(lut_relu).activation", "only relu and linear are supported")
    }

    /// An hls4ml configuration with precisions does not apply; the native reader keeps refusing
    /// Python's Infinity token (only Keras files may hold it).
    func testConfigAndInfinity() throws {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("rtlgen-hgq2-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        let cfg = d.appendingPathComponent("cfg.yml")
        try "KerasModel: \(path("hgq2_tagger", ".keras"))\nHLSConfig:\n  Model:\n    Precision: ap_fixed<8,3>\n".write(to: cfg, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ModelSource.load(ModelRequest(path: cfg.path))) { e in
            XCTAssertTrue("\(e)".contains("cfg.yml") && "\(e)".contains("hls4ml precisions and settings do not apply"), "\(e)")
        }
        XCTAssertThrowsError(try JSONParser.parse("{\"a\": Infinity}"))
        XCTAssertEqual(try JSONParser.parse("{\"a\": [Infinity, -Infinity, NaN]}", nonFiniteTokens: true)["a"],
                       .array([.string("Infinity"), .string("-Infinity"), .string("NaN")]))
    }
}
