// `rtlgen build`: model -> netlist -> Verilog + VHDL + testbenches + report, written to a
// temporary folder and moved into place only when complete (never half-written).
import Foundation
import FixedPoint
import FrontEnds
import HDL
import ModelIR
import Netlist

public enum Language: String, CaseIterable, Sendable {
    case verilog, vhdl, both
    var verilog: Bool { self != .vhdl }
    var vhdl: Bool { self != .verilog }
}

public struct BuildOptions: Sendable {
    public var outDir: String?
    public var language: Language = .both
    public var top: String?
    public var config: Config = Config()
    /// Run yosys on every layer module and record its cell counts in report.json.
    public var yosysStats = false
    /// How MODEL is read when it is not a native model (an hls4ml configuration, Keras weights,
    /// import options): see FrontEnds/ModelSource.swift.
    public var hlsConfig: HLSConfig?
    public var weights: String?
    public var importOptions = ImportOptions()
    /// Set when the user gave --config with rtlgen's own settings (then an hls4ml ClockPeriod yields).
    public var explicitSettings = false
    /// Set when --clock-period was given: it wins over the config's clock_period_ns and an hls4ml ClockPeriod.
    public var clockPeriodGiven = false
    /// Progress on stderr (nil: none).
    public var progress: BuildProgress?
    public init() {}
}

public struct BuildResult {
    public let outDir: String
    public let design: Design
    public let report: String
}

public enum Builder {
    /// Generates every file of the output folder in memory: relative path -> contents.
    public static func generate(model: Model, options: BuildOptions) throws -> (files: [(String, String)], design: Design) {
        let top = options.top ?? model.name
        try options.config.check(model: model)
        var lo = LoweringOptions(clockPeriodNs: options.config.clockPeriodNs, device: options.config.device)
        lo.multipliers = options.config.multipliers
        lo.layerMultipliers = options.config.layerMultipliers
        lo.reuseFactor = options.config.reuseFactor
        lo.layerReuseFactors = options.config.layerReuseFactors
        lo.parallelizationFactor = options.config.parallelizationFactor
        lo.layerParallelizationFactors = options.config.layerParallelizationFactors
        if let p = options.progress { lo.progress = { k, n, what in p.step(k, of: n, what) } }
        let design = DesignLowering.lower(model, topName: top, options: lo)
        for m in design.modules { m.eliminateDeadSignals(); m.header.append(options.config.device.headerLine) }
        for line in Report.timingWarningLines(model: model, design: design, config: options.config) {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        var files: [(String, String)] = []
        var vfiles: [String] = []
        var hfiles: [String] = []
        for (k, m) in design.modules.enumerated() {
            options.progress?.note("module \(k + 1) of \(design.modules.count): emitting \(m.name)")
            if options.language.verilog {
                let p = "rtl/verilog/\(m.name).v"
                files.append((p, VerilogEmitter.emit(m)))
                vfiles.append(p)
            }
            if options.language.vhdl {
                let p = "rtl/vhdl/\(m.name).vhd"
                files.append((p, VHDLEmitter.emit(m)))
                hfiles.append(p)
            }
        }
        let ports = TestbenchPorts(top: top, inWidth: model.input.size * model.input.type.width,
                                   outWidth: model.outputSize * model.outputType.width, latency: design.latency,
                                   initiationInterval: design.initiationInterval)
        if options.language.verilog {
            files.append(("testbench/verilator/tb_\(top).cpp", TestbenchEmitter.verilator(ports)))
        }
        if options.language.vhdl {
            files.append(("testbench/vhdl/tb_\(top).vhd", TestbenchEmitter.vhdl(ports)))
        }
        if let spec = options.config.stream {
            // The AXI4-Stream wrapper (StreamBuild.swift): its modules follow the core's in the file lists.
            let w = try StreamBuild.generate(model: model, core: design, spec: spec, options: options, top: top)
            files += w.files
            vfiles += w.verilog
            hfiles += w.vhdl
        }
        if !vfiles.isEmpty { files.append(("files_verilog.f", vfiles.joined(separator: "\n") + "\n")) }
        if !hfiles.isEmpty { files.append(("files_vhdl.f", hfiles.joined(separator: "\n") + "\n")) }
        files.append(("vivado.tcl", vendorTcl(top: top, verilog: vfiles, vhdl: hfiles, vivado: true)))
        files.append(("quartus.tcl", vendorTcl(top: top, verilog: vfiles, vhdl: hfiles, vivado: false)))
        files.append(("model.json", ModelWriter.json(model)))
        let yosys = options.yosysStats ? try YosysStats.collect(design: design) : [:]
        let report = Report.json(model: model, design: design, top: top, config: options.config, language: options.language, yosys: yosys)
        files.append(("report.json", report))
        files.append(("report.html", ReportHTML.render(report: report, stream: files.first { $0.0 == "stream.json" }?.1)))
        return (files, design)
    }

    static func vendorTcl(top: String, verilog: [String], vhdl: [String], vivado: Bool) -> String {
        var s = "# \(VerilogEmitter.generatedBy)\n"
        s += "# Adds the \(top) core to a \(vivado ? "Vivado" : "Quartus") project. Source it from any directory.\n"
        s += "set rtlgen_dir [file dirname [file normalize [info script]]]\n"
        // A project uses one language for the core: VHDL when generated, else Verilog.
        if vivado {
            if !vhdl.isEmpty {
                s += "# VHDL sources (VHDL-93, numeric_std). Use the Verilog list instead if preferred.\n"
                for f in vhdl { s += "read_vhdl [file join $rtlgen_dir \(f)]\n" }
            } else {
                for f in verilog { s += "read_verilog [file join $rtlgen_dir \(f)]\n" }
            }
        } else {
            if !vhdl.isEmpty {
                for f in vhdl { s += "set_global_assignment -name VHDL_FILE [file join $rtlgen_dir \(f)]\n" }
            } else {
                for f in verilog { s += "set_global_assignment -name VERILOG_FILE [file join $rtlgen_dir \(f)]\n" }
            }
        }
        return s
    }

    /// Port names of the top level; a top module may not share them.
    static let portNames: Set<String> = ["clk", "rst", "ce", "in_valid", "in_data", "in_ready", "out_valid", "out_data"]

    static func usableTop(_ t: String) -> Bool {
        ModelCore.isIdentifier(t) && !HDLNames.reserved.contains(t.lowercased()) && !portNames.contains(t.lowercased())
            && !t.lowercased().hasPrefix("tb_")
    }

    /// Builds and writes the output folder atomically.
    public static func build(modelPath: String, options given: BuildOptions) throws -> BuildResult {
        var req = ModelRequest(path: modelPath, hlsConfig: given.hlsConfig, weights: given.weights)
        req.options = given.importOptions
        let loaded = try ModelSource.load(req)
        let model = loaded.model
        // An hls4ml configuration's ProjectName, OutputDir and ClockPeriod, unless given on the command line.
        var options = given
        if let c = loaded.hlsConfig {
            if options.top == nil, let p = c.projectName { options.top = p }
            if options.outDir == nil, let o = c.outputDir { options.outDir = o }
            if !options.explicitSettings, !options.clockPeriodGiven, let t = c.clockPeriodNs { options.config.clockPeriodNs = t }
            // hls4ml's ReuseFactor (LayerName > LayerType Dense > Model) on each dense layer.
            if !options.explicitSettings {
                for l in model.layers {
                    guard case .dense = l.op else { continue }
                    let r = c.setting(layer: l.name, className: "Dense", key: "ReuseFactor").flatMap { Int($0) }
                        ?? c.reuseFactor(layer: l.name, className: "QDense") ?? 1
                    if r > 1 { options.config.layerReuseFactors[l.name] = r }
                }
                // hls4ml's ParallelizationFactor (LayerName entry > LayerType Conv1D/Conv2D entry >
                // Model) on each conv layer; like hls4ml's Vivado backend, a factor that does not
                // divide the output positions becomes the closest one that does (with a warning).
                for l in model.layers where l.opName == "conv1d" || l.opName == "conv2d" {
                    guard let pf = c.parallelizationFactor(layer: l.name, className: l.opName == "conv1d" ? "Conv1D" : "Conv2D") else { continue }
                    let positions = l.outputShape.dropLast().reduce(1, *)
                    let valid = (1...max(positions, 1)).filter { positions % $0 == 0 }
                    let chosen = valid.min { (abs($0 - pf), $0) < (abs($1 - pf), $1) } ?? 1
                    if chosen != pf {
                        FileHandle.standardError.write(Data("rtlgen: warning: \(c.file): ParallelizationFactor \(pf) of layer '\(l.name)' does not divide its \(positions) output positions; using \(chosen) (as hls4ml does)\n".utf8))
                    }
                    if chosen < positions { options.config.layerParallelizationFactors[l.name] = chosen }
                }
            }
        }
        if let t = options.top, !usableTop(t) {
            throw InputError(file: "--top", field: "", message: "'\(t)' is not a usable HDL module name (an identifier that is not a Verilog/VHDL keyword, a port name or tb_*)")
        }
        if options.top == nil && !usableTop(model.name) {
            throw InputError(file: modelPath, field: "name", message: "'\(model.name)' cannot name the HDL top (a Verilog/VHDL keyword, a port name or tb_*); rename the model or pass --top")
        }
        defer { options.progress?.done() }
        let (files, design) = try generate(model: model, options: options)
        let out = options.outDir ?? "rtlgen-out/\(options.top ?? model.name)"
        try FileWriter.checkReplaceable(out)
        options.progress?.note("writing \(out)")
        try FileWriter.writeFolderAtomically(out, files: files)
        let report = files.first { $0.0 == "report.json" }!.1
        return BuildResult(outDir: out, design: design, report: report)
    }
}

public enum FileWriter {
    /// An output folder may be created, or replaced when it is empty or an earlier rtlgen
    /// output (it has report.json, model.json and rtl/); anything else is left alone (exit 2).
    public static func checkReplaceable(_ dir: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDir) else { return }
        guard isDir.boolValue else {
            throw InputError(file: "--out", field: "", message: "'\(dir)' exists and is not a folder")
        }
        let items = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
        if items.isEmpty || (items.contains("report.json") && items.contains("model.json") && items.contains("rtl")) { return }
        throw InputError(file: "--out", field: "", message: "'\(dir)' exists and is not an rtlgen output folder; refusing to replace it (choose another --out)")
    }

    /// Writes all files into a sibling temporary folder, then swaps it into place.
    public static func writeFolderAtomically(_ dir: String, files: [(String, String)]) throws {
        let fm = FileManager.default
        let url = URL(fileURLWithPath: dir).standardizedFileURL
        let parent = url.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        let tmp = parent.appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        try? fm.removeItem(at: tmp)
        do {
            for (rel, text) in files {
                let f = tmp.appendingPathComponent(rel)
                try fm.createDirectory(at: f.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: f)
            }
            if fm.fileExists(atPath: url.path) {
                let old = parent.appendingPathComponent(".\(url.lastPathComponent).old-\(ProcessInfo.processInfo.processIdentifier)")
                try? fm.removeItem(at: old)
                try fm.moveItem(at: url, to: old)
                try fm.moveItem(at: tmp, to: url)
                try? fm.removeItem(at: old)
            } else {
                try fm.moveItem(at: tmp, to: url)
            }
        } catch {
            try? fm.removeItem(at: tmp)
            throw error
        }
    }
}
