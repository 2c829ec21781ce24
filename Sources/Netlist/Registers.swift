// Netlist clean-up before emission: registers are placed before extensions and
// reinterpretations (so no flip-flop holds a constant or a copy of another bit), a register of a
// constant becomes the constant, and identical nodes and registers are merged. The result is
// what synthesis keeps, so the report's register bits are the flip-flops a tool will see.

extension Module {
    /// Runs every clean-up step and removes dead signals; outputs are unchanged bit for bit
    /// (on every clock edge after each register's first enabled load).
    public func prepareForEmission() {
        verify()
        hoistRegisters()
        mergeIdenticalNodes()
        eliminateDeadSignals()
    }

    /// Operations through which a register may be moved back: they only add constant bits or
    /// reinterpret bits.
    private static func transparentOperand(_ op: Op) -> SignalID? {
        switch op {
        case let .extend(a), let .copy(a), let .shiftLeft(a, _): return a
        default: return nil
        }
    }

    /// Every register whose next value is an extension, reinterpretation or left shift of an
    /// earlier signal registers that signal instead, and the operation moves after it (through
    /// chains of such operations and of registers, in one pass: definition order sees a
    /// register's next value rewritten before the register); a register of a constant
    /// expression becomes that expression. Registers with a reset keep their place.
    private func hoistRegisters() {
        var newSignals: [Signal] = []
        var newDefs: [Op] = []
        var map = Array(repeating: -1, count: signals.count)
        var changed = false
        var taken = Set(signals.map { $0.name.lowercased() })
        func fresh(_ base: String) -> String {
            var n = base, k = 2
            while taken.contains(n.lowercased()) { n = "\(base)_\(k)"; k += 1 }
            taken.insert(n.lowercased())
            return n
        }
        // Operands of `newDefs` are new indices for earlier signals; later ones (a register's
        // feedback) are old indices marked negative, resolved at the end.
        func mapped(_ x: SignalID, before i: Int) -> SignalID { x.index < i ? SignalID(index: map[x.index]) : SignalID(index: -1 - x.index) }
        func isConstant(_ k: Int) -> Bool {
            var k = k
            while true {
                if case .const = newDefs[k] { return true }
                guard let a = Self.transparentOperand(newDefs[k]) else { return false }
                k = a.index
            }
        }
        for i in signals.indices {
            let op = defs[i].replacingOperands { mapped($0, before: i) }
            if case let .register(r) = op, r.d.index >= 0, r.reset == nil {
                let d = r.d.index
                if isConstant(d) {
                    map[i] = d
                    changed = true
                    continue
                }
                if Self.transparentOperand(newDefs[d]) != nil {
                    // Peel the whole chain of extensions / copies / shifts down to its base.
                    var chain: [Int] = []
                    var base = d
                    while let inner = Self.transparentOperand(newDefs[base]) { chain.append(base); base = inner.index }
                    // q' = register(base) under q's name, then the chain rebuilt on q'.
                    var nr = r
                    nr.d = SignalID(index: base)
                    let inSig = newSignals[base]
                    newSignals.append(Signal(name: signals[i].name, width: inSig.width, repr: inSig.repr, role: .register, comment: signals[i].comment))
                    newDefs.append(.register(nr))
                    var cur = SignalID(index: newSignals.count - 1)
                    for k in chain.reversed() {
                        let outer = newSignals[k]
                        newSignals.append(Signal(name: fresh("\(signals[i].name)_\(Self.opTag(newDefs[k]))"), width: outer.width,
                                                 repr: outer.repr, role: .wire, comment: nil))
                        let operand = cur
                        newDefs.append(newDefs[k].replacingOperands { _ in operand })
                        cur = SignalID(index: newSignals.count - 1)
                    }
                    map[i] = cur.index
                    changed = true
                    continue
                }
            }
            newSignals.append(signals[i])
            newDefs.append(op)
            map[i] = newSignals.count - 1
        }
        guard changed else { return }
        let f: (SignalID) -> SignalID = { $0.index < 0 ? SignalID(index: map[-1 - $0.index]) : $0 }
        let g: (SignalID) -> SignalID = { SignalID(index: map[$0.index]) }
        replaceContents(signals: newSignals, defs: newDefs.map { $0.replacingOperands(f) },
                        ports: ports.map(g),
                        instances: instances.map { Instance(name: $0.name, module: $0.module, connections: $0.connections.map { ($0.port, g($0.signal)) }) },
                        tables: tables)
    }

    private static func opTag(_ op: Op) -> String {
        switch op {
        case .extend: return "x"
        case .shiftLeft: return "sh"
        default: return "v"
        }
    }

    /// Merges nodes with the same operation on the same operands (and the same width and
    /// representation), registers included; the first keeps its name. One pass in definition
    /// order merges everything except behind a feedback register, which takes further passes.
    func mergeIdenticalNodes() {
        while true {
            var map = Array(signals.indices)
            var seen: [NodeKey: Int] = [:]
            var merged = false
            var forward = false
            for i in signals.indices {
                switch defs[i] {
                case .input, .instanceOutput: continue
                default: break
                }
                if signals[i].role == .output { continue }
                if defs[i].isRegister && defs[i].operands.contains(where: { $0.index >= i }) { forward = true }
                let op = defs[i].replacingOperands { SignalID(index: map[$0.index]) }
                let k = NodeKey(op: op, width: signals[i].width, repr: signals[i].repr)
                if let j = seen[k] { map[i] = j; merged = true } else { seen[k] = i }
            }
            guard merged else { return }
            let f: (SignalID) -> SignalID = { SignalID(index: map[$0.index]) }
            replaceContents(signals: signals, defs: defs.map { $0.replacingOperands(f) }, ports: ports,
                            instances: instances.map { Instance(name: $0.name, module: $0.module, connections: $0.connections.map { ($0.port, f($0.signal)) }) },
                            tables: tables)
            eliminateDeadSignals()
            if !forward { return }
        }
    }
}
