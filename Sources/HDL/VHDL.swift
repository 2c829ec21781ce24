// VHDL-93 (numeric_std) emitter, from the same netlist as the Verilog emitter. Ports are
// std_logic / std_logic_vector; arithmetic signals are signed / unsigned; every conversion is
// written out. Valid VHDL-93 and VHDL-2008.
import BigInt
import Netlist

public enum VHDLEmitter {
    /// Combinational nodes whose every reader is a (non-reset) register or another such node
    /// become variables of the clocked process: the same logic, far fewer simulator events.
    static func localNodes(_ m: Module) -> [Bool] {
        var users = Array(repeating: [Int](), count: m.signals.count)
        for (i, op) in m.defs.enumerated() { for o in op.operands { users[o.index].append(i) } }
        var external = Array(repeating: false, count: m.signals.count)
        for inst in m.instances { for c in inst.connections { external[c.signal.index] = true } }
        var local = Array(repeating: false, count: m.signals.count)
        for i in m.signals.indices.reversed() {
            let s = m.signals[i]
            switch m.defs[i] {
            case .input, .const, .register, .instanceOutput: continue
            default: break
            }
            if s.role == .output || external[i] || users[i].isEmpty { continue }
            local[i] = users[i].allSatisfy { u in
                if case let .register(_, r) = m.defs[u] { return r == nil }
                return local[u]
            }
        }
        return local
    }

    public static func emit(_ m: Module) -> String {
        var o = ""
        o += "-- \(VerilogEmitter.generatedBy)\n"
        for h in m.header { o += "-- \(h)\n" }
        o += "\nlibrary ieee;\nuse ieee.std_logic_1164.all;\nuse ieee.numeric_std.all;\n\n"
        o += "entity \(m.name) is\n  port (\n"
        let ports = m.ports.map { id -> String in
            let s = m[id]
            return "    \(s.name) : \(s.role == .input ? "in " : "out") \(portType(s))"
        }
        o += ports.joined(separator: ";\n") + "\n  );\nend entity \(m.name);\n\n"
        o += "architecture rtl of \(m.name) is\n"
        let local = localNodes(m)
        func decl(_ s: Signal, _ kw: String, _ initial: String = "") -> String {
            var line = "\(kw) \(s.name) : \(type(s))\(initial);"
            if let c = s.comment { line += " -- \(c)" }
            return line + "\n"
        }
        for t in m.tables {
            let elem = Signal(name: t.name, width: t.width, repr: t.repr, role: .wire, comment: nil)
            if let c = t.comment { o += "  -- \(c)\n" }
            o += "  type \(t.name)_t is array (0 to \(t.values.count - 1)) of \(type(elem));\n"
            o += "  constant \(t.name) : \(t.name)_t := (\n"
            o += t.values.enumerated().map { k, v in "    \(k) => \(literal(v, elem))" }.joined(separator: ",\n")
            o += "\n  );\n"
        }
        for (i, s) in m.signals.enumerated() where s.role != .input && s.role != .output && !local[i] {
            if case let .const(v) = m.defs[i] {
                o += "  " + decl(s, "constant", " := \(literal(v, s))")
            } else {
                o += "  " + decl(s, "signal")
            }
        }
        o += "begin\n"
        for (i, op) in m.defs.enumerated() where !local[i] {
            if case .const = op { continue }
            o += statement(op, SignalID(index: i), m, variable: false, indent: "  ")
        }
        for (k, inst) in m.instances.enumerated() {
            let conns = m.connections(ofInstance: k).map { "\($0.port) => \(m[$0.signal].name)" }
            o += "\n  \(inst.name) : entity work.\(inst.module)\n    port map (\n      " + conns.joined(separator: ",\n      ") + "\n    );\n"
        }
        let withReset = m.registers.filter { $0.reset != nil }
        let plain = m.registers.filter { $0.reset == nil }
        if !withReset.isEmpty {
            o += "\n  process (clk)\n  begin\n    if rising_edge(clk) then\n      if rst = '1' then\n"
            for (q, _, r) in withReset { o += "        \(m[q].name) <= \(literal(r!, m[q]));\n" }
            o += "      elsif ce = '1' then\n"
            for (q, d, _) in withReset { o += "        \(m[q].name) <= \(m[d].name);\n" }
            o += "      end if;\n    end if;\n  end process;\n"
        }
        if !plain.isEmpty {
            o += "\n  -- Pipeline registers; the logic between them is computed in variables.\n"
            o += "  process (clk)\n"
            for (i, s) in m.signals.enumerated() where local[i] { o += "    " + decl(s, "variable") }
            o += "  begin\n    if rising_edge(clk) then\n      if ce = '1' then\n"
            for (i, op) in m.defs.enumerated() where local[i] {
                o += statement(op, SignalID(index: i), m, variable: true, indent: "        ")
            }
            for (q, d, _) in plain { o += "        \(m[q].name) <= \(m[d].name);\n" }
            o += "      end if;\n    end if;\n  end process;\n"
        }
        o += "end architecture rtl;\n"
        return o
    }

    /// One assignment: a concurrent signal assignment, or a sequential variable assignment
    /// (VHDL-93 has no conditional variable assignment, so those become if statements).
    static func statement(_ op: Op, _ id: SignalID, _ m: Module, variable: Bool, indent: String) -> String {
        let target = m[id].name
        let asg = variable ? ":=" : "<="
        func n(_ x: SignalID) -> String { m[x].name }
        if variable {
            func choose(_ cond: String, _ a: String, _ b: String) -> String {
                "\(indent)if \(cond) then \(target) := \(a); else \(target) := \(b); end if;\n"
            }
            switch op {
            case let .mux(sel, a, b): return choose("\(n(sel)) = '1'", n(a), n(b))
            case let .compare(c, a, b): return choose("\(n(a)) \(c.rawValue) \(n(b))", "'1'", "'0'")
            case let .reduceOr(a) where m[a].repr != .bit:
                return choose(m[a].repr == .bus ? "unsigned(\(n(a))) /= 0" : "\(n(a)) /= 0", "'1'", "'0'")
            default: break
            }
        }
        guard let e = expr(op, id, m) else { return "" }
        return "\(indent)\(target) \(asg) \(e);\n"
    }

    static func portType(_ s: Signal) -> String {
        s.repr == .bit ? "std_logic" : "std_logic_vector(\(s.width - 1) downto 0)"
    }

    static func type(_ s: Signal) -> String {
        switch s.repr {
        case .bit: return "std_logic"
        case .bus: return "std_logic_vector(\(s.width - 1) downto 0)"
        case .signed: return "signed(\(s.width - 1) downto 0)"
        case .unsigned: return "unsigned(\(s.width - 1) downto 0)"
        }
    }

    static func literal(_ v: BigInt, _ s: Signal) -> String {
        let m = BigInt(1) << s.width
        var bits = v % m
        if bits < 0 { bits += m }
        let b = String(bits, radix: 2)
        let padded = String(repeating: "0", count: s.width - b.count) + b
        return s.repr == .bit ? "'\(padded)'" : "\"\(padded)\""
    }

    /// `name` (of representation `from`) converted to representation `to` (same width).
    static func conv(_ name: String, from: Repr, to: Repr) -> String {
        if from == to { return name }
        switch to {
        case .signed: return "signed(\(name))"
        case .unsigned: return "unsigned(\(name))"
        case .bus: return "std_logic_vector(\(name))"
        case .bit: preconditionFailure("conversion of a vector to a bit")
        }
    }

    static func expr(_ op: Op, _ id: SignalID, _ m: Module) -> String? {
        let s = m[id]
        func n(_ x: SignalID) -> String { m[x].name }
        switch op {
        case .input, .register, .instanceOutput, .const:
            return nil
        case let .extend(a):
            let src = m[a]
            if src.repr == .bit {
                return s.width == 1 ? "(0 => \(src.name))" : "(0 => \(src.name), others => '0')"
            }
            if src.width == s.width { return conv(src.name, from: src.repr, to: s.repr) }
            return conv("resize(\(src.name), \(s.width))", from: src.repr, to: s.repr)
        case let .slice(a, lo):
            let src = m[a]
            if s.repr == .bit { return src.repr == .bit ? src.name : "\(src.name)(\(lo))" }
            precondition(src.repr != .bit, "vector slice of a bit")
            return conv("\(src.name)(\(lo + s.width - 1) downto \(lo))", from: src.repr, to: s.repr)
        case let .shiftLeft(a, k):
            return "shift_left(resize(\(n(a)), \(s.width)), \(k))"
        case let .add(a, b): return "\(n(a)) + \(n(b))"
        case let .sub(a, b): return "\(n(a)) - \(n(b))"
        case let .neg(a): return "-\(n(a))"
        case let .mul(a, b):
            // Products that fit a VHDL integer are computed as integers: the same value (the
            // netlist's product width is the exact sum of operand widths), far cheaper to simulate.
            if s.width <= 31 {
                return "to_\(s.repr == .signed ? "signed" : "unsigned")(to_integer(\(n(a))) * to_integer(\(n(b))), \(s.width))"
            }
            return "\(n(a)) * \(n(b))"
        case let .mux(sel, a, b): return "\(n(a)) when \(n(sel)) = '1' else \(n(b))"
        case let .compare(c, a, b): return "'1' when \(n(a)) \(c.rawValue) \(n(b)) else '0'"
        case let .bitwise(o, a, b): return "\(n(a)) \(o.rawValue) \(n(b))"
        case let .not(a): return "not \(n(a))"
        case let .reduceOr(a):
            let src = m[a]
            switch src.repr {
            case .bit: return src.name
            case .bus: return "'1' when unsigned(\(src.name)) /= 0 else '0'"
            default: return "'1' when \(src.name) /= 0 else '0'"
            }
        case let .concat(xs):
            if xs.count == 1 && m[xs[0]].repr == .bit { return "(0 => \(n(xs[0])))" }
            let parts = xs.map { x -> String in
                let sx = m[x]
                return sx.repr == .bit ? sx.name : conv(sx.name, from: sx.repr, to: .bus)
            }
            let cat = parts.joined(separator: " & ")
            if s.repr == .bus { return cat }
            return xs.count == 1 ? conv(parts[0], from: .bus, to: s.repr) : "\(s.repr == .signed ? "signed" : "unsigned")(std_logic_vector'(\(cat)))"
        case let .copy(a):
            let src = m[a]
            return conv(src.name, from: src.repr, to: s.repr)
        case let .rom(a, t):
            let src = m[a]
            return "\(m.tables[t].name)(to_integer(\(conv(src.name, from: src.repr, to: .unsigned))))"
        }
    }
}
