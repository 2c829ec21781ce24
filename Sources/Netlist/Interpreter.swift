// A cycle-based interpreter of the netlist, for fast unit tests of the lowering passes
// (the HDL simulators are the real proof; this catches lowering bugs before HDL exists).
import BigInt

public final class NetlistInterpreter {
    let module: Module
    let library: [String: Module]
    var values: [BigInt]
    var regState: [Int: BigInt] = [:]
    var children: [NetlistInterpreter] = []
    var evaluatedChildren: Set<Int> = []
    let regs: [(q: SignalID, def: RegisterDef)]

    public init(_ module: Module, library: [Module]) {
        module.verify()
        self.module = module
        regs = module.registers
        var lib: [String: Module] = [:]
        for m in library { lib[m.name] = m }
        self.library = lib
        values = Array(repeating: 0, count: module.signals.count)
        for (i, op) in module.defs.enumerated() {
            if case .register = op { regState[i] = 0 }
        }
        children = module.instances.map { NetlistInterpreter(lib[$0.module]!, library: library) }
    }

    static func normalize(_ v: BigInt, width: Int, repr: Repr) -> BigInt {
        let m = BigInt(1) << width
        var r = v % m
        if r < 0 { r += m }
        if repr == .signed && r >= (m >> 1) { r -= m }
        return r
    }

    func bits(_ id: SignalID) -> BigInt {
        let s = module[id]
        return Self.normalize(values[id.index], width: s.width, repr: .unsigned)
    }

    /// Sets input ports and evaluates all combinational logic.
    public func evaluate(inputs: [String: BigInt]) {
        evaluatedChildren = []
        for (i, op) in module.defs.enumerated() {
            let s = module.signals[i]
            var v: BigInt
            switch op {
            case .input:
                v = inputs[s.name] ?? 0
            case .register: v = regState[i]!
            case let .instanceOutput(k, port):
                let child = children[k]
                if !evaluatedChildren.contains(k) {
                    var ins: [String: BigInt] = [:]
                    for (p, sig) in module.instances[k].connections { ins[p] = bits(sig) }
                    child.evaluate(inputs: ins)
                    evaluatedChildren.insert(k)
                }
                v = child.output(port)
            default:
                v = module.apply(op, width: s.width, value: { self.values[$0.index] }, bits: { self.bits($0) })
            }
            values[i] = Self.normalize(v, width: s.width, repr: s.repr)
        }
    }

    /// A port or signal value as raw bits.
    public func output(_ name: String) -> BigInt {
        guard let id = module.signal(named: name) else { preconditionFailure("no signal \(name)") }
        return bits(id)
    }

    /// A rising edge of the (single) clock: each register loads its reset value when its reset
    /// is active, else its next value when its enable is high (or it has none). Every register
    /// reads the values of the last `evaluate`, so the edge is simultaneous.
    public func clock() {
        for (q, r) in regs {
            if let z = r.reset, (values[z.signal.index] != 0) != z.activeLow {
                regState[q.index] = z.value
            } else if r.enable.map({ values[$0.index] != 0 }) ?? true {
                regState[q.index] = values[r.d.index]
            }
        }
        for c in children { c.clock() }
    }
}

extension Module {
    /// The value of a combinational operation, given its operands' values (normalized to their
    /// representation) and raw bits; the caller normalizes the result to the signal's width
    /// and representation. The one definition of each operation's meaning, used by the
    /// interpreter and by constant folding.
    func apply(_ op: Op, width: Int, value: (SignalID) -> BigInt, bits: (SignalID) -> BigInt) -> BigInt {
        var v: BigInt = 0
        switch op {
        case let .const(c): v = c
        case let .extend(a): v = value(a)
        case let .slice(a, lo): v = bits(a) >> lo
        case let .shiftLeft(a, n): v = value(a) << n
        case let .add(a, b): v = value(a) + value(b)
        case let .sub(a, b): v = value(a) - value(b)
        case let .neg(a): v = -value(a)
        case let .mul(a, b): v = value(a) * value(b)
        case let .mux(sel, a, b): v = value(sel) != 0 ? value(a) : value(b)
        case let .compare(c, a, b):
            let x = value(a), y = value(b)
            let r: Bool
            switch c {
            case .lt: r = x < y
            case .le: r = x <= y
            case .gt: r = x > y
            case .ge: r = x >= y
            case .eq: r = x == y
            case .ne: r = x != y
            }
            v = r ? 1 : 0
        case let .bitwise(o, a, b):
            let x = bits(a), y = bits(b)
            switch o {
            case .and: v = x & y
            case .or: v = x | y
            case .xor: v = x ^ y
            }
        case let .not(a): v = ((BigInt(1) << width) - 1) ^ bits(a)
        case let .reduceOr(a): v = bits(a) != 0 ? 1 : 0
        case let .concat(xs):
            v = 0
            for x in xs { v = (v << self[x].width) | bits(x) }
        case let .copy(a): v = bits(a)
        case let .rom(a, t): v = tables[t].values[Int(bits(a))]
        case .input, .register, .instanceOutput:
        preconditionFailure("netlist: \(op) is not combinational")
        }
        return v
    }
}
