// `rtlgen build --device NAME` and `device:` in the config: the default is xcup (the same bytes
// as --device xcup), ecp5 pipelines deeper at the same clock, the flag wins over the config key,
// report.json and the HDL headers name the device, and an unknown name exits 2.
import Foundation
import XCTest

final class DeviceCLITests: XCTestCase {
    func report(_ d: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: d.appendingPathComponent("report.json"))) as? [String: Any] ?? [:]
    }

    func files(_ d: URL) throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: d.path).sorted().filter { f in
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: d.appendingPathComponent(f).path, isDirectory: &isDir) && !isDir.boolValue
        }
    }

    func testDeviceFlagAndConfigKey() throws {
        guard (try? rtlgen(["--help"])) != nil else { throw XCTSkip("no rtlgen binary") }
        let t = try tempDir(self)
        let cfg = t.appendingPathComponent("ecp5.yaml")
        try "device: ecp5\nclock_period_ns: 8\n".write(to: cfg, atomically: true, encoding: .utf8)
        let xcupCfg = t.appendingPathComponent("xcup.yaml")
        try "device: xcup\nclock_period_ns: 8\n".write(to: xcupCfg, atomically: true, encoding: .utf8)
        let runs: [(String, [String])] = [
            ("default", []), ("xcup", ["--device", "xcup"]),
            ("ecp5", ["--device", "ecp5"]), ("key", ["--config", cfg.path, "--clock-period", "4"]),
            ("flagwins", ["--config", xcupCfg.path, "--clock-period", "4", "--device", "ecp5"]),
        ]
        var out: [String: URL] = [:]
        for (name, args) in runs {
            let o = t.appendingPathComponent(name)
            let r = try rtlgen(["build", muonModel, "--out", o.path, "--top", "m"] + args)
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            out[name] = o
        }
        // The default is xcup, byte for byte.
        let fs = try files(out["default"]!)
        XCTAssertEqual(fs, try files(out["xcup"]!))
        for f in fs {
            XCTAssertEqual(try Data(contentsOf: out["default"]!.appendingPathComponent(f)),
                           try Data(contentsOf: out["xcup"]!.appendingPathComponent(f)), f)
        }
        XCTAssertEqual(try report(out["default"]!)["device"] as? String, "xcup")
        XCTAssertEqual(try report(out["ecp5"]!)["device"] as? String, "ecp5")
        // The config key and the flag give the same build (same clock); the flag wins over the key.
        for f in try files(out["ecp5"]!) {
            XCTAssertEqual(try Data(contentsOf: out["ecp5"]!.appendingPathComponent(f)),
                           try Data(contentsOf: out["key"]!.appendingPathComponent(f)), f)
            XCTAssertEqual(try Data(contentsOf: out["ecp5"]!.appendingPathComponent(f)),
                           try Data(contentsOf: out["flagwins"]!.appendingPathComponent(f)), f)
        }
        // ECP5 is slower: more cycles at the same 4 ns clock, a smaller stage budget.
        let cx = try report(out["xcup"]!)["latency_cycles"] as? Int ?? -1
        let ce = try report(out["ecp5"]!)["latency_cycles"] as? Int ?? -1
        XCTAssertGreaterThan(ce, cx)
        let bx = Double(try report(out["xcup"]!)["stage_budget_ns"] as? NSNumber ?? 0)
        let be = Double(try report(out["ecp5"]!)["stage_budget_ns"] as? NSNumber ?? 0)
        XCTAssertLessThan(be, bx)
        // Every Verilog and VHDL file names the device in its header.
        for (name, dev) in [("xcup", "xcup"), ("ecp5", "ecp5")] {
            for f in try files(out[name]!) where f.hasPrefix("rtl/") {
                let text = try String(contentsOf: out[name]!.appendingPathComponent(f), encoding: .utf8)
                let head = text.split(separator: "\n").prefix(20).joined(separator: "\n")
                XCTAssertTrue(head.contains("device: \(dev) ("), "\(name) \(f)")
            }
        }
    }

    func testUnknownDeviceExits2() throws {
        guard (try? rtlgen(["--help"])) != nil else { throw XCTSkip("no rtlgen binary") }
        let t = try tempDir(self)
        let o = t.appendingPathComponent("bad")
        let r = try rtlgen(["build", muonModel, "--out", o.path, "--device", "virtex7"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("--device") && r.stderr.contains("virtex7") && r.stderr.contains("ecp5"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: o.path))
        let cfg = t.appendingPathComponent("bad.yaml")
        try "device: stratix\n".write(to: cfg, atomically: true, encoding: .utf8)
        let r2 = try rtlgen(["build", muonModel, "--out", o.path, "--config", cfg.path])
        XCTAssertEqual(r2.status, 2, r2.stderr)
        XCTAssertTrue(r2.stderr.contains("bad.yaml") && r2.stderr.contains("device") && r2.stderr.contains("stratix"), r2.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: o.path))
        let r3 = try rtlgen(["synth", t.path, "--device", "gowin"])
        XCTAssertEqual(r3.status, 2, r3.stderr)
        XCTAssertTrue(r3.stderr.contains("gowin"), r3.stderr)
    }

    /// A comparison does not fit a 4 ns stage on ecp5 (4.33 ns > 4 - 0.53): the build still
    /// succeeds but warns on stderr (layer, delay, limit) and report.json says the model does not meet the clock; at
    /// 8 ns on ecp5 and 4 ns on xcup there is no warning and no such field.
    func testOverBudgetOperationWarns() throws {
        guard (try? rtlgen(["--help"])) != nil else { throw XCTSkip("no rtlgen binary") }
        let t = try tempDir(self)
        for (name, args, warns) in [("e4", ["--device", "ecp5", "--clock-period", "4"], true),
                                    ("e8", ["--device", "ecp5", "--clock-period", "8"], false),
                                    ("x4", ["--clock-period", "4"], false)] {
            let o = t.appendingPathComponent(name)
            let r = try rtlgen(["build", muonModel, "--out", o.path] + args)
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            XCTAssertEqual(r.stderr.contains("warning: layer 'fc1'"), warns, "\(name): \(r.stderr)")
            let rep = try report(o)
            XCTAssertEqual(rep["timing_met_by_model"] as? Bool, warns ? false : nil, name)
            let ws = rep["timing_warnings"] as? [[String: Any]] ?? []
            XCTAssertEqual(!ws.isEmpty, warns, name)
            for w in ws {
                let delay = Double(truncating: w["delay_ns"] as? NSNumber ?? 0)
                let budget = Double(truncating: w["limit_ns"] as? NSNumber ?? 0)
                XCTAssertGreaterThan(delay, budget, "\(w)")
                XCTAssertNotNil(w["layer"] as? String)
                XCTAssertNotNil(w["signal"] as? String)
            }
            if warns {
                XCTAssertTrue(r.stderr.contains("more than the 3.47 ns a 4.0 ns clock leaves"), r.stderr)
            }
        }
    }
}
