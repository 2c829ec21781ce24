// VHDL-93 (numeric_std) emitter, from the same netlist and the same `EmissionPlan` as the
// Verilog emitter: the same names, the same inlined expressions. Ports are std_logic /
// std_logic_vector; arithmetic signals are signed / unsigned; every conversion and every
// resize is written out. Valid VHDL-93 and VHDL-2008.
import BigInt
import Netlist

public enum VHDLEmitter {
    /// The most names one signal or variable declaration holds.
    static let namesPerDeclaration = 6

    /// For each named combinational node, the register group (index into `groups`) whose
    /// process computes it as a variable: nodes read only by the registers of one group without
    /// reset (directly, or through other such nodes). Same logic, far fewer simulator events.
    static func localNodes(_ m: Module, plan: EmissionPlan, groups: [(RegisterControl, [SignalID])]) -> [Int?] {
        let n = m.signals.count
        var groupOf = Array<Int?>(repeating: nil, count: n)
        for (g, (ctl, regs)) in groups.enumerated() where ctl.reset == nil { for q in regs { groupOf[q.index] = g } }
        // The named nodes whose lines contain node i (several for wiring written at each reader).
        var hosts = (0..<n).map { [$0] }
        var readers = Array(repeating: [Int](), count: n)
        for i in 0..<n { for o in m.defs[i].operands { readers[o.index].append(i) } }
        for i in (0..<n).reversed() where plan.inline[i] {
            hosts[i] = Array(Set(readers[i].flatMap { hosts[$0] })).sorted()
        }
        var namedReaders = Array(repeating: Set<Int>(), count: n)
        for i in 0..<n { for o in m.defs[i].operands { namedReaders[o.index].formUnion(hosts[i]) } }
        var external = Array(repeating: false, count: n)
        for inst in m.instances { for c in inst.connections { external[c.signal.index] = true } }
        // A register control (clock, enable, reset) is tested before the process computes its
        // variables: it must be a signal.
        for (ctl, _) in groups {
            external[ctl.clock.index] = true
            if let e = ctl.enable { external[e.index] = true }
            if let z = ctl.reset { external[z.signal.index] = true }
        }
        var local = Array<Int?>(repeating: nil, count: n)
        for i in (0..<n).reversed() {
            guard plan.isDeclared(i), !external[i] else { continue }
            switch m.defs[i] {
            case .const, .register, .instanceOutput, .input: continue
            default: break
            }
            let rs = namedReaders[i]
            guard let first = rs.first else { continue }
            let g = m.defs[first].isRegister ? groupOf[first] : local[first]
            guard let g else { continue }
            if rs.allSatisfy({ (m.defs[$0].isRegister ? groupOf[$0] : local[$0]) == g }) {
                local[i] = g
            }
        }
        return local
    }

    public static func emit(_ m: Module) -> String {
        m.verify()
        let plan = EmissionPlan(m)
        let r = Renderer(m: m, plan: plan)
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
        let groups = VerilogEmitter.registerGroups(m)
        let local = localNodes(m, plan: plan, groups: groups)
        func comment(_ i: Int) -> String {
            plan.comments[i].isEmpty ? "" : " -- " + plan.comments[i].joined(separator: "; ")
        }
        /// Declarations in definition order; a run of objects of the same type without comments
        /// shares a line (up to `namesPerDeclaration` names), as VHDL writers do by hand.
        func declarations(_ kind: String, _ ids: [Int], indent: String) -> String {
            var t = ""
            var k = 0
            while k < ids.count {
                let ty = type(m.signals[ids[k]])
                var names = [m.signals[ids[k]].name]
                if plan.comments[ids[k]].isEmpty {
                    while k + names.count < ids.count, names.count < namesPerDeclaration,
                          plan.comments[ids[k + names.count]].isEmpty, type(m.signals[ids[k + names.count]]) == ty {
                        names.append(m.signals[ids[k + names.count]].name)
                    }
                }
                t += "\(indent)\(kind) \(names.joined(separator: ", ")) : \(ty);\(comment(ids[k]))\n"
                k += names.count
            }
            return t
        }
        for t in m.tables {
            let elem = Signal(name: t.name, width: t.width, repr: t.repr, role: .wire, comment: nil)
            if let c = t.comment { o += "  -- \(c)\n" }
            o += "  type \(t.name)_t is array (0 to \(t.values.count - 1)) of \(type(elem));\n"
            o += "  constant \(t.name) : \(t.name)_t := (\n"
            o += t.values.enumerated().map { k, v in "    \(k) => \(bits(v, elem))" }.joined(separator: ",\n")
            o += "\n  );\n"
        }
        var signals: [Int] = []
        for i in m.signals.indices where plan.isDeclared(i) && local[i] == nil {
            let s = m.signals[i]
            if case let .const(v) = m.defs[i] {
                o += declarations("signal", signals, indent: "  ")
                signals = []
                o += "  constant \(s.name) : \(type(s)) := \(bits(v, s));\(comment(i))\n"
            } else {
                signals.append(i)
            }
        }
        o += declarations("signal", signals, indent: "  ")
        o += "begin\n"
        for i in m.signals.indices where plan.isDeclared(i) && local[i] == nil {
            switch m.defs[i] {
            case .const, .register, .instanceOutput, .input: continue
            default: o += r.statement(i, variable: false, indent: "  ")
            }
        }
        for p in m.ports where m[p].role == .output { o += r.statement(p.index, variable: false, indent: "  ") }
        for (k, inst) in m.instances.enumerated() {
            let conns = m.connections(ofInstance: k).map { "\($0.port) => \(m[$0.signal].name)" }
            o += "\n  \(inst.name) : entity work.\(inst.module)\n    port map (\n      " + conns.joined(separator: ",\n      ") + "\n    );\n"
        }
        for (g, (ctl, regs)) in groups.enumerated() {
            let vars = m.signals.indices.filter { local[$0] == g }
            o += "\n  process (\(m[ctl.clock].name))\n"
            o += declarations("variable", vars, indent: "    ")
            o += "  begin\n    if rising_edge(\(m[ctl.clock].name)) then\n"
            var indent = "      "
            var closing = ""
            if let z = ctl.reset {
                o += "      if \(m[z.signal].name) = '\(z.activeLow ? 0 : 1)' then\n"
                for q in regs { o += "        \(m[q].name) <= \(bits(m.resetValue(q), m[q]));\n" }
                if let e = ctl.enable { o += "      elsif \(m[e].name) = '1' then\n" } else { o += "      else\n" }
                indent = "        "
                closing = "      end if;\n"
            } else if let e = ctl.enable {
                o += "      if \(m[e].name) = '1' then\n"
                indent = "        "
                closing = "      end if;\n"
            }
            for i in vars { o += r.statement(i, variable: true, indent: indent) }
            for q in regs {
                guard case let .register(d) = m.defs[q.index] else { continue }
                var line = "\(indent)\(m[q].name) <= \(r.operand(d.d.index, top: true));"
                let cs = plan.comments(inlined: d.d.index)
                if !cs.isEmpty { line += " -- " + cs.joined(separator: "; ") }
                o += line + "\n"
            }
            o += closing + "    end if;\n  end process;\n"
        }
        o += "end architecture rtl;\n"
        return o
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

    /// A bit-string literal (typed by its context): '0' / "0101".
    static func bits(_ v: BigInt, _ s: Signal) -> String {
        let m = BigInt(1) << s.width
        var b = v % m
        if b < 0 { b += m }
        let t = String(b, radix: 2)
        let padded = String(repeating: "0", count: s.width - t.count) + t
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

    struct Renderer {
        let m: Module
        let plan: EmissionPlan

        func operand(_ i: Int, top: Bool = false) -> String {
            guard plan.inline[i] else { return m.signals[i].name }
            let e = expr(i)
            if top { return e }
            switch m.defs[i] {
            case .add, .sub, .neg, .bitwise, .not, .concat: return "(\(e))"
            case let .extend(a) where m[a].repr == .bit: return "(\(e))"
            default: return e
            }
        }

        /// The condition under which a selection takes its first operand.
        func condition(_ sel: SignalID) -> String {
            if plan.inline[sel.index], case let .compare(c, a, b) = m.defs[sel.index] {
                return "\(operand(a.index)) \(c.rawValue) \(operand(b.index))"
            }
            return "\(operand(sel.index)) = '1'"
        }

        /// A selection and the selections inlined in its else branch: (condition, value) arms,
        /// the last with no condition.
        func chain(_ i: Int) -> [(cond: String?, value: String)] {
            guard case let .mux(sel, a, b) = m.defs[i] else { return [(nil, operand(i))] }
            let rest: [(cond: String?, value: String)]
            if plan.inline[b.index], case .mux = m.defs[b.index] { rest = chain(b.index) } else { rest = [(nil, operand(b.index))] }
            return [(condition(sel), operand(a.index))] + rest
        }

        /// A self-typed literal: to_signed / to_unsigned for values that fit an integer,
        /// a qualified bit string otherwise.
        func literal(_ v: BigInt, _ s: Signal) -> String {
            switch s.repr {
            case .bit: return VHDLEmitter.bits(v, s)
            case .bus: return "std_logic_vector'(\(VHDLEmitter.bits(v, s)))"
            case .signed:
                if s.width <= 31 { return "to_signed(\(v), \(s.width))" }
                return "signed'(\(VHDLEmitter.bits(v, s)))"
            case .unsigned:
                if s.width <= 31 { return "to_unsigned(\(v), \(s.width))" }
                return "unsigned'(\(VHDLEmitter.bits(v, s)))"
            }
        }

        /// One assignment: a concurrent signal assignment, or a sequential variable assignment
        /// (VHDL-93 has no conditional variable assignment, so those become if statements).
        func statement(_ i: Int, variable: Bool, indent: String) -> String {
            let target = m.signals[i].name
            let asg = variable ? ":=" : "<="
            let op = m.defs[i]
            func n(_ x: SignalID) -> String { operand(x.index) }
            if case .mux = op {
                let arms = chain(i)
                if variable {
                    var t = "\(indent)if \(arms[0].cond!) then \(target) := \(arms[0].value);"
                    for arm in arms.dropFirst() {
                        if let c = arm.cond { t += " elsif \(c) then \(target) := \(arm.value);" } else { t += " else \(target) := \(arm.value);" }
                    }
                    return t + " end if;\n"
                }
                let t = arms.map { arm in arm.cond.map { "\(arm.value) when \($0) else " } ?? arm.value }.joined()
                return "\(indent)\(target) <= \(t);\n"
            }
            if variable {
                func choose(_ cond: String, _ a: String, _ b: String) -> String {
                    "\(indent)if \(cond) then \(target) := \(a); else \(target) := \(b); end if;\n"
                }
                switch op {
                case let .compare(cmp, a, b): return choose("\(n(a)) \(cmp.rawValue) \(n(b))", "'1'", "'0'")
                case let .reduceOr(a) where m[a].repr != .bit:
                    return choose(m[a].repr == .bus ? "unsigned(\(n(a))) /= 0" : "\(n(a)) /= 0", "'1'", "'0'")
                default: break
                }
            }
            switch op {
            case let .compare(cmp, a, b): return "\(indent)\(target) \(asg) '1' when \(n(a)) \(cmp.rawValue) \(n(b)) else '0';\n"
            case let .reduceOr(a) where m[a].repr != .bit:
                let cond = m[a].repr == .bus ? "unsigned(\(n(a))) /= 0" : "\(n(a)) /= 0"
                return "\(indent)\(target) \(asg) '1' when \(cond) else '0';\n"
            case let .extend(a) where m[a].repr == .bit && m.signals[i].width == 1:
                return "\(indent)\(target) \(asg) (0 => \(n(a)));\n"
            case let .concat(xs) where xs.count == 1 && m[xs[0]].repr == .bit:
                return "\(indent)\(target) \(asg) (0 => \(n(xs[0])));\n"
            default:
                return "\(indent)\(target) \(asg) \(expr(i));\n"
            }
        }

        func expr(_ i: Int) -> String {
            let s = m.signals[i]
            func n(_ x: SignalID) -> String { operand(x.index) }
            switch m.defs[i] {
            case .input, .register, .instanceOutput:
                return s.name
            case let .const(v):
                return literal(v, s)
            case let .extend(a):
                let src = m[a]
                if src.repr == .bit {
                    // Zero extension of a bit: an integer zero of the other bits, then the bit.
                    precondition(s.width > 1, "VHDL: a 1-bit extension of a bit is a statement")
                    return "\(s.repr == .signed ? "to_signed" : "to_unsigned")(0, \(s.width - 1)) & \(n(a))"
                }
                if src.width == s.width { return conv(n(a), from: src.repr, to: s.repr) }
                return conv("resize(\(n(a)), \(s.width))", from: src.repr, to: s.repr)
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
                let wa = m[a].width, wb = m[b].width, w = s.width
                let sg = s.repr == .signed
                let to = sg ? "to_signed" : "to_unsigned"
                // Products that fit a VHDL integer are computed as integers (the same value,
                // far cheaper to simulate); a product narrower than the exact one keeps its low
                // w bits (mod 2^w), as in Verilog.
                let fitsInteger = sg ? wa + wb <= 31 : wa + wb <= 30
                if fitsInteger {
                    func int(_ x: SignalID) -> String {
                        if plan.inline[x.index], case let .const(v) = m.defs[x.index] { return v < 0 ? "(\(v))" : "\(v)" }
                        return "to_integer(\(n(x)))"
                    }
                    let prod = "\(int(a)) * \(int(b))"
                    if w == wa + wb { return "\(to)(\(prod), \(w))" }
                    let low = "to_unsigned((\(prod)) mod 2**\(w), \(w))"
                    return sg ? "signed(\(low))" : low
                }
                if w == wa + wb { return "\(n(a)) * \(n(b))" }
                return sg ? "signed(resize(unsigned(\(n(a)) * \(n(b))), \(w)))" : "resize(\(n(a)) * \(n(b)), \(w))"
            case let .bitwise(o, a, b): return "\(n(a)) \(o.rawValue) \(n(b))"
            case let .not(a): return "not \(n(a))"
            case let .reduceOr(a):
                precondition(m[a].repr == .bit, "VHDL: an or-reduction is a statement")
                return n(a)
            case let .concat(xs):
                let parts = xs.map { x -> String in
                    let sx = m[x]
                    return sx.repr == .bit ? n(x) : conv(n(x), from: sx.repr, to: .bus)
                }
                if xs.count == 1 { return conv(parts[0], from: .bus, to: s.repr) }
                let cat = parts.joined(separator: " & ")
                if s.repr == .bus { return cat }
                return "\(s.repr == .signed ? "signed" : "unsigned")(std_logic_vector'(\(cat)))"
            case let .copy(a):
                let src = m[a]
                return conv(n(a), from: src.repr, to: s.repr)
            case let .rom(a, t):
                let src = m[a]
                return "\(m.tables[t].name)(to_integer(\(conv(n(a), from: src.repr, to: .unsigned))))"
            case .mux, .compare:
                preconditionFailure("VHDL: a conditional is a statement, not an expression")
            }
        }
    }
}

