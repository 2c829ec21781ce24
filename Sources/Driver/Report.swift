// report.json: latency, initiation interval, per-layer figures and resource estimates.
import FixedPoint
import ModelIR
import Netlist

public enum Report {
    static func num(_ x: Int) -> JSONValue { .number(String(x)) }
    /// Delays rounded to 10 ps (the delay model is no finer).
    static func ns(_ xs: [Double]) -> JSONValue { .array(xs.map { .number(String(format: "%.2f", $0)) }) }

    static func registerBits(_ m: Module) -> Int {
        m.signals.enumerated().filter { m.defs[$0.offset].isRegister }.map { $0.element.width }.reduce(0, +)
    }

    /// The operations longer than a stage's budget by themselves, by layer (only those still in
    /// the generated HDL): the design is built but the delay model says it misses the clock.
    public static func timingWarnings(model: Model, design: Design) -> [(layer: String, overrun: TimingOverrun)] {
        var out: [(layer: String, overrun: TimingOverrun)] = []
        for (i, hw) in design.layers.enumerated() where !hw.timingOverruns.isEmpty {
            let names = Set(hw.module.signals.map { $0.name })
            for o in hw.timingOverruns where names.contains(o.signal) { out.append((model.layers[i].name, o)) }
        }
        return out
    }

    /// One stderr line per layer with an overrun: its longest operation against the budget.
    public static func timingWarningLines(model: Model, design: Design, config: Config) -> [String] {
        let ws = timingWarnings(model: model, design: design)
        var lines: [String] = []
        var seen = Set<String>()
        for (layer, _) in ws where seen.insert(layer).inserted {
            let here = ws.filter { $0.layer == layer }.map { $0.overrun }
            let worst = here.max { $0.delayNs < $1.delayNs }!
            let more = here.count > 1 ? " (\(here.count) such operations in the layer)" : ""
            lines.append("rtlgen: warning: layer '\(layer)': operation \(worst.signal) takes \(String(format: "%.2f", worst.delayNs)) ns by itself"
                + " (delay model, device \(config.device.name)), more than the \(String(format: "%.2f", worst.limitNs)) ns"
                + " a \(config.clockPeriodNs) ns clock leaves after the register overhead\(more); the design will not meet this clock: use a longer clock period")
        }
        return lines
    }

    public static func json(model: Model, design: Design, top: String, config: Config, language: Language,
                            yosys: [String: JSONValue] = [:]) -> String {
        var layers: [JSONValue] = []
        for (i, hw) in design.layers.enumerated() {
            let l = model.layers[i]
            var fields: [(String, JSONValue)] = [
                ("name", .string(l.name)),
                ("op", .string(l.opName)),
                ("module", .string(hw.module.name)),
                ("inputs", num(hw.inputSize)),
                ("outputs", num(hw.outputSize)),
                ("input_type", .string(hw.inputType.description)),
                ("output_type", .string(hw.outputType.description)),
                ("latency_cycles", num(hw.latency)),
                ("multipliers", num(hw.multipliers)),
                ("adders", num(hw.adders)),
                ("register_bits", num(registerBits(hw.module))),
                ("tables", .array(hw.module.tables.map { t in
                    .object([("name", .string(t.name)), ("entries", num(t.values.count)),
                             ("width", num(t.width)), ("bits", num(t.bits))])
                })),
                ("table_bits", num(hw.module.tables.map { $0.bits }.reduce(0, +))),
            ]
            let inShape = model.tensorInto(layer: i).shape
            if inShape.count > 1 || l.outputShape.count > 1 {
                fields.append(("input_shape", .array(inShape.map(num))))
                fields.append(("output_shape", .array(l.outputShape.map(num))))
            }
            // A kind's figures and the hardware's, each key once (the hardware's count wins).
            let hwKeys = Set(hw.details.map { $0.0 })
            if case let .kind(k) = l.op {
                fields += k.base.reportDetails(input: model.tensorInto(layer: i))
                    .filter { d in !hwKeys.contains(d.0) && !fields.contains { $0.0 == d.0 } }.map { ($0.0, .string($0.1)) }
            }
            var seen = Set(fields.map { $0.0 })
            fields += hw.details.filter { seen.insert($0.0).inserted }.map { ($0.0, num($0.1)) }
            if !hw.stageDelaysNs.isEmpty { fields.append(("stage_delays_ns", ns(hw.stageDelaysNs))) }
            if let y = yosys[hw.module.name] { fields.append(("yosys", y)) }
            layers.append(.object(fields))
        }
        let totalMul = design.layers.map { $0.multipliers }.reduce(0, +)
        let totalAdd = design.layers.map { $0.adders }.reduce(0, +)
        let totalReg = design.modules.map(registerBits).reduce(0, +)
        let period = config.clockPeriodNs
        let warnings = timingWarnings(model: model, design: design)
        let obj: JSONValue = .object([
            ("model", .string(model.name)),
            ("top", .string(top)),
            ("device", .string(config.device.name)),
            ("latency_cycles", num(design.latency)),
            ("initiation_interval", num(design.initiationInterval)),
            ("clock_period_ns", .number(String(period))),
            ("latency_ns", .number(String(Double(design.latency) * period))),
        ] + (design.stageDelaysNs.map { ds -> [(String, JSONValue)] in
            [("stage_delays_ns", ns(ds)),
             ("stage_budget_ns", .number(String(format: "%.3f", DelayModel(clockPeriodNs: config.clockPeriodNs, device: config.device).budget)))]
        } ?? []) + [
            ("input", .object([("size", num(model.input.size)), ("type", .string(model.input.type.description)),
                               ("bus_bits", num(model.input.size * model.input.type.width))]
                              + (model.input.shape.count > 1 ? [("shape", .array(model.input.shape.map(num)))] : []))),
            ("output", .object([("size", num(model.outputSize)), ("type", .string(model.outputType.description)),
                                ("bus_bits", num(model.outputSize * model.outputType.width))])),
            ("languages", .array(language == .both ? [.string("verilog"), .string("vhdl")] : [.string(language.rawValue)])),
            ("layers", .array(layers)),
        ] + (warnings.isEmpty ? [] : [
            ("timing_met_by_model", .bool(false)),
            ("timing_warnings", .array(warnings.map { w in
                .object([("layer", .string(w.layer)), ("signal", .string(w.overrun.signal)),
                         ("delay_ns", .number(String(format: "%.2f", w.overrun.delayNs))),
                         ("limit_ns", .number(String(format: "%.3f", w.overrun.limitNs)))])
            })),
        ]) + [
            ("resources", .object([
                ("multipliers", num(totalMul)),
                ("adders", num(totalAdd)),
                ("register_bits", num(totalReg)),
                ("table_bits", num(design.modules.flatMap { $0.tables }.map { $0.bits }.reduce(0, +))),
                ("note", .string("estimates from the netlist; run yosys or the vendor tool for real figures")),
            ])),
        ])
        return JSONWriter.pretty(obj) + "\n"
    }
}
