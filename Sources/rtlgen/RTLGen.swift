// The rtlgen command line: build, predict, sim (the contract), and vectors (test inputs).
import ArgumentParser
import Driver
import Foundation
import FrontEnds
import Golden
import ModelIR
import RandomModels

/// Exit statuses of the contract: 0 success, 1 simulation mismatch or failed tool, 2 bad usage or input.
enum Exit {
    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data(("rtlgen: error: " + message + "\n").utf8))
        Foundation.exit(code)
    }
}

@main
struct RTLGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtlgen",
        abstract: "Quantized neural networks to bit-exact Verilog and VHDL, verified in Verilator and GHDL.",
        discussion: """
        Typical use:
          rtlgen build examples/jet_tagger/model.json --out build/jet_tagger
          rtlgen vectors examples/jet_tagger/model.json --count 1000 > x.csv
          rtlgen predict examples/jet_tagger/model.json --input x.csv --output y.csv
          rtlgen sim build/jet_tagger --input x.csv --simulator both

        Exit status: 0 success, 1 simulation mismatch or failed tool run, 2 bad usage or bad input.
        """,
        subcommands: [Build.self, Predict.self, Sim.self, VectorsCmd.self, ImportCmd.self, RandomModelCmd.self, FuzzImportersCmd.self, SynthCmd.self, StreamSimCmd.self, SweepCmd.self]
    )

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let e as InputError {
            Exit.fail(e.description, code: 2)
        } catch let e as SimulationFailure {
            Exit.fail(e.description, code: 1)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if let e = error as? CocoaError {
                Exit.fail(e.localizedDescription, code: 2)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate Verilog and VHDL, testbenches and a report for a model.",
        discussion: """
        Writes DIR/rtl/verilog/*.v, DIR/rtl/vhdl/*.vhd, DIR/testbench/, DIR/report.json,
        DIR/model.json (the model as understood: canonical types, exact quantized weights),
        file lists (files_verilog.f, files_vhdl.f) and vivado.tcl / quartus.tcl.
        The folder is written completely or not at all.
        """)

    @Argument(help: "The model file: native JSON, a Keras / QKeras model (.json + .h5, .h5, .keras) or an hls4ml configuration (.yml).")
    var model: String
    @Option(help: "YAML settings file (clock_period_ns), or an hls4ml configuration for a Keras MODEL.")
    var config: String?
    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Output folder (default ./rtlgen-out/NAME).")
    var out: String?
    @Option(help: "verilog, vhdl or both.")
    var lang: String = "both"
    @Option(help: "Name of the top-level module (default: the model's name).")
    var top: String?
    @Option(name: .customLong("clock-period"), help: ArgumentHelp("Target clock period in ns that pipelining is placed for (default 4.0; wins over the config's clock_period_ns and an hls4ml ClockPeriod).", valueName: "NS"))
    var clockPeriod: String?
    @Option(help: ArgumentHelp("FPGA family the delay model describes: xcup (AMD UltraScale+, default) or ecp5 (Lattice ECP5 -6); wins over the config's device.", valueName: "NAME"))
    var device: String?
    @Flag(name: .customLong("yosys-stats"), help: "Run yosys on every layer module and add its cell counts (e.g. $mul) to report.json.")
    var yosysStats = false
    @Flag(help: "Print progress on stderr even when it is not a terminal (on a terminal it is shown anyway once a build takes more than 2 s).")
    var progress = false

    func run() throws {
        guard let l = Language(rawValue: lang) else {
            throw InputError(file: "--lang", field: "", message: "'\(lang)' is not one of verilog, vhdl, both")
        }
        var o = BuildOptions()
        o.outDir = out
        o.language = l
        o.top = top
        o.yosysStats = yosysStats
        o.progress = BuildProgress(forced: progress)
        let (settings, hls) = try ModelOptions.splitConfig(config)
        if let c = settings { o.config = c; o.explicitSettings = true }
        o.hlsConfig = hls
        if let p = clockPeriod {
            guard let d = Double(p), d.isFinite, d >= 0.5, d <= 1000 else {
                throw InputError(file: "--clock-period", field: "", message: "'\(p)' is not a number of nanoseconds in [0.5, 1000]")
            }
            o.config.clockPeriodNs = d
            o.clockPeriodGiven = true
        }
        if let n = device {
            o.config.device = try Config.device(flag: n)
        }
        o.weights = modelOptions.weights
        o.importOptions = try modelOptions.importOptions()
        if (try? FrontEnds.ModelSource.kind(path: model)) == .hlsConfig { ModelOptions.warnIgnored(try? HLSConfig.load(path: model)) }
        ModelOptions.warnIgnored(hls)
        let r = try Driver.Builder.build(modelPath: model, options: o)
        print("rtlgen: wrote \(r.outDir): \(r.design.modules.count) modules, latency \(r.design.latency) cycles, II \(r.design.initiationInterval)")
    }
}

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the bit-exact golden model on CSV inputs.",
        discussion: "Inputs are quantized to the model's input type; outputs are exact decimals, one sample per line.")

    @Argument(help: "The model file (any kind build takes).")
    var model: String
    @Option(help: "YAML settings file (does not change results), or an hls4ml configuration for a Keras MODEL (sets its types).")
    var config: String?
    @Option(help: "Input: CSV (one sample per line; \\n or \\r\\n, optional header row and byte-order mark; blank and # lines skipped) or a NumPy .npy array (2-D).")
    var input: String
    @Option(help: "Output CSV (default: standard output).")
    var output: String?
    @OptionGroup var modelOptions: ModelOptions

    func run() throws {
        let m = try modelOptions.load(model: model, config: config)
        if case let (cfg?, _) = try ModelOptions.splitConfig(config), cfg.stream != nil {
            // Raw muon records through the stream's feature map, network and output mode.
            let text = try StreamPredict.run(model: m, config: cfg, input: input)
            if let o = output { try text.write(toFile: o, atomically: true, encoding: .utf8) } else { FileHandle.standardOutput.write(Data(text.utf8)) }
            return
        }
        let notice = { (note: String) in FileHandle.standardError.write(Data(("rtlgen: " + note + "\n").utf8)) }
        if let o = output {
            try PredictFile.write(model: m, inputPath: input, outputPath: o, notice: notice)
        } else {
            FileHandle.standardOutput.write(try PredictFile.run(model: m, inputPath: input, notice: notice))
        }
    }
}

struct Sim: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a build folder's RTL and compare every output bit with the golden model.",
        discussion: "Exits 1 on any mismatch, printing the first mismatching sample, output and both values.")

    @Argument(help: "A folder written by `rtlgen build`.")
    var dir: String
    @Option(help: "Input CSV.")
    var input: String
    @Option(help: "Write the RTL's outputs here as CSV.")
    var output: String?
    @Option(help: "verilator, ghdl or both.")
    var simulator: String = "both"
    @Option(help: "Keep simulator build files in this folder (default: a temporary folder, removed).")
    var workDir: String?

    func run() throws {
        let sims: [Simulator]
        switch simulator {
        case "both": sims = [.verilator, .ghdl]
        case "verilator": sims = [.verilator]
        case "ghdl": sims = [.ghdl]
        default: throw InputError(file: "--simulator", field: "", message: "'\(simulator)' is not one of verilator, ghdl, both")
        }
        let results = try Simulation.simulate(dir: dir, inputPath: input, simulators: sims, workDir: workDir) { print($0) }
        if let o = output, let r = results.first {
            let m = try ModelLoader.load(path: (dir as NSString).appendingPathComponent("model.json"))
            try CSV.format(r.outputs, type: m.outputType).write(toFile: o, atomically: true, encoding: .utf8)
        }
    }
}

struct VectorsCmd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors",
        abstract: "Print test inputs for a model as CSV: random, edge, off-grid and out-of-range values.")

    @Argument(help: "The model file (any kind build takes).")
    var model: String
    @Option(help: "An hls4ml configuration for a Keras MODEL.")
    var config: String?
    @Option(help: "Number of samples.")
    var count: Int = 10_000
    @Option(help: "Random seed.")
    var seed: UInt64 = 1
    @OptionGroup var modelOptions: ModelOptions

    func run() throws {
        let m = try modelOptions.load(model: model, config: config)
        FileHandle.standardOutput.write(Data(Vectors.generate(model: m, count: count, seed: seed).utf8))
    }
}

struct RandomModelCmd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "random-model",
        abstract: "Print a random dense/ReLU model (native JSON) for regression testing.")

    @Option(help: "Random seed.")
    var seed: UInt64 = 1
    @Option(help: "dense (dense/ReLU models) or binary (binary/ternary networks).")
    var family: String = "dense"

    func run() throws {
        switch family {
        case "dense": print(RandomModel.generate(seed: seed), terminator: "")
        case "binary": print(RandomBinaryModel.generate(seed: seed), terminator: "")
        default: throw InputError(file: "--family", field: "", message: "'\(family)' is not one of dense, binary")
        }
    }
}

struct SynthCmd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Synthesize a build with Yosys (synth_xilinx -family xcup -flatten, out of context) and add LUT/FF/CARRY/DSP counts to its report.json.",
        discussion: """
        Needs yosys on the PATH. The log goes to DIR/synth.log. With --top and --file, synthesizes
        those Verilog files instead (paths relative to DIR; used by make bench for other tools'
        designs) and prints the figures as JSON.
        """)

    @Argument(help: "A folder written by `rtlgen build` (or, with --top, any folder).")
    var dir: String
    @Option(help: "Top module of other Verilog (with --file).")
    var top: String?
    @Option(name: .customLong("file"), help: "A Verilog file relative to DIR (repeat; with --top).")
    var files: [String] = []
    @Option(help: ArgumentHelp("xcup (synth_xilinx -family xcup) or ecp5 (synth_ecp5); default: the build's device, else xcup.", valueName: "NAME"))
    var device: String?

    func run() throws {
        if let device { try Synthesis.checkDevice(device) }
        if let top {
            guard !files.isEmpty else { throw InputError(file: "--file", field: "", message: "--top needs at least one --file") }
            let d = URL(fileURLWithPath: dir).standardizedFileURL.path
            let r = try Synthesis.run(files: files, top: top, cwd: d, logPath: (d as NSString).appendingPathComponent("synth.log"), device: device ?? "xcup")
            print(JSONWriter.pretty(r.json))
            return
        }
        let r = try Synthesis.build(dir: dir, device: device)
        print("rtlgen: synthesized \(dir) in \(String(format: "%.0f", r.seconds)) s: \(r.summary)")
    }
}

struct StreamSimCmd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream-sim",
        abstract: "Simulate a stream build's AXI4-Stream wrapper on random muon beats under TVALID gaps and TREADY backpressure; every output beat must equal the golden model's.")

    @Argument(help: "A build folder made with a stream: config section.")
    var dir: String
    @Option(help: "Number of beats.")
    var beats: Int = 1000
    @Option(help: "Random seed.")
    var seed: UInt64 = 1
    @Option(help: "verilator, ghdl or both.")
    var simulator: String = "both"
    @Flag(help: "TVALID and TREADY always high (throughput: one beat per clock).")
    var fullRate = false
    @Option(help: "Run the GHDL simulation through FuseSoC's sim target of the build's .core file (path of the fusesoc executable).")
    var fusesoc: String?

    func run() throws {
        let sims: [Simulator] = simulator == "both" ? [.verilator, .ghdl] : try [Simulator(rawValue: simulator).map { $0 } ?? {
            throw InputError(file: "--simulator", field: "", message: "'\(simulator)' is not one of verilator, ghdl, both") }()]
        guard beats >= 1 else { throw InputError(file: "--beats", field: "", message: "expected at least 1") }
        for r in try StreamSim.run(dir: dir, count: beats, seed: seed, simulators: sims, fullRate: fullRate, fusesoc: fusesoc) {
            print("rtlgen: stream-sim \(dir) \(r.simulator.rawValue): \(r.beats) beats (\(r.muons) muons) in \(r.cycles) cycles, output == golden (TDATA, TLAST, TUSER), \(String(format: "%.1f", r.seconds)) s")
        }
    }
}
