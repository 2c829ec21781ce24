// A convolution with a parallelization factor (hls4ml's ParallelizationFactor for io_parallel:
// output positions computed per cycle): PF lanes, each the window's dense layer (the same
// constant matrix, shift-add or multipliers as for the unrolled layer), computing positions
// c * PF + lane in cycle c of a sample, so the layer takes C = ceil(positions / PF) cycles per
// sample (its initiation interval) and about 1/C of the unrolled layer's arithmetic.
//
// Same exact arithmetic as the unrolled layer: each lane evaluates `Conv.windowDense` on its
// window (zeros in the padding), as the golden model does for every position.
//
// Schedule (one sample; t = the edge its inputs are taken with in_valid high):
//   edge t:          image register <- in_data, cnt <- 0, run <- 1
//   cycle c:         lane l reads position c * PF + l's window from the image register (a mux
//                    on cnt per window value), its dense layer is pipelined by the delay model
//                    (P stages, ending in a register per lane output)
//   edge t + P + 1 + c: the output registers of the positions of cycle c take the lanes' results
// latency = C + P + 1; the whole output is valid after the last cycle's edge, and a new sample
// may start every C cycles (the top level's in_ready enforces it).
import BigInt
import FixedPoint
import ModelIR

extension LayerLowering {
    /// The time-multiplexed lowering of a convolution, or nil when its parallelization factor
    /// leaves one cycle per sample (or none is set): then the layer is unrolled.
    static func lowerConvParallel(_ conv: Conv, layer: Layer, index: Int, model: Model, top: String,
                                  options: LoweringOptions) -> LayerHardware? {
        guard let pf = options.parallelizationFactor(of: layer) else { return nil }
        let input = model.tensorInto(layer: index)
        let g = conv.geometry(input)!
        let cycles = (g.positions + pf - 1) / pf
        guard cycles > 1 else { return nil }
        let lanes = (g.positions + cycles - 1) / cycles   // <= pf, the fewest lanes for C cycles
        let inT = input.type, outT = layer.outputType
        let ch = input.channels, filters = conv.filters
        let name = layer.name
        let header = [
            "Layer \(index): \(layer.name) (\(layer.opName)), \(input.size) -> \(layer.outputSize)",
            "input  type: \(inT)",
            "output type: \(outT)",
            "input shape \(input.shape) -> output shape \(layer.outputShape) (channels last, flat row-major)",
            "\(conv.opName): \(filters) filter(s) of \(conv.kernelSize.map(String.init).joined(separator: "x")) x \(ch), strides \(conv.strides.map(String.init).joined(separator: "x")), padding \(conv.padding.name) (before \(g.padBefore), after \(g.padAfter))",
            "kernel type: \(conv.kernelType), bias type: \(conv.biasType), accumulator: \(conv.accumType?.description ?? "auto (exact)")",
        ]
        let f = LayerFrame(moduleName: "\(top)_\(layer.name)", prefix: name, header: header, inputSize: input.size,
                           inputType: inT, options: options)
        let b = f.b, m = f.m
        let clk = b.clock!, ce = b.enable!
        let (start, cnt, run, _, cw) = sampleControl(f, cycles: cycles, unit: "position group")
        let bus = m.signal(named: CorePorts.inData)!
        let w = inT.width

        // The image register: the sample's inputs, held while its positions are computed.
        let load = m.define("\(name)_load", width: 1, repr: .bit, .bitwise(.and, start, ce))
        let image = m.declareRegister("\(name)_image", width: input.size * w, repr: .bus, comment: "the sample's inputs, taken with in_valid")
        m.drive(image, RegisterDef(d: bus, clock: clk, enable: load))
        let repr: Repr = inT.signed ? .signed : .unsigned
        var cell: [Int: Val] = [:]
        func value(_ i: Int?) -> Val {
            guard let i else {
                if let z = cell[-1] { return z }
                let z = Val(sig: b.const("\(name)_pad", 0, width: w, repr: repr), frac: inT.fracBits, range: CodeRange(0, 0))
                cell[-1] = z
                return z
            }
            if let v = cell[i] { return v }
            let v = Val(sig: b.emit("\(name)_x\(i)", width: w, repr: repr, .slice(image, lo: i * w)), frac: inT.fracBits, range: CodeRange(of: inT))
            cell[i] = v
            return v
        }
        // cnt's bits select between the cycles' values (a balanced mux tree per window value;
        // trees with the same leaves are built once).
        let bits = (0..<cw).map { k in b.emit("\(name)_cnt_b\(k)", width: 1, repr: .bit, .slice(cnt, lo: k)) }
        var trees: [[Int]: Val] = [:]
        func select(_ leaves: [Int?], tag: String) -> Val {
            let key = leaves.map { $0 ?? -1 }
            if let v = trees[key] { return v }
            var level = leaves.map(value)
            var k = 0
            while level.count > 1 {
                var next: [Val] = []
                for j in stride(from: 0, to: level.count, by: 2) {
                    guard j + 1 < level.count else { next.append(level[j]); continue }
                    let (lo, hi) = (level[j], level[j + 1])
                    if lo.sig == hi.sig { next.append(lo); continue }
                    let s = b.emit("\(tag)_s\(k)_\(next.count)", width: w, repr: repr, .mux(bits[k], hi.sig, lo.sig))
                    let r = CodeRange(min(lo.range.lo, hi.range.lo), max(lo.range.hi, hi.range.hi))
                    next.append(Val(sig: s, frac: inT.fracBits, range: r))
                }
                level = next
                k += 1
            }
            trees[key] = level[0]
            return level[0]
        }

        // The lanes: lane l in cycle c computes position c * lanes + l.
        let dense = conv.windowDense(channels: ch)
        let style = options.layerMultipliers[layer.name] ?? options.multipliers
        let shiftAdd = usesShiftAdd(dense, inputType: inT, style: style)
        var laneYs: [SignalID] = []
        let headerBefore = m.header.count
        for l in 0..<lanes {
            var xs: [Val] = []
            for off in 0..<g.windowSize {
                for i in 0..<ch {
                    let leaves: [Int?] = (0..<(1 << cw)).map { c in
                        let p = min(c, cycles - 1) * lanes + l
                        guard p < g.positions, let cellIndex = g.inputCell(position: p, offset: off) else { return nil }
                        return cellIndex * ch + i
                    }
                    xs.append(select(leaves, tag: "\(name)_l\(l)_w\(off * ch + i)"))
                }
            }
            f.rebind(inputs: xs, prefix: "\(name)_l\(l)")
            laneYs += shiftAdd
                ? lowerDenseShiftAdd(dense, f: f, inputType: inT, outputType: outT)
                : lowerDense(dense, f: f, inputType: inT, outputType: outT)
        }
        // Every lane adds the same notes on its arithmetic: keep one of each.
        var seen = Set<String>()
        m.header = Array(m.header[..<headerBefore]) + m.header[headerBefore...].filter { seen.insert($0).inserted }
        let (regs, pStage) = b.registerAll(laneYs, names: laneYs.indices.map { "\(name)_l\($0 / filters)_y\($0 % filters)" })
        let cntP = b.delay(cnt, to: pStage)
        let runP = b.delay(run, to: pStage)

        // The output registers: position c * lanes + l takes lane l's results after cycle c.
        var outs: [SignalID] = []
        var enables: [Int: SignalID] = [:]
        for p in 0..<g.positions {
            let c = p / lanes, l = p % lanes
            let en: SignalID
            if let e = enables[c] { en = e } else {
                let cc = m.define("\(name)_grp\(c)", width: cw, repr: .unsigned, .const(BigInt(c)))
                let at = m.define("\(name)_at\(c)", width: 1, repr: .bit, .compare(.eq, cntP, cc))
                let both = m.define("\(name)_take\(c)_r", width: 1, repr: .bit, .bitwise(.and, at, runP))
                en = m.define("\(name)_take\(c)", width: 1, repr: .bit, .bitwise(.and, both, ce))
                enables[c] = en
            }
            for fi in 0..<filters {
                let q = m.declareRegister("\(name)_out_\(p * filters + fi)", width: outT.width, repr: outT.signed ? .signed : .unsigned)
                m.drive(q, RegisterDef(d: regs[l * filters + fi], clock: clk, enable: en))
                outs.append(q)
            }
        }
        m.define(CorePorts.outData, width: outs.count * outT.width, repr: .bus, .concat(outs.reversed()), role: .output)
        let latency = cycles + pStage + 1
        m.latency = latency
        m.header.append("parallelization factor \(pf): \(lanes) lane(s) (positions per cycle), \(cycles) cycles per sample (II = \(cycles)); "
            + (shiftAdd ? "each lane the window's shift-add constant matrix" : "each lane one multiplier per weight"))
        m.header.append("in_valid: a sample is on in_data (at most one every \(cycles) cycles; the top level's in_ready enforces it)")
        m.header.append("latency: \(latency) clock cycle(s) = \(cycles) (position groups) + \(pStage) (lane arithmetic) + 1 (output registers), II = \(cycles); \(f.multipliers) multiplier(s), \(f.adders) adder(s)")
        var hw = LayerHardware(module: m, latency: latency, inputSize: input.size, inputType: inT, outputSize: outs.count,
                               outputType: outT, multipliers: f.multipliers, adders: f.adders)
        hw.initiationInterval = cycles
        hw.parallelizationFactor = pf
        hw.timingOverruns = f.b.overruns
        hw.details = [("parallelization_factor", pf), ("initiation_interval", cycles), ("lanes", lanes), ("positions", g.positions)]
        return hw
    }
}
