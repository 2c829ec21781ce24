// `rtlgen build` with a `stream:` config section: the AXI4-Stream wrapper's modules, testbenches
// and report (stream.json), beside the core's files. `rtlgen stream-sim`: the wrapper in Verilator
// and GHDL on random muon beats under TVALID gaps and TREADY backpressure, every output beat
// (TDATA, TLAST, TUSER) compared with the golden model applied to the input beat.
import BigInt
import Foundation
import FixedPoint
import Golden
import HDL
import ModelIR
import Netlist

public enum StreamBuild {
    /// Files of the wrapper (relative path, contents), and the Verilog / VHDL file list entries.
    static func generate(model: Model, core: Design, spec: StreamSpec, options: BuildOptions, top: String) throws
        -> (files: [(String, String)], verilog: [String], vhdl: [String], design: StreamDesign) {
        try StreamConfig.validate(spec, model: model, file: options.config.path ?? "config")
        let g = try StreamGolden(spec: spec, model: model)
        let sd = StreamLowering.lower(core: core, golden: g, name: top, clockPeriodNs: options.config.clockPeriodNs, device: options.config.device)
        var files: [(String, String)] = [], v: [String] = [], h: [String] = []
        for m in sd.modules.prefix(3) + [sd.top] {
            m.header.append(options.config.device.headerLine)
            if options.language.verilog { let p = "rtl/verilog/\(m.name).v"; files.append((p, VerilogEmitter.emit(m))); v.append(p) }
            if options.language.vhdl { let p = "rtl/vhdl/\(m.name).vhd"; files.append((p, VHDLEmitter.emit(m))); h.append(p) }
        }
        let ports = StreamPorts(top: sd.top.name, tdataIn: spec.tdataWidth, tdataOut: g.outTdataWidth, tuser: spec.tuserWidth)
        if options.language.verilog { files.append(("testbench/verilator/tb_\(sd.top.name).cpp", StreamTestbench.verilator(ports))) }
        if options.language.vhdl { files.append(("testbench/vhdl/tb_\(sd.top.name).vhd", StreamTestbench.vhdl(ports))) }
        if let text = try? String(contentsOfFile: options.config.path ?? "", encoding: .utf8) { files.append(("config.yaml", text)) }
        files.append(("stream.json", report(sd)))
        // Firmware drop-in files (paths relative to the build folder).
        let fw = FirmwarePorts(top: sd.top.name, tdataIn: spec.tdataWidth, tdataOut: g.outTdataWidth, tuser: spec.tuserWidth,
                               vhdl: options.language.vhdl ? core.modules.map { "rtl/vhdl/\($0.name).vhd" } + h : [],
                               verilog: options.language.verilog ? core.modules.map { "rtl/verilog/\($0.name).v" } + v : [])
        files.append(("component.xml", Firmware.componentXML(fw)))
        files.append(("\(sd.top.name).qsf", Firmware.qsf(fw)))
        files.append(("\(sd.top.name).dep", Firmware.ipbbDep(fw)))
        files.append(("\(sd.top.name).core", Firmware.fusesocCore(fw, tbVHDL: options.language.vhdl ? "testbench/vhdl/tb_\(sd.top.name).vhd" : nil, tbCpp: nil)))
        return (files, v, h, sd)
    }

    static func report(_ sd: StreamDesign) -> String {
        func n(_ x: Int) -> JSONValue { .number(String(x)) }
        let spec = sd.golden.spec
        let wrapperRegs = ([sd.top] + sd.modules.prefix(3)).map { $0.registerBits }.reduce(0, +)
        let fifo = sd.modules[2]
        let obj: JSONValue = .object([
            ("top", .string(sd.top.name)),
            ("layout", .string(spec.layout.name)),
            ("record_bits", n(spec.layout.bits)),
            ("muons_per_beat", n(spec.muonsPerBeat)),
            ("arrangement", .string(spec.arrangement.rawValue)),
            ("output", .string(spec.output.rawValue)),
            ("network_instances", n(spec.units.count)),
            ("s_axis_tdata_bits", n(spec.tdataWidth)),
            ("m_axis_tdata_bits", n(sd.golden.outTdataWidth)),
            ("slot_bits", n(sd.slotWidth)),
            ("tuser_bits", n(spec.tuserWidth)),
            ("core_latency_cycles", n(sd.core.latency)),
            ("feature_map_latency_cycles", n(sd.modules[0].latency)),
            ("output_map_latency_cycles", n(sd.modules[1].latency)),
            ("latency_cycles", n(sd.latency)),
            ("throughput_beats_per_cycle", n(1)),
            ("fifo_depth", n(sd.fifoDepth)),
            ("fifo_register_bits", n(fifo.registerBits)),
            ("wrapper_register_bits", n(wrapperRegs)),
            ("core_register_bits_each", n(sd.core.modules.map { $0.registerBits }.reduce(0, +))),
        ])
        return JSONWriter.pretty(obj) + "\n"
    }
}

public enum StreamSim {
    public struct Result { public let simulator: Simulator; public let beats: Int; public let muons: Int; public let cycles: Int; public let seconds: Double }

    static func bits(_ v: BigInt, _ w: Int) -> String {
        let s = String(v, radix: 2)
        return String(repeating: "0", count: w - s.count) + s
    }

    /// Random beats: each record random bits, about one slot in eight empty.
    static func beats(_ g: StreamGolden, count: Int, seed: UInt64) -> [(BigInt, Bool, BigInt)] {
        var st = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> UInt64 { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return st }
        let spec = g.spec
        return (0..<count).map { _ in
            var d = BigInt(0)
            for k in 0..<spec.muonsPerBeat {
                var r = BigInt(0)
                for w in 0..<spec.layout.words { r |= BigInt(next() & 0xFFFF_FFFF) << (32 * w) }
                if next() % 8 == 0, let e = spec.layout.emptyField { r = spec.layout.field(e)!.write(r, 0) }
                d |= r << (k * spec.layout.bits)
            }
            var u = BigInt(0)
            for w in 0..<((spec.tuserWidth + 31) / 32) { u |= BigInt(next() & 0xFFFF_FFFF) << (32 * w) }
            u &= (BigInt(1) << spec.tuserWidth) - 1
            return (d, next() % 5 == 0, u)
        }
    }

    /// `fusesoc`: path of a FuseSoC executable; the GHDL run then goes through FuseSoC's own sim target.
    public static func run(dir: String, count: Int, seed: UInt64, simulators: [Simulator], fullRate: Bool, fusesoc: String? = nil) throws -> [Result] {
        let model = try ModelLoader.load(path: "\(dir)/model.json")
        let cfg = try Config.load(path: "\(dir)/config.yaml")
        guard let spec = cfg.stream else { throw InputError(file: "\(dir)/config.yaml", field: "stream", message: "no stream section: not a stream build") }
        let g = try StreamGolden(spec: spec, model: model)
        let top = model.name
        let name = (try? String(contentsOfFile: "\(dir)/stream.json", encoding: .utf8))
            .flatMap { t in t.range(of: #""top": "([A-Za-z0-9_]+)""#, options: .regularExpression).map { String(t[$0]).split(separator: "\"")[2] } }
            .map(String.init) ?? "\(top)_axis"
        let ins = beats(g, count: count, seed: seed)
        let root = URL(fileURLWithPath: dir).standardizedFileURL.path
        let work = "\(root)/.stream-sim-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let text = ins.map { bits($0.0, spec.tdataWidth) + ($0.1 ? "1" : "0") + bits($0.2, spec.tuserWidth) }.joined(separator: "\n") + "\n"
        try text.write(toFile: "\(work)/beats.txt", atomically: true, encoding: .utf8)
        let want = ins.map { bits(g.beat($0.0), g.outTdataWidth) + ($0.1 ? "1" : "0") + bits($0.2, spec.tuserWidth) }
        var results: [Result] = []
        for sim in simulators {
            let t0 = Date()
            switch sim {
            case .verilator:
                let files = try String(contentsOfFile: "\(dir)/files_verilog.f", encoding: .utf8).split(separator: "\n").map { "\(root)/\($0)" }
                try Simulation.run(["verilator", "--cc", "--exe", "--build", "-j", "2", "-O2", "-Wno-fatal", "--top-module", name, "-Mdir", "obj",
                                    "-o", "Vtb"] + files + ["\(root)/testbench/verilator/tb_\(name).cpp"], cwd: work, what: "verilator")
                try Simulation.run(["obj/Vtb", "beats.txt", "out_verilator.txt", "\(seed % 65536 + 1)", fullRate ? "1" : "0"], cwd: work, what: "verilator run")
            case .ghdl where fusesoc != nil:
                try Simulation.run([fusesoc!, "--cores-root", root, "run", "--build-root", "\(work)/fusesoc", "--target", "sim", "rtlgen:nn:\(name)",
                                    "--BEATS=\(work)/beats.txt", "--OUTPUT=\(work)/out_ghdl.txt", "--SEED=\(seed % 65536 + 1)", "--MODE=\(fullRate ? 1 : 0)"],
                                   cwd: work, what: "fusesoc run --target sim")
            case .ghdl:
                let files = try String(contentsOfFile: "\(dir)/files_vhdl.f", encoding: .utf8).split(separator: "\n").map { "\(root)/\($0)" }
                try Simulation.run(["ghdl", "-a", "--std=08", "-O2"] + files + ["\(root)/testbench/vhdl/tb_\(name).vhd"], cwd: work, what: "ghdl -a")
                try Simulation.run(["ghdl", "--elab-run", "--std=08", "-O2", "tb_\(name)", "-gBEATS=beats.txt", "-gOUTPUT=out_ghdl.txt",
                                    "-gSEED=\(seed % 65536 + 1)", "-gMODE=\(fullRate ? 1 : 0)"], cwd: work, what: "ghdl run")
            }
            let out = try String(contentsOfFile: "\(work)/out_\(sim.rawValue).txt", encoding: .utf8).split(separator: "\n").map(String.init)
            guard let last = out.last, last.hasPrefix("cycles "), let cycles = Int(last.dropFirst(7)) else {
                throw SimulationFailure(description: "\(sim.rawValue): no cycle count in the output")
            }
            let got = out.dropLast()
            if got.count != want.count {
                throw SimulationFailure(description: "\(sim.rawValue): \(got.count) output beats for \(want.count) input beats (\(cycles) cycles)")
            }
            for (i, (a, b)) in zip(got, want).enumerated() where a != b {
                throw SimulationFailure(description: "\(sim.rawValue): output beat \(i) differs from the golden model\n  rtl:    \(a)\n  golden: \(b)")
            }
            results.append(Result(simulator: sim, beats: count, muons: count * spec.muonsPerBeat, cycles: cycles, seconds: Date().timeIntervalSince(t0)))
        }
        return results
    }
}

/// `rtlgen predict --config C` with a stream section: raw records in, output slots out.
/// Input: one unit per line (lanes: one record; pairs: two), its 32-bit words as hex (`0x...`)
/// or decimal, word 0 first, comma separated. Output: the unit's slot as 32-bit hex words, word 0
/// first (an empty slot passes through flagged: see docs/stream.md).
public enum StreamPredict {
    public static func run(model: Model, config: Config, input: String) throws -> String {
        let spec = config.stream!
        try StreamConfig.validate(spec, model: model, file: config.path ?? "config")
        let g = try StreamGolden(spec: spec, model: model)
        let per = spec.arrangement == .lanes ? 1 : 2
        let words = spec.layout.words * per
        let text = try readInputText(path: input)
        var out = ""
        var lineNo = 0
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" }) {
            lineNo += 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let cells = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == words else {
                throw InputError(file: input, field: "line \(lineNo)", message: "expected \(words) 32-bit words (\(per) record(s) of \(spec.layout.words)), found \(cells.count)")
            }
            var recs: [BigInt] = Array(repeating: 0, count: per)
            for (i, c) in cells.enumerated() {
                let v: UInt64? = c.lowercased().hasPrefix("0x") ? UInt64(c.dropFirst(2), radix: 16) : UInt64(c)
                guard let v, v <= 0xFFFF_FFFF else { throw InputError(file: input, field: "line \(lineNo)", message: "'\(c)' is not a 32-bit word") }
                recs[i / spec.layout.words] |= BigInt(v) << (32 * (i % spec.layout.words))
            }
            let slot = g.slot(recs)
            let n = (g.slotWidth + 31) / 32
            out += (0..<n).map { k in "0x" + String(String((slot >> (32 * k)) & 0xFFFF_FFFF, radix: 16)).leftPad(8) }.joined(separator: ",") + "\n"
        }
        return out
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
