// `rtlgen sim`: runs the generated testbenches in Verilator and/or GHDL on CSV inputs and
// compares every output bit with the golden model.
import Foundation
import FixedPoint
import Golden
import ModelIR

public enum Simulator: String, CaseIterable, Sendable {
    case verilator, ghdl
}

/// A simulation that ran but disagreed with the golden model, or a tool that failed. Exit 1.
public struct SimulationFailure: Error, CustomStringConvertible {
    public let description: String
}

public struct SimulatorResult {
    public let simulator: Simulator
    public let samples: Int
    public let outputs: [[Int128]]
    public let seconds: Double
}

public enum Simulation {
    /// Input codes of a sample as the in_data bus, binary MSB first (element 0 in the LSBs).
    static func busString(_ codes: [Int128], type t: FixedType) -> String {
        let width = t.width
        var s = ""
        s.reserveCapacity(codes.count * width)
        for c in codes.reversed() {
            let u = t.encode(c)
            for k in stride(from: width - 1, through: 0, by: -1) { s.append((u >> k) & 1 == 1 ? "1" : "0") }
        }
        return s
    }

    static func parseBus(_ line: Substring, count: Int, type t: FixedType) -> [Int128]? {
        let w = t.width
        guard line.utf8.count == count * w else { return nil }
        let bytes = Array(line.utf8)
        var out: [Int128] = []
        for i in 0..<count {
            var u: UInt128 = 0
            let start = bytes.count - (i + 1) * w
            for k in 0..<w { u = (u << 1) | (bytes[start + k] == UInt8(ascii: "1") ? 1 : 0) }
            out.append(t.decode(u))
        }
        return out
    }

    @discardableResult
    static func run(_ args: [String], cwd: String, what: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch {
            throw SimulationFailure(description: "\(what): cannot start \(args[0]): \(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let out = String(decoding: data, as: UTF8.self)
        if p.terminationStatus != 0 {
            let tail = out.split(separator: "\n").suffix(25).joined(separator: "\n")
            throw SimulationFailure(description: "\(what) failed (exit \(p.terminationStatus)): \(args.joined(separator: " "))\n\(tail)")
        }
        return out
    }

    static func which(_ tool: String) -> Bool {
        (try? run(["sh", "-c", "command -v \(tool)"], cwd: "/", what: tool)) != nil
    }

    /// Simulates the design in `dir` on the samples, with each chosen simulator; returns results
    /// after checking them against the golden model (throws SimulationFailure on a mismatch).
    public static func simulate(dir: String, inputPath: String, simulators: [Simulator], workDir: String?,
                                log: (String) -> Void) throws -> [SimulatorResult] {
        let modelPath = (dir as NSString).appendingPathComponent("model.json")
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw InputError(file: dir, field: "", message: "not an rtlgen build folder (no model.json); run `rtlgen build` first")
        }
        let model = try ModelLoader.load(path: modelPath)
        let report = try readReport(dir: dir)
        var top = model.name
        if case let .string(t)? = report?["top"] { top = t }
        var latency = "?"
        if case let .number(n)? = report?["latency_cycles"] { latency = n }
        let golden = try GoldenModel(model)
        let samples = try CSV.readSamples(path: inputPath, size: model.input.size, type: model.input.type, scale: model.input.scale)
        guard !samples.isEmpty else { throw InputError(file: inputPath, field: "", message: "no samples") }
        let expected = samples.map { golden.evaluate(codes: $0) }
        let fm = FileManager.default
        let work: String
        var removeWork = false
        if let w = workDir {
            work = (w as NSString).standardizingPath
        } else {
            work = (NSTemporaryDirectory() as NSString).appendingPathComponent("rtlgen-sim-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
            removeWork = true
        }
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if removeWork { try? fm.removeItem(atPath: work) } }
        let absDir = URL(fileURLWithPath: dir).standardizedFileURL.path
        let stim = (work as NSString).appendingPathComponent("inputs.txt")
        let inT = model.input.type
        try samples.map { busString($0, type: inT) }.joined(separator: "\n").appending("\n")
            .write(toFile: stim, atomically: true, encoding: .utf8)
        var results: [SimulatorResult] = []
        for sim in simulators {
            let t0 = Date()
            let outFile = (work as NSString).appendingPathComponent("outputs_\(sim.rawValue).txt")
            switch sim {
            case .verilator:
                guard which("verilator") else { throw SimulationFailure(description: "verilator not found: run `make deps` (Debian: apt-get install verilator)") }
                let files = try listFiles(absDir, "files_verilog.f")
                let obj = (work as NSString).appendingPathComponent("verilator")
                try run(["verilator", "--cc", "--exe", "--build", "-j", "2", "-Wno-fatal", "-Wno-lint", "-Wno-style",
                         "--top-module", top, "-Mdir", obj, "-o", "Vtb", "-CFLAGS", "-O1"]
                        + files + ["\(absDir)/testbench/verilator/tb_\(top).cpp"], cwd: work, what: "verilator build")
                try run(["\(obj)/Vtb", stim, outFile, String(samples.count)], cwd: work, what: "verilator simulation")
            case .ghdl:
                guard which("ghdl") else { throw SimulationFailure(description: "ghdl not found: run `make deps` (Debian: apt-get install ghdl)") }
                let files = try listFiles(absDir, "files_vhdl.f")
                let gw = (work as NSString).appendingPathComponent("ghdl")
                try fm.createDirectory(atPath: gw, withIntermediateDirectories: true)
                try run(["ghdl", "-a", "--std=08", "--workdir=\(gw)"] + files + ["\(absDir)/testbench/vhdl/tb_\(top).vhd"],
                        cwd: work, what: "ghdl analysis")
                try run(["ghdl", "--elab-run", "--std=08", "--workdir=\(gw)", "tb_\(top)", "--ieee-asserts=disable",
                         "-gIN_FILE=\(stim)", "-gOUT_FILE=\(outFile)", "-gN_SAMPLES=\(samples.count)"],
                        cwd: work, what: "ghdl simulation")
            }
            let text = (try? String(contentsOfFile: outFile, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n")
            var outputs: [[Int128]] = []
            for (k, l) in lines.enumerated() {
                guard let v = parseBus(l, count: model.outputSize, type: model.outputType) else {
                    throw SimulationFailure(description: "\(sim.rawValue): output line \(k + 1) is not a \(model.outputSize * model.outputType.width)-bit value")
                }
                outputs.append(v)
            }
            guard outputs.count == samples.count else {
                throw SimulationFailure(description: "\(sim.rawValue): \(outputs.count) outputs for \(samples.count) samples")
            }
            for (s, (got, want)) in zip(outputs, expected).enumerated() where got != want {
                let j = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }!.offset
                let t = model.outputType
                throw SimulationFailure(description: "MISMATCH (\(sim.rawValue)): sample \(s) (the \(s + 1)th of \(inputPath)), output \(j): rtl \(t.decimalString(got[j])) golden \(t.decimalString(want[j]))")
            }
            let dt = Date().timeIntervalSince(t0)
            results.append(SimulatorResult(simulator: sim, samples: samples.count, outputs: outputs, seconds: dt))
            log("\(model.name): \(sim.rawValue): \(samples.count) vectors bit-exact (latency \(latency) cycles, \(String(format: "%.1f", dt)) s)")
        }
        return results
    }

    static func listFiles(_ dir: String, _ list: String) throws -> [String] {
        let path = (dir as NSString).appendingPathComponent(list)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw InputError(file: path, field: "", message: "missing: build with --lang both (or the simulator's language)")
        }
        return text.split(separator: "\n").map { "\(dir)/\($0)" }
    }

    static func readReport(dir: String) throws -> JSONValue? {
        let path = (dir as NSString).appendingPathComponent("report.json")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return try JSONParser.parse(text)
    }
}
