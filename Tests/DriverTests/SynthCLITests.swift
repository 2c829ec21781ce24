// `rtlgen synth` (Yosys figures in report.json) and the `multipliers` build setting, through the CLI.
import Foundation
import XCTest

final class SynthCLITests: XCTestCase {
    let tiny = packageRoot.appendingPathComponent("Tests/models/tiny.json").path

    func report(_ dir: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: dir.appendingPathComponent("report.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    func layerMultipliers(_ dir: URL) throws -> [Int] {
        (try report(dir)["layers"] as! [[String: Any]]).map { $0["multipliers"] as! Int }
    }

    /// The default (auto = shift_add) has no multiplier, `multipliers: dsp` has one for the weight
    /// 0.75, a per-layer setting wins over the default, and a bad value or layer name exits 2.
    func testMultipliersSetting() throws {
        guard (try? rtlgen(["--help"])) != nil else { throw XCTSkip("no rtlgen binary") }
        let dir = try tempDir(self)
        func build(_ yaml: String?, _ name: String) throws -> (Int32, String, URL) {
            let out = dir.appendingPathComponent(name)
            var args = ["build", tiny, "--out", out.path, "--lang", "verilog"]
            if let yaml {
                let cfg = dir.appendingPathComponent("\(name).yml")
                try yaml.write(to: cfg, atomically: true, encoding: .utf8)
                args += ["--config", cfg.path]
            }
            let r = try rtlgen(args)
            return (r.status, r.stderr, out)
        }
        let (s0, e0, d0) = try build(nil, "auto")
        XCTAssertEqual(s0, 0, e0)
        XCTAssertEqual(try layerMultipliers(d0), [0, 0])
        let (s1, e1, d1) = try build("multipliers: dsp\n", "dsp")
        XCTAssertEqual(s1, 0, e1)
        XCTAssertEqual(try layerMultipliers(d1)[0], 1)
        let (s2, e2, d2) = try build("multipliers: dsp\nlayers:\n  fc1: {multipliers: shift_add}\n", "mixed")
        XCTAssertEqual(s2, 0, e2)
        XCTAssertEqual(try layerMultipliers(d2)[0], 0)
        let (s3, e3, _) = try build("multipliers: lots\n", "bad")
        XCTAssertEqual(s3, 2)
        XCTAssertTrue(e3.contains("multipliers: expected one of shift_add, dsp, auto"), e3)
        let (s4, e4, d4) = try build("layers:\n  fc9: {multipliers: dsp}\n", "badlayer")
        XCTAssertEqual(s4, 2)
        XCTAssertTrue(e4.contains("layers.fc9: no layer named 'fc9'"), e4)
        XCTAssertFalse(FileManager.default.fileExists(atPath: d4.path))
    }

    /// `rtlgen synth` adds Yosys's LUT/FF/CARRY/DSP counts to report.json: the shift-add tiny model
    /// has LUTs, flip-flops and no DSP. Skipped without yosys.
    func testSynthAddsYosysFigures() throws {
        guard (try? rtlgen(["--help"])) != nil else { throw XCTSkip("no rtlgen binary") }
        let which = Process()
        which.executableURL = URL(fileURLWithPath: "/bin/sh")
        which.arguments = ["-c", "command -v yosys"]
        try which.run(); which.waitUntilExit()
        guard which.terminationStatus == 0 else { throw XCTSkip("yosys not installed") }
        let out = try tempDir(self).appendingPathComponent("tiny")
        XCTAssertEqual(try rtlgen(["build", tiny, "--out", out.path, "--lang", "verilog"]).status, 0)
        let r = try rtlgen(["synth", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("DSP 0"), r.stdout)
        let s = try report(out)["synthesis"] as! [String: Any]
        XCTAssertGreaterThan(s["lut"] as! Int, 0)
        XCTAssertGreaterThan(s["ff"] as! Int, 0)
        XCTAssertEqual(s["dsp"] as! Int, 0)
        XCTAssertNotNil((s["cells"] as! [String: Any])["FDRE"])
        // Not a build folder: exit 2 naming the folder.
        let bad = try rtlgen(["synth", out.appendingPathComponent("rtl").path])
        XCTAssertEqual(bad.status, 2, bad.stderr)
    }
}
