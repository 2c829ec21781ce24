// `rtlgen sweep`: a parameter sweep as a folder. The plan (DIR/sweep.json) lists every point
// (one value per swept setting); each point has its own config (DIR/points/NNN/config.yaml) and
// is built by one command, `rtlgen sweep --run-point N DIR`, run locally in parallel or by a batch
// system from the emitted DIR/sweep.slurm (a job array) or DIR/sweep.sub (HTCondor). The collect
// step reads the finished points' report.json into DIR/sweep.csv, sweep.md and sweep.html (a
// Pareto plot of latency against LUTs, or adders when there is no synthesis). No scheduler here.
import Foundation
import ModelIR
import Yams

public struct SweepPlan: Sendable {
    public var model: String
    public var config: String?
    /// "settings" (rtlgen's --config) or "hls4ml" (an hls4ml configuration), nil without --config.
    public var configKind: String?
    public var keys: [String]
    /// One value (as written after --set) per key, for each point; the first key varies slowest.
    public var points: [[String]]
    /// Simulate each point with this simulator (verilator, ghdl, both); nil: no simulation.
    public var simulator: String?
    public var vectors: Int
    public var synth: Bool
    /// The rtlgen executable the point commands run.
    public var rtlgen: String

    public init(model: String, config: String?, configKind: String?, keys: [String], points: [[String]],
                simulator: String?, vectors: Int, synth: Bool, rtlgen: String) {
        self.model = model; self.config = config; self.configKind = configKind; self.keys = keys; self.points = points
        self.simulator = simulator; self.vectors = vectors; self.synth = synth; self.rtlgen = rtlgen
    }

    public static func pointDir(_ i: Int) -> String { String(format: "points/%03d", i) }

    public func label(_ i: Int) -> String { zip(keys, points[i]).map { "\($0)=\($1)" }.joined(separator: " ") }

    var json: JSONValue {
        func s(_ x: String?) -> JSONValue { x.map { .string($0) } ?? .null }
        return .object([
            ("format", .string("rtlgen-sweep")), ("version", .number("1")),
            ("model", .string(model)), ("config", s(config)), ("config_kind", s(configKind)),
            ("keys", .array(keys.map { .string($0) })),
            ("points", .array(points.enumerated().map { i, vs in
                .object([("index", .number(String(i))), ("dir", .string(Self.pointDir(i))),
                         ("settings", .object(zip(keys, vs).map { ($0, .string($1)) }))])
            })),
            ("simulator", s(simulator)), ("vectors", .number(String(vectors))), ("synth", .bool(synth)),
            ("rtlgen", .string(rtlgen)),
        ])
    }

    public static func load(dir: String) throws -> SweepPlan {
        let path = (dir as NSString).appendingPathComponent("sweep.json")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw InputError(file: path, field: "", message: "no sweep plan here (not a folder written by rtlgen sweep)")
        }
        let v: JSONValue
        do { v = try JSONParser.parse(text) } catch { throw InputError(file: path, field: "", message: "not valid JSON") }
        func str(_ k: String) -> String? { if case let .string(s)? = v[k] { return s }; return nil }
        guard case .string("rtlgen-sweep")? = v["format"], let model = str("model"), let rtlgen = str("rtlgen"),
              case let .array(ks)? = v["keys"], case let .array(ps)? = v["points"] else {
            throw InputError(file: path, field: "", message: "not an rtlgen sweep plan (format, model, keys, points)")
        }
        let keys = ks.compactMap { k -> String? in if case let .string(s) = k { return s }; return nil }
        var points: [[String]] = []
        for (i, p) in ps.enumerated() {
            let vals = keys.compactMap { k -> String? in if case let .string(s)? = p["settings"]?[k] { return s }; return nil }
            guard vals.count == keys.count else { throw InputError(file: path, field: "points[\(i)].settings", message: "expected a value for each of \(keys.joined(separator: ", "))") }
            points.append(vals)
        }
        var vectors = 1000
        if case let .number(n)? = v["vectors"], let k = Int(n) { vectors = k }
        var synth = false
        if case let .bool(b)? = v["synth"] { synth = b }
        return SweepPlan(model: model, config: str("config"), configKind: str("config_kind"), keys: keys, points: points,
                         simulator: str("simulator"), vectors: vectors, synth: synth, rtlgen: rtlgen)
    }
}

public enum Sweep {
    /// Settings a sweep can vary (rtlgen's --config keys with one value).
    public static let sweepable = ["clock_period_ns", "reuse_factor", "multipliers"]

    /// "clock_period_ns=3,4,5" -> ("clock_period_ns", ["3", "4", "5"]), each value checked.
    public static func parseSet(_ s: String) throws -> (String, [String]) {
        let parts = s.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw InputError(file: "--set", field: "", message: "'\(s)': expected KEY=V1,V2,... (keys: \(sweepable.joined(separator: ", ")))")
        }
        let key = parts[0].trimmingCharacters(in: .whitespaces)
        guard sweepable.contains(key) else {
            throw InputError(file: "--set", field: key, message: "cannot be swept (keys: \(sweepable.joined(separator: ", ")))")
        }
        let values = parts[1].split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        for v in values {
            switch key {
            case "clock_period_ns":
                guard let d = Double(v), d.isFinite, d >= 0.5, d <= 1000 else {
                    throw InputError(file: "--set", field: key, message: "'\(v)' is not a number of nanoseconds in [0.5, 1000]")
                }
            case "reuse_factor":
                guard let r = Int(v), r >= 1, r <= Config.maxReuseFactor else {
                    throw InputError(file: "--set", field: key, message: "'\(v)' is not an integer reuse factor in [1, \(Config.maxReuseFactor)]")
                }
            default:
                guard ["shift_add", "dsp", "auto"].contains(v) else {
                    throw InputError(file: "--set", field: key, message: "'\(v)' is not one of shift_add, dsp, auto")
                }
            }
        }
        guard Set(values).count == values.count else { throw InputError(file: "--set", field: key, message: "a value is repeated") }
        return (key, values)
    }

    /// Every combination, the first key varying slowest.
    public static func combinations(_ sets: [(String, [String])]) -> [[String]] {
        var out: [[String]] = [[]]
        for (_, vs) in sets { out = out.flatMap { p in vs.map { p + [$0] } } }
        return out
    }

    /// The config file of point i: the base config with the swept settings set.
    /// rtlgen settings: the base text with those top-level lines replaced (other text kept exactly,
    /// e.g. a stream section's decimal scales); an hls4ml configuration: ClockPeriod and
    /// HLSConfig.Model.ReuseFactor set.
    public static func pointConfig(_ plan: SweepPlan, _ i: Int, baseText: String?) throws -> String {
        let settings = zip(plan.keys, plan.points[i]).map { ($0, $1) }
        if plan.configKind == "hls4ml" {
            guard var map = (try? Yams.load(yaml: baseText ?? "")) as? [String: Any] else {
                throw InputError(file: plan.config ?? "--config", field: "", message: "expected an hls4ml configuration mapping")
            }
            for (k, v) in settings {
                switch k {
                case "clock_period_ns": map["ClockPeriod"] = Double(v)!
                case "reuse_factor":
                    var hls = map["HLSConfig"] as? [String: Any] ?? [:]
                    var model = hls["Model"] as? [String: Any] ?? [:]
                    model["ReuseFactor"] = Int(v)!
                    hls["Model"] = model
                    map["HLSConfig"] = hls
                default:
                    throw InputError(file: "--set", field: k, message: "cannot be swept with an hls4ml --config (an rtlgen setting; use rtlgen's settings file)")
                }
            }
            return "# rtlgen sweep point \(i): \(plan.label(i))\n" + (try Yams.dump(object: map, sortKeys: true))
        }
        var lines = (baseText ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        // A swept key must be a one-line top-level setting in the base (it is replaced).
        lines = lines.filter { l in !plan.keys.contains { l.hasPrefix($0 + ":") || l.hasPrefix($0 + " :") } }
        var s = "# rtlgen sweep point \(i): \(plan.label(i))\n"
        for (k, v) in settings { s += "\(k): \(v)\n" }
        if !lines.isEmpty { s += "# from \(plan.config ?? "the base config"):\n" + lines.joined(separator: "\n") + "\n" }
        return s
    }

    static func shellQuote(_ s: String) -> String {
        if !s.isEmpty && s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+=:,@".contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The command of point i (what a batch job runs).
    public static func pointCommand(_ plan: SweepPlan, dir: String, _ i: Int) -> [String] {
        [plan.rtlgen, "sweep", "--run-point", String(i), dir]
    }

    public static func slurm(_ plan: SweepPlan, dir: String) -> String {
        let n = plan.points.count
        return """
        #!/bin/bash
        # rtlgen sweep of \(plan.model): \(n) points (\(plan.keys.joined(separator: " x "))), one per array task.
        # Submit: sbatch \(shellQuote(dir))/sweep.slurm
        # When the tasks are done: rtlgen sweep --collect \(shellQuote(dir))
        #SBATCH --job-name=rtlgen-sweep
        #SBATCH --array=0-\(n - 1)
        #SBATCH --ntasks=1
        #SBATCH --cpus-per-task=1
        #SBATCH --output=\(dir)/logs/slurm-%A_%a.out
        set -euo pipefail
        exec \(shellQuote(plan.rtlgen)) sweep --run-point "$SLURM_ARRAY_TASK_ID" \(shellQuote(dir))

        """
    }

    /// An HTCondor argument in the new (double-quoted) syntax.
    static func condorArg(_ s: String) -> String {
        let q = s.replacingOccurrences(of: "\"", with: "\"\"")
        return q.contains(" ") || q.contains("'") ? "'" + q.replacingOccurrences(of: "'", with: "''") + "'" : q
    }

    public static func condor(_ plan: SweepPlan, dir: String) -> String {
        var s = """
        # rtlgen sweep of \(plan.model): \(plan.points.count) points (\(plan.keys.joined(separator: " x "))), one job per point.
        # Submit: condor_submit \(shellQuote(dir))/sweep.sub   (the sweep folder on a shared file system)
        # When the jobs are done: rtlgen sweep --collect \(shellQuote(dir))
        universe     = vanilla
        executable   = \(plan.rtlgen)
        initialdir   = \(dir)
        log          = logs/condor.log
        output       = logs/point-$(Process).out
        error        = logs/point-$(Process).err
        request_cpus = 1
        should_transfer_files = NO

        """
        for i in plan.points.indices {
            s += "# point \(i): \(plan.label(i))\n"
            s += "arguments = \"" + pointCommand(plan, dir: dir, i).dropFirst().map(condorArg).joined(separator: " ") + "\"\n"
            s += "queue\n"
        }
        return s
    }

    // MARK: - collect

    public struct Row {
        public var index: Int
        public var values: [String]
        public var status: String          // ok, failed
        public var message: String
        public var figures: [String: String]
        public var pareto = false
    }

    /// Columns after the swept keys.
    static func figureColumns(_ plan: SweepPlan) -> [String] {
        ["latency_cycles", "latency_ns", "initiation_interval", "multipliers", "adders", "register_bits", "table_bits"]
            + (plan.synth ? ["lut", "ff", "dsp", "carry", "srl", "bram"] : []) + (plan.simulator != nil ? ["sim"] : [])
    }

    /// The finished points (result.json written) and the indices of those not finished.
    public static func rows(_ plan: SweepPlan, dir: String) -> (rows: [Row], missing: [Int]) {
        var rows: [Row] = []
        var missing: [Int] = []
        for i in plan.points.indices {
            let pd = (dir as NSString).appendingPathComponent(SweepPlan.pointDir(i))
            guard let rt = try? String(contentsOfFile: "\(pd)/result.json", encoding: .utf8), let r = try? JSONParser.parse(rt) else {
                missing.append(i); continue
            }
            func s(_ v: JSONValue?) -> String? {
                switch v { case let .string(x)?: return x; case let .number(x)?: return x; default: return nil }
            }
            var row = Row(index: i, values: plan.points[i], status: s(r["status"]) ?? "failed", message: s(r["message"]) ?? "", figures: [:])
            if row.status == "ok" {
                guard let t = try? String(contentsOfFile: "\(pd)/build/report.json", encoding: .utf8), let rep = try? JSONParser.parse(t) else {
                    row.status = "failed"; row.message = "no build/report.json"; rows.append(row); continue
                }
                for k in ["latency_cycles", "latency_ns", "initiation_interval"] { row.figures[k] = s(rep[k]) }
                for k in ["multipliers", "adders", "register_bits", "table_bits"] { row.figures[k] = s(rep["resources"]?[k]) }
                for k in ["lut", "ff", "dsp", "carry", "srl", "bram"] { row.figures[k] = s(rep["synthesis"]?[k]) }
                row.figures["sim"] = s(r["sim"])
            }
            rows.append(row)
        }
        // Pareto front over (latency in ns, LUTs or adders): no other point at most as large in both and smaller in one.
        let res = plan.synth ? "lut" : "adders"
        let pts = rows.enumerated().compactMap { k, r -> (Int, Double, Double)? in
            guard r.status == "ok", let a = r.figures["latency_ns"].flatMap(Double.init), let b = r.figures[res].flatMap(Double.init) else { return nil }
            return (k, a, b)
        }
        for p in pts {
            rows[p.0].pareto = !pts.contains { q in q.1 <= p.1 && q.2 <= p.2 && (q.1 < p.1 || q.2 < p.2) }
        }
        return (rows, missing)
    }

    static func csvCell(_ s: String) -> String {
        s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    public static func csv(_ plan: SweepPlan, _ rows: [Row]) -> String {
        let cols = figureColumns(plan)
        var s = (plan.keys + cols + ["pareto", "status", "message"]).joined(separator: ",") + "\n"
        for r in rows {
            s += (r.values + cols.map { r.figures[$0] ?? "" } + [r.pareto ? "1" : "0", r.status, r.message]).map(csvCell).joined(separator: ",") + "\n"
        }
        return s
    }

    public static func markdown(_ plan: SweepPlan, _ rows: [Row], missing: [Int]) -> String {
        let cols = figureColumns(plan)
        var s = "# rtlgen sweep: \((plan.model as NSString).lastPathComponent)\n\n"
        s += "Model `\(plan.model)`\(plan.config.map { ", config `\($0)`" } ?? ""); \(plan.points.count) points over \(plan.keys.joined(separator: " x ")).\n\n"
        s += "| " + (plan.keys + cols + ["Pareto", "status"]).joined(separator: " | ") + " |\n"
        s += "|" + String(repeating: "---|", count: plan.keys.count + cols.count + 2) + "\n"
        for r in rows {
            let st = r.status == "ok" ? "ok" : "\(r.status): \(r.message)".replacingOccurrences(of: "|", with: "\\|")
            s += "| " + (r.values + cols.map { r.figures[$0] ?? "" } + [r.pareto ? "yes" : "", st]).joined(separator: " | ") + " |\n"
        }
        s += "\nPareto-optimal (latency in ns against \(plan.synth ? "Yosys LUTs" : "adders")): "
        s += rows.filter { $0.pareto }.map { plan.label($0.index) }.joined(separator: "; ") + ".\n"
        if !missing.isEmpty { s += "\nNot finished: points \(missing.map(String.init).joined(separator: ", ")).\n" }
        return s
    }

    public static func html(_ plan: SweepPlan, _ rows: [Row], missing: [Int]) -> String {
        let esc = ReportHTML.esc
        let res = plan.synth ? "lut" : "adders"
        let resName = plan.synth ? "LUTs (Yosys)" : "adders (netlist)"
        let pts = rows.compactMap { r -> (Row, Double, Double)? in
            guard r.status == "ok", let a = r.figures["latency_ns"].flatMap(Double.init), let b = r.figures[res].flatMap(Double.init) else { return nil }
            return (r, b, a)
        }
        var b = "<header><h1>Sweep: \(esc((plan.model as NSString).lastPathComponent))</h1><p class=\"sub\">\(plan.points.count) points over \(esc(plan.keys.joined(separator: " × "))) · rtlgen sweep</p></header>\n"
        b += "<section id=\"pareto\"><h2>Latency against \(esc(resName))</h2>\n"
        let W = 760.0, H = 420.0, l = 70.0, r = 30.0, t = 20.0, bot = 50.0
        let xs = pts.map { $0.1 }, ys = pts.map { $0.2 }
        func span(_ v: [Double]) -> (Double, Double) {
            guard let lo = v.min(), let hi = v.max() else { return (0, 1) }
            let pad = hi > lo ? (hi - lo) * 0.08 : max(abs(hi) * 0.1, 1)
            return (max(0, lo - pad), hi + pad)
        }
        let (x0, x1) = span(xs), (y0, y1) = span(ys)
        func px(_ x: Double) -> Double { l + (x - x0) / (x1 - x0) * (W - l - r) }
        func py(_ y: Double) -> Double { H - bot - (y - y0) / (y1 - y0) * (H - t - bot) }
        let f = { (x: Double) in String(format: "%.1f", x) }
        b += "<svg id=\"pareto-plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(W))\" height=\"\(f(H))\" viewBox=\"0 0 \(f(W)) \(f(H))\" role=\"img\" aria-label=\"Pareto plot\">\n"
        for k in 0...4 {
            let xv = x0 + (x1 - x0) * Double(k) / 4, yv = y0 + (y1 - y0) * Double(k) / 4
            b += "<line x1=\"\(f(px(xv)))\" y1=\"\(f(t))\" x2=\"\(f(px(xv)))\" y2=\"\(f(H - bot))\" stroke=\"#eef0f4\"/><text x=\"\(f(px(xv)))\" y=\"\(f(H - bot + 16))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5b6575\">\(Int(xv.rounded()))</text>\n"
            b += "<line x1=\"\(f(l))\" y1=\"\(f(py(yv)))\" x2=\"\(f(W - r))\" y2=\"\(f(py(yv)))\" stroke=\"#eef0f4\"/><text x=\"\(f(l - 6))\" y=\"\(f(py(yv) + 4))\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6575\">\(f(yv))</text>\n"
        }
        b += "<text x=\"\(f((l + W - r) / 2))\" y=\"\(f(H - 12))\" font-size=\"12\" text-anchor=\"middle\" fill=\"#1d2430\">\(esc(resName))</text>"
        b += "<text x=\"16\" y=\"\(f((t + H - bot) / 2))\" font-size=\"12\" text-anchor=\"middle\" fill=\"#1d2430\" transform=\"rotate(-90 16 \(f((t + H - bot) / 2)))\">latency (ns)</text>\n"
        let front = pts.filter { $0.0.pareto }.sorted { ($0.1, $0.2) < ($1.1, $1.2) }
        if front.count > 1 {
            var d = "M \(f(px(front[0].1))) \(f(py(front[0].2)))"
            for k in 1..<front.count { d += " H \(f(px(front[k].1))) V \(f(py(front[k].2)))" }
            b += "<path d=\"\(d)\" fill=\"none\" stroke=\"#e15759\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n"
        }
        for p in pts {
            let lab = plan.label(p.0.index)
            b += "<circle cx=\"\(f(px(p.1)))\" cy=\"\(f(py(p.2)))\" r=\"\(p.0.pareto ? 6 : 4.5)\" fill=\"\(p.0.pareto ? "#e15759" : "#4e79a7")\" fill-opacity=\"0.85\"><title>\(esc(lab)): \(f(p.2)) ns, \(Int(p.1)) \(res), II \(p.0.figures["initiation_interval"] ?? "")</title></circle>"
            b += "<text x=\"\(f(px(p.1) + 8))\" y=\"\(f(py(p.2) - 6))\" font-size=\"10\" fill=\"#5b6575\">\(esc(p.0.values.joined(separator: "/")))</text>\n"
        }
        b += "</svg>\n<p class=\"note\">Labels: \(esc(plan.keys.joined(separator: "/"))). Red: Pareto-optimal (no other point has lower or equal latency and \(esc(resName)) with one of them lower).</p></section>\n"
        let cols = figureColumns(plan)
        b += "<section id=\"points\"><h2>Points</h2><div class=\"scroll\"><table id=\"sweep-table\"><thead><tr>"
        b += (plan.keys + cols + ["Pareto", "status"]).map { "<th>\(esc($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for r in rows {
            b += "<tr>" + (r.values + cols.map { r.figures[$0] ?? "" }).map { "<td>\(esc($0))</td>" }.joined()
            b += "<td>\(r.pareto ? "yes" : "")</td><td class=\"l\">\(esc(r.status == "ok" ? "ok" : "\(r.status): \(r.message)"))</td></tr>\n"
        }
        b += "</tbody></table></div>\n"
        if !missing.isEmpty { b += "<p class=\"note\">Not finished: points \(missing.map(String.init).joined(separator: ", ")).</p>\n" }
        b += "</section>\n<footer>Rendered from the points' report.json by rtlgen sweep --collect.</footer>\n"
        return ReportHTML.page(title: "rtlgen sweep: \((plan.model as NSString).lastPathComponent)", body: b)
    }

    /// Writes sweep.csv, sweep.md and sweep.html from the finished points.
    public static func collect(dir: String) throws -> (rows: [Row], missing: [Int], plan: SweepPlan) {
        let plan = try SweepPlan.load(dir: dir)
        let (rows, missing) = rows(plan, dir: dir)
        for (name, text) in [("sweep.csv", csv(plan, rows)), ("sweep.md", markdown(plan, rows, missing: missing)),
                             ("sweep.html", html(plan, rows, missing: missing))] {
            try text.write(toFile: (dir as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return (rows, missing, plan)
    }

    /// Writes the plan folder: sweep.json, each point's config.yaml, commands.txt, logs/ and the emitted batch files.
    public static func writePlan(_ plan: SweepPlan, dir: String, emit: [String]) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: dir) {
            let items = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
            guard items.isEmpty || items.contains("sweep.json") else {
                throw InputError(file: "--out", field: "", message: "'\(dir)' exists and is not an rtlgen sweep folder; refusing to replace it (choose another --out)")
            }
            for i in items { try fm.removeItem(atPath: (dir as NSString).appendingPathComponent(i)) }
        }
        let base = try plan.config.map { try readInputText(path: $0) }
        let configs = try plan.points.indices.map { try pointConfig(plan, $0, baseText: base) }
        try fm.createDirectory(atPath: (dir as NSString).appendingPathComponent("logs"), withIntermediateDirectories: true)
        for (i, c) in configs.enumerated() {
            let pd = (dir as NSString).appendingPathComponent(SweepPlan.pointDir(i))
            try fm.createDirectory(atPath: pd, withIntermediateDirectories: true)
            try c.write(toFile: "\(pd)/config.yaml", atomically: true, encoding: .utf8)
        }
        try (JSONWriter.pretty(plan.json) + "\n").write(toFile: "\(dir)/sweep.json", atomically: true, encoding: .utf8)
        let cmds = plan.points.indices.map { pointCommand(plan, dir: dir, $0).map(shellQuote).joined(separator: " ") }
        try (cmds.joined(separator: "\n") + "\n").write(toFile: "\(dir)/commands.txt", atomically: true, encoding: .utf8)
        if emit.contains("slurm") { try slurm(plan, dir: dir).write(toFile: "\(dir)/sweep.slurm", atomically: true, encoding: .utf8) }
        if emit.contains("condor") { try condor(plan, dir: dir).write(toFile: "\(dir)/sweep.sub", atomically: true, encoding: .utf8) }
    }
}
