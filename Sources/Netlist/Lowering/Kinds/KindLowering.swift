// The hardware side of the layer-kind seam (ModelIR/Kinds/LayerKind.swift): a layer family's
// lowering is one conformance to `KindLowering`, in its own file beside this one. The layer frame
// (ports, input slicing, output registers and packing, pipelining by the delay model) is shared;
// a kind only turns the frame's inputs into its outputs.
import FixedPoint
import ModelIR

protocol KindLowering {
    /// The outputs (each a signal of `layer.outputType`), in the layer's flat output order.
    func lower(f: LayerFrame, input: TensorInfo, layer: Layer, options: LoweringOptions) -> [SignalID]
}

extension LayerLowering {
    static func lowerKind(_ k: AnyLayerKind, f: LayerFrame, input: TensorInfo, layer: Layer, options: LoweringOptions) -> [SignalID] {
        guard let l = k.base as? any KindLowering else {
            preconditionFailure("layer kind \(k.base.opName) has no lowering (add a KindLowering conformance)")
        }
        f.m.header.append("input shape \(input.shape) -> output shape \(layer.outputShape) (channels last, flat row-major)")
        return l.lower(f: f, input: input, layer: layer, options: options)
    }
}

// MARK: - Convolution: one constant matrix over the unrolled layer

extension Conv: KindLowering {
    /// Every output position in parallel: the layer is the constant (sparse) matrix of all its
    /// windows (`Conv.unrolledDense`), lowered as a dense layer, so the shift-add CMVM shares
    /// partial sums between neighbouring windows and between filters.
    func lower(f: LayerFrame, input: TensorInfo, layer: Layer, options: LoweringOptions) -> [SignalID] {
        let g = geometry(input)!
        let u = unrolledDense(input)
        let style = options.layerMultipliers[layer.name] ?? options.multipliers
        let shiftAdd = LayerLowering.usesShiftAdd(u, inputType: input.type, style: style)
        f.m.header.append("\(opName): \(filters) filter(s) of \(kernelSize.map(String.init).joined(separator: "x")) x \(input.channels), strides \(strides.map(String.init).joined(separator: "x")), padding \(padding.name) (before \(g.padBefore), after \(g.padAfter))")
        f.m.header.append("kernel type: \(kernelType), bias type: \(biasType), accumulator: \(accumType?.description ?? "auto (exact)")")
        f.m.header.append("\(g.positions) output positions x \(filters) filters in parallel: output n = position * \(filters) + filter; "
            + (shiftAdd ? "one shift-add constant matrix over the unrolled layer (partial sums shared across windows and filters)" : "one multiplier per weight and window"))
        f.details.append(("positions", g.positions))
        return shiftAdd
            ? LayerLowering.lowerDenseShiftAdd(u, f: f, inputType: input.type, outputType: layer.outputType)
            : LayerLowering.lowerDense(u, f: f, inputType: input.type, outputType: layer.outputType)
    }
}

// MARK: - Pooling: compare trees and adder trees

extension Pool: KindLowering {
    func lower(f: LayerFrame, input: TensorInfo, layer: Layer, options: LoweringOptions) -> [SignalID] {
        let g = geometry(input)!
        let b = f.b
        let c = input.channels
        let x = input.type
        let acc = accumulator(input)
        let out = layer.outputType
        f.m.header.append("\(opName): window \(g.window.map(String.init).joined(separator: "x")), strides \(g.strides.map(String.init).joined(separator: "x")), \(g.positions) position(s) x \(c) channel(s); padding cells ignored")
        f.m.header.append(op == .max ? "max by a balanced compare tree" + (accumType.map { ", cast to \($0)" } ?? "")
                                     : "average: sum in \(acc)\(accumType == nil ? " (auto: exact)" : " (wraps)"), divided by the cell count, truncated toward zero")
        var ys: [SignalID] = []
        var comparators = 0
        for p in 0..<g.positions {
            let cells = Pool.cells(g, position: p)
            for ch in 0..<c {
                let name = "\(f.prefix)_p\(p)_c\(ch)"
                let vals = cells.map { f.inputs[$0 * c + ch] }
                switch op {
                case .max:
                    var level = vals
                    var depth = 0
                    while level.count > 1 {
                        var next: [Val] = []
                        for k in stride(from: 0, to: level.count, by: 2) {
                            guard k + 1 < level.count else { next.append(level[k]); continue }
                            let nm = "\(name)_m\(depth)_\(next.count)"
                            let ge = b.emit("\(nm)_ge", width: 1, repr: .bit, .compare(.ge, level[k].sig, level[k + 1].sig))
                            let m = b.emit(nm, width: x.width, repr: b.module[level[k].sig].repr, .mux(ge, level[k].sig, level[k + 1].sig))
                            comparators += 1
                            next.append(Val(sig: m, frac: x.fracBits, range: CodeRange(of: x)))
                        }
                        level = next
                        depth += 1
                    }
                    var m = level[0]
                    if let a = accumType { m = b.cast(m, to: a, name: "\(name)_acc") }
                    ys.append(b.cast(m, to: out, name: "\(name)_y").sig)
                case .average:
                    ys.append(average(vals, count: cells.count, accum: acc, inputType: x, f: f, name: name, output: out))
                }
            }
        }
        if comparators > 0 { f.details.append(("comparators", comparators)) }
        return ys
    }

    /// trunc0(sum / n) on the accumulator's grid, cast to the output type. The sum is exact (auto)
    /// or wraps in the explicit accumulator; the division by the constant n is a multiplication
    /// of |sum| by ceil(2^k / n) in shifts and adds and a right shift by k, with k chosen so that
    /// the result equals floor(|sum| / n) for every |sum| the sum can reach.
    func average(_ vals: [Val], count n: Int, accum a: FixedType, inputType x: FixedType, f: LayerFrame, name: String, output: FixedType) -> SignalID {
        let b = f.b
        var s: Val
        if accumType != nil {
            let terms = vals.enumerated().map { i, v in b.cast(v, to: a, name: "\(name)_t\(i)") }
            s = LayerLowering.adderTree(terms, f: f, name: "\(name)_sum", modularWidth: a.width)
            s.range = CodeRange(of: a)
        } else {
            let terms = vals.enumerated().map { i, v in b.signedVal(v, name: "\(name)_x\(i)") }
            s = LayerLowering.adderTree(terms, f: f, name: "\(name)_sum", modularWidth: nil)
            let sh = a.fracBits - x.fracBits
            if sh > 0 {
                let w = b.module[s.sig].width + sh
                s = Val(sig: b.emit("\(name)_al", width: w, repr: .signed, .shiftLeft(s.sig, sh)), frac: a.fracBits,
                        range: CodeRange(s.range.lo << sh, s.range.hi << sh))
            } else {
                s.frac = a.fracBits
            }
        }
        s = b.signedVal(s, name: "\(name)_s")
        let q = LayerLowering.divideTowardZero(s, by: n, f: f, name: name)
        return b.cast(q, to: output, name: "\(name)_y").sig
    }
}

extension LayerLowering {
    /// trunc0(v / n) for a constant n >= 1 (v a signed value): |v| * M >> k with M = ceil(2^k / n)
    /// (exact for every |v| up to the range's bound: |v| * (M * n - 2^k) < 2^k), the sign restored.
    static func divideTowardZero(_ v: Val, by n: Int, f: LayerFrame, name: String) -> Val {
        let b = f.b
        if n == 1 { return v }
        let mag = max(v.range.lo.magnitude, v.range.hi.magnitude)
        let bound = Int128(mag)
        var k = 0
        while (Int128(1) << k) < Int128(n) { k += 1 }
        var m: Int128 = 0
        while true {
            m = ((Int128(1) << k) + Int128(n) - 1) / Int128(n)
            let e = m * Int128(n) - (Int128(1) << k)
            let (prod, o) = bound.multipliedReportingOverflow(by: e)
            if e == 0 || (!o && prod < (Int128(1) << k)) { break }
            k += 1
            precondition(k < 120, "divideTowardZero: no exact reciprocal below 2^120")
        }
        let canBeNegative = v.range.lo < 0
        let w = b.module[v.sig].width
        // |v| (an unsigned magnitude of w bits).
        var u = v
        var neg: SignalID? = nil
        if canBeNegative {
            let sign = b.emit("\(name)_neg", width: 1, repr: .bit, .slice(v.sig, lo: w - 1))
            let ve = b.resize(v.sig, to: w + 1, name: "\(name)_ve")
            let nv = b.emit("\(name)_nv", width: w + 1, repr: .signed, .neg(ve))
            let a = b.emit("\(name)_abs", width: w + 1, repr: .signed, .mux(sign, nv, ve))
            u = Val(sig: a, frac: v.frac, range: CodeRange(0, bound))
            neg = sign
        } else {
            u = Val(sig: v.sig, frac: v.frac, range: CodeRange(0, bound))
        }
        // u * m in shifts and adds (canonical signed digits of m).
        let terms: [Val] = CSD.digits(m).enumerated().map { i, d in
            let uw = b.module[u.sig].width
            var t = u.sig
            if d.shift > 0 { t = b.emit("\(name)_r\(i)_sh", width: uw + d.shift, repr: .signed, .shiftLeft(t, d.shift)) }
            var r = CodeRange(0, bound << d.shift)
            if d.negative {
                let te = b.resize(t, to: b.module[t].width + 1, name: "\(name)_r\(i)_e")
                t = b.emit("\(name)_r\(i)_n", width: b.module[te].width, repr: .signed, .neg(te))
                r = CodeRange(-(bound << d.shift), 0)
            }
            return Val(sig: t, frac: v.frac, range: r)
        }
        var p = adderTree(terms, f: f, name: "\(name)_recip", modularWidth: nil)
        // Partial sums of signed digits may leave the product's range; the final value is m * |v|.
        p.range = CodeRange(0, bound * m)
        let pw = max(p.range.signedWidth, k + 1)
        let pr = b.resize(p.sig, to: pw, name: "\(name)_prod")
        let qmax = (bound * m) >> k
        let qw = CodeRange(-qmax, qmax).signedWidth
        let qu = b.resize(b.emit("\(name)_qu", width: pw - k, repr: .signed, .slice(pr, lo: k)), to: qw, name: "\(name)_q")
        guard let neg else { return Val(sig: qu, frac: v.frac, range: CodeRange(0, qmax)) }
        let qn = b.emit("\(name)_qn", width: qw, repr: .signed, .neg(qu))
        let q = b.emit("\(name)_div", width: qw, repr: .signed, .mux(neg, qn, qu))
        return Val(sig: q, frac: v.frac, range: CodeRange(-qmax, qmax))
    }
}

// MARK: - Reshape and zero padding: wiring

extension Reshape: KindLowering {
    func lower(f: LayerFrame, input: TensorInfo, layer: Layer, options: LoweringOptions) -> [SignalID] {
        f.m.header.append("\(opName): the values pass through in order (wiring)")
        return f.inputs.enumerated().map { i, x in f.b.cast(x, to: layer.outputType, name: "\(f.prefix)_n\(i)").sig }
    }
}

extension ZeroPad: KindLowering {
    func lower(f: LayerFrame, input: TensorInfo, layer: Layer, options: LoweringOptions) -> [SignalID] {
        f.m.header.append("\(opName): padding \(pads) (before, after per spatial dimension) with zeros (wiring)")
        let t = layer.outputType
        let zero = f.b.const("\(f.prefix)_zero", 0, width: t.width, repr: t.signed ? .signed : .unsigned)
        return sources(input).enumerated().map { i, s in
            guard let s else { return zero }
            return f.b.cast(f.inputs[s], to: t, name: "\(f.prefix)_n\(i)").sig
        }
    }
}
