// report.html: the build's report.json (and a stream build's stream.json) as a page a person reads
// in a browser: the pipeline's stages against the clock budget (inline SVG), one table row per
// layer, totals, Yosys figures when `rtlgen synth` has run, and the AXI4-Stream wrapper.
// Self-contained (no script, no network, no timestamp): the same report gives the same bytes.
// Rendered from the JSON text itself, so `rtlgen synth` can render it again after adding its figures.
import Foundation
import ModelIR

public enum ReportHTML {
    /// The page for a report.json text and, for a stream build, its stream.json text.
    public static func render(report reportText: String, stream streamText: String? = nil) -> String {
        guard let r = try? JSONParser.parse(reportText) else { return page(title: "rtlgen report", body: "<p>report.json is not valid JSON.</p>") }
        let stream = streamText.flatMap { try? JSONParser.parse($0) }
        let name = str(r["model"]) ?? "model"
        var b = ""
        b += "<header><h1>\(esc(name))</h1><p class=\"sub\">rtlgen build report · top module <code>\(esc(str(r["top"]) ?? name))</code>"
        if let langs = r["languages"], case let .array(ls) = langs { b += " · " + ls.compactMap(str).map(esc).joined(separator: " + ") }
        b += "</p></header>\n"
        b += summary(r)
        if let s = stream { b += "<section id=\"stream\"><h2>AXI4-Stream wrapper</h2>\n" + streamSection(s, report: r) + "</section>\n" }
        b += "<section id=\"timeline\"><h2>Pipeline stages against the clock budget</h2>\n" + timeline(r) + "</section>\n"
        b += "<section id=\"layers\"><h2>Layers</h2>\n" + layerTable(r) + "</section>\n"
        b += "<footer>Rendered from report.json\(stream != nil ? " and stream.json" : "") by rtlgen. Delays are the delay model's estimates; resource figures are counted in the netlist unless marked Yosys.</footer>\n"
        return page(title: "rtlgen report: \(name)", body: b)
    }

    // MARK: - JSON helpers

    static func str(_ v: JSONValue?) -> String? { if case let .string(s)? = v { return s }; return nil }
    static func numText(_ v: JSONValue?) -> String? { if case let .number(s)? = v { return s }; return nil }
    static func num(_ v: JSONValue?) -> Double? { numText(v).flatMap(Double.init) }
    static func int(_ v: JSONValue?) -> Int? { numText(v).flatMap { Int($0) } }
    static func nums(_ v: JSONValue?) -> [Double] {
        if case let .array(xs)? = v { return xs.compactMap { num($0) } }
        return []
    }
    static func members(_ v: JSONValue?) -> [(String, JSONValue)] {
        if case let .object(m)? = v { return m }
        return []
    }
    static func items(_ v: JSONValue?) -> [JSONValue] {
        if case let .array(xs)? = v { return xs }
        return []
    }

    static func esc(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            default: o.append(c)
            }
        }
        return o
    }

    /// 1234567 -> "1,234,567".
    static func grouped(_ x: Int) -> String {
        let s = String(abs(x))
        var o = ""
        for (k, c) in s.enumerated() {
            if k > 0 && (s.count - k) % 3 == 0 { o += "," }
            o.append(c)
        }
        return (x < 0 ? "-" : "") + o
    }

    static func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }

    // MARK: - page

    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(esc(title))</title>
        <style>
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d2430; background: #fff; margin: 24px auto; max-width: 1320px; padding: 0 20px; }
        h1 { font-size: 26px; margin: 0; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #dde2ea; padding-bottom: 4px; }
        .sub { color: #5b6575; margin: 2px 0 14px; } code { font: 12.5px "DejaVu Sans Mono", Menlo, Consolas, monospace; }
        .cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0; }
        .card { border: 1px solid #dde2ea; border-radius: 6px; padding: 8px 12px; min-width: 120px; background: #f8fafc; }
        .card .k { color: #5b6575; font-size: 12px; } .card .v { font-size: 20px; font-weight: 600; } .card .u { color: #5b6575; font-size: 12px; }
        .card.synth { background: #f2f8f2; border-color: #c9dfc9; }
        table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
        th, td { border-bottom: 1px solid #e6e9ef; padding: 4px 8px; text-align: right; white-space: nowrap; vertical-align: top; }
        th { background: #f1f4f8; font-weight: 600; position: sticky; top: 0; }
        td.l, th.l { text-align: left; } td.name { font-weight: 600; } td.det { color: #5b6575; font-size: 12px; white-space: normal; text-align: left; min-width: 200px; max-width: 320px; }
        tr.total td { border-top: 2px solid #c8ced8; font-weight: 600; }
        .sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
        .note { color: #5b6575; font-size: 12.5px; } .scroll { overflow-x: auto; }
        footer { margin-top: 32px; color: #7a8494; font-size: 12px; }
        svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
        </style>
        </head>
        <body>
        \(body)</body>
        </html>

        """
    }

    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#8cd17d",
                          "#499894", "#d37295"]
    static func color(_ i: Int) -> String { palette[i % palette.count] }

    static func card(_ k: String, _ v: String, _ u: String = "", cls: String = "card") -> String {
        "<div class=\"\(cls)\"><div class=\"k\">\(esc(k))</div><div class=\"v\">\(esc(v))</div>\(u.isEmpty ? "" : "<div class=\"u\">\(esc(u))</div>")</div>"
    }

    // MARK: - summary

    static func summary(_ r: JSONValue) -> String {
        var c: [String] = []
        let period = num(r["clock_period_ns"]) ?? 0
        if let l = int(r["latency_cycles"]) {
            c.append(card("latency", "\(l) cycles", numText(r["latency_ns"]).map { "\($0) ns" } ?? ""))
        }
        if let ii = int(r["initiation_interval"]) { c.append(card("initiation interval", "\(ii)", ii == 1 ? "a new input every clock" : "a new input every \(ii) clocks")) }
        if period > 0 { c.append(card("clock period", "\(numText(r["clock_period_ns"])!) ns", "\(f(1000 / period)) MHz")) }
        for (key, label) in [("input", "input"), ("output", "output")] {
            if let io = r[key], let n = int(io["size"]), let t = str(io["type"]) {
                c.append(card(label, "\(n) × \(t)", int(io["bus_bits"]).map { "\($0)-bit bus" } ?? ""))
            }
        }
        let res = r["resources"]
        for (key, label) in [("multipliers", "multipliers"), ("adders", "adders"), ("register_bits", "register bits"), ("table_bits", "ROM bits")] {
            if let v = int(res?[key]) { c.append(card(label, grouped(v), "netlist count")) }
        }
        var s = "<section id=\"summary\"><div class=\"cards\">" + c.joined() + "</div>\n"
        if let y = r["synthesis"] {
            var sc: [String] = []
            for (key, label) in [("lut", "LUT"), ("ff", "FF"), ("carry", "CARRY"), ("dsp", "DSP"), ("srl", "SRL"), ("bram", "BRAM")] {
                if let v = int(y[key]) { sc.append(card(label, grouped(v), "Yosys", cls: "card synth")) }
            }
            s += "<div class=\"cards\" id=\"synthesis\">" + sc.joined() + "</div>\n"
            if let cmd = str(y["command"]) { s += "<p class=\"note\">Yosys: <code>\(esc(cmd))</code></p>\n" }
        } else {
            s += "<p class=\"note\">No synthesis figures yet: <code>rtlgen synth DIR</code> adds Yosys's LUT / FF / DSP counts to report.json and to this page.</p>\n"
        }
        return s + "</section>\n"
    }

    // MARK: - timeline

    /// Where each layer sits: its first stage (the ranks of the layers before it) and its
    /// per-stage arrival times (report.json's stage_delays_ns of the layer, or none).
    struct Placement { let name: String; let op: String; let start: Int; let latency: Int; let delays: [Double] }

    static func placements(_ r: JSONValue) -> [Placement] {
        var out: [Placement] = []
        var offset = 0
        for l in items(r["layers"]) {
            let lat = int(l["latency_cycles"]) ?? 0
            out.append(Placement(name: str(l["name"]) ?? "?", op: str(l["op"]) ?? "", start: offset, latency: lat, delays: nums(l["stage_delays_ns"])))
            offset += lat
        }
        return out
    }

    static func timeline(_ r: JSONValue) -> String {
        let ps = placements(r)
        let stages = nums(r["stage_delays_ns"])
        let latency = int(r["latency_cycles"]) ?? ps.map { $0.latency }.reduce(0, +)
        let period = num(r["clock_period_ns"]) ?? 4
        let budget = num(r["stage_budget_ns"])
        let n = max(stages.count, latency, 1)
        let left = 56.0, plotW = 1040.0, colW = plotW / Double(n)
        let barTop = 30.0, barH = stages.isEmpty ? 0.0 : 190.0
        let rowH = 17.0, ganttTop = barTop + barH + (stages.isEmpty ? 4 : 26)
        let height = ganttTop + Double(ps.count) * rowH + 10
        let width = left + plotW + 20
        let yMax = max(period, stages.max() ?? 0) * 1.08
        func y(_ ns: Double) -> Double { barTop + barH - ns / yMax * barH }
        var s = "<div class=\"scroll\"><svg id=\"stage-timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width, 0))\" height=\"\(f(height, 0))\" viewBox=\"0 0 \(f(width, 0)) \(f(height, 0))\" role=\"img\" aria-label=\"pipeline stages\">\n"
        if stages.isEmpty {
            s += "<text x=\"\(f(left))\" y=\"16\" font-size=\"12\" fill=\"#5b6575\">No per-stage delays (a layer with a reuse factor is scheduled, not placed by the delay model): layers by cycle.</text>\n"
        } else {
            s += "<text x=\"\(f(left))\" y=\"14\" font-size=\"12\" fill=\"#5b6575\">Longest path per stage (delay model, ns), coloured by layer</text>\n"
            // Axis and grid.
            let step = period <= 5 ? 1.0 : period <= 12 ? 2.0 : (period / 5).rounded(.up)
            var t = 0.0
            while t <= yMax {
                s += "<line x1=\"\(f(left))\" y1=\"\(f(y(t)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(t)))\" stroke=\"#eef0f4\"/>"
                s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(t) + 4))\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6575\">\(f(t, t == t.rounded() ? 0 : 1))</text>\n"
                t += step
            }
            s += "<text x=\"14\" y=\"\(f(barTop + barH / 2))\" font-size=\"11\" fill=\"#5b6575\" transform=\"rotate(-90 14 \(f(barTop + barH / 2)))\" text-anchor=\"middle\">ns</text>\n"
            // Bars: each stage stacked by the layers that sit in it, in order (a layer's entry is
            // the arrival time at its output in that stage, so its share is the rise over the layer before).
            for k in 0..<stages.count {
                let x = left + Double(k) * colW + colW * 0.12, w = colW * 0.76
                var below = 0.0
                for (i, p) in ps.enumerated() where k >= p.start && k - p.start < p.delays.count {
                    let top = max(below, p.delays[k - p.start])
                    if top > below {
                        s += "<rect x=\"\(f(x))\" y=\"\(f(y(top)))\" width=\"\(f(w))\" height=\"\(f(y(below) - y(top)))\" fill=\"\(color(i))\"><title>stage \(k): \(esc(p.name)) \(f(below, 2))–\(f(top, 2)) ns</title></rect>"
                    }
                    below = top
                }
                let d = stages[k]
                let over = budget.map { d > $0 + 1e-9 } ?? false
                s += "<rect x=\"\(f(x))\" y=\"\(f(y(d)))\" width=\"\(f(w))\" height=\"\(f(y(0) - y(d)))\" fill=\"none\" stroke=\"\(over ? "#d62728" : "#334")\" stroke-width=\"\(over ? "2" : "0.6")\"><title>stage \(k): \(f(d, 2)) ns</title></rect>\n"
                if colW >= 26 || k % Int((26 / colW).rounded(.up)) == 0 {
                    s += "<text x=\"\(f(x + w / 2))\" y=\"\(f(barTop + barH + 14))\" font-size=\"10.5\" text-anchor=\"middle\" fill=\"#5b6575\">\(k)</text>\n"
                }
            }
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y(period)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(period)))\" stroke=\"#d62728\" stroke-width=\"1.4\"/>"
            let lx = left + plotW - 520
            s += "<line x1=\"\(f(lx))\" y1=\"10\" x2=\"\(f(lx + 24))\" y2=\"10\" stroke=\"#d62728\" stroke-width=\"1.4\"/><text x=\"\(f(lx + 30))\" y=\"14\" font-size=\"11\" fill=\"#d62728\">clock period \(numText(r["clock_period_ns"]) ?? f(period)) ns</text>\n"
            if let b = budget {
                s += "<line x1=\"\(f(left))\" y1=\"\(f(y(b)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(b)))\" stroke=\"#d62728\" stroke-dasharray=\"5 4\" stroke-width=\"1\"/>"
                s += "<line x1=\"\(f(lx + 170))\" y1=\"10\" x2=\"\(f(lx + 194))\" y2=\"10\" stroke=\"#d62728\" stroke-dasharray=\"5 4\"/><text x=\"\(f(lx + 200))\" y=\"14\" font-size=\"11\" fill=\"#d62728\">stage budget \(numText(r["stage_budget_ns"]) ?? f(b, 3)) ns (period minus register overhead)</text>\n"
            }
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y(0)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(0)))\" stroke=\"#334\"/>\n"
        }
        // Gantt rows: the stages each layer occupies.
        for (i, p) in ps.enumerated() {
            let span = max(p.delays.isEmpty ? p.latency : p.delays.count, 0)
            let yy = ganttTop + Double(i) * rowH
            let x0 = left + Double(p.start) * colW
            let w = span == 0 ? 3.0 : Double(span) * colW - 2
            s += "<rect x=\"\(f(x0 + 1))\" y=\"\(f(yy))\" width=\"\(f(max(w, 3)))\" height=\"\(f(rowH - 4))\" rx=\"2\" fill=\"\(color(i))\"><title>\(esc(p.name)) (\(esc(p.op))): stages \(p.start)–\(p.start + max(span, 1) - 1), \(p.latency) register rank(s)</title></rect>"
            let labelInside = w >= Double(p.name.count) * 7 + 8
            let tx = labelInside ? x0 + 5 : x0 + max(w, 3) + 5
            let anchorRight = !labelInside && tx > left + plotW - 80
            s += "<text x=\"\(f(anchorRight ? x0 - 4 : tx))\" y=\"\(f(yy + rowH - 7))\" font-size=\"11\" \(anchorRight ? "text-anchor=\"end\" " : "")fill=\"\(labelInside ? "#fff" : "#1d2430")\">\(esc(p.name))</text>\n"
        }
        s += "</svg></div>\n"
        if !stages.isEmpty, let b = budget {
            let worst = stages.enumerated().max { $0.element < $1.element }!
            s += "<p class=\"note\">\(stages.count) stages; the longest is stage \(worst.offset) at \(f(worst.element, 2)) ns of the \(f(b, 3)) ns budget (\(f(100 * worst.element / b, 1))%). A layer's bar spans the stages its logic occupies; consecutive layers share the stage where one ends and the next begins.</p>\n"
        }
        return s
    }

    // MARK: - layer table

    static let knownLayerKeys: Set<String> = ["name", "op", "module", "inputs", "outputs", "input_type", "output_type", "latency_cycles",
                                              "multipliers", "adders", "register_bits", "tables", "table_bits", "stage_delays_ns", "yosys"]

    static func layerTable(_ r: JSONValue) -> String {
        let layers = items(r["layers"])
        let ps = placements(r)
        let hasYosys = layers.contains { $0["yosys"] != nil }
        var s = "<div class=\"scroll\"><table id=\"layer-table\">\n<thead><tr><th>#</th><th class=\"l\">layer</th><th class=\"l\">op</th><th>in → out</th><th class=\"l\">input type</th><th class=\"l\">output type</th><th>latency</th><th>stages</th><th>multipliers</th><th>adders</th><th>register bits</th><th>ROM bits</th>"
        if hasYosys { s += "<th>Yosys cells</th><th>Yosys $mul</th>" }
        s += "<th class=\"l\">details</th></tr></thead>\n<tbody>\n"
        for (i, l) in layers.enumerated() {
            let p = ps[i]
            let span = p.delays.isEmpty ? p.latency : p.delays.count
            let stages = span <= 1 ? "\(p.start)" : "\(p.start)–\(p.start + span - 1)"
            s += "<tr><td>\(i + 1)</td><td class=\"l name\"><span class=\"sw\" style=\"background:\(color(i))\"></span>\(esc(p.name))</td>"
            s += "<td class=\"l\">\(esc(p.op))</td><td>\(int(l["inputs"]).map(String.init) ?? "") → \(int(l["outputs"]).map(String.init) ?? "")</td>"
            s += "<td class=\"l\"><code>\(esc(str(l["input_type"]) ?? ""))</code></td><td class=\"l\"><code>\(esc(str(l["output_type"]) ?? ""))</code></td>"
            s += "<td>\(p.latency)</td><td>\(stages)</td>"
            for k in ["multipliers", "adders", "register_bits", "table_bits"] { s += "<td>\(int(l[k]).map(grouped) ?? "")</td>" }
            if hasYosys {
                let y = l["yosys"]
                s += "<td>\(int(y?["cells"]).map(grouped) ?? "")</td><td>\(int(y?["mul_cells"]).map(grouped) ?? "")</td>"
            }
            var det: [String] = []
            for (k, v) in members(l) where !knownLayerKeys.contains(k) {
                if let t = numText(v) { det.append("\(k.replacingOccurrences(of: "_", with: " ")): \(t)") } else if let t = str(v) { det.append("\(k.replacingOccurrences(of: "_", with: " ")): \(t)") }
            }
            let tables = items(l["tables"])
            if !tables.isEmpty { det.append("\(tables.count) ROM(s): " + tables.map { "\(str($0["name"]) ?? "") \(int($0["entries"]) ?? 0)×\(int($0["width"]) ?? 0)" }.joined(separator: ", ")) }
            s += "<td class=\"det\">\(esc(det.joined(separator: "; ")))</td></tr>\n"
        }
        let res = r["resources"]
        s += "<tr class=\"total\"><td></td><td class=\"l\">total</td><td></td><td></td><td></td><td></td><td>\(int(r["latency_cycles"]).map(String.init) ?? "")</td><td>\(nums(r["stage_delays_ns"]).count)</td>"
        for k in ["multipliers", "adders", "register_bits", "table_bits"] { s += "<td>\(int(res?[k]).map(grouped) ?? "")</td>" }
        if hasYosys {
            let cells = layers.compactMap { int($0["yosys"]?["cells"]) }.reduce(0, +)
            let muls = layers.compactMap { int($0["yosys"]?["mul_cells"]) }.reduce(0, +)
            s += "<td>\(grouped(cells))</td><td>\(grouped(muls))</td>"
        }
        s += "<td class=\"det\">register bits include the top level's</td></tr>\n</tbody></table></div>\n"
        return s
    }

    // MARK: - stream wrapper

    static func streamSection(_ st: JSONValue, report r: JSONValue) -> String {
        let period = num(r["clock_period_ns"]) ?? 4
        let lat = int(st["latency_cycles"]) ?? 0
        let perBeat = int(st["muons_per_beat"]) ?? 1
        let tput = num(st["throughput_beats_per_cycle"]) ?? 1
        let depth = int(st["fifo_depth"]) ?? 0
        var c: [String] = []
        c.append(card("wrapper latency", "\(lat) cycles", "\(f(Double(lat) * period)) ns, accepting edge to output beat"))
        c.append(card("throughput", "\(numText(st["throughput_beats_per_cycle"]) ?? "1") beat / cycle",
                      "\(perBeat) muon(s) per beat: \(f(tput * Double(perBeat) * 1000 / period, 0)) M muons/s"))
        c.append(card("output FIFO", "\(depth) entries", int(st["fifo_register_bits"]).map { "\(grouped($0)) register bits" } ?? ""))
        c.append(card("network instances", "\(int(st["network_instances"]) ?? 0)", "\(str(st["arrangement"]) ?? ""), output \(str(st["output"]) ?? "")"))
        var s = "<div class=\"cards\">" + c.joined() + "</div>\n"
        // Block diagram: the beat's path through the wrapper, box widths by cycles.
        let lf = int(st["feature_map_latency_cycles"]) ?? 0, lc = int(st["core_latency_cycles"]) ?? 0, lo = int(st["output_map_latency_cycles"]) ?? 0
        let rest = max(lat - lf - lc - lo, 0)
        let blocks: [(String, String, Int)] = [
            ("feature map", "\(lf) cycle(s)", lf),
            ("\(int(st["network_instances"]) ?? 1) × \(str(r["top"]) ?? "core")", "\(lc) cycles", lc),
            ("output map", "\(lo) cycle(s)", lo),
            ("FIFO", "\(depth) entries", 0),
        ]
        let total = Double(blocks.map { max($0.2, 1) }.reduce(0, +))
        let x0 = 80.0, avail = 760.0, h = 70.0
        var x = x0
        s += "<div class=\"scroll\"><svg id=\"stream-diagram\" xmlns=\"http://www.w3.org/2000/svg\" width=\"1100\" height=\"\(f(h + 40, 0))\" viewBox=\"0 0 1100 \(f(h + 40, 0))\" role=\"img\" aria-label=\"stream wrapper\">\n"
        s += "<text x=\"4\" y=\"\(f(20 + h / 2))\" font-size=\"12\" fill=\"#1d2430\">s_axis</text>\n"
        for (i, b) in blocks.enumerated() {
            let w = max(Double(max(b.2, 1)) / total * avail - 12, 110)
            s += "<rect x=\"\(f(x))\" y=\"20\" width=\"\(f(w))\" height=\"\(f(h))\" rx=\"4\" fill=\"\(i == 1 ? "#dbe7f3" : "#f1f4f8")\" stroke=\"#7a8494\"/>"
            s += "<text x=\"\(f(x + w / 2))\" y=\"\(f(20 + h / 2 - 4))\" font-size=\"12\" text-anchor=\"middle\" fill=\"#1d2430\">\(esc(b.0))</text>"
            s += "<text x=\"\(f(x + w / 2))\" y=\"\(f(20 + h / 2 + 13))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5b6575\">\(esc(b.1))</text>\n"
            x += w + 12
        }
        s += "<text x=\"\(f(x + 2))\" y=\"\(f(20 + h / 2))\" font-size=\"12\" fill=\"#1d2430\">m_axis</text>\n"
        s += "<text x=\"\(f(x0))\" y=\"12\" font-size=\"11\" fill=\"#5b6575\">one beat per clock; plus \(rest) cycles of beat registers (accept edge, slot, FIFO output); TREADY backpressure fills the FIFO (credit-counted s_axis_tready)</text>\n"
        s += "</svg></div>\n"
        // Every stream.json figure.
        s += "<table id=\"stream-table\"><tbody>\n"
        let all = members(st)
        for row in stride(from: 0, to: all.count, by: 3) {
            s += "<tr>"
            for (k, v) in all[row..<min(row + 3, all.count)] {
                let t = numText(v).map { Int($0).map(grouped) ?? $0 } ?? str(v) ?? ""
                s += "<td class=\"l\">\(esc(k.replacingOccurrences(of: "_", with: " ")))</td><td class=\"l\"><code>\(esc(t))</code></td>"
            }
            s += "</tr>\n"
        }
        s += "</tbody></table>\n"
        return s
    }
}
