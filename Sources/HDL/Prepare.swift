// Emission preparation shared by the Verilog and VHDL emitters (in the spirit of CIRCT's
// PrepareForEmission): which nodes get a name and a line of their own, and which are written
// inline in the one expression that reads them. Both languages follow the same plan, so the two
// files have the same names and the same structure.
//
// Rules (each keeps every expression exact in both languages without relying on an implicit
// width or signedness rule):
// - Constants are written as literals wherever they are read.
// - Wiring of a name (a bit selection, an extension, a reinterpretation, appended zeros) is
//   written out at every reader.
// - A combinational node read exactly once is written inline in its reader, if its kind can be
//   written as a self-contained expression in both languages (VHDL-93 has no conditional
//   expression: an or-reduction is a statement) and its reader allows it:
//   - a slice or a sign extension needs a named operand (neither language slices an expression);
//   - a multiplication's operands are named or constant (Verilog evaluates a product's operands
//     at the product's width);
//   - a comparison only as the condition of a selection, and a selection only as the else
//     branch of another (a chain: `c1 ? a : c2 ? b : c`, `a when c1 else b when c2 else c`);
//   - at most `maxOperators` operators and `maxDepth` nested expressions per line.
//   - instance connections, output ports and register controls (clock, enable, reset) read names.
// - Everything else (ports, registers, instance outputs, nodes read more than once) has a name.
import BigInt
import Netlist

public struct EmissionPlan {
    public let module: Module
    /// inline[i]: signal i is written inside the expression that reads it.
    public let inline: [Bool]
    /// Comments of inlined nodes (e.g. a weight's decimal value), gathered on the named line
    /// whose expression contains them.
    public let comments: [[String]]
    private let carriedComments: [[String]]

    public init(_ m: Module) {
        module = m
        let n = m.signals.count
        var uses = Array(repeating: 0, count: n)
        var mustName = Array(repeating: false, count: n)   // even a constant needs a name
        var leaf = Array(repeating: false, count: n)       // a name or a literal
        for (i, op) in m.defs.enumerated() {
            for o in op.operands { uses[o.index] += 1 }
            switch op {
            case let .slice(a, _): mustName[a.index] = true
            case let .extend(a) where m[a].repr == .bit || (m[a].repr == .signed && m[a].width < m.signals[i].width):
                mustName[a.index] = true
            case let .mul(a, b): leaf[a.index] = true; leaf[b.index] = true
            case let .register(r):
                mustName[r.clock.index] = true
                if let e = r.enable { mustName[e.index] = true }
                if let z = r.reset { mustName[z.signal.index] = true }
            case let .rom(a, _): mustName[a.index] = true
            default: break
            }
        }
        for inst in m.instances { for c in inst.connections { mustName[c.signal.index] = true } }
        var reader = Array(repeating: -1, count: n)
        for (i, op) in m.defs.enumerated() { for o in op.operands { reader[o.index] = i } }
        func muxReader(_ i: Int) -> (sel: Int, a: Int, b: Int)? {
            guard reader[i] >= 0, case let .mux(s, a, b) = m.defs[reader[i]] else { return nil }
            return (s.index, a.index, b.index)
        }
        var inline = Array(repeating: false, count: n)
        for i in 0..<n where m.signals[i].role == .wire && !mustName[i] {
            let single = uses[i] == 1 && !leaf[i]
            switch m.defs[i] {
            case .const:
                inline[i] = true
            case .input, .register, .instanceOutput, .rom, .reduceOr:
                break
            case .compare:
                // A comparison is written inline only as the condition of a selection.
                inline[i] = single && muxReader(i)?.sel == i
            case .mux:
                // A selection is written inline only as the else branch of another: a chain.
                inline[i] = single && muxReader(i)?.b == i
            case let .extend(a) where m[a].repr == .bit:
                inline[i] = single && m.signals[i].width > 1
            case let .concat(xs) where xs.count == 1 && m[xs[0]].repr == .bit:
                break
            case .slice, .extend, .copy, .shiftLeft:
                // Wiring (a bit selection, an extension, a reinterpretation, appended zeros) of a
                // name or a literal is written out at every reader: repeating it costs nothing.
                let wiring = !leaf[i] && m.defs[i].operands.allSatisfy { !inline[$0.index] || m.defs[$0.index].isConst }
                inline[i] = single || (uses[i] > 1 && wiring)
            default:
                inline[i] = single
            }
        }
        // Verilog evaluates an operand of a concatenation, a comparison, a reduction or a
        // system function at its own (self-determined) width: an inlined expression there must
        // have the width of its node (a product's own width is its widest operand's, not its
        // result's). Elsewhere (operands of +, -, ?:, &, ~ and assignments) the surrounding
        // width is the node's. And at most `maxOperators` operators on one line: past that, the
        // heaviest inlined operands get names of their own.
        var selfWidth = m.signals.map { $0.width }
        var cost = Array(repeating: 0, count: n)
        var depth = Array(repeating: 0, count: n)
        for i in 0..<n {
            let op = m.defs[i]
            for (k, o) in op.operands.enumerated() where inline[o.index] && Self.isSelfDetermined(op, operand: k)
                && selfWidth[o.index] != m.signals[o.index].width {
                inline[o.index] = false
                selfWidth[o.index] = m.signals[o.index].width
            }
            var own = Self.operatorCount(op)
            var parts = op.operands.map { $0.index }.filter { inline[$0] }
            own += parts.map { cost[$0] }.reduce(0, +)
            while own > Self.maxOperators, let k = parts.max(by: { cost[$0] < cost[$1] }), cost[k] > 0 {
                inline[k] = false
                selfWidth[k] = m.signals[k].width
                own -= cost[k]
                parts.removeAll { $0 == k }
            }
            cost[i] = own
            // At most `maxDepth` nested expressions on one line.
            while let k = op.operands.map({ $0.index }).filter({ inline[$0] }).max(by: { depth[$0] < depth[$1] }),
                  depth[k] + Self.nesting(op) > Self.maxDepth {
                inline[k] = false
                selfWidth[k] = m.signals[k].width
                cost[i] -= cost[k]
            }
            depth[i] = Self.nesting(op) + (op.operands.map { $0.index }.filter { inline[$0] }.map { depth[$0] }.max() ?? 0)
            if inline[i] { selfWidth[i] = Self.verilogSelfWidth(op, width: m.signals[i].width, operand: { selfWidth[$0.index] }) }
        }
        self.inline = inline
        var comments = Array(repeating: [String](), count: n)
        // In definition order: the comments an inlined node carries (its inlined operands', then
        // its own), gathered on the named line that reads it.
        var carried = Array(repeating: [String](), count: n)
        for i in 0..<n {
            var cs = inline[i] ? [] : (m.signals[i].comment.map { [$0] } ?? [])
            // A register's inlined next value is written (with its comments) in its process.
            for o in m.defs[i].operands where inline[o.index] && !m.defs[i].isRegister {
                for c in carried[o.index] where !cs.contains(c) { cs.append(c) }
            }
            if inline[i] {
                if let own = m.signals[i].comment, !cs.contains(own) { cs.append(own) }
                carried[i] = cs
            } else {
                comments[i] = cs
            }
        }
        self.comments = comments
        carriedComments = carried
    }

    /// The comments an inlined node's expression carries (its inlined operands' and its own),
    /// for the line that writes it (e.g. a register's next value in its process).
    public func comments(inlined i: Int) -> [String] { inline[i] ? carriedComments[i] : [] }

    /// The most operators one line holds (extensions, slices and literals are notation).
    public static let maxOperators = 4
    /// The deepest nesting of inlined expressions on one line.
    public static let maxDepth = 3

    /// Whether operand k of `op` is written where Verilog sizes it by itself.
    static func isSelfDetermined(_ op: Op, operand k: Int) -> Bool {
        switch op {
        case .add, .sub, .neg, .bitwise, .not: return false
        case .mux: return k == 0
        default: return true
        }
    }

    /// The width Verilog gives the expression of `op` on its own, as the emitter writes it.
    static func verilogSelfWidth(_ op: Op, width: Int, operand w: (SignalID) -> Int) -> Int {
        switch op {
        case let .mul(a, b), let .add(a, b), let .sub(a, b), let .bitwise(_, a, b), let .mux(_, a, b):
            return max(w(a), w(b))
        case let .neg(a), let .not(a), let .copy(a): return w(a)
        case .compare, .reduceOr: return 1
        case let .extend(a): return w(a) == width ? w(a) : width
        case let .concat(xs) where xs.count == 1: return w(xs[0])
        default: return width
        }
    }

    /// How much an expression adds to the nesting of a line: literals, bit selections and
    /// reinterpretations are notation (0), everything else a level (1).
    static func nesting(_ op: Op) -> Int {
        switch op {
        case .const, .slice, .copy: return 0
        default: return 1
        }
    }

    static func operatorCount(_ op: Op) -> Int {
        switch op {
        case .add, .sub, .neg, .mul, .mux, .compare, .bitwise, .not, .reduceOr: return 1
        default: return 0
        }
    }

    /// Named (declared) signals that are not ports.
    public func isDeclared(_ i: Int) -> Bool {
        let r = module.signals[i].role
        return !inline[i] && r != .input && r != .output
    }
}
