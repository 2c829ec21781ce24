// `rtlgen synth DIR`: out-of-context synthesis of a build with Yosys for an UltraScale+ part
// (`synth_xilinx -family xcup -flatten`), and the LUT / FF / CARRY / DSP counts it reports, added to
// DIR/report.json under "synthesis". The same command synthesizes other tools' Verilog (the peers
// in `make bench`), so every design in docs/benchmarks.md is counted by one flow. With
// `--device ecp5` (or a build made for ecp5) it runs `synth_ecp5` instead (LUT4, TRELLIS_FF, CCU2C).
import Foundation
import ModelIR

public struct SynthesisResult: Sendable {
    /// Cell counts of the flattened top (e.g. "LUT6": 120, "FDRE": 300).
    public var cells: [String: Int]
    public var seconds: Double
    public var command: String

    func sum(_ prefixes: [String]) -> Int {
        cells.filter { k, _ in prefixes.contains { k.hasPrefix($0) } }.map { $0.value }.reduce(0, +)
    }
    /// LUT1..LUT6 (logic LUTs).
    public var luts: Int { sum(["LUT"]) }
    /// ECP5 wide-function muxes (PFUMX, L6MUX21), which combine LUT4s into LUT5..LUT7.
    /// Shift-register LUTs (SRL16E/SRLC32E): delay lines Yosys packed into LUTs.
    public var srls: Int { sum(["SRL"]) }
    /// Flip-flops of every kind (FDRE, FDSE, FDCE, FDPE).
    public var ffs: Int { sum(["FD", "TRELLIS_FF"]) }
    public var carries: Int { sum(["CARRY", "CCU2"]) }
    public var dsps: Int { sum(["DSP", "MULT18", "ALU54"]) }
    public var brams: Int { sum(["RAMB", "DP16KD", "PDPW16KD"]) }

    public var json: JSONValue {
        func n(_ x: Int) -> JSONValue { .number(String(x)) }
        return .object([
            ("tool", .string("yosys")),
            ("command", .string(command)),
            ("lut", n(luts)), ("srl", n(srls)), ("ff", n(ffs)), ("carry", n(carries)), ("dsp", n(dsps)), ("bram", n(brams)),
            ("cells", .object(cells.keys.sorted().map { ($0, n(cells[$0]!)) })),
        ])
    }

    public var summary: String {
        "LUT \(luts), SRL \(srls), FF \(ffs), CARRY \(carries), DSP \(dsps), BRAM \(brams)"
    }
}

public enum Synthesis {
    public static func script(files: [String], top: String, device: String = "xcup") -> String {
        let synth = device == "ecp5" ? "synth_ecp5" : "synth_xilinx -family xcup"
        return "read_verilog \(files.joined(separator: " ")); \(synth) -flatten -top \(top); stat"
    }

    /// The device a synthesis name stands for (xcup, ecp5), or a clear error.
    public static func checkDevice(_ d: String) throws {
        _ = try Config.device(flag: d)
    }

    /// Synthesizes Verilog files (paths relative to `cwd`) with `top` as the top module.
    /// The Yosys log is written to `logPath`.
    public static func run(files: [String], top: String, cwd: String, logPath: String, device: String = "xcup") throws -> SynthesisResult {
        guard Simulation.which("yosys") else {
            throw SimulationFailure(description: "synth: yosys not found (Debian: apt-get install yosys)")
        }
        let cmd = script(files: files, top: top, device: device)
        let t0 = Date()
        let log: String
        do {
            log = try Simulation.run(["yosys", "-q", "-l", logPath, "-p", cmd], cwd: cwd, what: "yosys \(device == "ecp5" ? "synth_ecp5" : "synth_xilinx") on \(top)")
        } catch let e as SimulationFailure {
            throw SimulationFailure(description: "\(e.description) (log: \(logPath))")
        }
        _ = log
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        let types = parseCells(text)
        guard !types.isEmpty else { throw SimulationFailure(description: "synth: no cell statistics in \(logPath)") }
        return SynthesisResult(cells: types, seconds: Date().timeIntervalSince(t0),
                               command: "yosys -p '\(script(files: ["<files>"], top: top, device: device))'")
    }

    /// The cell counts of the last `stat` block of a Yosys log (primitive names such as LUT6).
    static func parseCells(_ log: String) -> [String: Int] {
        let lines = log.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let start = lines.lastIndex(where: { $0.hasPrefix("Number of cells:") }) else { return [:] }
        var types: [String: Int] = [:]
        for l in lines[(start + 1)...] {
            let parts = l.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, let n = Int(parts[1]) else { break }
            types[String(parts[0])] = n
        }
        return types
    }

    /// Synthesizes an rtlgen build folder and adds the figures to its report.json.
    /// `device` nil: the device the build was made for (report.json's "device"; xcup when absent).
    public static func build(dir: String, device: String? = nil) throws -> SynthesisResult {
        let dir = URL(fileURLWithPath: dir).standardizedFileURL.path
        let reportPath = (dir as NSString).appendingPathComponent("report.json")
        let listPath = (dir as NSString).appendingPathComponent("files_verilog.f")
        guard let reportText = try? String(contentsOfFile: reportPath, encoding: .utf8),
              let list = try? String(contentsOfFile: listPath, encoding: .utf8) else {
            throw InputError(file: dir, field: "", message: "not an rtlgen build folder with Verilog (no report.json or files_verilog.f); run `rtlgen build --lang verilog|both` first")
        }
        let report: JSONValue
        do { report = try JSONParser.parse(reportText) } catch {
            throw InputError(file: reportPath, field: "", message: "not valid JSON: \(error)")
        }
        guard case let .object(members) = report, case let .string(top)? = report["top"] else {
            throw InputError(file: reportPath, field: "top", message: "expected the top module's name")
        }
        let files = list.split(whereSeparator: { $0.isNewline }).map(String.init).filter { !$0.isEmpty }
        var dev = "xcup"
        if case let .string(d)? = report["device"] { dev = d }
        if let device { dev = device }
        let r = try run(files: files, top: top, cwd: dir, logPath: (dir as NSString).appendingPathComponent("synth.log"), device: dev)
        var fields = members.filter { $0.0 != "synthesis" }
        fields.append(("synthesis", r.json))
        let updated = JSONWriter.pretty(.object(fields)) + "\n"
        try updated.write(toFile: reportPath, atomically: true, encoding: .utf8)
        // report.html shows the new figures (rendered from the report as written).
        let stream = try? String(contentsOfFile: (dir as NSString).appendingPathComponent("stream.json"), encoding: .utf8)
        try ReportHTML.render(report: updated, stream: stream).write(toFile: (dir as NSString).appendingPathComponent("report.html"), atomically: true, encoding: .utf8)
        return r
    }
}
