// A dense layer with a reuse factor (hls4ml's ReuseFactor): the arithmetic is shared over C
// cycles per sample instead of being unrolled. With n inputs and reuse factor R, each cycle reads
// K = ceil(n / R) inputs and the matching K weights of every output from a ROM, multiplies them
// (K real multipliers per output, DSP-style, since the weights are no longer constants) and adds
// the K products to a per-output accumulator; C = ceil(n / K) <= R cycles per sample, so the
// layer's initiation interval is C.
//
// Same exact arithmetic as the unrolled layer (Dense.evaluate): with an "auto" accumulator every
// product and partial sum is exact (the accumulator is as wide as the range of every partial
// sum); with an explicit accum_type every product and the bias are cast to it and the sum wraps
// in it (a modular sum does not depend on the order of the additions).
//
// Schedule (one sample; t = the cycle its inputs are on in_data with in_valid high):
//   edge t:            x register <- in_data (padded to C*K elements), cnt <- 0, run <- 1
//   cycle t+1+c:       chunk c = the low K elements of the x register (which shifts by K each
//                      cycle) times ROM[c]; the products and their adder tree are pipelined by
//                      the delay model (P stages, ending in a register per output)
//   P stages later:    acc <- (first chunk ? bias : acc) + chunk sum
//   after chunk C-1:   the output cast (pipelined, T stages, ending in the output registers)
// latency = 1 + C + P + T. A new sample may start every C cycles (also on the cycle of the last
// chunk of the previous one); the top level (Top.swift) enforces the II with `in_ready`.
import BigInt
import FixedPoint
import ModelIR

extension LayerLowering {
    /// Chunking of a layer with n inputs at reuse factor R: K inputs per cycle, C cycles.
    public static func reuseChunks(inputs n: Int, reuseFactor r: Int) -> (perCycle: Int, cycles: Int) {
        let k = (n + max(r, 1) - 1) / max(r, 1)
        return (k, (n + k - 1) / k)
    }

    /// The control of a time-multiplexed layer (`rst` and `in_valid` ports): `cnt` counts the
    /// cycles of a sample (0 ..< cycles), `run` is high while they run, `first` on cycle 0;
    /// `start` is the in_valid port. `cw` is cnt's width.
    static func sampleControl(_ f: LayerFrame, cycles: Int, unit: String) -> (start: SignalID, cnt: SignalID, run: SignalID, first: SignalID, cw: Int) {
        let b = f.b, m = f.m, p = f.prefix
        let clk = b.clock!, ce = b.enable!
        let rst = b.input(CorePorts.reset, width: 1, repr: .bit)
        let start = b.input(CorePorts.inValid, width: 1, repr: .bit)

        // cnt counts the cycles of a sample, run is high while they run.
        let cw = max(1, (cycles - 1).bitWidthNeeded)
        let cnt = m.declareRegister("\(p)_cnt", width: cw, repr: .unsigned, comment: "\(unit) index (0..\(cycles - 1))")
        let run = m.declareRegister("\(p)_run", width: 1, repr: .bit, comment: "a sample is being read, one \(unit) per cycle")
        let zeroC = m.define("\(p)_cnt_zero", width: cw, repr: .unsigned, .const(0))
        let oneC = m.define("\(p)_cnt_one", width: cw, repr: .unsigned, .const(1))
        let lastC = m.define("\(p)_cnt_last", width: cw, repr: .unsigned, .const(BigInt(cycles - 1)))
        let isLast = m.define("\(p)_at_last", width: 1, repr: .bit, .compare(.eq, cnt, lastC))
        let isZero = m.define("\(p)_at_zero", width: 1, repr: .bit, .compare(.eq, cnt, zeroC))
        let inc = m.define("\(p)_cnt_inc", width: cw, repr: .unsigned, .add(cnt, oneC))
        m.drive(cnt, RegisterDef(d: m.define("\(p)_cnt_next", width: cw, repr: .unsigned, .mux(start, zeroC, inc)),
                                 clock: clk, enable: ce, reset: RegisterReset(rst, value: 0)))
        let notLast = m.define("\(p)_not_last", width: 1, repr: .bit, .not(isLast))
        let keep = m.define("\(p)_run_keep", width: 1, repr: .bit, .bitwise(.and, run, notLast))
        m.drive(run, RegisterDef(d: m.define("\(p)_run_next", width: 1, repr: .bit, .bitwise(.or, start, keep)),
                                 clock: clk, enable: ce, reset: RegisterReset(rst, value: 0)))
        let first = m.define("\(p)_first", width: 1, repr: .bit, .bitwise(.and, run, isZero))
        return (start, cnt, run, first, cw)
    }

    /// The time-multiplexed lowering of a dense layer, or nil when its reuse factor leaves one
    /// cycle per sample (R = 1, or a single input): then the layer is unrolled as usual.
    static func lowerDenseReuse(_ d: Dense, layer: Layer, index: Int, model: Model, top: String,
                                options: LoweringOptions) -> LayerHardware? {
        let rf = options.reuseFactor(of: layer)
        guard rf > 1 else { return nil }
        let (n, inT) = model.inputOf(layer: index)
        let (kk, cycles) = reuseChunks(inputs: n, reuseFactor: rf)
        guard cycles > 1 else { return nil }
        let units = d.units
        let p = layer.name
        let outT = layer.outputType
        let plan = try! DensePlan(dense: d, inputType: inT)   // validated when the model was loaded
        let header = [
            "Layer \(index): \(layer.name) (\(layer.opName)), \(n) -> \(layer.outputSize)",
            "input  type: \(inT)",
            "output type: \(outT)",
            "kernel type: \(d.kernelType), bias type: \(d.biasType), accumulator: \(d.accumType?.description ?? "auto (exact)")",
        ]
        let f = LayerFrame(moduleName: "\(top)_\(layer.name)", prefix: p, header: header, inputSize: n,
                           inputType: inT, options: options)
        let b = f.b, m = f.m
        let clk = b.clock!, ce = b.enable!
        let (start, cnt, run, first, cw) = sampleControl(f, cycles: cycles, unit: "chunk")
        let bus = m.signal(named: CorePorts.inData)!
        let w = inT.width
        let chunkBits = kk * w

        // The input register: loaded at the start, then shifted down by one chunk per cycle.
        let xw = cycles * chunkBits
        let xreg = m.declareRegister("\(p)_x", width: xw, repr: .bus, comment: "the sample's inputs; the low \(kk) are the current chunk")
        var load = bus
        if xw > n * w {
            let pad = m.define("\(p)_x_pad", width: xw - n * w, repr: .unsigned, .const(0))
            load = m.define("\(p)_x_load", width: xw, repr: .bus, .concat([pad, bus]))
        }
        let zeroChunk = m.define("\(p)_x_fill", width: chunkBits, repr: .unsigned, .const(0))
        let rest = m.define("\(p)_x_rest", width: xw - chunkBits, repr: .bus, .slice(xreg, lo: chunkBits))
        let shifted = m.define("\(p)_x_shift", width: xw, repr: .bus, .concat([zeroChunk, rest]))
        m.drive(xreg, RegisterDef(d: m.define("\(p)_x_next", width: xw, repr: .bus, .mux(start, load, shifted)),
                                  clock: clk, enable: ce))
        let repr: Repr = inT.signed ? .signed : .unsigned
        let one = inT.isBipolar ? b.bitConst(true, name: "\(p)_one") : nil
        let xs: [Val] = (0..<kk).map { k in
            if let one {
                let bit = b.emit("\(p)_x\(k)", width: 1, repr: .bit, .slice(xreg, lo: k))
                return b.signedVal(b.decodeBipolar(bit, one: one, name: "\(p)_x\(k)_v"), name: "\(p)_x\(k)_s")
            }
            let s = b.emit("\(p)_x\(k)", width: w, repr: repr, .slice(xreg, lo: k * w))
            return b.signedVal(Val(sig: s, frac: inT.fracBits, range: CodeRange(of: inT)), name: "\(p)_x\(k)_s")
        }

        // The weight ROM: entry c holds kernel rows c*K .. c*K+K-1 for every output, weight
        // (row c*K+k, output j) in bits [(j*K+k+1)*ww-1 : (j*K+k)*ww] as a signed code.
        func weight(_ c: Int, _ k: Int, _ j: Int) -> Int128 {
            let i = c * kk + k
            return i < n ? d.kernel[i][j] : 0
        }
        var wlo: Int128 = 0, whi: Int128 = 0
        for row in d.kernel { for v in row { wlo = min(wlo, v); whi = max(whi, v) } }
        let ww = CodeRange(wlo, whi).signedWidth
        let romWidth = units * kk * ww
        let entries = 1 << cw
        var romValues: [BigInt] = []
        romValues.reserveCapacity(entries)
        let mask = (UInt128(1) << ww) &- 1
        for c in 0..<entries {
            var words = [UInt](repeating: 0, count: (romWidth + 63) / 64)
            if c < cycles {
                for j in 0..<units {
                    for k in 0..<kk {
                        let v = UInt128(bitPattern: weight(c, k, j)) & mask
                        if v == 0 { continue }
                        let at = (j * kk + k) * ww
                        for bit in 0..<ww where (v >> bit) & 1 == 1 {
                            words[(at + bit) / 64] |= UInt(1) << UInt((at + bit) % 64)
                        }
                    }
                }
            }
            romValues.append(BigInt(BigUInt(words: words)))
        }
        let table = m.addTable(RomTable(
            name: "\(p)_weights", width: romWidth, repr: .bus, values: romValues,
            comment: "weights of \(layer.name): entry c = kernel rows \(kk)c .. \(kk)c+\(kk - 1) (\(kk) inputs per cycle, \(cycles) cycles); weight (row \(kk)c+k, output j) is the signed \(ww)-bit code in bits [(\(kk)j+k)*\(ww) +: \(ww)] (kernel type \(d.kernelType))"))
        let wrom = b.emit("\(p)_w", width: romWidth, repr: .bus, .rom(cnt, table: table))

        // Per output: K products (lanes whose weights are all zero are skipped) and their sum.
        var psums: [Val] = []
        var accRanges: [CodeRange] = []
        for j in 0..<units {
            let nn = "\(p)_n\(j)"
            var terms: [Val] = []
            var allLo: Int128 = 0, allHi: Int128 = 0
            for k in 0..<kk {
                var plo: Int128 = 0, phi: Int128 = 0
                var any = false
                for c in 0..<cycles {
                    let wv = weight(c, k, j)
                    if wv == 0 { continue }
                    any = true
                    let a = xs[k].range.lo * wv, e = xs[k].range.hi * wv
                    plo = min(plo, min(a, e)); phi = max(phi, max(a, e))
                    allLo += min(a, e); allHi += max(a, e)
                }
                guard any else { continue }
                let wsig = b.emit("\(nn)_w\(k)", width: ww, repr: .signed, .slice(wrom, lo: (j * kk + k) * ww))
                let xw = b.module[xs[k].sig].width
                let pr = CodeRange(plo, phi)
                // The product at the width of its exact range (never less than an operand's).
                let full = b.emit("\(nn)_p\(k)", width: min(max(pr.signedWidth, xw, ww), xw + ww), repr: .signed,
                                  .mul(xs[k].sig, wsig))
                f.multipliers += 1
                let prod = b.resize(full, to: pr.signedWidth, name: "\(nn)_p\(k)_r")
                terms.append(denseTerm(prod, range: pr, plan: plan, b: b, name: "\(nn)_p\(k)"))
            }
            if let acc = plan.accumType {
                let accRepr: Repr = acc.signed ? .signed : .unsigned
                if terms.isEmpty {
                    terms.append(Val(sig: b.const("\(nn)_zero", 0, width: acc.width, repr: accRepr), frac: acc.fracBits, range: CodeRange(0, 0)))
                }
                var s = adderTree(terms, f: f, name: "\(nn)_ps", modularWidth: acc.width)
                s.range = CodeRange(of: acc)
                psums.append(s)
                accRanges.append(CodeRange(of: acc))
            } else {
                if terms.isEmpty {
                    terms.append(Val(sig: b.const("\(nn)_zero", 0, width: 1, repr: .signed), frac: plan.accFrac, range: CodeRange(0, 0)))
                }
                psums.append(adderTree(terms, f: f, name: "\(nn)_ps", modularWidth: nil))
                // Every term's range holds 0, so every partial sum (and the chunk sums) lies in
                // the range of the whole sum, bias included.
                let bias = d.bias[j] << plan.biasShift
                let lo = min(allLo << plan.productShift, 0) + min(bias, 0)
                let hi = max(allHi << plan.productShift, 0) + max(bias, 0)
                accRanges.append(CodeRange(lo, hi))
            }
        }
        let (pregs, pStage) = b.registerAll(psums.map { $0.sig }, names: (0..<units).map { "\(p)_n\($0)_psum" })
        let firstP = b.delay(first, to: pStage)
        let runP = b.delay(run, to: pStage)
        let accEn = m.define("\(p)_acc_en", width: 1, repr: .bit, .bitwise(.and, runP, ce))

        // The accumulators (state that feeds back: defined on the module, outside the
        // builder's pipeline), then the output cast, pipelined by the delay model.
        var ys: [SignalID] = []
        for j in 0..<units {
            let nn = "\(p)_n\(j)"
            let accW: Int, accRepr: Repr, biasCode: Int128
            if let a = plan.accumType {
                accW = a.width
                accRepr = a.signed ? .signed : .unsigned
                biasCode = a.cast(code: d.bias[j], frac: d.biasType.fracBits)
            } else {
                accW = accRanges[j].signedWidth
                accRepr = .signed
                biasCode = d.bias[j] << plan.biasShift
            }
            let acc = m.declareRegister("\(nn)_acc", width: accW, repr: accRepr, comment: nil)
            let biasC = m.define("\(nn)_bias", width: accW, repr: accRepr, .const(bigInt(biasCode)),
                                 comment: "bias \(d.biasType.decimalString(d.bias[j]))")
            let base = m.define("\(nn)_base", width: accW, repr: accRepr, .mux(firstP, biasC, acc))
            var ps = pregs[j]
            if m[ps].width < accW { ps = m.define("\(nn)_psum_e", width: accW, repr: accRepr, .extend(ps)) }
            let next = m.define("\(nn)_sum", width: accW, repr: accRepr, .add(base, ps))
            f.adders += 1
            m.drive(acc, RegisterDef(d: next, clock: clk, enable: accEn))
            ys.append(b.cast(Val(sig: acc, frac: plan.accFrac, range: accRanges[j]), to: outT, name: "\(nn)_y").sig)
        }
        let (outs, tStage) = b.registerAll(ys, names: ys.indices.map { "\(p)_out_\($0)" })
        m.define(CorePorts.outData, width: outs.count * outT.width, repr: .bus, .concat(outs.reversed()), role: .output)
        let latency = 1 + cycles + pStage + tStage
        m.latency = latency
        m.header.append("reuse factor \(rf): \(kk) input(s) per cycle, \(cycles) cycles per sample (II = \(cycles)); weights in the ROM \(m.tables[table].name) (\(entries) x \(romWidth) bits)")
        m.header.append("in_valid: a sample is on in_data (at most one every \(cycles) cycles; the top level's in_ready enforces it)")
        m.header.append("latency: \(latency) clock cycle(s) = 1 (input register) + \(cycles) (chunks) + \(pStage) (products and chunk sums) + \(tStage) (output cast), II = \(cycles); \(f.multipliers) multiplier(s), \(f.adders) adder(s)")
        var hw = LayerHardware(module: m, latency: latency, inputSize: n, inputType: inT, outputSize: units,
                               outputType: outT, multipliers: f.multipliers, adders: f.adders)
        hw.initiationInterval = cycles
        hw.reuseFactor = rf
        hw.timingOverruns = f.b.overruns
        hw.details = [("reuse_factor", rf), ("initiation_interval", cycles), ("inputs_per_cycle", kk)]
        return hw
    }
}

extension Int {
    /// Bits needed to hold 0...self (self >= 0).
    var bitWidthNeeded: Int { self == 0 ? 0 : Int.bitWidth - self.leadingZeroBitCount }
}
