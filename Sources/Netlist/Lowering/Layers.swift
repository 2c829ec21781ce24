// Lowering of model layers to one module each: inputs sliced from the `in_data` bus, the
// layer's arithmetic, outputs registered and packed into `out_data` (element 0 in the LSBs).
import BigInt
import FixedPoint
import ModelIR

public struct LoweringOptions: Sendable {
    public var delays: DelayModel
    /// Constant multiplication in dense layers: the default and per-layer choices (by layer name).
    public var multipliers: MultiplierStyle = .auto
    public var layerMultipliers: [String: MultiplierStyle] = [:]
    /// Reuse factor of dense layers (hls4ml's ReuseFactor: II = RF, weights in a ROM, real
    /// multipliers shared over RF cycles): the default and per-layer choices (by layer name).
    public var reuseFactor: Int = 1
    public var layerReuseFactors: [String: Int] = [:]
    public func reuseFactor(of layer: Layer) -> Int {
        guard case .dense = layer.op else { return 1 }
        return layerReuseFactors[layer.name] ?? reuseFactor
    }
    /// hls4ml's ParallelizationFactor of convolution layers (output positions computed per
    /// cycle, II = ceil(positions / PF), see ConvParallel.swift): the default and per-layer
    /// choices; nil: every position in parallel (II = 1).
    public var parallelizationFactor: Int? = nil
    public var layerParallelizationFactors: [String: Int] = [:]
    public func parallelizationFactor(of layer: Layer) -> Int? {
        guard case let .kind(k) = layer.op, k.base is Conv else { return nil }
        return layerParallelizationFactors[layer.name] ?? parallelizationFactor
    }
    /// Cycles per sample of layer `i` of `model` when it is time-multiplexed (reuse factor or
    /// parallelization factor), else 1. Such a layer latches its inputs from registers.
    public func cyclesPerSample(_ model: Model, layer i: Int) -> Int {
        let l = model.layers[i]
        if case .dense = l.op {
            let rf = reuseFactor(of: l)
            return rf > 1 ? LayerLowering.reuseChunks(inputs: model.inputOf(layer: i).size, reuseFactor: rf).cycles : 1
        }
        if let pf = parallelizationFactor(of: l), case let .kind(k) = l.op, let conv = k.base as? Conv,
           let g = conv.geometry(model.tensorInto(layer: i)) {
            return (g.positions + pf - 1) / pf
        }
        return 1
    }
    /// Told (layer k of n, what) as each layer is lowered (build progress).
    public var progress: (@Sendable (Int, Int, String) -> Void)?
    public init(clockPeriodNs: Double = 4.0, device: Device = .default) { delays = DelayModel(clockPeriodNs: clockPeriodNs, device: device) }
}

/// What a layer module looks like from outside.
public struct LayerHardware {
    public let module: Module
    public let latency: Int
    public let inputSize: Int
    public let inputType: FixedType
    public let outputSize: Int
    public let outputType: FixedType
    /// Multipliers instantiated (constant multiplications that are not a power of two).
    public let multipliers: Int
    public let adders: Int
    /// Op-specific figures for the report (e.g. popcount tree depth).
    public var details: [(String, Int)] = []
    /// When the outputs are ready after the last register rank (the previous layer's for a
    /// combinational layer): `.registered` for a layer that ends in a register; for a
    /// combinational or open layer its logic delay and the LUT cone its outputs end in, which
    /// the next layer's first LUT level may join.
    public var outputTiming: Timing = .registered
    public var outputArrivalNs: Double { outputTiming.ns }
    /// Cycles between two samples the layer can take (> 1 for a dense layer with a reuse factor,
    /// see DenseReuse.swift); such a layer has `rst` and `in_valid` ports of its own.
    public var initiationInterval: Int = 1
    /// The delay model's longest path in each of the layer's stages, in ns: one per register
    /// rank the layer ends (stage s runs from rank s, or the inputs, to rank s + 1), plus, for an
    /// open or combinational layer, the logic its outputs run on with into the next layer's
    /// first stage. Empty when the layer was not built through the delay model (reuse factor).
    public var stageDelaysNs: [Double] = []
    /// Operations longer than the stage budget by themselves (Builder.swift, TimingOverrun):
    /// empty when every stage fits the clock by the delay model.
    public var timingOverruns: [TimingOverrun] = []
    /// The reuse factor the layer was built with (1: fully parallel).
    public var reuseFactor: Int = 1
    /// The parallelization factor a convolution was built with (nil: every position in parallel).
    public var parallelizationFactor: Int? = nil
    public var isTimeMultiplexed: Bool { initiationInterval > 1 }
    /// Every other layer ends in a register, so its latency is at least 1.
    public var isCombinational: Bool { latency == 0 }

    static let stageLinePrefix = "longest path per stage (delay model, ns): "
    /// The header line of the stage delays; `open`: the last one runs on into the next layer.
    static func stageLine(_ ds: [Double], open: Bool) -> String {
        stageLinePrefix + DesignLowering.stageList(ds) + (open ? " (the last runs on into the next layer's first stage)" : "")
    }
}

/// Shared frame of every layer module: ports, input slicing, output registering and packing.
final class LayerFrame {
    let b: DatapathBuilder
    let m: Module
    private(set) var inputs: [Val]
    /// For a bipolar input, the stored bits (1 = +1); `inputs` then holds the decoded values.
    let inputBits: [SignalID]?
    private(set) var prefix: String
    var multipliers = 0
    var adders = 0
    var details: [(String, Int)] = []

    init(moduleName: String, prefix: String, header: [String], inputSize: Int, inputType: FixedType, options: LoweringOptions,
         inputArrival: Timing = .registered, clocked: Bool = true) {
        let m = Module(name: moduleName)
        m.header = header
        let b = DatapathBuilder(module: m, delays: options.delays)
        self.m = m
        self.b = b
        self.prefix = prefix
        if clocked {
            b.clock = b.input(CorePorts.clock, width: 1, repr: .bit)
            b.enable = b.input(CorePorts.enable, width: 1, repr: .bit)
        }
        let w = inputType.width
        let bus = b.input(CorePorts.inData, width: inputSize * w, repr: .bus, arrival: inputArrival)
        let repr: Repr = inputType.signed ? .signed : .unsigned
        if inputType.isBipolar {
            let bits = (0..<inputSize).map { i in b.emit("\(prefix)_in_\(i)", width: 1, repr: .bit, .slice(bus, lo: i)) }
            inputBits = bits
            let one = b.bitConst(true, name: "\(prefix)_one")
            inputs = bits.enumerated().map { i, c in b.decodeBipolar(c, one: one, name: "\(prefix)_in_\(i)_v") }
            return
        }
        inputBits = nil
        inputs = (0..<inputSize).map { i in
            let s = b.emit("\(prefix)_in_\(i)", width: w, repr: repr, .slice(bus, lo: i * w))
            return Val(sig: s, frac: inputType.fracBits, range: CodeRange(of: inputType))
        }
    }

    private var signedInputs: [Int: Val] = [:]

    private struct SolveKey: Hashable {
        let matrix: [[Int128]], widths: [Int], share: Bool, maxDepth: Int, digits: CMVMDigits
    }
    private var programs: [SolveKey: CMVMProgram] = [:]
    /// `CMVMSolver.solve`, memoized per module: the lanes of a time-multiplexed convolution
    /// (and repeated columns) apply the same constant matrix to inputs of the same widths.
    func solve(matrix: [[Int128]], inputWidths: [Int], share: Bool = true, maxDepth: Int = 64,
               digits: CMVMDigits = .minimal) -> CMVMProgram {
        let key = SolveKey(matrix: matrix, widths: inputWidths, share: share, maxDepth: maxDepth, digits: digits)
        if let p = programs[key] { return p }
        let p = CMVMSolver.solve(matrix: matrix, inputWidths: inputWidths, share: share, maxDepth: maxDepth, digits: digits)
        programs[key] = p
        return p
    }

    /// Points the frame at other values (the lanes of a time-multiplexed layer): the lowerings that
    /// read `inputs` and `prefix` then build on these; the ports stay as they are.
    func rebind(inputs v: [Val], prefix p: String) {
        inputs = v
        prefix = p
        signedInputs = [:]
    }
    /// Input i as a signed value (memoized: every neuron of a layer shares it).
    func signedInput(_ i: Int) -> Val {
        if let v = signedInputs[i] { return v }
        let v = b.signedVal(inputs[i], name: "\(prefix)_in_\(i)_s")
        signedInputs[i] = v
        return v
    }

    /// Registers the outputs (each a signal of `t`), packs them, returns the hardware summary.
    func finish(_ ys: [SignalID], outputType t: FixedType, inputType: FixedType) -> LayerHardware {
        let (regs, stage) = b.registerAll(ys, names: ys.indices.map { "\(prefix)_out_\($0)" })
        m.define(CorePorts.outData, width: regs.count * t.width, repr: .bus, .concat(regs.reversed()), role: .output)
        m.latency = stage
        var hw = LayerHardware(module: m, latency: stage, inputSize: inputs.count, inputType: inputType,
                               outputSize: ys.count, outputType: t, multipliers: multipliers, adders: adders)
        hw.details = details
        hw.stageDelaysNs = Array((b.stageDepths() + [Double](repeating: 0, count: stage)).prefix(stage))
        hw.timingOverruns = b.overruns
        return hw
    }

    /// Packs the outputs without registers (a combinational layer): nil when the logic needed
    /// a register of its own or takes more than `maxArrival` ns.
    func finishCombinational(_ ys: [SignalID], outputType t: FixedType, inputType: FixedType, maxArrival: Double) -> LayerHardware? {
        let live = ys.filter { if case .const = m.op($0) { return false }; return true }
        guard !b.exceededBudget, live.allSatisfy({ b.stage(of: $0) == 0 }) else { return nil }
        let widths = live.map { m[$0].width }
        let arrival = b.delays.timing(of: .concat(live), width: widths.reduce(0, +), operandWidths: widths,
                                      operands: live.map { b.timing(of: $0) })
        guard arrival.ns <= maxArrival else { return nil }
        m.define(CorePorts.outData, width: ys.count * t.width, repr: .bus, .concat(ys.reversed()), role: .output)
        m.latency = 0
        var hw = LayerHardware(module: m, latency: 0, inputSize: inputs.count, inputType: inputType,
                               outputSize: ys.count, outputType: t, multipliers: multipliers, adders: adders)
        hw.details = details
        hw.outputTiming = arrival
        hw.stageDelaysNs = [max(b.stageDepths().first ?? 0, arrival.ns)]
        hw.timingOverruns = b.overruns
        return hw
    }
}

public enum LayerLowering {
    /// Lowers one layer, ending in a register. `inputArrival`: when the previous layer is
    /// combinational, the delay of its logic (the inputs arrive that late in the first stage).
    public static func lower(layer: Layer, index: Int, model: Model, top: String, options: LoweringOptions,
                             inputArrival: Timing = .registered) -> LayerHardware {
        lowerOnce(layer: layer, index: index, model: model, top: top, options: options,
                  inputArrival: inputArrival, combinational: false)!
    }

    /// The layer as combinational logic (no register, no clk/ce ports, latency 0), for an
    /// element-wise layer that `mayBeCombinational`, is not the last layer and reads registered
    /// inputs; nil for any other layer, or when its logic needs a register or more than half the
    /// clock budget. `DesignLowering` decides whether to use it.
    public static func lowerCombinational(layer: Layer, index: Int, model: Model, top: String, options: LoweringOptions) -> LayerHardware? {
        guard layer.op.mayBeCombinational, index + 1 < model.layers.count else { return nil }
        return lowerOnce(layer: layer, index: index, model: model, top: top, options: options,
                         inputArrival: .registered, combinational: true)
    }

    static func lowerOnce(layer: Layer, index: Int, model: Model, top: String, options: LoweringOptions,
                          inputArrival: Timing, combinational: Bool) -> LayerHardware? {
        let (n, inType) = model.inputOf(layer: index)
        if case let .dense(d) = layer.op, !combinational, let hw = lowerDenseReuse(d, layer: layer, index: index, model: model, top: top, options: options) {
            return hw
        }
        if case let .kind(k) = layer.op, let conv = k.base as? Conv, !combinational,
           let hw = lowerConvParallel(conv, layer: layer, index: index, model: model, top: top, options: options) {
            return hw
        }
        let header = [
            "Layer \(index): \(layer.name) (\(layer.opName)), \(n) -> \(layer.outputSize)",
            "input  type: \(inType)",
            "output type: \(layer.outputType)",
        ]
        let f = LayerFrame(moduleName: "\(top)_\(layer.name)", prefix: layer.name, header: header,
                           inputSize: n, inputType: inType, options: options,
                           inputArrival: inputArrival, clocked: !combinational)
        let ys: [SignalID]
        switch layer.op {
        case let .dense(d):
            f.m.header.append("kernel type: \(d.kernelType), bias type: \(d.biasType), accumulator: \(d.accumType?.description ?? "auto (exact)")")
            let style = options.layerMultipliers[layer.name] ?? options.multipliers
            ys = usesShiftAdd(d, inputType: inType, style: style)
                ? lowerDenseShiftAdd(d, f: f, inputType: inType, outputType: layer.outputType)
                : lowerDense(d, f: f, inputType: inType, outputType: layer.outputType)
        case .relu:
            ys = f.inputs.enumerated().map { i, x in lowerRelu(x, f: f, name: "\(layer.name)_n\(i)", to: layer.outputType) }
        case let .binary(op):
            ys = lowerBinary(op, f: f, inputType: inType, outputType: layer.outputType,
                             style: options.layerMultipliers[layer.name] ?? options.multipliers)
        case let .activation(a):
            ys = lowerActivation(a, f: f, inputType: inType, outputType: layer.outputType, name: layer.name)
        case let .softmax(s):
            ys = lowerSoftmax(s, f: f, inputType: inType, outputType: layer.outputType)
        case let .kind(k):
            ys = lowerKind(k, f: f, input: model.tensorInto(layer: index), layer: layer, options: options)
        }
        if combinational {
            guard let hw = f.finishCombinational(ys, outputType: layer.outputType, inputType: inType,
                                                 maxArrival: options.delays.budget / 2) else { return nil }
            f.m.header.append(String(format: "latency: 0 (combinational, %.2f ns of logic: it shares the next layer's first stage), II = 1", hw.outputArrivalNs))
            return hw
        }
        let hw = f.finish(ys, outputType: layer.outputType, inputType: inType)
        var line = "latency: \(hw.latency) clock cycle(s), II = 1; \(hw.multipliers) multiplier(s), \(hw.adders) adder(s)"
        if inputArrival.ns > 0 { line += String(format: "; inputs arrive %.2f ns into the first stage (combinational layer in front)", inputArrival.ns) }
        f.m.header.append(line)
        f.m.header.append(LayerHardware.stageLine(hw.stageDelaysNs, open: false))
        return hw
    }

    static func lowerRelu(_ x: Val, f: LayerFrame, name: String, to t: FixedType) -> SignalID {
        let b = f.b
        if x.range.lo >= 0 { return b.cast(x, to: t, name: name).sig }
        if x.range.hi <= 0 {
            let zero = b.const("\(name)_zero", 0, width: 1, repr: .unsigned)
            return b.cast(Val(sig: zero, frac: x.frac, range: CodeRange(0, 0)), to: t, name: name).sig
        }
        // Into an unsigned saturating type, max(x, 0) is the cast's own low saturation: a
        // negative x rounds to at most 0 (every rounding mode is monotone and keeps 0), which
        // saturates to 0, so the cast alone gives cast(max(x, 0)) with one mux level less.
        if !t.signed && (t.overflow == .SAT || t.overflow == .SAT_SYM) { return b.cast(x, to: t, name: name).sig }
        // max(x, 0): the sign bit selects zero, else the other bits (as an unsigned value).
        let xs = b.signedVal(x, name: "\(name)_x")
        let w = b.module[xs.sig].width
        let neg = b.emit("\(name)_isneg", width: 1, repr: .bit, .slice(xs.sig, lo: w - 1))
        let mag = b.emit("\(name)_pos", width: w - 1, repr: .unsigned, .slice(xs.sig, lo: 0))
        let zero = b.const("\(name)_zero", 0, width: w - 1, repr: .unsigned)
        let m = b.emit("\(name)_max0", width: w - 1, repr: .unsigned, .mux(neg, zero, mag))
        let r = CodeRange(0, x.range.hi)
        return b.cast(Val(sig: m, frac: x.frac, range: r), to: t, name: name).sig
    }

    /// A balanced adder tree over signed terms; each adder as wide as its exact range.
    static func adderTree(_ terms: [Val], f: LayerFrame, name: String, modularWidth: Int?) -> Val {
        let b = f.b
        var level = terms
        var depth = 0
        while level.count > 1 {
            var next: [Val] = []
            var k = 0
            while k < level.count {
                if k + 1 == level.count { next.append(level[k]); k += 1; continue }
                let x = level[k], y = level[k + 1]
                let nm = "\(name)_t\(depth)_\(next.count)"
                if let mw = modularWidth {
                    let s = b.emit(nm, width: mw, repr: b.module[x.sig].repr, .add(x.sig, y.sig))
                    next.append(Val(sig: s, frac: x.frac, range: x.range))
                } else {
                    let r = CodeRange(x.range.lo + y.range.lo, x.range.hi + y.range.hi)
                    let w = r.signedWidth
                    let xe = b.resize(x.sig, to: w, name: "\(nm)_a")
                    let ye = b.resize(y.sig, to: w, name: "\(nm)_b")
                    let s = b.emit(nm, width: w, repr: .signed, .add(xe, ye))
                    next.append(Val(sig: s, frac: x.frac, range: r))
                }
                f.adders += 1
                k += 2
            }
            level = next
            depth += 1
        }
        return level[0]
    }

    /// A product of a dense sum (codes at `plan.productFrac`, exact range `pr`) as a term of the
    /// sum: cast to the explicit accumulator type (`NAME_c`), or aligned to the exact
    /// accumulator's grid (`NAME_al` when that takes a shift). Shared by the parallel and the
    /// reuse-factor lowerings, so both sum exactly what the golden model sums.
    static func denseTerm(_ prod: SignalID, range pr: CodeRange, plan: DensePlan, b: DatapathBuilder, name: String) -> Val {
        if let acc = plan.accumType {
            return b.cast(Val(sig: prod, frac: plan.productFrac, range: pr), to: acc, name: "\(name)_c")
        }
        guard plan.productShift > 0 else { return Val(sig: prod, frac: plan.accFrac, range: pr) }
        let sh = b.emit("\(name)_al", width: b.module[prod].width + plan.productShift, repr: .signed,
                        .shiftLeft(prod, plan.productShift))
        return Val(sig: sh, frac: plan.accFrac, range: CodeRange(pr.lo << plan.productShift, pr.hi << plan.productShift))
    }

    static func lowerDense(_ d: Dense, f: LayerFrame, inputType: FixedType, outputType: FixedType) -> [SignalID] {
        let b = f.b
        // DensePlan was validated when the model was loaded.
        let plan = try! DensePlan(dense: d, inputType: inputType)
        let p = f.prefix
        func xs(_ i: Int) -> Val { f.signedInput(i) }
        var ys: [SignalID] = []
        for j in 0..<d.units {
            let nn = "\(p)_n\(j)"
            var terms: [Val] = []
            for i in 0..<d.inputs {
                let w = d.kernel[i][j]
                if w == 0 { continue }
                let x = xs(i)
                let a = x.range.lo * w, c = x.range.hi * w
                let pr = CodeRange(min(a, c), max(a, c))
                let prod = product(x, weight: w, range: pr, f: f, name: "\(nn)_p\(i)", wname: "\(p)_w\(i)_\(j)", kernelType: d.kernelType)
                terms.append(denseTerm(prod, range: pr, plan: plan, b: b, name: "\(nn)_p\(i)"))
            }
            // The bias, as a constant term on the accumulator grid.
            let bias: Int128
            let accRepr: Repr
            var modularWidth: Int? = nil
            if let acc = plan.accumType {
                bias = acc.cast(code: d.bias[j], frac: d.biasType.fracBits)
                accRepr = acc.signed ? .signed : .unsigned
                modularWidth = acc.width
            } else {
                bias = d.bias[j] << plan.biasShift
                accRepr = .signed
            }
            if bias != 0 || terms.isEmpty {
                let w = modularWidth ?? CodeRange(bias, bias).signedWidth
                let c = b.const("\(nn)_bias", bigInt(bias), width: w, repr: accRepr,
                                comment: "bias \(d.biasType.decimalString(d.bias[j]))")
                terms.append(Val(sig: c, frac: plan.accFrac, range: CodeRange(bias, bias)))
            }
            var acc = adderTree(terms, f: f, name: nn, modularWidth: modularWidth)
            if let a = plan.accumType { acc.range = CodeRange(of: a) }
            let accSig = b.emit("\(nn)_acc", width: b.module[acc.sig].width, repr: b.module[acc.sig].repr, .copy(acc.sig))
            acc.sig = accSig
            ys.append(b.cast(acc, to: outputType, name: "\(nn)_y").sig)
        }
        return ys
    }

    /// x * w for a constant weight code: a shift for +-2^k, otherwise one multiplier.
    /// Returns a signed signal of the product's exact width.
    static func product(_ x: Val, weight w: Int128, range pr: CodeRange, f: LayerFrame, name: String,
                        wname: String, kernelType: FixedType) -> SignalID {
        let b = f.b
        let pw = pr.signedWidth
        let mag = w.magnitude
        if mag & (mag - 1) == 0 {
            let k = mag.trailingZeroBitCount
            var s = x.sig
            if k > 0 { s = b.emit("\(name)_sh", width: b.module[s].width + k, repr: .signed, .shiftLeft(s, k)) }
            if w < 0 {
                let e = b.resize(s, to: b.module[s].width + 1, name: "\(name)_e")
                s = b.emit("\(name)_neg", width: b.module[e].width, repr: .signed, .neg(e))
            }
            return b.resize(s, to: pw, name: name)
        }
        let cw = CodeRange(w, w).signedWidth
        let c = b.const(wname, bigInt(w), width: cw, repr: .signed, comment: "weight \(kernelType.decimalString(w))")
        // The product at the width of its exact range (never less than an operand's width).
        let wx = b.module[x.sig].width
        let p = b.emit(name, width: min(max(pw, wx, cw), wx + cw), repr: .signed, .mul(x.sig, c))
        f.multipliers += 1
        return b.resize(p, to: pw, name: name)
    }
}

extension LayerOp {
    /// Element-wise layers of a comparator or a mux and a cast at most (no table, no multiplier),
    /// which `DesignLowering` may emit without a register of their own.
    var mayBeCombinational: Bool {
        switch self {
        case .relu: return true
        case let .activation(a):
            switch a {
            case .linear, .reluMax: return true
            default: return false
            }
        case let .binary(b):
            switch b {
            case .sign, .threshold: return true
            default: return false
            }
        case let .kind(k): return k.base.mayBeCombinational
        default: return false
        }
    }
}
