// Builds a module's datapath and places pipeline registers with a delay model: every value
// knows its pipeline stage and its arrival time within the stage; an operation that would
// exceed the clock budget gets its operands registered first, and operands from earlier stages
// are delayed to match (so every path through a module has the same number of registers).
import BigInt

/// A simple, documented delay model (nanoseconds, UltraScale+ -2 class fabric, routing included).
public struct DelayModel: Sendable {
    public var clockPeriodNs: Double
    /// Clock-to-out plus setup, taken off every stage's budget.
    public var registerOverheadNs: Double = 0.6

    public init(clockPeriodNs: Double = 4.0) { self.clockPeriodNs = clockPeriodNs }

    public var budget: Double { clockPeriodNs - registerOverheadNs }

    public func delay(of op: Op, width: Int, operandWidths: [Int]) -> Double {
        switch op {
        case .input, .const, .extend, .slice, .shiftLeft, .concat, .copy, .register, .instanceOutput:
            return 0
        case .add, .sub, .neg:
            return 0.4 + 0.015 * Double(width)
        case .mul:
            let a = operandWidths[0], b = operandWidths[1]
            return (min(a, b) <= 18 && max(a, b) <= 27) ? 2.0 : 3.0
        case .compare:
            return 0.4 + 0.01 * Double(operandWidths[0])
        case .mux, .bitwise, .not:
            return 0.3
        case .rom:
            // LUT ROM: one 6-input LUT level, then a 2:1 mux level (F7/F8 and beyond) per extra bit.
            return 0.4 + 0.12 * Double(max(0, operandWidths[0] - 6))
        case .reduceOr:
            var levels = 1, n = operandWidths[0]
            while n > 6 { n = (n + 5) / 6; levels += 1 }
            return 0.3 * Double(levels)
        }
    }
}

extension Op {
    /// The same operation on other operands (same order as `operands`).
    func replacingOperands(_ f: (SignalID) -> SignalID) -> Op {
        switch self {
        case .input, .const, .instanceOutput: return self
        case let .extend(a): return .extend(f(a))
        case let .slice(a, lo): return .slice(f(a), lo: lo)
        case let .shiftLeft(a, n): return .shiftLeft(f(a), n)
        case let .add(a, b): return .add(f(a), f(b))
        case let .sub(a, b): return .sub(f(a), f(b))
        case let .neg(a): return .neg(f(a))
        case let .mul(a, b): return .mul(f(a), f(b))
        case let .mux(s, a, b): return .mux(f(s), f(a), f(b))
        case let .compare(c, a, b): return .compare(c, f(a), f(b))
        case let .bitwise(o, a, b): return .bitwise(o, f(a), f(b))
        case let .not(a): return .not(f(a))
        case let .reduceOr(a): return .reduceOr(f(a))
        case let .concat(xs): return .concat(xs.map(f))
        case let .copy(a): return .copy(f(a))
        case let .register(r):
            var n = r
            n.d = f(r.d)
            n.clock = f(r.clock)
            n.enable = r.enable.map(f)
            if let z = r.reset { n.reset = RegisterReset(f(z.signal), value: z.value, activeLow: z.activeLow) }
            return .register(n)
        case let .rom(a, t): return .rom(f(a), table: t)
        }
    }
}

/// A module under construction with automatic pipelining.
public final class DatapathBuilder {
    public let module: Module
    public let delays: DelayModel
    private var stage: [Int: Int] = [:]      // signal index -> stage (constants absent)
    private var arrival: [Int: Double] = [:]
    private var delayed: [Int: [Int: SignalID]] = [:]
    /// The clock and clock enable of the pipeline registers this builder places.
    public var clock: SignalID?
    public var enable: SignalID?
    /// Set when a module without a clock has a path longer than the clock budget.
    public private(set) var exceededBudget = false

    public init(module: Module, delays: DelayModel) {
        self.module = module
        self.delays = delays
    }

    public func stage(of s: SignalID) -> Int { stage[s.index] ?? 0 }
    public func arrival(of s: SignalID) -> Double { arrival[s.index] ?? 0 }
    func isConst(_ s: SignalID) -> Bool { if case .const = module.op(s) { return true }; return false }

    /// A module input port (stage 0). It arrives at `arrival` ns into the stage: 0 for a
    /// registered source, the logic delay of a combinational layer in front otherwise.
    public func input(_ name: String, width: Int, repr: Repr, arrival a: Double = 0) -> SignalID {
        let id = module.define(name, width: width, repr: repr, .input)
        stage[id.index] = 0
        arrival[id.index] = a
        return id
    }

    public func const(_ name: String, _ value: BigInt, width: Int, repr: Repr, comment: String? = nil) -> SignalID {
        module.define(name, width: width, repr: repr, .const(value), comment: comment)
    }

    /// A pipeline register of `d`: this builder's clock and enable, no reset.
    func pipelineRegister(_ d: SignalID) -> RegisterDef {
        guard let clock else { preconditionFailure("netlist: \(module.name) needs a register but its builder has no clock") }
        return RegisterDef(d: d, clock: clock, enable: enable)
    }

    /// The value of `s` delayed to stage `target` through registers (memoized).
    public func delay(_ s: SignalID, to target: Int) -> SignalID {
        if isConst(s) { return s }
        let st = stage(of: s)
        precondition(target >= st)
        if target == st { return s }
        if let d = delayed[s.index]?[target] { return d }
        let prev = delay(s, to: target - 1)
        let sig = module[s]
        let r = module.register("\(sig.name)_d\(target - st)", pipelineRegister(prev))
        stage[r.index] = target
        arrival[r.index] = 0
        delayed[s.index, default: [:]][target] = r
        return r
    }

    /// Defines `op`, registering its operands first when the delay model says the result
    /// would arrive too late in the current stage.
    @discardableResult
    public func emit(_ name: String, width: Int, repr: Repr, _ op: Op, comment: String? = nil) -> SignalID {
        let ops = op.operands.filter { !isConst($0) }
        var s = ops.map { stage(of: $0) }.max() ?? 0
        let widths = op.operands.map { module[$0].width }
        let d = delays.delay(of: op, width: width, operandWidths: widths)
        var t = ops.map { stage(of: $0) == s ? arrival(of: $0) : 0 }.max() ?? 0
        if t > 0 && t + d > delays.budget {
            // Without a clock (a combinational module) nothing is registered: the caller sees
            // the overrun in `exceededBudget` and the arrival time.
            if clock == nil { exceededBudget = true } else { s += 1; t = 0 }
        }
        let target = s
        let newOp = op.replacingOperands { self.delay($0, to: target) }
        let id = module.define(name, width: width, repr: repr, newOp, comment: comment)
        stage[id.index] = s
        arrival[id.index] = t + d
        return id
    }

    /// Registers every value once, after first aligning them to a common stage. Returns the
    /// registered values (all at the same stage, arriving at time 0) and that stage.
    public func registerAll(_ xs: [SignalID], names: [String]) -> (values: [SignalID], stage: Int) {
        let top = xs.filter { !isConst($0) }.map { stage(of: $0) }.max() ?? 0
        let out = zip(xs, names).map { x, n -> SignalID in
            let a = delay(x, to: top)
            let r = module.register(n, pipelineRegister(a))
            stage[r.index] = top + 1
            arrival[r.index] = 0
            return r
        }
        return (out, top + 1)
    }
}
