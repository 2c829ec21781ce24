// Netlist clean-up before emission: registers are placed before extensions and
// reinterpretations (so no flip-flop holds a constant or a copy of another bit), a register of a
// constant becomes the constant, and identical nodes and registers are merged. The result is
// what synthesis keeps, so the report's register bits are the flip-flops a tool will see.

extension Module {
    /// Runs every clean-up step and removes dead signals; outputs are unchanged bit for bit
    /// (on every clock edge after each register's first enabled load).
    public func prepareForEmission() {
        verify()
        while hoistRegisterOnce() {}
        mergeIdenticalNodes()
        eliminateDeadSignals()
    }

    /// Operations through which a register may be moved back: they only add constant bits or
    /// reinterpret bits.
    private func isTransparent(_ op: Op) -> SignalID? {
        switch op {
        case let .extend(a), let .copy(a), let .shiftLeft(a, _): return a
        default: return nil
        }
    }

    private func isConstant(_ i: Int) -> Bool {
        var k = i
        while true {
            if case .const = defs[k] { return true }
            guard let a = isTransparent(defs[k]) else { return false }
            k = a.index
        }
    }

    /// One rewrite pass: every register whose next value is an extension, reinterpretation or
    /// left shift of an earlier signal registers that signal instead, and the operation moves
    /// after it; a register of a constant expression becomes that expression. True if anything
    /// changed.
    private func hoistRegisterOnce() -> Bool {
        var newSignals: [Signal] = []
        var newDefs: [Op] = []
        var map = Array(signals.indices)
        var changed = false
        var taken = Set(signals.map { $0.name.lowercased() })
        func fresh(_ base: String) -> String {
            var n = base, k = 2
            while taken.contains(n.lowercased()) { n = "\(base)_\(k)"; k += 1 }
            taken.insert(n.lowercased())
            return n
        }
        // Ops are remapped at the end (registers may read later signals).
        for i in signals.indices {
            if case let .register(r) = defs[i], r.d.index < i {
                if isConstant(r.d.index), r.reset == nil {
                    map[i] = map[r.d.index]  // earlier: already placed
                    changed = true
                    continue
                }
                if let inner = isTransparent(defs[r.d.index]), r.reset == nil {
                    // q' = register(inner); q = op(q')
                    var nr = r
                    nr.d = inner
                    let inSig = signals[inner.index]
                    var q = signals[i]
                    q = Signal(name: q.name, width: inSig.width, repr: inSig.repr, role: .register, comment: q.comment)
                    newSignals.append(q)
                    newDefs.append(.register(nr))
                    let qNew = newSignals.count - 1
                    let outer = signals[r.d.index]
                    newSignals.append(Signal(name: fresh("\(signals[i].name)_\(opTag(defs[r.d.index]))"), width: outer.width,
                                             repr: outer.repr, role: .wire, comment: nil))
                    // The op reads the new register: marked with a negative placeholder resolved below.
                    newDefs.append(defs[r.d.index].replacingOperands { _ in SignalID(index: -1 - qNew) })
                    map[i] = newSignals.count - 1
                    changed = true
                    continue
                }
            }
            newSignals.append(signals[i])
            newDefs.append(defs[i])
            map[i] = newSignals.count - 1
        }
        guard changed else { return false }
        let f: (SignalID) -> SignalID = { $0.index < 0 ? SignalID(index: -1 - $0.index) : SignalID(index: map[$0.index]) }
        replaceContents(signals: newSignals, defs: newDefs.map { $0.replacingOperands(f) },
                        ports: ports.map(f),
                        instances: instances.map { Instance(name: $0.name, module: $0.module, connections: $0.connections.map { ($0.port, f($0.signal)) }) },
                        tables: tables)
        return true
    }

    private func opTag(_ op: Op) -> String {
        switch op {
        case .extend: return "x"
        case .shiftLeft: return "sh"
        default: return "v"
        }
    }

    /// Merges nodes with the same operation on the same operands (and the same width and
    /// representation), registers included, until none is left; the first keeps its name.
    func mergeIdenticalNodes() {
        struct Key: Hashable { let op: Op; let width: Int; let repr: Repr }
        while true {
            var map = Array(signals.indices)
            var seen: [Key: Int] = [:]
            var merged = false
            for i in signals.indices {
                switch defs[i] {
                case .input, .instanceOutput: continue
                default: break
                }
                if signals[i].role == .output { continue }
                let op = defs[i].replacingOperands { SignalID(index: map[$0.index]) }
                let k = Key(op: op, width: signals[i].width, repr: signals[i].repr)
                if let j = seen[k] { map[i] = j; merged = true } else { seen[k] = i }
            }
            guard merged else { return }
            let f: (SignalID) -> SignalID = { SignalID(index: map[$0.index]) }
            replaceContents(signals: signals, defs: defs.map { $0.replacingOperands(f) }, ports: ports,
                            instances: instances.map { Instance(name: $0.name, module: $0.module, connections: $0.connections.map { ($0.port, f($0.signal)) }) },
                            tables: tables)
            eliminateDeadSignals()
        }
    }
}
