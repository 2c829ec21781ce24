// `rtlgen sweep`: builds every combination of the --set values (Driver/Sweep.swift has the plan,
// the batch files and the collect step). Locally the points run as child processes of this same
// binary (`rtlgen sweep --run-point N DIR`), --jobs at a time; with --emit the folder is written for
// Slurm or HTCondor instead, and `rtlgen sweep --collect DIR` makes the table once the jobs are done.
import ArgumentParser
import Driver
import Foundation
import FrontEnds
import ModelIR

struct SweepCmd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Build every combination of settings (clock, reuse factor, multipliers) and tabulate latency and resources.",
        discussion: """
        rtlgen sweep MODEL [--config C] --set clock_period_ns=3,4,5 --set reuse_factor=1,2,4 --out DIR
                     [--jobs N] [--sim] [--synth] [--emit slurm|condor]
        rtlgen sweep --collect DIR
        rtlgen sweep --run-point N DIR

        Writes DIR/sweep.json (the plan), DIR/points/NNN/ (config.yaml, build/, result.json, log.txt),
        DIR/commands.txt (one command per point), then DIR/sweep.csv, sweep.md and sweep.html
        (a Pareto plot of latency against LUTs with --synth, else adders). With --emit the points are
        not run: DIR/sweep.slurm (sbatch; a job array, one point per task) or DIR/sweep.sub
        (condor_submit; one job per point) run them; then `rtlgen sweep --collect DIR`.
        A failed point is a row with its message; the sweep exits 1 when any point failed.
        """)

    @Argument(help: "The model (any kind build takes); with --collect or --run-point: the sweep folder.")
    var paths: [String] = []
    @Option(help: "Base config: rtlgen's settings (the swept keys are replaced) or an hls4ml configuration (ClockPeriod, HLSConfig.Model.ReuseFactor).")
    var config: String?
    @Option(name: .customLong("set"), help: ArgumentHelp("A swept setting and its values (repeat): clock_period_ns, reuse_factor or multipliers.", valueName: "KEY=V1,V2,..."))
    var sets: [String] = []
    @Option(help: "The sweep folder.")
    var out: String?
    @Option(help: "Points built at once (default: the number of cores).")
    var jobs: Int?
    @Flag(help: "Simulate each point (rtlgen sim on --vectors test inputs) and record the result.")
    var sim = false
    @Option(help: "Simulator for --sim: verilator, ghdl or both.")
    var simulator: String = "verilator"
    @Option(help: "Test inputs per point for --sim.")
    var vectors: Int = 1000
    @Flag(help: "Synthesize each point with Yosys (rtlgen synth): LUT / FF / DSP columns.")
    var synth = false
    @Option(help: "Write batch files instead of running: slurm (DIR/sweep.slurm) or condor (DIR/sweep.sub); repeat for both.")
    var emit: [String] = []
    @Flag(help: "Build the table from the finished points of DIR.")
    var collect = false
    @Option(name: .customLong("run-point"), help: ArgumentHelp("Build point N of DIR (what each batch job runs).", valueName: "N"))
    var runPoint: Int?

    func run() throws {
        if collect {
            guard paths.count == 1 else { throw InputError(file: "--collect", field: "", message: "expected one sweep folder: rtlgen sweep --collect DIR") }
            try report(dir: absolute(paths[0]))
            return
        }
        if let n = runPoint {
            guard paths.count == 1 else { throw InputError(file: "--run-point", field: "", message: "expected one sweep folder: rtlgen sweep --run-point N DIR") }
            let code = try SweepPoint.run(dir: absolute(paths[0]), index: n)
            if code != 0 { Foundation.exit(code) }
            return
        }
        guard paths.count == 1 else { throw InputError(file: "MODEL", field: "", message: "expected one model file: rtlgen sweep MODEL --set KEY=V1,V2 --out DIR") }
        guard let out else { throw InputError(file: "--out", field: "", message: "a sweep needs --out DIR") }
        guard !sets.isEmpty else { throw InputError(file: "--set", field: "", message: "nothing to sweep: give --set KEY=V1,V2,... (\(Sweep.sweepable.joined(separator: ", ")))") }
        for e in emit where !["slurm", "condor"].contains(e) {
            throw InputError(file: "--emit", field: "", message: "'\(e)' is not one of slurm, condor")
        }
        guard ["verilator", "ghdl", "both"].contains(simulator) else {
            throw InputError(file: "--simulator", field: "", message: "'\(simulator)' is not one of verilator, ghdl, both")
        }
        guard vectors >= 1 else { throw InputError(file: "--vectors", field: "", message: "expected at least 1") }
        var parsed: [(String, [String])] = []
        for s in sets {
            let p = try Sweep.parseSet(s)
            guard !parsed.contains(where: { $0.0 == p.0 }) else { throw InputError(file: "--set", field: p.0, message: "given twice") }
            parsed.append(p)
        }
        // The model and config must read before anything is written.
        let model = absolute(paths[0])
        _ = try ModelOptions.parse([]).load(model: model, config: config)
        var kind: String?
        if let c = config { kind = try ModelOptions.splitConfig(c).hls != nil ? "hls4ml" : "settings" }
        let plan = SweepPlan(model: model, config: config.map(absolute), configKind: kind, keys: parsed.map { $0.0 },
                             points: Sweep.combinations(parsed), simulator: sim ? simulator : nil, vectors: vectors,
                             synth: synth, rtlgen: SweepPoint.executable)
        let dir = absolute(out)
        if !emit.isEmpty, dir.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\"" }) {
            throw InputError(file: "--out", field: "", message: "'\(dir)': a folder for batch jobs must not contain spaces or quotes (#SBATCH and HTCondor paths)")
        }
        try Sweep.writePlan(plan, dir: dir, emit: emit)
        if !emit.isEmpty {
            print("rtlgen: wrote \(dir): \(plan.points.count) points")
            if emit.contains("slurm") { print("  sbatch \(dir)/sweep.slurm") }
            if emit.contains("condor") { print("  condor_submit \(dir)/sweep.sub") }
            print("  then: rtlgen sweep --collect \(dir)")
            return
        }
        let n = max(1, jobs ?? ProcessInfo.processInfo.activeProcessorCount)
        SweepPoint.runAll(plan: plan, dir: dir, jobs: n)
        try report(dir: dir)
    }

    func absolute(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.path }

    func report(dir: String) throws {
        let (rows, missing, plan) = try Sweep.collect(dir: dir)
        let ok = rows.filter { $0.status == "ok" }.count
        print("rtlgen: \(dir)/sweep.csv: \(ok) of \(plan.points.count) points built" + (missing.isEmpty ? "" : ", \(missing.count) not finished"))
        for r in rows where r.pareto { print("  Pareto: \(plan.label(r.index)): \(r.figures["latency_cycles"] ?? "?") cycles, \(r.figures["latency_ns"] ?? "?") ns, II \(r.figures["initiation_interval"] ?? "?"), \(plan.synth ? "LUT \(r.figures["lut"] ?? "?")" : "adders \(r.figures["adders"] ?? "?")")") }
        let failed = rows.filter { $0.status != "ok" }
        for r in failed { print("  failed: \(plan.label(r.index)): \(r.message)") }
        if !failed.isEmpty { Exit.fail("sweep: \(failed.count) point(s) failed (see \(dir)/sweep.md)", code: 1) }
    }
}

enum SweepPoint {
    /// This binary (the point commands run it again).
    static var executable: String {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        if FileManager.default.isExecutableFile(atPath: exe), exe != "/proc/self/exe" { return exe }
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
    }

    /// Builds (and simulates / synthesizes) point `index`; writes its result.json; returns the exit status.
    static func run(dir: String, index: Int) throws -> Int32 {
        let plan = try SweepPlan.load(dir: dir)
        guard plan.points.indices.contains(index) else {
            throw InputError(file: "--run-point", field: "", message: "\(index): the sweep has points 0 to \(plan.points.count - 1)")
        }
        let pd = (dir as NSString).appendingPathComponent(SweepPlan.pointDir(index))
        let result = "\(pd)/result.json"
        try? FileManager.default.removeItem(atPath: result)
        var fields: [(String, JSONValue)] = [("index", .number(String(index))), ("settings", .object(zip(plan.keys, plan.points[index]).map { ($0, .string($1)) }))]
        var code: Int32 = 0
        do {
            let b = try Build.parse([plan.model, "--config", "\(pd)/config.yaml", "--out", "\(pd)/build"])
            try b.run()
            if let s = plan.simulator {
                let m = try ModelLoader.load(path: "\(pd)/build/model.json")
                try Vectors.generate(model: m, count: plan.vectors, seed: 1).write(toFile: "\(pd)/vectors.csv", atomically: true, encoding: .utf8)
                let sims: [Simulator] = s == "both" ? [.verilator, .ghdl] : [Simulator(rawValue: s)!]
                _ = try Simulation.simulate(dir: "\(pd)/build", inputPath: "\(pd)/vectors.csv", simulators: sims, workDir: nil) { print($0) }
                fields.append(("sim", .string("\(s): \(plan.vectors) vectors bit-exact")))
            }
            if plan.synth {
                let r = try Synthesis.build(dir: "\(pd)/build")
                print("rtlgen: synthesized: \(r.summary)")
            }
            fields.append(("status", .string("ok")))
        } catch let e as InputError {
            code = 2
            fields += [("status", .string("failed")), ("exit", .number("2")), ("message", .string(e.description))]
        } catch let e as SimulationFailure {
            code = 1
            fields += [("status", .string("failed")), ("exit", .number("1")), ("message", .string(e.description.split(separator: "\n").first.map(String.init) ?? ""))]
        } catch {
            code = 2
            fields += [("status", .string("failed")), ("exit", .number("2")), ("message", .string("\(error)".split(separator: "\n").first.map(String.init) ?? ""))]
        }
        try (JSONWriter.pretty(.object(fields)) + "\n").write(toFile: result, atomically: true, encoding: .utf8)
        if code != 0 { FileHandle.standardError.write(Data("rtlgen: error: point \(index) (\(plan.label(index))): \(fields.last!.1)\n".utf8)) }
        return code
    }

    /// Runs every point as a child process, `jobs` at a time; each one's output goes to its log.txt.
    static func runAll(plan: SweepPlan, dir: String, jobs: Int) {
        final class Count: @unchecked Sendable { let lock = NSLock(); var done = 0 }
        let count = Count()
        let slots = DispatchSemaphore(value: jobs)
        let group = DispatchGroup()
        for i in plan.points.indices {
            slots.wait()
            group.enter()
            let pd = (dir as NSString).appendingPathComponent(SweepPlan.pointDir(i))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: plan.rtlgen)
            p.arguments = ["sweep", "--run-point", String(i), dir]
            _ = FileManager.default.createFile(atPath: "\(pd)/log.txt", contents: nil)
            let log = FileHandle(forWritingAtPath: "\(pd)/log.txt")
            p.standardOutput = log
            p.standardError = log
            p.terminationHandler = { proc in
                try? log?.close()
                count.lock.lock()
                count.done += 1
                let status = proc.terminationStatus == 0 ? "ok" : "failed (exit \(proc.terminationStatus), see \(pd)/log.txt)"
                FileHandle.standardError.write(Data("rtlgen: sweep point \(count.done)/\(plan.points.count) (\(plan.label(i))): \(status)\n".utf8))
                count.lock.unlock()
                slots.signal()
                group.leave()
            }
            do { try p.run() } catch {
                FileHandle.standardError.write(Data("rtlgen: sweep point \(i): cannot start \(plan.rtlgen): \(error)\n".utf8))
                try? log?.close()
                slots.signal()
                group.leave()
            }
        }
        group.wait()
    }
}
