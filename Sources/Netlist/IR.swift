// The hardware netlist IR. Every value has an explicit width and representation; every operator
// states its operand types and the builder checks them, so a width mismatch is a generator bug
// caught here, never an implicit HDL width rule. Verilog and VHDL are both printed from this IR.
import BigInt

/// How a value is represented. `signed`/`unsigned` carry arithmetic (VHDL numeric_std types);
/// `bit` is a 1-bit control or boolean (std_logic); `bus` is raw bits (std_logic_vector), used
/// for ports and connections between modules.
public enum Repr: Sendable, Equatable {
    case signed, unsigned, bit, bus
}

public struct SignalID: Hashable, Comparable, Sendable {
    public let index: Int
    public init(index: Int) { self.index = index }
    public static func < (a: SignalID, b: SignalID) -> Bool { a.index < b.index }
}

public enum SignalRole: Sendable, Equatable {
    case input, output, wire, register
}

public struct Signal: Sendable {
    public let name: String
    public let width: Int
    public let repr: Repr
    public var role: SignalRole
    public var comment: String?
    public init(name: String, width: Int, repr: Repr, role: SignalRole, comment: String? = nil) {
        self.name = name
        self.width = width
        self.repr = repr
        self.role = role
        self.comment = comment
    }
}

/// A synchronous reset: when `signal` is at its active level (high, or low if `activeLow`), the
/// register loads `value` on the clock edge, whatever its enable.
public struct RegisterReset: Sendable, Hashable {
    public var signal: SignalID
    public var value: BigInt
    public var activeLow: Bool
    public init(_ signal: SignalID, value: BigInt, activeLow: Bool = false) {
        self.signal = signal
        self.value = value
        self.activeLow = activeLow
    }
}

/// A register's next value and its control: clock, optional enable, optional synchronous reset.
/// All are signals of the module (operands), never names.
public struct RegisterDef: Sendable, Hashable {
    public var d: SignalID
    public var clock: SignalID
    public var enable: SignalID?
    public var reset: RegisterReset?
    public init(d: SignalID, clock: SignalID, enable: SignalID? = nil, reset: RegisterReset? = nil) {
        self.d = d
        self.clock = clock
        self.enable = enable
        self.reset = reset
    }
    /// d, clock, then enable and reset signal when present.
    public var operands: [SignalID] {
        [d, clock] + (enable.map { [$0] } ?? []) + (reset.map { [$0.signal] } ?? [])
    }
    /// The control part (clock, enable, reset): registers that share it share an HDL process.
    public var control: RegisterControl { RegisterControl(clock: clock, enable: enable, reset: reset) }
}

/// The clock, enable and reset of a register, without its data.
public struct RegisterControl: Sendable, Hashable {
    public var clock: SignalID
    public var enable: SignalID?
    public var reset: RegisterReset?
}

public enum CompareOp: String, Sendable {
    case lt = "<", le = "<=", gt = ">", ge = ">=", eq = "=", ne = "/="
}

public enum BitwiseOp: String, Sendable {
    case and, or, xor
}

/// Operations. Operand typing rules (checked by `Module.define`):
/// - `const`: the value fits the result width and representation.
/// - `extend`: result wider or equal, sign-extends a signed source, zero-extends otherwise;
///   source and result are arithmetic (signed/unsigned) or a bit being zero-extended.
/// - `slice(a, lo)`: result-width bits of `a` from `lo`; any representations.
/// - `shiftLeft(a, n)`: appends n zeros; result width = width(a) + n, same representation.
/// - `add`, `sub`: operands and result share width and representation (modular).
/// - `neg`: likewise.
/// - `mul`: operands share the result's representation; the result is the product modulo
///   2^width, max(operand widths) <= width <= sum of operand widths (exact at the sum; the
///   lowering gives a product the width of its exact range).
/// - `mux(sel, t, f)`: sel is a bit; t, f share the result's width and representation.
/// - `compare`: operands share width and arithmetic representation; result is a bit.
/// - `bitwise`, `not`: operands share the result's width and representation.
/// - `reduceOr`: result is a bit.
/// - `concat`: most significant first; result is a bus or unsigned of the summed width.
/// - `copy`: same width, any representations (a reinterpretation of the bits).
/// - `register(r)`: `r.d` has the result's width and representation; loads `r.d` on the rising
///   edge of `r.clock` when `r.enable` (a bit, if any) is high; `r.reset` (if any) is synchronous,
///   takes priority over the enable, and loads its constant. A register may read signals defined
///   after it (declare with `declareRegister`, then `drive`): state that feeds back. Every other
///   operation reads only earlier signals, so every loop passes through a register.
/// - `rom(addr, table)`: reads entry `addr` of the module's constant table (see `RomTable`);
///   `addr` is unsigned or a bus of k bits, the table has exactly 2^k entries, and the result
///   has the table's width and representation.
/// - `input`: a module input port. `instanceOutput`: driven by an instance's output port.
public enum Op: Sendable, Hashable {
    case input
    case const(BigInt)
    case extend(SignalID)
    case slice(SignalID, lo: Int)
    case shiftLeft(SignalID, Int)
    case add(SignalID, SignalID)
    case sub(SignalID, SignalID)
    case neg(SignalID)
    case mul(SignalID, SignalID)
    case mux(SignalID, SignalID, SignalID)
    case compare(CompareOp, SignalID, SignalID)
    case bitwise(BitwiseOp, SignalID, SignalID)
    case not(SignalID)
    case reduceOr(SignalID)
    case concat([SignalID])
    case copy(SignalID)
    case register(RegisterDef)
    case rom(SignalID, table: Int)
    case instanceOutput(instance: Int, port: String)

    public var operands: [SignalID] {
        switch self {
        case .input, .const, .instanceOutput: return []
        case let .extend(a), let .slice(a, _), let .shiftLeft(a, _), let .neg(a), let .not(a),
             let .reduceOr(a), let .copy(a), let .rom(a, _): return [a]
        case let .register(r): return r.operands
        case let .add(a, b), let .sub(a, b), let .mul(a, b), let .compare(_, a, b), let .bitwise(_, a, b):
            return [a, b]
        case let .mux(s, a, b): return [s, a, b]
        case let .concat(xs): return xs
        }
    }

    public var isRegister: Bool { if case .register = self { return true }; return false }
    public var isConst: Bool { if case .const = self { return true }; return false }
}

/// A constant table (a ROM) of a module: emitted once as a constant array, read by `.rom` ops.
public struct RomTable: Sendable {
    public let name: String
    public let width: Int
    public let repr: Repr
    public let values: [BigInt]
    public let comment: String?
    public init(name: String, width: Int, repr: Repr, values: [BigInt], comment: String? = nil) {
        self.name = name
        self.width = width
        self.repr = repr
        self.values = values
        self.comment = comment
    }
    /// Address bits (the table has 2^addressBits entries).
    public var addressBits: Int { values.count.trailingZeroBitCount }
    /// Size in bits.
    public var bits: Int { values.count * width }
}

public struct Instance: Sendable {
    public let name: String
    public let module: String
    /// Port name to signal, in the instantiated module's port order.
    public var connections: [(port: String, signal: SignalID)]
}

public struct NetlistError: Error, CustomStringConvertible {
    public let description: String
}

/// One hardware module: ports, signals with their defining operations, and instances.
///
/// Structural sharing: defining a combinational operation or a constant that the module already
/// has (same operation, same operands, same width and representation) returns the existing
/// signal, so a shared subexpression or constant exists once per module.
public final class Module: @unchecked Sendable {
    public let name: String
    public var header: [String] = []
    public private(set) var signals: [Signal] = []
    public private(set) var defs: [Op] = []
    public private(set) var ports: [SignalID] = []
    public private(set) var instances: [Instance] = []
    public private(set) var tables: [RomTable] = []
    /// Clock edges from input ports to output ports.
    public var latency: Int = 0
    private var names: [String: Int] = [:]
    private var lowerNames: Set<String> = []
    /// What makes two nodes the same: operation (with operands), width and representation.
    struct NodeKey: Hashable { let op: Op; let width: Int; let repr: Repr }
    private var shared: [NodeKey: Int] = [:]
    /// Registers declared and not yet driven.
    public private(set) var undriven: Set<Int> = []

    public init(name: String) { self.name = name }

    public subscript(_ id: SignalID) -> Signal { signals[id.index] }
    public func op(_ id: SignalID) -> Op { defs[id.index] }

    public var hasRegisters: Bool { defs.contains { $0.isRegister } || !instances.isEmpty }

    /// A unique, HDL-safe name derived from `base` (VHDL is case-insensitive: compare lowered).
    public func uniqueName(_ base: String) -> String {
        var n = base
        var k = 2
        while lowerNames.contains(n.lowercased()) || HDLNames.reserved.contains(n.lowercased()) {
            n = "\(base)_\(k)"
            k += 1
        }
        return n
    }

    /// Defines a signal by an operation, checking every width and representation rule. A
    /// combinational node or constant identical to an existing one is not duplicated: the
    /// existing signal is returned (its name and comment are kept).
    @discardableResult
    public func define(_ name: String, width: Int, repr: Repr, _ op: Op, role: SignalRole? = nil,
                       comment: String? = nil) -> SignalID {
        let r: SignalRole = role ?? {
            switch op {
            case .input: return .input
            case .register: return .register
            default: return .wire
            }
        }()
        let shareable: Bool
        switch op {
        case .input, .register, .instanceOutput: shareable = false
        default: shareable = r == .wire
        }
        // Constant folding: an operation on constants is a constant.
        if shareable, !op.operands.isEmpty, op.operands.allSatisfy({ if case .const = defs[$0.index] { return true }; return false }) {
            check(op, width: width, repr: repr, name: name, index: signals.count)
            func val(_ x: SignalID) -> BigInt { if case let .const(c) = defs[x.index] { return c }; return 0 }
            let raw = apply(op, width: width, value: val, bits: { NetlistInterpreter.normalize(val($0), width: self[$0].width, repr: .unsigned) })
            return define(name, width: width, repr: repr, .const(NetlistInterpreter.normalize(raw, width: width, repr: repr)), comment: comment)
        }
        let key = NodeKey(op: op, width: width, repr: repr)
        if shareable, let i = shared[key] { return SignalID(index: i) }
        let n = uniqueName(name)
        precondition(width >= 1, "netlist: \(n) has width \(width)")
        precondition(repr != .bit || width == 1, "netlist: bit \(n) must have width 1")
        check(op, width: width, repr: repr, name: n, index: signals.count)
        let id = append(Signal(name: n, width: width, repr: repr, role: r, comment: comment), op)
        if shareable { shared[key] = id.index }
        return id
    }

    private func append(_ s: Signal, _ op: Op) -> SignalID {
        signals.append(s)
        defs.append(op)
        names[s.name] = signals.count - 1
        lowerNames.insert(s.name.lowercased())
        let id = SignalID(index: signals.count - 1)
        if s.role == .input || s.role == .output { ports.append(id) }
        return id
    }

    /// Declares a register whose next value is given later by `drive` (state that feeds back:
    /// a counter, a FIFO pointer, a skid buffer).
    public func declareRegister(_ name: String, width: Int, repr: Repr, comment: String? = nil) -> SignalID {
        let n = uniqueName(name)
        precondition(width >= 1 && (repr != .bit || width == 1), "netlist: register \(n) has width \(width)")
        let me = SignalID(index: signals.count)
        let id = append(Signal(name: n, width: width, repr: repr, role: .register, comment: comment),
                        .register(RegisterDef(d: me, clock: me)))
        undriven.insert(id.index)
        return id
    }

    /// Gives a declared register its next value and control (checked like `define`).
    public func drive(_ q: SignalID, _ r: RegisterDef) {
        precondition(undriven.contains(q.index), "netlist: \(self[q].name) is not an undriven register")
        check(.register(r), width: self[q].width, repr: self[q].repr, name: self[q].name, index: q.index)
        defs[q.index] = .register(r)
        undriven.remove(q.index)
    }

    /// A register defined in one step: `define` with a register operation.
    @discardableResult
    public func register(_ name: String, _ r: RegisterDef, comment: String? = nil) -> SignalID {
        let s = self[r.d]
        return define(name, width: s.width, repr: s.repr, .register(r), comment: comment)
    }

    /// Checks the whole module: every register is driven. (Operand order and widths were
    /// checked as each node was defined.)
    public func verify() {
        precondition(undriven.isEmpty, "netlist: register(s) never driven in \(name): " +
                     undriven.sorted().map { signals[$0].name }.joined(separator: ", "))
    }

    /// Adds a constant table (checked: 2^k entries, each fitting its width and representation).
    public func addTable(_ t: RomTable) -> Int {
        let n = uniqueName(t.name)
        precondition(t.values.count >= 1 && t.values.count & (t.values.count - 1) == 0,
                     "netlist: table \(n) has \(t.values.count) entries, not a power of two")
        for v in t.values {
            switch t.repr {
            case .signed: precondition(v >= -(BigInt(1) << (t.width - 1)) && v < BigInt(1) << (t.width - 1), "netlist: table \(n) entry \(v) does not fit")
            default: precondition(v >= 0 && v < BigInt(1) << t.width, "netlist: table \(n) entry \(v) does not fit")
            }
        }
        lowerNames.insert(n.lowercased())
        tables.append(RomTable(name: n, width: t.width, repr: t.repr, values: t.values, comment: t.comment))
        return tables.count - 1
    }

    /// Adds an instance of another module; its outputs are then defined with `.instanceOutput`.
    public func addInstance(_ inst: Instance) -> Int {
        for c in inst.connections { precondition(c.signal.index < signals.count, "netlist: instance \(inst.name) reads an undefined signal") }
        instances.append(inst)
        return instances.count - 1
    }

    public func signal(named n: String) -> SignalID? { names[n].map { SignalID(index: $0) } }

    /// Registers as (q, definition), in definition order.
    public var registers: [(q: SignalID, def: RegisterDef)] {
        defs.enumerated().compactMap { i, op in
            if case let .register(r) = op { return (SignalID(index: i), r) }
            return nil
        }
    }

    /// Register bits: what synthesis keeps once registers sit before extensions (see
    /// `prepareRegisters`).
    public var registerBits: Int { registers.map { self[$0.q].width }.reduce(0, +) }

    /// Port connections of instance k: its inputs, then the signals its outputs drive.
    public func connections(ofInstance k: Int) -> [(port: String, signal: SignalID)] {
        var conns = instances[k].connections
        for (i, op) in defs.enumerated() {
            if case let .instanceOutput(ik, port) = op, ik == k { conns.append((port, SignalID(index: i))) }
        }
        return conns
    }

    /// Replaces the whole contents (used by passes that rebuild the signal list).
    func replaceContents(signals: [Signal], defs: [Op], ports: [SignalID], instances: [Instance], tables: [RomTable]) {
        self.tables = tables
        self.signals = signals
        self.defs = defs
        self.ports = ports
        self.instances = instances
        names = [:]
        for (i, s) in signals.enumerated() { names[s.name] = i }
        lowerNames = Set(signals.map { $0.name.lowercased() } + tables.map { $0.name.lowercased() })
        shared = [:]
        for (i, op) in defs.enumerated() where signals[i].role == .wire {
            switch op {
            case .input, .register, .instanceOutput: continue
            default: shared[NodeKey(op: op, width: signals[i].width, repr: signals[i].repr)] = i
            }
        }
    }

    private func check(_ op: Op, width w: Int, repr: Repr, name: String, index: Int) {
        func fail(_ msg: String) -> Never { preconditionFailure("netlist width error at \(name): \(msg)") }
        func isArith(_ r: Repr) -> Bool { r == .signed || r == .unsigned }
        func same(_ a: SignalID) {
            let s = self[a]
            if s.width != w || s.repr != repr { fail("operand \(s.name) is \(s.repr) \(s.width), result is \(repr) \(w)") }
        }
        for a in op.operands where a.index >= signals.count { fail("operand not defined") }
        if !op.isRegister {
            // Only registers read later signals: every loop passes through a register.
            for a in op.operands where a.index >= index { fail("operand \(self[a].name) defined later (a loop not through a register)") }
        }
        switch op {
        case .input, .instanceOutput:
            break
        case let .const(v):
            switch repr {
            case .signed: if v < -(BigInt(1) << (w - 1)) || v >= BigInt(1) << (w - 1) { fail("constant \(v) does not fit") }
            default: if v < 0 || v >= BigInt(1) << w { fail("constant \(v) does not fit") }
            }
        case let .extend(a):
            let s = self[a]
            if s.width > w { fail("extend narrows \(s.width) to \(w)") }
            if !(isArith(s.repr) || s.repr == .bit) || !isArith(repr) { fail("extend needs arithmetic values") }
            if s.repr == .signed && repr == .unsigned && s.width != w { fail("sign-extension into unsigned") }
        case let .slice(a, lo):
            let s = self[a]
            if lo < 0 || lo + w > s.width { fail("slice [\(lo + w - 1):\(lo)] out of \(s.name)[\(s.width - 1):0]") }
        case let .shiftLeft(a, n):
            let s = self[a]
            if n < 1 || s.width + n != w || s.repr != repr || !isArith(repr) { fail("shiftLeft widths") }
        case let .add(a, b), let .sub(a, b):
            if !isArith(repr) { fail("arithmetic on \(repr)") }
            same(a); same(b)
        case let .neg(a):
            if repr != .signed { fail("neg needs signed") }
            same(a)
        case let .mul(a, b):
            if !isArith(repr) { fail("mul on \(repr)") }
            let sa = self[a], sb = self[b]
            if sa.repr != repr || sb.repr != repr { fail("mul operands must be \(repr)") }
            if w > sa.width + sb.width || w < max(sa.width, sb.width) {
                fail("mul result width \(w) outside [\(max(sa.width, sb.width)), \(sa.width + sb.width)]")
            }
        case let .mux(s, a, b):
            if self[s].repr != .bit { fail("mux select is not a bit") }
            same(a); same(b)
        case let .compare(_, a, b):
            if repr != .bit { fail("compare result must be a bit") }
            let sa = self[a], sb = self[b]
            if sa.width != sb.width || sa.repr != sb.repr || !isArith(sa.repr) { fail("compare operands differ") }
        case let .bitwise(_, a, b):
            same(a); same(b)
        case let .not(a):
            same(a)
        case .reduceOr:
            if repr != .bit { fail("reduceOr result must be a bit") }
        case let .concat(xs):
            if repr != .bus && repr != .unsigned { fail("concat result must be bus or unsigned") }
            if xs.map({ self[$0].width }).reduce(0, +) != w { fail("concat width") }
        case let .copy(a):
            if self[a].width != w { fail("copy width") }
            if (self[a].repr == .bit) != (repr == .bit) { fail("copy between bit and vector") }
        case let .rom(a, k):
            guard k >= 0 && k < tables.count else { fail("unknown table \(k)") }
            let t = tables[k], s = self[a]
            if s.repr != .unsigned && s.repr != .bus { fail("rom address must be unsigned or a bus") }
            if 1 << s.width != t.values.count { fail("rom address of \(s.width) bits for \(t.values.count) entries") }
            if t.width != w || t.repr != repr { fail("rom result is \(repr) \(w), table is \(t.repr) \(t.width)") }
        case let .register(r):
            same(r.d)
            if self[r.clock].repr != .bit { fail("clock is not a bit") }
            if let e = r.enable, self[e].repr != .bit { fail("enable is not a bit") }
            if let z = r.reset {
                if self[z.signal].repr != .bit { fail("reset is not a bit") }
                let v = z.value
                switch repr {
                case .signed: if v < -(BigInt(1) << (w - 1)) || v >= BigInt(1) << (w - 1) { fail("reset value \(v) does not fit") }
                default: if v < 0 || v >= BigInt(1) << w { fail("reset value \(v) does not fit") }
                }
            }
        }
    }
}

public enum HDLNames {
    /// Verilog and VHDL reserved words (lower case); generated names avoid them.
    public static let reserved: Set<String> = [
        // VHDL-2008
        "abs", "access", "after", "alias", "all", "and", "architecture", "array", "assert", "assume", "attribute",
        "begin", "block", "body", "buffer", "bus", "case", "component", "configuration", "constant", "context",
        "cover", "default", "disconnect", "downto", "else", "elsif", "end", "entity", "exit", "fairness", "file",
        "for", "force", "function", "generate", "generic", "group", "guarded", "if", "impure", "in", "inertial",
        "inout", "is", "label", "library", "linkage", "literal", "loop", "map", "mod", "nand", "new", "next",
        "nor", "not", "null", "of", "on", "open", "or", "others", "out", "package", "parameter", "port",
        "postponed", "procedure", "process", "property", "protected", "pure", "range", "record", "register",
        "reject", "release", "rem", "report", "restrict", "return", "rol", "ror", "select", "sequence",
        "severity", "shared", "signal", "sla", "sll", "sra", "srl", "strong", "subtype", "then", "to",
        "transport", "type", "unaffected", "units", "until", "use", "variable", "vmode", "vprop", "vunit",
        "wait", "when", "while", "with", "xnor", "xor",
        // Verilog / SystemVerilog
        "always", "assign", "automatic", "bit", "byte", "casex", "casez", "cell", "cmos", "config", "deassign",
        "defparam", "design", "disable", "edge", "endcase", "endconfig", "endfunction", "endgenerate",
        "endmodule", "endprimitive", "endspecify", "endtable", "endtask", "event", "forever", "fork", "genvar",
        "highz0", "highz1", "ifnone", "incdir", "include", "initial", "input", "instance", "int", "integer",
        "join", "large", "liblist", "localparam", "logic", "longint", "macromodule", "medium", "module",
        "negedge", "nmos", "noshowcancelled", "notif0", "notif1", "output", "pmos", "posedge", "primitive",
        "pull0", "pull1", "pulldown", "pullup", "rcmos", "real", "realtime", "reg", "repeat", "rnmos", "rpmos",
        "rtran", "rtranif0", "rtranif1", "scalared", "shortint", "showcancelled", "small", "specify",
        "specparam", "strong0", "strong1", "supply0", "supply1", "table", "task", "time", "tran", "tranif0",
        "tranif1", "tri", "tri0", "tri1", "triand", "trior", "trireg", "unsigned", "signed", "vectored", "wand",
        "weak0", "weak1", "wire", "wor", "std_logic", "std_logic_vector", "ieee", "numeric_std", "work", "std",
    ]
}
