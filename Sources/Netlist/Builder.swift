// Builds a module's datapath and places pipeline registers with a delay model: every value
// knows its pipeline stage and its arrival time within the stage; an operation that would
// exceed the clock budget gets its operands registered first, and operands from earlier stages
// are delayed to match (so every path through a module has the same number of registers).
import BigInt

/// When a value is ready within its pipeline stage: `ns` after the stage's registers, and, for
/// the output of LUT-level logic (muxes, bitwise ops, inverters), the cone synthesis packs into one
/// LUT level with it: `cone.inputs` signals per output bit, all ready by `cone.base`. A further
/// LUT-level operation whose inputs still fit one 6-input LUT joins the cone (one level, not two).
public struct Timing: Sendable, Hashable {
    public struct LutCone: Sendable, Hashable {
        public var inputs: Int
        public var base: Double
    }
    public var ns: Double
    public var cone: LutCone?
    /// The value (or a part of it) is a carry chain's sum computed in this stage: an adder that
    /// takes it pays the device's `adderAfterAdderNs` (ECP5: the LUT row Yosys puts between).
    public var fromCarryChain: Bool = false
    public init(ns: Double, cone: LutCone? = nil, fromCarryChain: Bool = false) {
        self.ns = ns; self.cone = cone; self.fromCarryChain = fromCarryChain
    }
    /// A register output or a registered input port.
    public static let registered = Timing(ns: 0)
}

/// An operation the delay model says takes longer by itself (its operands straight from
/// registers) than the clock period less the register overhead (DelayModel.logicLimit): the
/// design is built, but no register placement makes it meet the clock.
public struct TimingOverrun: Sendable, Hashable {
    /// The signal the operation defines (its name in the generated HDL).
    public var signal: String
    public var delayNs: Double
    public var limitNs: Double
    public init(signal: String, delayNs: Double, limitNs: Double) {
        self.signal = signal; self.delayNs = delayNs; self.limitNs = limitNs
    }
}

/// The delay model of a device (Device.swift). The default device, xcup (nanoseconds, AMD
/// UltraScale+ fabric, routing included), is calibrated on two published sources (docs/hardware.md, "Pipelining", lists them with the figures):
///  [V] a Vivado 2021.2 timing report of an xczu3eg-sbva484 at speed grade -1 (the slowest grade;
///      nets are Vivado's pre-placement estimates), in the lakeroad-evaluation repository
///      (gussmith23/lakeroad-evaluation, runs/2022-07-06-1704-full/vivado-eval/...): FDRE
///      clock-to-Q 0.093, nets 0.188 / 0.210 / 0.287, LUT4 0.171, LUT5 0.085 / 0.040, CARRY8
///      DI->CO7 0.177, CI->CO7 0.030 plus 0.007 of net to the next CARRY8, CI->O 0.109; from the
///      same runs, FDRE setup 0.027 and clock uncertainty 0.035;
///  [F] FloPoCo's VirtexUltrascalePlus target (xcvu3p -2, figures copied from Vivado reports):
///      LUT6 0.148, typical local routing 0.180, LUT output to CARRY8 0.011.
/// An adder is one carry chain: a net into its LUTs, the LUT, the chain entry, 0.037 ns per
/// further 8 bits, the sum output. The carry ripples 8 bits in 0.037 ns, so an adder's delay is
/// almost all the per-level constant: what counts is the number of levels, not the width.
public struct DelayModel: Sendable {
    public var clockPeriodNs: Double
    /// The device the figures describe (Device.swift; xcup: the figures above).
    public var device: Device
    public var registerOverheadNs: Double { device.registerOverheadNs }
    public var netNs: Double { device.netNs }
    public var lutNs: Double { device.lutNs }
    public var carryEntryNs: Double { device.carryEntryNs }
    public var carryExitNs: Double { device.carryExitNs }
    /// Inputs of one LUT (the size of a LUT cone).
    public var lutInputs: Int { device.lutInputs }

    public init(clockPeriodNs: Double = 4.0, device: Device = .default) {
        self.clockPeriodNs = clockPeriodNs
        self.device = device
    }

    /// Logic that fits a stage: the period less the register overhead and the routing allowance.
    public var budget: Double { clockPeriodNs - registerOverheadNs - device.routingAllowanceNs }
    /// The most logic a stage can hold at all: the period less the register overhead (the
    /// routing allowance is a reserve, not a certainty). An operation longer than this by itself
    /// cannot meet the clock (DatapathBuilder.overruns).
    public var logicLimit: Double { clockPeriodNs - registerOverheadNs }
    /// A net and one LUT.
    public var lutLevelNs: Double { netNs + lutNs }

    /// A w-bit carry chain (adder, subtractor, comparator): a LUT level, then the chain.
    public func carryChainNs(_ w: Int) -> Double {
        let per = device.carryBitsPerCell
        let cells = (max(w, 1) + per - 1) / per
        if cells == 1 { return lutLevelNs + carryEntryNs }
        return lutLevelNs + carryEntryNs + Double(cells - 2) * device.carryPerCellNs + carryExitNs
    }

    public func delay(of op: Op, width: Int, operandWidths: [Int]) -> Double {
        switch op {
        case .input, .const, .extend, .slice, .shiftLeft, .concat, .copy, .register, .instanceOutput:
            return 0
        case .add, .sub, .neg:
            return carryChainNs(width)
        case .mul:
            // Not recalibrated (DSP paths; the figures the model had before).
            let a = operandWidths[0], b = operandWidths[1]
            return (min(a, b) <= 18 && max(a, b) <= 27) ? device.mulSmallNs : device.mulLargeNs
        case .compare:
            return carryChainNs(operandWidths[0]) + device.compareExtraNs
        case .mux, .bitwise, .not:
            return lutLevelNs
        case .rom:
            // LUT ROM: one 6-input LUT level, then a 2:1 mux level (F7/F8 and beyond) per extra
            // bit (not recalibrated: the figures the model had before).
            return device.romBaseNs + device.romPerBitNs * Double(max(0, operandWidths[0] - lutInputs))
        case .reduceOr:
            var levels = 1, n = operandWidths[0]
            while n > lutInputs { n = (n + lutInputs - 1) / lutInputs; levels += 1 }
            return lutLevelNs * Double(levels)
        }
    }

    /// The timing of `op`'s result from its operands' (nil for a constant operand).
    public func timing(of op: Op, width: Int, operandWidths: [Int], operands: [Timing?]) -> Timing {
        let live = operands.compactMap { $0 }
        let latest = live.map { $0.ns }.max() ?? 0
        switch op {
        case .extend, .slice, .shiftLeft, .copy:
            return live.first ?? .registered
        case .concat:
            // Each bit comes from one part: the widest cone and the latest base bound them all.
            let chain = live.contains { $0.fromCarryChain }
            guard live.contains(where: { $0.cone != nil }) else { return Timing(ns: latest, fromCarryChain: chain) }
            let inputs = live.map { $0.cone?.inputs ?? 1 }.max() ?? 0
            let base = live.map { $0.cone?.base ?? $0.ns }.max() ?? 0
            return Timing(ns: latest, cone: .init(inputs: inputs, base: base), fromCarryChain: chain)
        case .mux, .bitwise, .not:
            // A constant operand is folded into the LUT's truth table (no input).
            var inputs = 0
            var base = 0.0
            for t in live {
                inputs += t.cone?.inputs ?? 1
                base = max(base, t.cone?.base ?? t.ns)
            }
            if inputs <= lutInputs { return Timing(ns: base + lutLevelNs, cone: .init(inputs: inputs, base: base)) }
            return Timing(ns: latest + lutLevelNs, cone: .init(inputs: live.count, base: latest))
        case .add, .sub:
            // An operand that is a one-input function of a signal (an inverted bit) is computed
            // by the adder's own LUT where the device allows it: it is ready when that signal is.
            // Elsewhere (ECP5) it is a LUT level of its own, as its timing already says.
            // A sum from another carry chain of this stage reaches this one through the device's
            // adderAfterAdderNs (ECP5: Yosys merges the two into a $macc, whose 3:2 compressor
            // row is a LUT4 level and a net in front of the last chain; 0 on xcup).
            let shares = device.inversionSharesAdderLut
            let ready = live.map { t in
                t.cone.map { shares && $0.inputs <= 1 ? $0.base : t.ns } ?? (t.ns + (t.fromCarryChain ? device.adderAfterAdderNs : 0))
            }.max() ?? 0
            return Timing(ns: ready + delay(of: op, width: width, operandWidths: operandWidths), fromCarryChain: true)
        case .neg:
            return Timing(ns: latest + delay(of: op, width: width, operandWidths: operandWidths), fromCarryChain: true)
        case .reduceOr:
            // An OR of at most 6 input bits (through the LUT logic in front of them) is one LUT
            // and packs like a bitwise op (a rounding's sticky bit joins its increment's LUT).
            if let t = live.first {
                let inputs = operandWidths[0] * (t.cone?.inputs ?? 1)
                let base = t.cone?.base ?? t.ns
                if inputs <= lutInputs { return Timing(ns: base + lutLevelNs, cone: .init(inputs: inputs, base: base)) }
            }
            return Timing(ns: latest + delay(of: op, width: width, operandWidths: operandWidths))
        default:
            return Timing(ns: latest + delay(of: op, width: width, operandWidths: operandWidths))
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
    private var timing: [Int: Timing] = [:]
    private var delayed: [Int: [Int: SignalID]] = [:]
    /// The clock and clock enable of the pipeline registers this builder places.
    public var clock: SignalID?
    public var enable: SignalID?
    /// Set when a module without a clock has a path longer than the clock budget.
    public private(set) var exceededBudget = false
    /// Operations whose own delay (operands straight from registers) exceeds the stage budget:
    /// no register placement makes them fit, so the clock is not met by the model.
    public private(set) var overruns: [TimingOverrun] = []

    public init(module: Module, delays: DelayModel) {
        self.module = module
        self.delays = delays
    }

    public func stage(of s: SignalID) -> Int { stage[s.index] ?? 0 }
    public func arrival(of s: SignalID) -> Double { timing[s.index]?.ns ?? 0 }
    public func timing(of s: SignalID) -> Timing { timing[s.index] ?? .registered }
    func isConst(_ s: SignalID) -> Bool { if case .const = module.op(s) { return true }; return false }

    /// A module input port (stage 0). It arrives `arrival.ns` into the stage: 0 for a
    /// registered source, the logic delay of a combinational layer in front otherwise.
    public func input(_ name: String, width: Int, repr: Repr, arrival a: Timing = .registered) -> SignalID {
        let id = module.define(name, width: width, repr: repr, .input)
        stage[id.index] = 0
        timing[id.index] = a
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
        timing[r.index] = .registered
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
        // Operands from earlier stages are registered copies (time 0 of this stage).
        let here = op.operands.map { x -> Timing? in isConst(x) ? nil : (stage(of: x) == s ? timing(of: x) : .registered) }
        var tm = delays.timing(of: op, width: width, operandWidths: widths, operands: here)
        let t = here.compactMap { $0?.ns }.max() ?? 0
        var fromRegisters = t == 0
        if t > 0 && tm.ns > delays.budget {
            // Without a clock (a combinational module) nothing is registered: the caller sees
            // the overrun in `exceededBudget` and the arrival time.
            if clock == nil {
                exceededBudget = true
            } else {
                s += 1
                tm = delays.timing(of: op, width: width, operandWidths: widths,
                                   operands: op.operands.map { isConst($0) ? nil : .registered })
                fromRegisters = true
            }
        }
        if fromRegisters && tm.ns > delays.logicLimit {
            overruns.append(TimingOverrun(signal: name, delayNs: tm.ns, limitNs: delays.logicLimit))
        }
        let target = s
        let newOp = op.replacingOperands { self.delay($0, to: target) }
        let id = module.define(name, width: width, repr: repr, newOp, comment: comment)
        stage[id.index] = s
        timing[id.index] = tm
        return id
    }

    /// The delay model's longest path in each stage (ns after the register rank that starts it,
    /// or after the module inputs for stage 0), stages 0 ... the last one holding a signal.
    /// Only signals the module's ports read count (the lowering leaves dead ones for later).
    public func stageDepths() -> [Double] {
        let live = module.liveSignals()
        var depth: [Double] = []
        for (i, s) in stage where i < live.count && live[i] {
            while depth.count <= s { depth.append(0) }
            depth[s] = max(depth[s], timing[i]?.ns ?? 0)
        }
        return depth
    }

    /// Registers every value once, after first aligning them to a common stage. Returns the
    /// registered values (all at the same stage, arriving at time 0) and that stage.
    public func registerAll(_ xs: [SignalID], names: [String]) -> (values: [SignalID], stage: Int) {
        let top = xs.filter { !isConst($0) }.map { stage(of: $0) }.max() ?? 0
        let out = zip(xs, names).map { x, n -> SignalID in
            let a = delay(x, to: top)
            let r = module.register(n, pipelineRegister(a))
            stage[r.index] = top + 1
            timing[r.index] = .registered
            return r
        }
        return (out, top + 1)
    }
}
