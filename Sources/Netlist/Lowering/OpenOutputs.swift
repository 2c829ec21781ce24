// A layer without its output registers ("open" outputs): its last stage's logic runs on into the
// next layer's first stage, so a layer whose last stage is short does not cost a whole clock of
// its own. DesignLowering uses it only where the pair of layers gets strictly shorter, and never
// on the last layer (the core's outputs stay registered).
import ModelIR

extension LayerHardware {
    /// The module with its output registers removed: latency one less, outputs arriving
    /// `outputArrivalNs` after the last register rank (the delay model's longest path, inputs
    /// arriving `inputArrival` ns into the first stage). With no register left, the module
    /// loses its clk/ce ports and becomes combinational. nil when the module has no output
    /// registers to remove. Consumes `self.module` (lower a fresh copy for this).
    func withoutOutputRegisters(delays: DelayModel, inputArrival: Timing) -> LayerHardware? {
        let m = module
        guard latency >= 1, let out = m.signal(named: CorePorts.outData), case let .concat(parts) = m.op(out) else { return nil }
        let regD = Dictionary(uniqueKeysWithValues: m.registers.map { ($0.q, $0.def.d) })
        guard parts.allSatisfy({ regD[$0] != nil }) else { return nil }
        var defs = m.defs
        defs[out.index] = .concat(parts.map { regD[$0]! })
        // Drop the output registers (now unused) and, with no register left, the clock ports.
        var drop = Set(parts.map { $0.index })
        let registersLeft = m.registers.contains { !drop.contains($0.q.index) }
        if !registersLeft {
            for n in [CorePorts.clock, CorePorts.enable] { if let s = m.signal(named: n) { drop.insert(s.index) } }
        }
        for (i, op) in defs.enumerated() where !drop.contains(i) {
            if op.operands.contains(where: { drop.contains($0.index) }) { return nil }  // clk/ce read by logic
        }
        var remap = Array(repeating: -1, count: defs.count)
        var signals: [Signal] = []
        var newDefs: [Op] = []
        for i in defs.indices where !drop.contains(i) {
            remap[i] = signals.count
            signals.append(m.signals[i])
            newDefs.append(defs[i])
        }
        let f: (SignalID) -> SignalID = { SignalID(index: remap[$0.index]) }
        newDefs = newDefs.map { $0.replacingOperands(f) }
        let ports = m.ports.filter { !drop.contains($0.index) }.map(f)
        let instances = m.instances.map { inst -> Instance in
            var c = inst
            c.connections = inst.connections.map { ($0.port, f($0.signal)) }
            return c
        }
        m.replaceContents(signals: signals, defs: newDefs, ports: ports, instances: instances, tables: m.tables)
        // Timing of every signal after the last register rank (registers at 0, constants nil),
        // by the builder's rules.
        var timing = [Timing?](repeating: nil, count: signals.count)
        for (i, op) in newDefs.enumerated() {
            switch op {
            case .input: timing[i] = inputArrival   // reaches the outputs only when no register is left
            case .register: timing[i] = .registered
            case .const: timing[i] = nil
            default:
                let ops = op.operands
                timing[i] = delays.timing(of: op, width: signals[i].width, operandWidths: ops.map { signals[$0.index].width },
                                          operands: ops.map { timing[$0.index] })
            }
        }
        var hw = LayerHardware(module: m, latency: latency - 1, inputSize: inputSize, inputType: inputType,
                               outputSize: outputSize, outputType: outputType, multipliers: multipliers, adders: adders)
        hw.details = details
        hw.timingOverruns = timingOverruns
        hw.outputTiming = timing[f(out).index] ?? .registered
        if !stageDelaysNs.isEmpty {
            // The last stage's logic now runs on into the next layer (the same paths, no rank).
            hw.stageDelaysNs = stageDelaysNs.dropLast() + [max(stageDelaysNs.last ?? 0, hw.outputArrivalNs)]
        }
        m.latency = latency - 1
        let note = String(format: "latency: %d clock cycle(s) (outputs not registered: they arrive %.2f ns after the last register, in the next layer's first stage)",
                          latency - 1, hw.outputArrivalNs)
        m.header = m.header.map { $0.replacingOccurrences(of: "latency: \(latency) clock cycle(s)", with: note) }
        m.header = m.header.map { $0.hasPrefix(LayerHardware.stageLinePrefix) ? LayerHardware.stageLine(hw.stageDelaysNs, open: true) : $0 }
        return hw
    }
}
