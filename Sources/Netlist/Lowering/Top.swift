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
    /// Only on a core whose II > 1 (a layer with a reuse factor): high when in_valid is taken.
    public static let inReady = "in_ready"
    public static let all: [String] = [clock, reset, enable, inValid, inData, outValid, outData]
}

public struct Design {
    public let top: Module
    public let layers: [LayerHardware]
    /// Every module, children first (the order of a file list).
    public var modules: [Module] { layers.map { $0.module } + [top] }
    public var latency: Int { top.latency }
    public let model: Model
    /// Cycles between two samples the core takes: the largest II of its layers (1 when no layer
    /// has a reuse factor; then the core has no `in_ready` port).
    public var initiationInterval: Int { layers.map { $0.initiationInterval }.max() ?? 1 }
    /// The delay model's longest path in each stage of the core (ns), one per register rank
    /// from the inputs to the outputs; nil when a layer was not built through the delay model
    /// (a reuse factor).
    public var stageDelaysNs: [Double]? { DesignLowering.stageDelays(layers) }
}

public enum DesignLowering {
    /// The layers' stage delays placed on the core's stages (a layer starts where the ranks of
    /// the layers before it end; an open layer's last entry is the next layer's first stage).
    static func stageDelays(_ layers: [LayerHardware]) -> [Double]? {
        let latency = layers.map { $0.latency }.reduce(0, +)
        var out = [Double](repeating: 0, count: latency)
        var offset = 0
        for l in layers {
            if l.stageDelaysNs.isEmpty && l.latency > 0 { return nil }
            for (k, d) in l.stageDelaysNs.enumerated() where offset + k < latency {
                out[offset + k] = max(out[offset + k], d)
            }
            offset += l.latency
        }
        return out
    }

    /// "3.12 | 3.80 | 1.13": stage delays for a header line.
    public static func stageList(_ ds: [Double]) -> String {
        ds.map { String(format: "%.2f", $0) }.joined(separator: " | ")
    }

    public static func lower(_ model: Model, topName: String? = nil, options: LoweringOptions = LoweringOptions()) -> Design {
        let name = topName ?? model.name
        var layers: [LayerHardware] = []
        let n = model.layers.count
        func fresh(_ i: Int, arrival: Timing) -> LayerHardware {
            LayerLowering.lower(layer: model.layers[i], index: i, model: model, top: name, options: options, inputArrival: arrival)
        }
        // Registered lowerings, memoized by layer and input arrival (the lookahead of one layer
        // is the next layer's first candidate). Never mutated: an open ending lowers afresh.
        var memo: [Int: [Timing: LayerHardware]] = [:]
        func lower(_ i: Int, arrival: Timing) -> LayerHardware {
            if let h = memo[i]?[arrival] { return h }
            let h = fresh(i, arrival: arrival)
            memo[i, default: [:]][arrival] = h
            return h
        }
        /// Layers whose outputs may be left unregistered: dense layers and the element-wise layers
        /// that may be combinational (cheap to lower twice; tables and softmax keep registers).
        func mayOpen(_ i: Int) -> Bool {
            let op = model.layers[i].op
            if case .dense = op { return options.reuseFactor(of: model.layers[i]) == 1 }
            if case let .kind(k) = op, k.base is Conv { return options.cyclesPerSample(model, layer: i) == 1 }
            return op.mayBeCombinational
        }
        /// The ways layer i can end, its inputs arriving `arrival` ns into its first stage: with
        /// output registers (always first), combinational (an element-wise layer that
        /// `mayBeCombinational`, reading registered inputs), or open (output registers removed,
        /// see OpenOutputs.swift). The last layer always ends in registers.
        func endings(_ i: Int, arrival: Timing) -> [LayerHardware] {
            let registered = lower(i, arrival: arrival)
            var out = [registered]
            guard i + 1 < n else { return out }
            // A time-multiplexed layer (reuse factor) latches its inputs from registers.
            if options.cyclesPerSample(model, layer: i + 1) > 1 { return out }
            if arrival == .registered, let comb = LayerLowering.lowerCombinational(layer: model.layers[i], index: i, model: model, top: name, options: options) {
                out.append(comb)
            }
            if registered.latency >= 1, mayOpen(i),
               let open = fresh(i, arrival: arrival).withoutOutputRegisters(delays: options.delays, inputArrival: arrival),
               open.outputArrivalNs <= options.delays.budget {
                out.append(open)
            }
            return out
        }
        // The whole chain is scheduled at once: after each layer, the partial pipelines that no
        // other beats on both counts (fewer cycles so far, earlier outputs) are kept, and each is
        // extended by every ending of the next layer. A layer ending open or combinational may
        // pay off only several layers later (a stage's slack carried on), which a one-layer
        // lookahead misses. The all-registered pipeline is always a candidate (its arrival is 0),
        // so the result is never longer; ties keep the candidate found first (registers first).
        struct Partial { var layers: [LayerHardware]; var latency: Int; var timing: Timing }
        var front = [Partial(layers: [], latency: 0, timing: .registered)]
        for i in 0..<n {
            options.progress?(i + 1, n, "lowering \(model.layers[i].name)")
            var next: [Partial] = []
            for p in front {
                for o in endings(i, arrival: p.timing) {
                    next.append(Partial(layers: p.layers + [o], latency: p.latency + o.latency, timing: o.outputTiming))
                }
            }
            let order = next.indices.sorted { x, y in
                let (a, b) = (next[x], next[y])
                if a.latency != b.latency { return a.latency < b.latency }
                if a.timing.ns != b.timing.ns { return a.timing.ns < b.timing.ns }
                return x < y
            }
            front = []
            var earliest = Double.infinity
            for k in order where next[k].timing.ns < earliest {
                front.append(next[k])
                earliest = next[k].timing.ns
            }
        }
        layers = front[0].layers
        let m = Module(name: name)
        let latency = layers.map { $0.latency }.reduce(0, +)
        let ii = layers.map { $0.initiationInterval }.max() ?? 1
        m.header = [
            "Model \(model.name): \(model.input.size) x \(model.input.type) -> \(model.outputSize) x \(model.outputType)",
            String(format: "latency: %d clock cycle(s) from in_valid to out_valid (%g ns at a %g ns clock), II = %d",
                   latency, Double(latency) * options.delays.clockPeriodNs, options.delays.clockPeriodNs, ii),
            "clk: rising edge; ce: clock enable for every register (low = hold, for back-pressure)",
            "rst: synchronous, active high, clears the valid pipeline only (the datapath has no reset)",
            "in_data/out_data: element i in bits [(i+1)*W-1 : i*W]",
        ]
        if ii > 1 {
            let rfs = zip(model.layers, layers).filter { $0.1.isTimeMultiplexed }
                .map { "\($0.0.name) " + ($0.1.parallelizationFactor.map { "PF \($0)" } ?? "RF \($0.1.reuseFactor)") + " (II \($0.1.initiationInterval))" }
            m.header[3] = "rst: synchronous, active high, clears the valid pipeline and the reuse control (the datapath has no reset)"
            m.header += [
                layers.contains { $0.parallelizationFactor != nil }
                    ? "time-multiplexed layers: \(rfs.joined(separator: ", ")) (RF: weights in ROMs; PF: output positions per cycle)"
                    : "reuse factor: \(rfs.joined(separator: ", ")); weights in ROMs",
                "in_ready: high when the core can take a sample. A sample is taken on an enabled edge with in_valid and",
                "in_ready both high; in_ready then stays low for the next \(ii - 1) enabled edge(s), and in_valid while in_ready",
                "is low is ignored (hold in_valid and in_data until in_ready, as in an AXI4-Stream or ap_hs handshake)",
            ]
        }
        // After the reuse lines, which address the header by position.
        if let ds = stageDelays(layers), !ds.isEmpty {
            m.header.insert(String(format: "longest path per stage (delay model, ns; %.3f ns of logic fit a %g ns clock): ",
                                   options.delays.budget, options.delays.clockPeriodNs) + stageList(ds), at: 2)
        }
        let clk = m.define(CorePorts.clock, width: 1, repr: .bit, .input)
        let rst = m.define(CorePorts.reset, width: 1, repr: .bit, .input)
        let ce = m.define(CorePorts.enable, width: 1, repr: .bit, .input)
        let inValid = m.define(CorePorts.inValid, width: 1, repr: .bit, .input)
        var bus = m.define(CorePorts.inData, width: model.input.size * model.input.type.width, repr: .bus, .input)
        // The valid pipeline: valid[s] is high when a sample is s enabled edges past the inputs.
        var valid: [SignalID] = [inValid]
        if ii > 1 {
            // in_ready: a down-counter of the enabled edges left before the next sample.
            let cw = max(1, Int.bitWidth - (ii - 1).leadingZeroBitCount)
            let wait = m.declareRegister("ii_wait", width: cw, repr: .unsigned, comment: "enabled edges before the next sample may be taken")
            let zero = m.define("ii_zero", width: cw, repr: .unsigned, .const(0))
            let one = m.define("ii_one", width: cw, repr: .unsigned, .const(1))
            let reload = m.define("ii_reload", width: cw, repr: .unsigned, .const(BigInt(ii - 1)))
            let ready = m.define("ready", width: 1, repr: .bit, .compare(.eq, wait, zero))
            let take = m.define("take", width: 1, repr: .bit, .bitwise(.and, inValid, ready))
            let dec = m.define("ii_dec", width: cw, repr: .unsigned, .sub(wait, one))
            let idle = m.define("ii_idle", width: cw, repr: .unsigned, .mux(ready, zero, dec))
            m.drive(wait, RegisterDef(d: m.define("ii_next", width: cw, repr: .unsigned, .mux(take, reload, idle)),
                                      clock: clk, enable: ce, reset: RegisterReset(rst, value: 0)))
            m.define(CorePorts.inReady, width: 1, repr: .bit, .copy(ready), role: .output)
            valid = [take]
        }
        // Defined as far as needed, when needed (a design without reuse gets them after its
        // instances, as it always has).
        func validAt(_ s: Int) -> SignalID {
            while valid.count <= s {
                let k = valid.count
                valid.append(m.register("valid_s\(k)", RegisterDef(d: valid[k - 1], clock: clk, enable: ce, reset: RegisterReset(rst, value: 0))))
            }
            return valid[s]
        }
        var offset = 0
        for (i, hw) in layers.enumerated() {
            let instName = "u_\(model.layers[i].name)"
            let outBus = hw.outputSize * hw.outputType.width
            // An open layer left with only dead registers keeps its clk/ce ports (unused, waived):
            // connect whatever ports the module has.
            let hasClock = hw.module.signal(named: CorePorts.clock).map { hw.module.ports.contains($0) } ?? false
            var conns: [(String, SignalID)] = hasClock
                ? [(CorePorts.clock, clk), (CorePorts.enable, ce), (CorePorts.inData, bus)] : [(CorePorts.inData, bus)]
            if hw.isTimeMultiplexed { conns += [(CorePorts.reset, rst), (CorePorts.inValid, validAt(offset))] }
            let k = m.addInstance(Instance(name: instName, module: hw.module.name, connections: conns))
            bus = m.define("\(model.layers[i].name)_out", width: outBus, repr: .bus, .instanceOutput(instance: k, port: CorePorts.outData))
            offset += hw.latency
        }
        let v = validAt(latency)
        m.define(CorePorts.outValid, width: 1, repr: .bit, .copy(v), role: .output)
        m.define(CorePorts.outData, width: m[bus].width, repr: .bus, .copy(bus), role: .output)
        m.latency = latency
        for hw in layers { hw.module.prepareForEmission() }
        m.prepareForEmission()
        return Design(top: m, layers: layers, model: model)
    }
}
