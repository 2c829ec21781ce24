// The command line as a user sees it: runs the built `rtlgen` executable and checks output
// folders, exit statuses (0 / 1 / 2), stderr messages, CSV output and simulator mismatches.
import FixedPoint
import Foundation
import ModelIR
import XCTest

/// The package root (this file is Tests/DriverTests/CLITests.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `rtlgen` executable next to the test bundle (`swift test` builds it into the same
/// directory), or `$RTLGEN_BIN`.
func locateRTLGen() -> String? {
    let fm = FileManager.default
    var candidates: [String] = []
    if let env = ProcessInfo.processInfo.environment["RTLGEN_BIN"] { candidates.append(env) }
    // Linux: argv[0] is .build/debug/<package>PackageTests.xctest; macOS: the bundle is in .build/debug.
    candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rtlgen").path)
    for b in Bundle.allBundles {
        candidates.append(b.bundleURL.deletingLastPathComponent().appendingPathComponent("rtlgen").path)
    }
    return candidates.first { fm.isExecutableFile(atPath: $0) }
}

struct CLITestError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

struct RunResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs rtlgen with `args` (stdout and stderr go through files, so large outputs cannot block).
func rtlgen(_ args: [String], cwd: URL? = nil, stdin: String? = nil) throws -> RunResult {
    guard let bin = locateRTLGen() else {
        throw CLITestError(message: "rtlgen executable not found next to the test bundle (\(CommandLine.arguments[0])); run `swift build` or set RTLGEN_BIN")
    }
    let fm = FileManager.default
    let tmp = fm.temporaryDirectory.appendingPathComponent("rtlgen-cli-\(UUID().uuidString)")
    try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? fm.removeItem(at: tmp) }
    let o = tmp.appendingPathComponent("out"), e = tmp.appendingPathComponent("err")
    _ = fm.createFile(atPath: o.path, contents: nil)
    _ = fm.createFile(atPath: e.path, contents: nil)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: bin)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = cwd }
    let pipe = Pipe()
    if stdin != nil { p.standardInput = pipe }
    let oh = try FileHandle(forWritingTo: o), eh = try FileHandle(forWritingTo: e)
    p.standardOutput = oh
    p.standardError = eh
    try p.run()
    if let stdin {
        // A real pipe (not a file), as a shell pipeline gives.
        pipe.fileHandleForWriting.write(Data(stdin.utf8))
        try pipe.fileHandleForWriting.close()
    }
    p.waitUntilExit()
    try oh.close()
    try eh.close()
    return RunResult(status: p.terminationStatus,
                     stdout: try String(contentsOf: o, encoding: .utf8),
                     stderr: try String(contentsOf: e, encoding: .utf8))
}

/// A fresh temporary directory, removed at the end of the test.
func tempDir(_ test: XCTestCase) throws -> URL {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("rtlgen-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: d) }
    return d
}

/// Writes `text` as `dir/bad_<name>.json`, runs `rtlgen build` on it and asserts the contract for
/// bad input: exit 2, one message naming the file and `field`, no output folder. Returns the message.
@discardableResult
func assertBuildRefused(_ text: String, name: String, field: String, in dir: URL,
                        file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let model = dir.appendingPathComponent("bad_\(name).json")
    try text.write(to: model, atomically: true, encoding: .utf8)
    let out = dir.appendingPathComponent("out_\(name)")
    let r = try rtlgen(["build", model.path, "--out", out.path])
    XCTAssertEqual(r.status, 2, "\(name): \(r.stderr)", file: file, line: line)
    XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(name): \(r.stderr)", file: file, line: line)
    XCTAssertTrue(r.stderr.contains("bad_\(name).json: \(field): "), "\(name): \(r.stderr)", file: file, line: line)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), name, file: file, line: line)
    return r.stderr
}

/// Every regular file under `dir`, relative path -> contents.
func folderContents(_ dir: URL) throws -> [String: Data] {
    var out: [String: Data] = [:]
    let base = dir.standardizedFileURL.resolvingSymlinksInPath().path
    guard let en = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey]) else { return out }
    for case let url as URL in en {
        guard (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true else { continue }
        let path = url.standardizedFileURL.resolvingSymlinksInPath().path
        out[String(path.dropFirst(base.count + 1))] = try Data(contentsOf: url)
    }
    return out
}

let muonModel = packageRoot.appendingPathComponent("examples/muon_recal/model.json").path

/// The small model of Tests/models/tiny.json (hand-computed results in LoaderTests.swift).
let cliBaseModel = try! String(contentsOf: packageRoot.appendingPathComponent("Tests/models/tiny.json"), encoding: .utf8)

/// The bad-input cases of LoaderTests, as (name, edit of cliBaseModel or whole text, field).
let cliBadCases: [(name: String, text: String, field: String)] = {
    func e(_ from: String, _ to: String) -> String {
        precondition(cliBaseModel.contains(from), from)
        return cliBaseModel.replacingOccurrences(of: from, with: to)
    }
    let header = #"{"format": "rtlgen-model", "version": 1, "name": "m", "input": {"size": 1, "type": "int<8>"}"#
    return [
        ("malformed_json", e("\"units\": 3,", "\"units\": 3,,"), "line 5"),
        ("wrong_format", e("\"rtlgen-model\"", "\"keras\""), "format"),
        ("version_2", e("\"version\": 1", "\"version\": 2"), "version"),
        ("missing_layers", header + "}", "layers"),
        ("empty_layers", header + #", "layers": []}"#, "layers"),
        ("unknown_op", e("\"op\": \"dense\"", "\"op\": \"conv9d\""), "layers[0].op"),
        ("kernel_rows", e("[[0.5, -0.25, 1], [0.125, 0.75, -1]]", "[[0.5, -0.25, 1]]"), "layers[0].kernel"),
        ("kernel_row_length", e("[0.125, 0.75, -1]", "[0.125, 0.75]"), "layers[0].kernel[1]"),
        ("string_weight", e("[[0.5, -0.25, 1]", "[[0.5, \"0.5\", 1]"), "layers[0].kernel[0][1]"),
        ("unknown_type", e("\"kernel_type\": \"fixed<6,3>\"", "\"kernel_type\": \"fixd<6,1>\""), "layers[0].kernel_type"),
        ("zero_width", e("\"kernel_type\": \"fixed<6,3>\"", "\"kernel_type\": \"fixed<0,0>\""), "layers[0].kernel_type"),
        ("too_wide_signed", e("\"bias_type\": \"fixed<8,4>\"", "\"bias_type\": \"fixed<200,10>\""), "layers[0].bias_type"),
        ("too_wide_unsigned", e("\"output_type\": \"ufixed<8,3,RND_CONV,SAT>\"", "\"output_type\": \"ufixed<128,1>\""), "layers[1].output_type"),
        ("bad_rounding", e("\"fixed<12,6,RND_CONV,SAT>\"", "\"fixed<12,6,RND_UP,SAT>\""), "layers[0].output_type"),
        ("saturating_accum", e("\"accum_type\": \"auto\"", "\"accum_type\": \"fixed<24,8,TRN,SAT>\""), "layers[0].accum_type"),
        ("duplicate_name", e("\"name\": \"relu1\"", "\"name\": \"FC1\""), "layers[1].name"),
        ("unknown_field", e("\"kernel\": [[", "\"kernal\": [[0]], \"kernel\": [["), "layers[0].kernal"),
        ("bias_length", e("[0.0625, 0, -0.5]", "[0.0625, 0]"), "layers[0].bias"),
        ("missing_output_type", e(", \"output_type\": \"ufixed<8,3,RND_CONV,SAT>\"", ""), "layers[1].output_type"),
        ("bad_overflow", e("\"fixed<12,6,RND_CONV,SAT>\"", "\"fixed<12,6,RND_CONV,CLAMP>\""), "layers[0].output_type"),
        ("input_too_wide", e("\"type\": \"fixed<8,4>\"", "\"type\": \"int<129>\""), "input.type"),
        ("missing_kernel", e("\"kernel\": [[0.5, -0.25, 1], [0.125, 0.75, -1]],", ""), "layers[0].kernel"),
        ("bad_weight_text", e("[[0.5, -0.25, 1]", "[[0.5, -0.25, 1e99999]"), "layers[0].kernel[0][2]"),
        ("misspelled_key", e("\"layers\": [", "\"layer\": ["), "layer"),
        ("not_an_object", "[1, 2]", "expected an object"),
    ]
}()

final class CLIBuildTests: XCTestCase {
    func testBuildWritesTheOutputFolder() throws {
        let t = try tempDir(self)
        let out = t.appendingPathComponent("muon")
        let r = try rtlgen(["build", muonModel, "--out", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let files = try folderContents(out)
        let verilog = files.keys.filter { $0.hasPrefix("rtl/verilog/") && $0.hasSuffix(".v") }
        let vhdl = files.keys.filter { $0.hasPrefix("rtl/vhdl/") && $0.hasSuffix(".vhd") }
        XCTAssertTrue(verilog.contains("rtl/verilog/muon_recal.v"), "\(verilog)")
        XCTAssertTrue(verilog.contains("rtl/verilog/muon_recal_fc1.v"), "\(verilog)")
        XCTAssertTrue(vhdl.contains("rtl/vhdl/muon_recal.vhd"), "\(vhdl)")
        XCTAssertEqual(verilog.count, vhdl.count)
        XCTAssertTrue(files.keys.contains { $0.hasPrefix("testbench/verilator/") }, "\(files.keys.sorted())")
        XCTAssertTrue(files.keys.contains { $0.hasPrefix("testbench/vhdl/") }, "\(files.keys.sorted())")
        // No temporary or backup folders left next to the output.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: t.path), ["muon"])

        // report.json: latency, II, one entry per layer in model order.
        let original = try ModelLoader.load(path: muonModel)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: XCTUnwrap(files["report.json"])) as? [String: Any])
        let latency = try XCTUnwrap(report["latency_cycles"] as? Int)
        XCTAssertGreaterThan(latency, 0)
        XCTAssertEqual(report["initiation_interval"] as? Int, 1)
        let layers = try XCTUnwrap(report["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.map { $0["name"] as? String }, original.layers.map { $0.name })
        XCTAssertTrue(r.stdout.contains("latency \(latency) cycles"), r.stdout)

        // model.json: the model as understood, the same codes and types as the original.
        let copy = try ModelLoader.load(path: out.appendingPathComponent("model.json").path)
        XCTAssertEqual(copy.name, original.name)
        XCTAssertEqual(copy.input.type, original.input.type)
        XCTAssertEqual(copy.layers.count, original.layers.count)
        for (a, b) in zip(copy.layers, original.layers) {
            XCTAssertEqual(a.outputType, b.outputType, a.name)
            if case let .dense(x) = a.op, case let .dense(y) = b.op {
                XCTAssertEqual(x.kernel, y.kernel, a.name)
                XCTAssertEqual(x.bias, y.bias, a.name)
                XCTAssertEqual(x.kernelType, y.kernelType, a.name)
            }
        }
    }

    func testBuildIsDeterministic() throws {
        let t = try tempDir(self)
        let a = t.appendingPathComponent("a"), b = t.appendingPathComponent("b")
        XCTAssertEqual(try rtlgen(["build", muonModel, "--out", a.path]).status, 0)
        // A different working directory and a relative --out must not change a byte.
        XCTAssertEqual(try rtlgen(["build", muonModel, "--out", "b"], cwd: t).status, 0)
        let fa = try folderContents(a), fb = try folderContents(b)
        XCTAssertGreaterThan(fa.count, 10)
        XCTAssertEqual(fa.keys.sorted(), fb.keys.sorted())
        for (k, v) in fa where fb[k] != v { XCTFail("\(k) differs between two builds") }
        // Rebuilding into an existing folder replaces it with the same bytes.
        XCTAssertEqual(try rtlgen(["build", muonModel, "--out", a.path]).status, 0)
        XCTAssertEqual(try folderContents(a), fa)
    }

    func testLangVerilogWritesNoVHDL() throws {
        let t = try tempDir(self)
        let out = t.appendingPathComponent("v")
        let r = try rtlgen(["build", muonModel, "--out", out.path, "--lang", "verilog"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let files = try folderContents(out)
        XCTAssertTrue(files.keys.contains("rtl/verilog/muon_recal.v"))
        XCTAssertFalse(files.keys.contains { $0.hasSuffix(".vhd") || $0.contains("vhdl") }, "\(files.keys.sorted())")
        let vh = t.appendingPathComponent("h")
        XCTAssertEqual(try rtlgen(["build", muonModel, "--out", vh.path, "--lang", "vhdl"]).status, 0)
        let hfiles = try folderContents(vh)
        XCTAssertTrue(hfiles.keys.contains("rtl/vhdl/muon_recal.vhd"))
        XCTAssertFalse(hfiles.keys.contains { $0.hasSuffix(".v") || $0.contains("verilog") }, "\(hfiles.keys.sorted())")
    }

    func testTopNameAndDefaultFolder() throws {
        let t = try tempDir(self)
        let r = try rtlgen(["build", muonModel, "--top", "my_core", "--lang", "verilog"], cwd: t)
        XCTAssertEqual(r.status, 0, r.stderr)
        let files = try folderContents(t.appendingPathComponent("rtlgen-out/my_core"))
        XCTAssertTrue(files.keys.contains("rtl/verilog/my_core.v"), "\(files.keys.sorted())")
        XCTAssertTrue(files.keys.contains("rtl/verilog/my_core_fc1.v"), "\(files.keys.sorted())")
    }
}

final class CLIBadInputTests: XCTestCase {
    /// Every bad model: exit 2, one stderr line naming the file and the field, no output folder,
    /// and an existing good folder left exactly as it was.
    func testBadModelsExit2WithOneMessageAndNoFolder() throws {
        let t = try tempDir(self)
        let good = t.appendingPathComponent("good")
        XCTAssertEqual(try rtlgen(["build", muonModel, "--out", good.path]).status, 0)
        let goodBefore = try folderContents(good)
        for c in cliBadCases {
            let model = t.appendingPathComponent("bad_\(c.name).json")
            try c.text.write(to: model, atomically: true, encoding: .utf8)
            let out = t.appendingPathComponent("out_\(c.name)")
            for (args, what) in [(["build", model.path, "--out", out.path], "build"),
                                 (["build", model.path, "--out", good.path], "rebuild over a good folder"),
                                 (["predict", model.path, "--input", muonModel], "predict"),
                                 (["vectors", model.path, "--count", "3"], "vectors")] {
                let r = try rtlgen(args)
                XCTAssertEqual(r.status, 2, "\(c.name) \(what): \(r.stderr)")
                let lines = r.stderr.split(separator: "\n")
                XCTAssertEqual(lines.count, 1, "\(c.name) \(what): not one message: \(r.stderr)")
                XCTAssertTrue(r.stderr.contains("bad_\(c.name).json"), "\(c.name) \(what): no file name: \(r.stderr)")
                XCTAssertTrue(r.stderr.contains(c.field), "\(c.name) \(what): no '\(c.field)': \(r.stderr)")
                XCTAssertEqual(r.stdout, "", "\(c.name) \(what)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "\(c.name): output folder written")
        }
        XCTAssertEqual(try folderContents(good), goodBefore, "a failed rebuild changed the existing folder")
        let left = try FileManager.default.contentsOfDirectory(atPath: t.path).filter { $0.hasPrefix(".") || $0.hasPrefix("out_") }
        XCTAssertEqual(left, [], "temporary folders left behind")
    }

    func testMissingModelFile() throws {
        let t = try tempDir(self)
        let r = try rtlgen(["build", t.appendingPathComponent("nope.json").path, "--out", t.appendingPathComponent("o").path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("nope.json"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: t.appendingPathComponent("o").path))
    }

    func testBadOptionsExit2() throws {
        let t = try tempDir(self)
        let out = t.appendingPathComponent("o")
        let lang = try rtlgen(["build", muonModel, "--out", out.path, "--lang", "systemc"])
        XCTAssertEqual(lang.status, 2, lang.stderr)
        XCTAssertTrue(lang.stderr.contains("--lang") && lang.stderr.contains("systemc"), lang.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))

        let csv = t.appendingPathComponent("x.csv")
        try "1,2,3,4,5\n".write(to: csv, atomically: true, encoding: .utf8)
        let sim = try rtlgen(["sim", t.path, "--input", csv.path, "--simulator", "modelsim"])
        XCTAssertEqual(sim.status, 2, sim.stderr)
        XCTAssertTrue(sim.stderr.contains("--simulator") && sim.stderr.contains("modelsim"), sim.stderr)

        let noBuild = try rtlgen(["sim", t.path, "--input", csv.path])
        XCTAssertEqual(noBuild.status, 2, noBuild.stderr)
        XCTAssertTrue(noBuild.stderr.contains("model.json"), noBuild.stderr)

        for args in [["build"], ["frobnicate"], ["build", muonModel, "--no-such-flag"], ["predict", muonModel]] {
            let r = try rtlgen(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertFalse(r.stderr.isEmpty, "\(args)")
        }
    }

    func testBadConfigExit2() throws {
        let t = try tempDir(self)
        let out = t.appendingPathComponent("o")
        let cases: [(String, String)] = [
            ("clock_period_ns: 4.0\nclock_perod_ns: 3\n", "clock_perod_ns"),   // unknown key (typo)
            ("clock_period_ns: fast\n", "clock_period_ns"),
            ("clock_period_ns: 0\n", "clock_period_ns"),
            ("clock_period_ns: [4\n", "cfg.yaml"),                             // malformed YAML
            ("- 4.0\n", "cfg.yaml"),                                           // not a mapping
        ]
        for (text, word) in cases {
            let cfg = t.appendingPathComponent("cfg.yaml")
            try text.write(to: cfg, atomically: true, encoding: .utf8)
            for args in [["build", muonModel, "--config", cfg.path, "--out", out.path],
                         ["predict", muonModel, "--config", cfg.path, "--input", muonModel]] {
                let r = try rtlgen(args)
                XCTAssertEqual(r.status, 2, "\(text): \(r.stderr)")
                XCTAssertTrue(r.stderr.contains("cfg.yaml") && r.stderr.contains(word), "\(text): \(r.stderr)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        }
        // A good config is accepted and changes the report's clock.
        let cfg = t.appendingPathComponent("good.yaml")
        try "clock_period_ns: 2.5\n".write(to: cfg, atomically: true, encoding: .utf8)
        let r = try rtlgen(["build", muonModel, "--config", cfg.path, "--out", out.path, "--lang", "verilog"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any]
        XCTAssertEqual(report?["clock_period_ns"] as? Double, 2.5)
    }

    /// `--clock-period NS` (the contract's flag) gives byte for byte the build of the config key,
    /// changes the pipelining, wins over the config key, and refuses a bad number with exit 2.
    func testClockPeriodFlagEqualsTheConfigKey() throws {
        let t = try tempDir(self)
        let cfg = t.appendingPathComponent("clk.yaml")
        try "clock_period_ns: 3.0\n".write(to: cfg, atomically: true, encoding: .utf8)
        let viaKey = t.appendingPathComponent("key"), viaFlag = t.appendingPathComponent("flag")
        let both = t.appendingPathComponent("both"), slow = t.appendingPathComponent("slow")
        for (args, out) in [(["--config", cfg.path], viaKey), (["--clock-period", "3.0"], viaFlag),
                            (["--config", cfg.path, "--clock-period", "8"], both), (["--clock-period", "8"], slow)] {
            let r = try rtlgen(["build", muonModel, "--out", out.path, "--top", "m"] + args)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let files = try FileManager.default.subpathsOfDirectory(atPath: viaKey.path).sorted()
        XCTAssertEqual(files, try FileManager.default.subpathsOfDirectory(atPath: viaFlag.path).sorted())
        for f in files {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: viaKey.appendingPathComponent(f).path, isDirectory: &isDir), !isDir.boolValue else { continue }
            XCTAssertEqual(try Data(contentsOf: viaKey.appendingPathComponent(f)), try Data(contentsOf: viaFlag.appendingPathComponent(f)), f)
        }
        func report(_ d: URL) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: d.appendingPathComponent("report.json"))) as? [String: Any] ?? [:]
        }
        XCTAssertEqual(try report(viaFlag)["clock_period_ns"] as? Double, 3.0)
        XCTAssertEqual(try report(both)["clock_period_ns"] as? Double, 8.0)
        let fast = try report(viaFlag)["latency_cycles"] as? Int ?? -1, relaxed = try report(slow)["latency_cycles"] as? Int ?? -1
        XCTAssertGreaterThan(fast, relaxed, "a 3 ns clock needs more pipeline stages than an 8 ns one")
        for bad in ["fast", "0", "-1", "nan"] {
            let o = t.appendingPathComponent("bad")
            let r = try rtlgen(["build", muonModel, "--out", o.path, "--clock-period", bad])
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains("--clock-period"), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: o.path))
        }
    }
}

final class CLIPredictTests: XCTestCase {
    func writeModel(_ t: URL) throws -> URL {
        let m = t.appendingPathComponent("tiny.json")
        try cliBaseModel.write(to: m, atomically: true, encoding: .utf8)
        return m
    }

    func testPredictPrintsExactDecimalsAndSkipsComments() throws {
        let t = try tempDir(self)
        let model = try writeModel(t)
        let csv = t.appendingPathComponent("x.csv")
        // Hand-computed in LoaderTests.GoldenHandTests.testDenseThenRelu.
        try """
        # a comment line
        2.5,-1.0625

           # indented comment
        7.9375, 7.9375
        0,0
        \t
        25e-1,-10625E-4
        """.write(to: csv, atomically: true, encoding: .utf8)
        let r = try rtlgen(["predict", model.path, "--input", csv.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        // 0,0: y0 = 0.0625, y1 = 0, y2 = -0.5 -> relu 0.
        XCTAssertEqual(r.stdout, "1.1875,0,3.0625\n5.03125,3.96875,0\n0.0625,0,0\n1.1875,0,3.0625\n")
        XCTAssertFalse(r.stdout.contains("e"), "exponent in output")

        let outCSV = t.appendingPathComponent("y.csv")
        let w = try rtlgen(["predict", model.path, "--input", csv.path, "--output", outCSV.path])
        XCTAssertEqual(w.status, 0, w.stderr)
        XCTAssertEqual(w.stdout, "")
        XCTAssertEqual(try String(contentsOf: outCSV, encoding: .utf8), r.stdout)
    }

    func testPredictIntegersHaveNoPoint() throws {
        let t = try tempDir(self)
        let model = t.appendingPathComponent("int.json")
        // int<8> input, kernel [[3, -2]], int outputs; and a fractional output type showing 2 as "2".
        try """
        {"format": "rtlgen-model", "version": 1, "name": "ints", "input": {"size": 1, "type": "int<8>"},
         "layers": [{"name": "fc", "op": "dense", "units": 2, "kernel": [[3, -2]], "kernel_type": "int<4>",
                     "bias_type": "int<4>", "output_type": "fixed<16,10>"}]}
        """.write(to: model, atomically: true, encoding: .utf8)
        let csv = t.appendingPathComponent("x.csv")
        try "1\n-7\n0\n2.9\n".write(to: csv, atomically: true, encoding: .utf8)
        let r = try rtlgen(["predict", model.path, "--input", csv.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        // 2.9 -> int<8> TRN -> 2.
        XCTAssertEqual(r.stdout, "3,-2\n-21,14\n0,0\n6,-4\n")
    }

    func testCSVErrorsNameTheLine() throws {
        let t = try tempDir(self)
        let model = try writeModel(t)
        let cases: [(String, [String])] = [
            ("1,2\n# c\n\n1,2,3\n", ["line 4", "expected 2 values", "found 3"]),
            ("1,2\n1\n", ["line 2", "found 1"]),
            ("1,2\n1,abc\n", ["line 2", "column 2", "abc"]),
            ("1,0x10\n", ["line 1", "column 2"]),
            ("1,\n", ["line 1", "column 2"]),
            ("1,nan\n", ["line 1", "nan"]),
        ]
        for (text, words) in cases {
            let csv = t.appendingPathComponent("in.csv")
            try text.write(to: csv, atomically: true, encoding: .utf8)
            let r = try rtlgen(["predict", model.path, "--input", csv.path])
            XCTAssertEqual(r.status, 2, "\(text.debugDescription): \(r.stderr)")
            XCTAssertEqual(r.stdout, "", text.debugDescription)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("in.csv"), r.stderr)
            for w in words { XCTAssertTrue(r.stderr.contains(w), "\(text.debugDescription): '\(w)' not in \(r.stderr)") }
        }
        let missing = try rtlgen(["predict", model.path, "--input", t.appendingPathComponent("absent.csv").path])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("absent.csv"), missing.stderr)
    }

    func testVectorsAndRandomModelAreDeterministic() throws {
        let a = try rtlgen(["vectors", muonModel, "--count", "50", "--seed", "7"])
        let b = try rtlgen(["vectors", muonModel, "--count", "50", "--seed", "7"])
        XCTAssertEqual(a.status, 0)
        XCTAssertEqual(a.stdout, b.stdout)
        XCTAssertEqual(a.stdout.split(separator: "\n").count, 50)
        XCTAssertTrue(a.stdout.split(separator: "\n").allSatisfy { $0.split(separator: ",").count == 5 })
        let c = try rtlgen(["random-model", "--seed", "3"])
        XCTAssertEqual(c.status, 0)
        XCTAssertEqual(c.stdout, try rtlgen(["random-model", "--seed", "3"]).stdout)
        XCTAssertNoThrow(try ModelLoader.parse(text: c.stdout, file: "random-3"))
    }
}

/// `sim` on deliberately corrupted RTL must report the mismatch (exit 1) with sample, output and
/// both values; on the intact RTL it must pass. Skipped without the simulator.
final class CLISimMismatchTests: XCTestCase {
    func requireTool(_ tool: String) throws {
        if !locateTool(tool) { throw XCTSkip("\(tool) not on PATH") }
    }

    /// Builds muon_recal and writes 200 vectors; returns (build dir, csv).
    func prepare(lang: String) throws -> (URL, URL) {
        let t = try tempDir(self)
        let out = t.appendingPathComponent("muon")
        // With multipliers (not the default shift-add) so that every weight is a named constant
        // the corruption tests can flip.
        let cfg = t.appendingPathComponent("dsp.yml")
        try "multipliers: dsp\n".write(to: cfg, atomically: true, encoding: .utf8)
        let b = try rtlgen(["build", muonModel, "--out", out.path, "--lang", lang, "--config", cfg.path])
        XCTAssertEqual(b.status, 0, b.stderr)
        let v = try rtlgen(["vectors", muonModel, "--count", "200", "--seed", "5"])
        XCTAssertEqual(v.status, 0, v.stderr)
        let csv = t.appendingPathComponent("x.csv")
        try v.stdout.write(to: csv, atomically: true, encoding: .utf8)
        return (out, csv)
    }

    /// Replaces the first match of `pattern` (group 1 = the literal's digits) in `file` with
    /// `transform(digits)`; returns (old, new).
    func corrupt(_ file: URL, _ pattern: String, _ transform: (String) -> String) throws -> (String, String) {
        var text = try String(contentsOf: file, encoding: .utf8)
        let re = try NSRegularExpression(pattern: pattern)
        let m = try XCTUnwrap(re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), "no weight constant in \(file.lastPathComponent)")
        let r = try XCTUnwrap(Range(m.range(at: 1), in: text))
        let old = String(text[r])
        let new = transform(old)
        XCTAssertNotEqual(old, new)
        text.replaceSubrange(r, with: new)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return (old, new)
    }

    func assertMismatch(dir: URL, csv: URL, simulator: String) throws {
        let r = try rtlgen(["sim", dir.path, "--input", csv.path, "--simulator", simulator])
        XCTAssertEqual(r.status, 1, "\(r.stdout)\n\(r.stderr)")
        let all = r.stdout + r.stderr
        let re = try NSRegularExpression(pattern: #"MISMATCH.*sample (\d+).*output (\d+).*rtl (-?[0-9.]+).*golden (-?[0-9.]+)"#)
        let m = try XCTUnwrap(re.firstMatch(in: all, range: NSRange(all.startIndex..., in: all)), "no MISMATCH line: \(all)")
        func g(_ i: Int) -> String { String(all[Range(m.range(at: i), in: all)!]) }
        XCTAssertNotEqual(g(3), g(4), "the two values are equal: \(all)")
        XCTAssertTrue(all.contains(simulator), all)
        // The golden value is what `predict` says for that sample and output.
        let p = try rtlgen(["predict", muonModel, "--input", csv.path])
        let rows = p.stdout.split(separator: "\n")
        let s = try XCTUnwrap(Int(g(1))), j = try XCTUnwrap(Int(g(2)))
        XCTAssertEqual(String(rows[s].split(separator: ",")[j]), g(4))
    }

    func testVerilatorReportsCorruptedWeight() throws {
        try requireTool("verilator")
        let (dir, csv) = try prepare(lang: "verilog")
        let ok = try rtlgen(["sim", dir.path, "--input", csv.path, "--simulator", "verilator"])
        XCTAssertEqual(ok.status, 0, ok.stdout + ok.stderr)
        XCTAssertTrue(ok.stdout.contains("200 vectors bit-exact"), ok.stdout)
        // e.g. `wire signed [25:0] fc1_n0_p0 = fc1_in_0 * 9'sd152;` -> 153 (the lowest bit flipped).
        let (old, new) = try corrupt(dir.appendingPathComponent("rtl/verilog/muon_recal_fc1.v"),
                                     #"fc1_in_\d+ \* \d+'sd(\d+)"#) { String(Int($0)! ^ 1) }
        XCTAssertNotEqual(old, new)
        try assertMismatch(dir: dir, csv: csv, simulator: "verilator")
    }

    func testGHDLReportsCorruptedWeight() throws {
        try requireTool("ghdl")
        let (dir, csv) = try prepare(lang: "vhdl")
        let y = csv.deletingLastPathComponent().appendingPathComponent("y.csv")
        let ok = try rtlgen(["sim", dir.path, "--input", csv.path, "--simulator", "ghdl", "--output", y.path])
        XCTAssertEqual(ok.status, 0, ok.stdout + ok.stderr)
        XCTAssertTrue(ok.stdout.contains("200 vectors bit-exact"), ok.stdout)
        // --output holds the RTL's outputs: the same text as the golden model's.
        let golden = try rtlgen(["predict", muonModel, "--input", csv.path])
        XCTAssertEqual(try String(contentsOf: y, encoding: .utf8), golden.stdout)
        // e.g. `fc1_n0_p0 := ... (to_integer(fc1_in_0) * 152) ...` -> 153 (the lowest bit flipped).
        _ = try corrupt(dir.appendingPathComponent("rtl/vhdl/muon_recal_fc1.vhd"),
                        #"to_integer\(fc1_in_\d+\) \* \(?-?(\d+)\)?"#) { String(Int($0)! ^ 1) }
        try assertMismatch(dir: dir, csv: csv, simulator: "ghdl")
    }
}

/// Regression tests for bugs found while writing these tests (see docs/testing.md): each
/// failed before its fix.
final class CLIRegressionTests: XCTestCase {
    /// `--input /dev/stdin` fed by a pipe is read like a file.
    func testPredictReadsStdin() throws {
        let csv = "1,2\n# comment\n-0.5,0.25\n"
        let fromFile = try withTempFile(csv) { try rtlgen(["predict", tinyModelPath(), "--input", $0]) }
        let fromPipe = try rtlgen(["predict", tinyModelPath(), "--input", "/dev/stdin"], stdin: csv)
        XCTAssertEqual(fromPipe.status, 0, fromPipe.stderr)
        XCTAssertEqual(fromPipe.stdout, fromFile.stdout)
        XCTAssertEqual(fromPipe.stdout.split(separator: "\n").count, 2)
    }

    func tinyModelPath() -> String { packageRoot.appendingPathComponent("Tests/models/tiny.json").path }

    func withTempFile<T>(_ text: String, _ body: (String) throws -> T) throws -> T {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("rtlgen-\(UUID().uuidString).csv")
        try Data(text.utf8).write(to: u)
        defer { try? FileManager.default.removeItem(at: u) }
        return try body(u.path)
    }


    /// Exit 0 or 2 from a normal exit, never a crash (a trap ends the process with a signal).
    func assertNoCrash(_ r: RunResult, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(r.status == 0 || r.status == 2, "\(what): status \(r.status)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Swift runtime failure") || r.stderr.contains("crashed"), "\(what): \(r.stderr.prefix(300))", file: file, line: line)
    }

    func reluModel(_ t: URL, input: String, output: String, name: String = "m") throws -> URL {
        let m = t.appendingPathComponent("\(name).json")
        try """
        {"format": "rtlgen-model", "version": 1, "name": "\(name)", "input": {"size": 1, "type": "\(input)"},
         "layers": [{"name": "r", "op": "relu", "output_type": "\(output)"}]}
        """.write(to: m, atomically: true, encoding: .utf8)
        return m
    }

    /// `build --out DIR` replaces an existing DIR wholesale, even one that is not an rtlgen
    /// output folder: `--out .` deletes the working directory's files (the model included).
    func testOutIntoAForeignFolderIsRefused() throws {
        let t = try tempDir(self)
        let proj = t.appendingPathComponent("proj")
        try FileManager.default.createDirectory(at: proj, withIntermediateDirectories: true)
        try "keep\n".write(to: proj.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let model = proj.appendingPathComponent("model.json")
        try Data(contentsOf: URL(fileURLWithPath: muonModel)).write(to: model)
        let r = try rtlgen(["build", "model.json", "--out", "."], cwd: proj)
        XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: proj.appendingPathComponent("notes.txt").path), "notes.txt deleted")
        XCTAssertEqual(try Data(contentsOf: model), try Data(contentsOf: URL(fileURLWithPath: muonModel)), "the input model was replaced")
        let file = t.appendingPathComponent("a_file")
        try "data\n".write(to: file, atomically: true, encoding: .utf8)
        let f = try rtlgen(["build", muonModel, "--out", file.path])
        XCTAssertEqual(f.status, 2, f.stdout + f.stderr)
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "data\n", "a regular file was replaced by a folder")
    }

    /// A model (or --top) named like a top-level port (clk, rst, ce, in_valid, in_data,
    /// out_valid, out_data) builds, but Verilator rejects the RTL ("Variable has same name as instance").
    func testTopNamedLikeAPort() throws {
        let t = try tempDir(self)
        for name in ["clk", "in_data"] {
            let m = try reluModel(t, input: "fixed<8,4>", output: "fixed<8,4>", name: name)
            let out = t.appendingPathComponent("o_\(name)")
            let b = try rtlgen(["build", m.path, "--out", out.path, "--lang", "verilog"])
            if b.status == 2 {
                XCTAssertTrue(b.stderr.contains("name"), b.stderr)
                continue
            }
            XCTAssertEqual(b.status, 0, b.stderr)
            let csv = t.appendingPathComponent("x.csv")
            try "1\n-2\n".write(to: csv, atomically: true, encoding: .utf8)
            let s = try rtlgen(["sim", out.path, "--input", csv.path, "--simulator", "verilator"])
            XCTAssertEqual(s.status, 0, "\(name): \(s.stderr.prefix(400))")
        }
    }

    /// Casts with a large left shift (output F - input F >= 114): the code ranges overflow Int128
    /// in Sources/Netlist/Lowering/Arith.swift `cast` (k < 0). Shifts 114..127 crash `build`
    /// (CodeRange precondition); shifts >= 128 build RTL that outputs 0 instead of saturating.
    func testLargeLeftShiftCasts() throws {
        let t = try tempDir(self)
        let csv = t.appendingPathComponent("x.csv")
        try "1\n0.5\n-1\n0\n".write(to: csv, atomically: true, encoding: .utf8)
        for intBits in [-120, -128] {
            let m = try reluModel(t, input: "fixed<16,8>", output: "ufixed<8,\(intBits),TRN,SAT>")
            let out = t.appendingPathComponent("o\(intBits)")
            let b = try rtlgen(["build", m.path, "--out", out.path, "--lang", "vhdl"])
            assertNoCrash(b, "build ufixed<8,\(intBits)>")
            guard b.status == 0, locateTool("ghdl") else { continue }
            let s = try rtlgen(["sim", out.path, "--input", csv.path, "--simulator", "ghdl"])
            XCTAssertEqual(s.status, 0, "ufixed<8,\(intBits)>: \(s.stderr.prefix(300))")
        }
    }

    /// 128-bit signed and 127-bit unsigned values entering a cast crash `build`
    /// (CodeRange.signedWidth overflows, Sources/ModelIR/Analysis.swift:20); `predict` works.
    func testFullWidthValuesBuild() throws {
        let t = try tempDir(self)
        for (i, (input, output)) in [("fixed<128,8>", "fixed<16,8>"), ("ufixed<127,8>", "fixed<16,8>")].enumerated() {
            let m = try reluModel(t, input: input, output: output)
            assertNoCrash(try rtlgen(["build", m.path, "--out", t.appendingPathComponent("o\(i)").path]), "build \(input)")
        }
        let m = t.appendingPathComponent("acc.json")
        try """
        {"format": "rtlgen-model", "version": 1, "name": "acc", "input": {"size": 1, "type": "fixed<8,4>"},
         "layers": [{"name": "fc", "op": "dense", "units": 1, "kernel": [[1]], "kernel_type": "fixed<3,2>",
                     "bias_type": "int<2>", "accum_type": "fixed<128,70>", "output_type": "fixed<16,8>"}]}
        """.write(to: m, atomically: true, encoding: .utf8)
        assertNoCrash(try rtlgen(["build", m.path, "--out", t.appendingPathComponent("oacc").path]), "build accum fixed<128,70>")
    }

    /// docs/usage.md: "Bad input gives one line on stderr". A malformed --config YAML prints
    /// Yams' multi-line error (Sources/Driver/Config.swift, "malformed YAML: \(error)").
    func testMalformedConfigIsOneLine() throws {
        let t = try tempDir(self)
        let cfg = t.appendingPathComponent("cfg.yaml")
        try "clock_period_ns: [4\n".write(to: cfg, atomically: true, encoding: .utf8)
        let r = try rtlgen(["predict", muonModel, "--config", cfg.path, "--input", muonModel])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    }

    /// `rtlgen vectors` traps for inputs of 126+ bits signed / 125+ bits unsigned
    /// (Sources/Driver/Vectors.swift:49, out-of-range values overflow Int128).
    func testVectorsForWideInputs() throws {
        let t = try tempDir(self)
        for input in ["fixed<126,3>", "ufixed<125,3>"] {
            let m = try reluModel(t, input: input, output: "fixed<8,4>")
            for seed in 1...4 {
                let r = try rtlgen(["vectors", m.path, "--count", "400", "--seed", String(seed)])
                assertNoCrash(r, "vectors \(input) --seed \(seed)")
                XCTAssertEqual(r.stdout.split(separator: "\n").count, 400, input)
            }
        }
    }
}

func locateTool(_ tool: String) -> Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "command -v \(tool) >/dev/null"]
    guard (try? p.run()) != nil else { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}
