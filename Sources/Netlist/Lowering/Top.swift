// The top-level core: one instance per layer, chained through buses, and a valid pipeline.
//
// Ports: clk, rst (synchronous, active high; clears only the valid pipeline), ce (clock enable:
// when low every register holds, so a wrapper can stall the core), in_valid, in_data (input
// element i in bits [(i+1)*W-1 : i*W]), out_valid, out_data (likewise). Latency: out_valid rises
// `latency` enabled clock edges after in_valid.
import BigInt
import Foundation
import FixedPoint
import ModelIR

/// The port names of the core and of each layer module: the one place they are spelled.
public enum CorePorts {
    public static let clock = "clk"
    public static let reset = "rst"
    public static let enable = "ce"
    public static let inValid = "in_valid"
    public static let inData = "in_data"
    public static let outValid = "out_valid"
    public static let outData = "out_data"
    public static let all: [String] = [clock, reset, enable, inValid, inData, outValid, outData]
}

public struct Design {
    public let top: Module
    public let layers: [LayerHardware]
    /// Every module, children first (the order of a file list).
    public var modules: [Module] { layers.map { $0.module } + [top] }
    public var latency: Int { top.latency }
    public let model: Model
}

public enum DesignLowering {
    public static func lower(_ model: Model, topName: String? = nil, options: LoweringOptions = LoweringOptions()) -> Design {
        let name = topName ?? model.name
        var layers: [LayerHardware] = []
        let n = model.layers.count
        func fresh(_ i: Int, arrival: Double) -> LayerHardware {
            LayerLowering.lower(layer: model.layers[i], index: i, model: model, top: name, options: options, inputArrival: arrival)
        }
        // Registered lowerings, memoized by layer and input arrival (the lookahead of one layer
        // is the next layer's first candidate). Never mutated: an open ending lowers afresh.
        var memo: [Int: [Double: LayerHardware]] = [:]
        func lower(_ i: Int, arrival: Double) -> LayerHardware {
            if let h = memo[i]?[arrival] { return h }
            let h = fresh(i, arrival: arrival)
            memo[i, default: [:]][arrival] = h
            return h
        }
        /// Layers whose outputs may be left unregistered: dense layers and the element-wise layers
        /// that may be combinational (cheap to lower twice; tables and softmax keep registers).
        func mayOpen(_ op: LayerOp) -> Bool {
            if case .dense = op { return true }
            return op.mayBeCombinational
        }
        /// The ways layer i can end, its inputs arriving `arrival` ns into its first stage: with
        /// output registers (always first), combinational (an element-wise layer that
        /// `mayBeCombinational`, reading registered inputs), or open (output registers removed,
        /// see OpenOutputs.swift). The last layer always ends in registers.
        func endings(_ i: Int, arrival: Double) -> [LayerHardware] {
            let registered = lower(i, arrival: arrival)
            var out = [registered]
            guard i + 1 < n else { return out }
            if arrival == 0, let comb = LayerLowering.lowerCombinational(layer: model.layers[i], index: i, model: model, top: name, options: options) {
                out.append(comb)
            }
            if registered.latency >= 1, mayOpen(model.layers[i].op),
               let open = fresh(i, arrival: arrival).withoutOutputRegisters(delays: options.delays, inputArrival: arrival),
               open.outputArrivalNs <= options.delays.budget {
                out.append(open)
            }
            return out
        }
        // Each layer takes the ending that makes it and the next layer strictly shorter than
        // with registers (ties keep the registers): never a longer pipeline.
        var arrival = 0.0
        for i in 0..<n {
            options.progress?(i + 1, n, "lowering \(model.layers[i].name)")
            let options = endings(i, arrival: arrival)
            var best = options[0]
            if options.count > 1 {
                var bestTotal = Int.max
                for o in options {
                    let total = o.latency + lower(i + 1, arrival: o.outputArrivalNs).latency
                    if total < bestTotal { bestTotal = total; best = o }
                }
            }
            layers.append(best)
            arrival = best.outputArrivalNs
        }
        let m = Module(name: name)
        let latency = layers.map { $0.latency }.reduce(0, +)
        m.header = [
            "Model \(model.name): \(model.input.size) x \(model.input.type) -> \(model.outputSize) x \(model.outputType)",
            String(format: "latency: %d clock cycle(s) from in_valid to out_valid (%g ns at a %g ns clock), II = 1",
                   latency, Double(latency) * options.delays.clockPeriodNs, options.delays.clockPeriodNs),
            "clk: rising edge; ce: clock enable for every register (low = hold, for back-pressure)",
            "rst: synchronous, active high, clears the valid pipeline only (the datapath has no reset)",
            "in_data/out_data: element i in bits [(i+1)*W-1 : i*W]",
        ]
        let clk = m.define(CorePorts.clock, width: 1, repr: .bit, .input)
        let rst = m.define(CorePorts.reset, width: 1, repr: .bit, .input)
        let ce = m.define(CorePorts.enable, width: 1, repr: .bit, .input)
        let inValid = m.define(CorePorts.inValid, width: 1, repr: .bit, .input)
        var bus = m.define(CorePorts.inData, width: model.input.size * model.input.type.width, repr: .bus, .input)
        for (i, hw) in layers.enumerated() {
            let instName = "u_\(model.layers[i].name)"
            let outBus = hw.outputSize * hw.outputType.width
            let conns: [(String, SignalID)] = hw.isCombinational
                ? [(CorePorts.inData, bus)] : [(CorePorts.clock, clk), (CorePorts.enable, ce), (CorePorts.inData, bus)]
            let k = m.addInstance(Instance(name: instName, module: hw.module.name, connections: conns))
            bus = m.define("\(model.layers[i].name)_out", width: outBus, repr: .bus, .instanceOutput(instance: k, port: CorePorts.outData))
        }
        var v = inValid
        for s in 0..<latency {
            v = m.register("valid_s\(s + 1)", RegisterDef(d: v, clock: clk, enable: ce, reset: RegisterReset(rst, value: 0)))
        }
        m.define(CorePorts.outValid, width: 1, repr: .bit, .copy(v), role: .output)
        m.define(CorePorts.outData, width: m[bus].width, repr: .bus, .copy(bus), role: .output)
        m.latency = latency
        for hw in layers { hw.module.prepareForEmission() }
        m.prepareForEmission()
        return Design(top: m, layers: layers, model: model)
    }
}
