// The Keras importer and hls4ml configurations: weight text, precedence, files, and bad input
// (every problem one InputError naming the file and field; never a crash).
@testable import FrontEnds
import FixedPoint
import Foundation
import ModelIR
import XCTest

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let muonDir = root.appendingPathComponent("examples/muon_student_keras")
let fixtures = root.appendingPathComponent("Tests/FrontEndsTests/Fixtures")

final class KerasImporterTests: XCTestCase {
    func tmpDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("rtlgen-fe-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    /// Python's '{:.Nf}'.format(d) (values from CPython 3.11).
    func testPythonFixedFormatting() {
        let cases: [(Double, Int, String)] = [
            (0.1249, 3, "0.125"), (0.125, 2, "0.12"), (0.375, 2, "0.38"), (-0.0001, 3, "-0.000"), (2.5, 0, "2"),
            (3.5, 0, "4"), (-2.5, 0, "-2"), (1e-7, 10, "0.0000001000"), (0.1, 20, "0.10000000000000000555"),
            (123.456, 1, "123.5"), (-7.0, 4, "-7.0000"), (0.015625, 5, "0.01562"),
        ]
        for (d, f, want) in cases { XCTAssertEqual(WeightText.pythonFixed(d, decimals: f), want, "\(d) .\(f)f") }
        // hls4ml: 0.1249 in fixed<6,3> -> "0.125" -> 0.125; exact rounding -> 0.125 too; 0.1171875 truncates.
        let t = FixedType(signed: true, width: 6, intBits: 3)
        XCTAssertEqual(WeightText.code(0.1249, type: t, rounding: .hls4ml), 1)
        XCTAssertEqual(WeightText.code(0.1171875, type: t, rounding: .hls4ml), 0)
        XCTAssertEqual(WeightText.code(0.1171875, type: t, rounding: .exact), 1)
    }

    func testQKerasQuantizedBits() throws {
        let q = try XCTUnwrap(QKerasQuantizer.parse(.string("quantized_bits(6,0)"), file: "f", field: "k"))
        XCTAssertEqual(q.hlsType, FixedType(signed: true, width: 6, intBits: 1))
        XCTAssertEqual(q.apply(0.1), 0.09375)          // round half even of 3.2 -> 3
        XCTAssertEqual(q.apply(2.0), 31.0 / 32)        // clipped to m - 1
        XCTAssertEqual(q.apply(-2.0), -1.0)
        XCTAssertEqual(q.apply(0.046875), 0.0625)      // 1.5 -> 2 (ties to even)
        XCTAssertThrowsError(try QKerasQuantizer.parse(.string("quantized_bits(6,0,alpha='auto')"), file: "f", field: "k"))
    }

    func config(_ yaml: String, dir: URL) throws -> HLSConfig {
        let p = dir.appendingPathComponent("c.yml")
        try yaml.write(to: p, atomically: true, encoding: .utf8)
        return try HLSConfig.load(path: p.path)
    }

    func testPrecisionPrecedenceAsHls4ml() throws {
        let c = try config("""
            HLSConfig:
              Model:
                Precision: ap_fixed<16,6>
              LayerType:
                Dense:
                  Precision:
                    accum: ap_fixed<24,10>
                Activation:
                  Precision: ap_ufixed<8,3,AP_RND_CONV,AP_SAT>
              LayerName:
                fc1:
                  Precision:
                    weight: ap_fixed<6,1>
                relu1:
                  Precision: ap_fixed<9,4>
            """, dir: try tmpDir())
        func p(_ l: String, _ c_: String, _ v: String) throws -> String { try c.precision(layer: l, className: c_, variable: v).description }
        XCTAssertEqual(try p("fc1", "Dense", "weight"), "fixed<6,1>")
        XCTAssertEqual(try p("fc1", "Dense", "accum"), "fixed<24,10>")
        XCTAssertEqual(try p("fc1", "Dense", "result"), "fixed<16,6>")
        XCTAssertEqual(try p("fc2", "Dense", "weight"), "fixed<16,6>")
        XCTAssertEqual(try p("relu1", "Activation", "result"), "fixed<9,4>")
        XCTAssertEqual(try p("relu2", "Activation", "result"), "ufixed<8,3,RND_CONV,SAT>")
    }

    func testConfigKeysThatCannotBeHonoured() throws {
        let d = try tmpDir()
        for (yaml, field) in [("IOType: io_stream", "IOType"),
                              ("HLSConfig:\n  Model:\n    Precision: ap_fixed<16,6>\n    ReuseFactor: 0", "HLSConfig.Model.ReuseFactor"),
                              ("HLSConfig:\n  Model:\n    Precision: ap_fixed<16,6>\n    Strategy: distributed_arithmetic", "HLSConfig.Model.Strategy"),
                              ("HLSConfig:\n  Model:\n    Precision: auto", "HLSConfig.Model.Precision"),
                              ("HLSConfig:\n  Model:\n    Precision: ap_fixed<16,6,AP_RND,AP_SAT,2>", "HLSConfig.Model.Precision")] {
            XCTAssertThrowsError(try config("KerasH5: m.h5\n" + yaml, dir: d), yaml) { e in
                XCTAssertTrue((e as? InputError)?.field == field, "\(yaml): \(e)")
            }
        }
        // ReuseFactor becomes rtlgen's reuse factor: LayerName over LayerType over Model.
        let r = try config("KerasH5: m.h5\nHLSConfig:\n  Model:\n    Precision: ap_fixed<16,6>\n    ReuseFactor: 4\n    Strategy: Resource\n  LayerType:\n    Dense:\n      ReuseFactor: 8\n  LayerName:\n    fc2:\n      ReuseFactor: 2\n", dir: d)
        XCTAssertEqual(r.modelReuseFactor, 4)
        XCTAssertEqual(r.reuseFactor(layer: "fc1", className: "Dense"), 8)
        XCTAssertEqual(r.reuseFactor(layer: "fc2", className: "Dense"), 2)
        XCTAssertEqual(r.reuseFactor(layer: "relu1", className: "Activation"), 4)
        let c = try config("KerasH5: m.h5\nXilinxPart: x\nHLSConfig:\n  Model:\n    Precision: ap_fixed<16,6>\n  LayerName:\n    fc1:\n      Trace: true\n", dir: d)
        XCTAssertEqual(c.ignored, ["XilinxPart", "HLSConfig.LayerName.fc1.Trace"])
    }

    func testMuonStudentImportsTheSameFromEveryForm() throws {
        let json = muonDir.appendingPathComponent("muon_student.json").path
        let full = muonDir.appendingPathComponent("muon_student.h5").path
        let a = try ModelSource.nativeJSON(ModelRequest(path: json))
        let b = try ModelSource.nativeJSON(ModelRequest(path: full))
        XCTAssertEqual(a.replacingOccurrences(of: "muon_student.json", with: "X"), b.replacingOccurrences(of: "muon_student.h5", with: "X"))
        let m = try ModelSource.load(ModelRequest(path: full)).model
        // 5-8-8-8-8-3: 5 dense, 4 batchnorms, 4 relus; the <dense>_linear casts vanish (same type).
        XCTAssertEqual(m.layers.map { $0.opName }, ["dense", "batchnorm", "relu", "dense", "batchnorm", "relu", "dense", "batchnorm", "relu", "dense", "batchnorm", "relu", "dense"])
        XCTAssertEqual(m.input.size, 5)
        XCTAssertEqual(m.outputSize, 3)
        XCTAssertEqual(m.input.type.description, "fixed<16,6>")
    }

    func testKeras3ArchiveAndJSONPlusWeightsAgree() throws {
        let k = fixtures.appendingPathComponent("small_keras3.keras").path
        let m = try ModelSource.load(ModelRequest(path: k)).model
        XCTAssertEqual(m.layers.map { $0.opName }, ["dense", "relu", "batchnorm", "dense"])
        XCTAssertEqual(m.layers.map { $0.name }, ["d1", "d1_relu", "bn1", "out"])
    }

    func expectError(_ r: ModelRequest, _ want: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ModelSource.load(r), file: file, line: line) { e in
            XCTAssertTrue(e is InputError && "\(e)".contains(want), "\(e)", file: file, line: line)
            XCTAssertFalse("\(e)".contains("\n"), "one line: \(e)", file: file, line: line)
        }
    }

    func testDamagedFilesGiveOneMessage() throws {
        let d = try tmpDir()
        let w = try Data(contentsOf: muonDir.appendingPathComponent("muon_student_weights.h5"))
        let json = try String(contentsOf: muonDir.appendingPathComponent("muon_student.json"), encoding: .utf8)
        // Truncated HDF5 (weights and full model).
        for (n, cut) in [("t1", 100), ("t2", w.count / 2), ("t3", w.count - 10)] {
            let p = d.appendingPathComponent("\(n).h5")
            try w.prefix(cut).write(to: p)
            let jp = d.appendingPathComponent("\(n).json")
            try json.write(to: jp, atomically: true, encoding: .utf8)
            expectError(ModelRequest(path: jp.path, weights: p.path), "\(n).h5")
        }
        // A missing weight: a layer the weights file does not have.
        let renamed = d.appendingPathComponent("renamed.json")
        try json.replacingOccurrences(of: "\"fc3\"", with: "\"fc9\"").write(to: renamed, atomically: true, encoding: .utf8)
        expectError(ModelRequest(path: renamed.path, weights: muonDir.appendingPathComponent("muon_student_weights.h5").path), "no weights for layer 'fc9'")
        // A kernel of the wrong shape: the architecture says 7 units where the weights have 8.
        let units = d.appendingPathComponent("units.json")
        try json.replacingOccurrences(of: "\"units\": 8", with: "\"units\": 7").write(to: units, atomically: true, encoding: .utf8)
        expectError(ModelRequest(path: units.path, weights: muonDir.appendingPathComponent("muon_student_weights.h5").path), "has shape (5, 8), expected (5, 7)")
        // A truncated .keras archive.
        let k = try Data(contentsOf: fixtures.appendingPathComponent("small_keras3.keras"))
        let kp = d.appendingPathComponent("cut.keras")
        try k.prefix(k.count / 2).write(to: kp)
        expectError(ModelRequest(path: kp.path), "cut.keras")
        // A config naming a layer the model does not have.
        let cfg = d.appendingPathComponent("cfg.yml")
        try """
            KerasJson: \(muonDir.appendingPathComponent("muon_student.json").path)
            KerasH5: \(muonDir.appendingPathComponent("muon_student_weights.h5").path)
            HLSConfig:
              Model:
                Precision: ap_fixed<16,6>
              LayerName:
                fc7:
                  Precision: ap_fixed<8,3>
            """.write(to: cfg, atomically: true, encoding: .utf8)
        expectError(ModelRequest(path: cfg.path), "HLSConfig.LayerName.fc7: names no layer of the model")
        // ONNX is recognised (ONNXImporterTests has the rest): a model without a graph is refused clearly.
        let onnx = d.appendingPathComponent("m.onnx")
        try Data([8, 7, 18, 0]).write(to: onnx)
        expectError(ModelRequest(path: onnx.path), "not an ONNX model (no graph or no nodes)")
    }
}
