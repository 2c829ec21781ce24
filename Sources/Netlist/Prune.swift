// Dead-signal elimination and bit-usage analysis, run before emission so the HDL carries no
// unused wires (lint-clean) and partially used signals are known.

extension Module {
    /// For each signal, whether a port or an instance reads it (through any chain of operands).
    public func liveSignals() -> [Bool] {
        var live = Array(repeating: false, count: signals.count)
        var work: [Int] = []
        func mark(_ i: Int) { if !live[i] { live[i] = true; work.append(i) } }
        for p in ports { mark(p.index) }
        for inst in instances { for c in inst.connections { mark(c.signal.index) } }
        while let i = work.popLast() {
            for o in defs[i].operands { mark(o.index) }
        }
        return live
    }

    /// Removes every signal that no output port, instance input or live register depends on.
    /// Ports are kept. Signal names are unchanged.
    public func eliminateDeadSignals() {
        let live = liveSignals()
        // Instance outputs are live when the instance is (its outputs define its ports).
        var remap = Array(repeating: -1, count: signals.count)
        var newSignals: [Signal] = []
        var newDefs: [Op] = []
        for i in signals.indices where live[i] || {
            if case .instanceOutput = defs[i] { return true }; return false
        }() {
            remap[i] = newSignals.count
            newSignals.append(signals[i])
            newDefs.append(defs[i])
        }
        let f: (SignalID) -> SignalID = { SignalID(index: remap[$0.index]) }
        // Tables still read, renumbered in their original order.
        var tableMap: [Int: Int] = [:]
        var newTables: [RomTable] = []
        for op in newDefs { if case let .rom(_, t) = op, tableMap[t] == nil { tableMap[t] = -1 } }
        for (k, t) in tables.enumerated() where tableMap[k] != nil {
            tableMap[k] = newTables.count
            newTables.append(t)
        }
        newDefs = newDefs.map { op in
            if case let .rom(a, t) = op { return .rom(a, table: tableMap[t]!) }
            return op
        }
        replaceContents(signals: newSignals, defs: newDefs.map { $0.replacingOperands(f) },
                        ports: ports.map(f),
                        instances: instances.map { Instance(name: $0.name, module: $0.module, connections: $0.connections.map { ($0.port, f($0.signal)) }) },
                        tables: newTables)
    }

    /// For each signal, whether every bit is read somewhere (ports and instance inputs count).
    public func fullyUsed() -> [Bool] {
        var used = Array(repeating: [ClosedRange<Int>](), count: signals.count)
        var all = Array(repeating: false, count: signals.count)
        for p in ports where self[p].role == .output { all[p.index] = true }
        for inst in instances { for c in inst.connections { all[c.signal.index] = true } }
        for op in defs {
            if case .slice = op { continue }  // a slice reads only its bits (below)
            for o in op.operands { all[o.index] = true }
        }
        for (i, op) in defs.enumerated() {
            if case let .slice(a, lo) = op { used[a.index].append(lo...(lo + signals[i].width - 1)) }
        }
        return signals.indices.map { i in
            if all[i] { return true }
            var covered = Array(repeating: false, count: signals[i].width)
            for r in used[i] { for b in r { covered[b] = true } }
            return covered.allSatisfy { $0 }
        }
    }
}
