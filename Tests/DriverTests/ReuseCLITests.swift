// The `reuse_factor` build setting through the CLI: report.json's II and per-layer figures, the
// top's in_ready port and header, and the errors (exit 2, nothing written).
import Foundation
import XCTest

final class ReuseCLITests: XCTestCase {
    let muon = packageRoot.appendingPathComponent("examples/muon_recal/model.json").path

    func testReuseFactorSetting() throws {
        guard (try? rtlgen(["--help"])) != nil else { throw XCTSkip("no rtlgen binary") }
        let dir = try tempDir(self)
        func build(_ yaml: String, _ name: String) throws -> (Int32, String, URL) {
            let out = dir.appendingPathComponent(name)
            let cfg = dir.appendingPathComponent("\(name).yml")
            try yaml.write(to: cfg, atomically: true, encoding: .utf8)
            let r = try rtlgen(["build", muon, "--out", out.path, "--config", cfg.path])
            return (r.status, r.stderr, out)
        }
        let (s0, e0, d0) = try build("reuse_factor: 4\nlayers:\n  fc1: {reuse_factor: 2}\n", "rf4")
        XCTAssertEqual(s0, 0, e0)
        let rep = try JSONSerialization.jsonObject(with: Data(contentsOf: d0.appendingPathComponent("report.json"))) as! [String: Any]
        XCTAssertEqual(rep["initiation_interval"] as? Int, 4)
        let layers = rep["layers"] as! [[String: Any]]
        XCTAssertEqual(layers[0]["reuse_factor"] as? Int, 2)
        XCTAssertEqual(layers[0]["initiation_interval"] as? Int, 2)   // 5 inputs at RF 2: 3 per cycle, 2 cycles
        XCTAssertEqual(layers[2]["reuse_factor"] as? Int, 4)
        XCTAssertEqual(layers[2]["multipliers"] as? Int, 16)
        XCTAssertNil(layers[1]["reuse_factor"])
        // The latency in the report is the sum of the layers' and appears in the top's header.
        let lat = rep["latency_cycles"] as! Int
        XCTAssertEqual(layers.map { $0["latency_cycles"] as! Int }.reduce(0, +), lat)
        let top = try String(contentsOf: d0.appendingPathComponent("rtl/verilog/muon_recal.v"), encoding: .utf8)
        XCTAssertTrue(top.contains("latency: \(lat) clock cycle(s) from in_valid to out_valid"), top)
        XCTAssertTrue(top.contains("II = 4"))
        XCTAssertTrue(top.contains("output wire in_ready"))
        let vhdl = try String(contentsOf: d0.appendingPathComponent("rtl/vhdl/muon_recal.vhd"), encoding: .utf8)
        XCTAssertTrue(vhdl.contains("in_ready : out std_logic"), vhdl)

        for (yaml, message) in [
            ("reuse_factor: 0\n", "reuse_factor: expected an integer reuse factor in [1, 65536]"),
            ("reuse_factor: many\n", "reuse_factor: expected an integer reuse factor"),
            ("layers:\n  relu1: {reuse_factor: 4}\n", "layers.relu1.reuse_factor: a reuse factor applies to dense layers only"),
            ("layers:\n  fc9: {reuse_factor: 4}\n", "layers.fc9: no layer named 'fc9'"),
            (try String(contentsOfFile: packageRoot.appendingPathComponent("examples/muon_recal/stream.yaml").path, encoding: .utf8)
                + "\nreuse_factor: 2\n", "stream: the AXI4-Stream wrapper needs a core with II = 1"),
        ] {
            let (s, e, d) = try build(yaml, "bad")
            XCTAssertEqual(s, 2, yaml)
            XCTAssertTrue(e.contains(message), "\(yaml): \(e)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: d.path))
        }
    }

    /// An hls4ml configuration's ReuseFactor (with Strategy Resource) gives every dense layer of
    /// the imported model that reuse factor, as rtlgen's reuse_factor would.
    func testHLS4MLReuseFactor() throws {
        guard (try? rtlgen(["--help"])) != nil else { throw XCTSkip("no rtlgen binary") }
        let dir = try tempDir(self)
        let ex = packageRoot.appendingPathComponent("examples/muon_student_keras")
        var text = try String(contentsOf: ex.appendingPathComponent("muon_student_config.yml"), encoding: .utf8)
        for (a, b) in [("ReuseFactor: 1", "ReuseFactor: 4"), ("Strategy: Latency", "Strategy: Resource"),
                       ("KerasJson: muon_student.json", "KerasJson: \(ex.path)/muon_student.json"),
                       ("KerasH5: muon_student_weights.h5", "KerasH5: \(ex.path)/muon_student_weights.h5")] {
            XCTAssertTrue(text.contains(a), a)
            text = text.replacingOccurrences(of: a, with: b)
        }
        let cfg = dir.appendingPathComponent("rf4.yml")
        try text.write(to: cfg, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out")
        let r = try rtlgen(["build", cfg.path, "--out", out.path, "--lang", "verilog"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rep = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as! [String: Any]
        XCTAssertEqual(rep["initiation_interval"] as? Int, 4)
        let dense = (rep["layers"] as! [[String: Any]]).filter { $0["op"] as? String == "dense" }
        XCTAssertFalse(dense.isEmpty)
        for l in dense { XCTAssertEqual(l["reuse_factor"] as? Int, 4, "\(l["name"]!)") }
    }
}
