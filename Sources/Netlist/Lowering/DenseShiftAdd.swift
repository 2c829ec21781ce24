// Dense layers without multipliers: the layer's constant matrix becomes a CMVM program (shared
// shift-add nodes, see CMVM/CMVMSolver.swift) and each output is summed by a tree that combines
// the two earliest-arriving terms first (the builder's stage and arrival time), so deep shared
// nodes and shallow inputs meet where they are ready and registers land where the delay model
// says. Every value is an exact linear form in the layer's inputs, so every adder is exactly as
// wide as the value's range (no interval overestimate on shared nodes), and the low bits that an
// addend shifted left cannot touch are wires, not adder bits (carry-aware emission).
import BigInt
import FixedPoint
import ModelIR

/// How a dense layer multiplies by its constant weights.
public enum MultiplierStyle: String, Sendable, CaseIterable {
    /// Constant multiplications as shifts and adders shared across the layer (no DSP).
    case shiftAdd = "shift_add"
    /// One `*` per weight that is not a power of two (synthesis maps them to DSPs).
    case dsp
    /// shift_add wherever the layer's values fit the exact shift-add arithmetic (up to 100-bit
    /// products and sums); dsp otherwise.
    case auto
}

/// A value in the shift-add datapath: its signal and the exact linear form it holds,
/// sum coeffs[i] * x_i + offset (x_i the layer's input codes).
struct LinearVal {
    var sig: SignalID
    var coeffs: [Int128]
    var offset: Int128

    func range(_ inputs: [CodeRange]) -> CodeRange {
        var lo = offset, hi = offset
        for (i, c) in coeffs.enumerated() where c != 0 {
            if c > 0 { lo += c * inputs[i].lo; hi += c * inputs[i].hi } else { lo += c * inputs[i].hi; hi += c * inputs[i].lo }
        }
        return CodeRange(lo, hi)
    }
}

/// Emits CMVM programs into a layer module.
struct ShiftAddEmitter {
    let f: LayerFrame
    let inputRanges: [CodeRange]
    /// Whether the shared nodes' adders fold their operands' sign extension into offsets
    /// (offsetExtended; `sum(foldTree:)` does the same for an output's tree); the offsets are
    /// taken off by the constant that `sum` adds.
    var foldSignExtension = false
    var b: DatapathBuilder { f.b }

    /// A signed term (negative ? -1 : 1) * (value << shift).
    struct Term {
        var v: LinearVal
        var shift: Int
        var negative: Bool
    }

    func width(_ v: LinearVal) -> Int { v.range(inputRanges).signedWidth }

    /// x +- (y << d) with x and y signed signals of their exact widths. The low d bits of the
    /// result are x's low bits (wires); only the upper part is an adder, as wide as its range.
    func addShifted(_ x0: LinearVal, _ y0: LinearVal, shift d: Int, subtract: Bool, name: String, fold: Bool = false) -> LinearVal {
        var (x, y) = aligned(x0, y0, shift: d, subtract: subtract)
        if fold && foldSignExtension {
            y = offsetExtended(y, ones: subtract, against: x, shift: d, subtract: subtract, name: "\(name)_yo")
            if !subtract { x = offsetExtendedHigh(x, against: y, shift: d, name: "\(name)_xo") }
        }
        var out = combined(x, y, shift: d, subtract: subtract)
        let r = out.range(inputRanges)
        let w = r.signedWidth
        let op: (SignalID, SignalID) -> Op = subtract ? { .sub($0, $1) } : { .add($0, $1) }
        f.adders += 1
        if d == 0 {
            let (wa, nonNegative) = Self.adderBits(r)
            let xa = b.resize(x.sig, to: wa, name: "\(name)_a")
            let ya = b.resize(y.sig, to: wa, name: "\(name)_b")
            if !nonNegative {
                out.sig = b.emit(name, width: w, repr: .signed, op(xa, ya))
                return out
            }
            let sum = b.emit("\(name)_m", width: wa, repr: .signed, op(xa, ya))
            let cat = b.emit("\(name)_u", width: w, repr: .unsigned, .concat([b.bitConst(false, name: "\(name)_z"), sum]))
            out.sig = b.emit(name, width: w, repr: .signed, .copy(cat))
            return out
        }
        // (x >> d) +- y on the upper bits (floor shift: exact, the low bits are kept aside).
        let hiRange = CodeRange(r.lo >> d, r.hi >> d)
        let wh = hiRange.signedWidth
        let (wa, hiNonNegative) = Self.adderBits(hiRange)
        let xs = b.resize(x.sig, to: max(b.module[x.sig].width, d + 1), name: "\(name)_x")
        let xw = b.module[xs].width
        let xhi = b.emit("\(name)_xh", width: xw - d, repr: .signed, .slice(xs, lo: d))
        let xa = b.resize(xhi, to: wa, name: "\(name)_a")
        let ya = b.resize(y.sig, to: wa, name: "\(name)_b")
        let hi = b.emit("\(name)_hi", width: wa, repr: .signed, op(xa, ya))
        let lo = b.emit("\(name)_lo", width: d, repr: .unsigned, .slice(xs, lo: 0))
        let parts = hiNonNegative ? [b.bitConst(false, name: "\(name)_z"), hi, lo] : [hi, lo]
        let cat = b.emit("\(name)_u", width: wh + d, repr: .unsigned, .concat(parts))
        let s = b.emit(name, width: wh + d, repr: .signed, .copy(cat))
        out.sig = b.resize(s, to: w, name: "\(name)_r")
        return out
    }

    /// x +- (y << d) as a linear value (its signal still x's: the caller emits the adder).
    func combined(_ x: LinearVal, _ y: LinearVal, shift d: Int, subtract: Bool) -> LinearVal {
        var sum = x
        for i in sum.coeffs.indices { sum.coeffs[i] += (subtract ? -1 : 1) * (y.coeffs[i] << d) }
        sum.offset += (subtract ? -1 : 1) * (y.offset << d)
        return sum
    }

    /// The bits an adder computes for a value in `r`. A value that is never negative has a sign
    /// bit that is always 0: the adder stops below it (modulo 2^(w-1), exact for a value in
    /// [0, 2^(w-1))) and the sign bit is a constant wire, so synthesis sees zeros, not a
    /// computed bit, wherever the value is sign-extended.
    static func adderBits(_ r: CodeRange) -> (width: Int, nonNegative: Bool) {
        let w = r.signedWidth
        let nonNegative = r.lo >= 0 && w >= 2
        return (nonNegative ? w - 1 : w, nonNegative)
    }

    /// The adder width addShifted gives x +- (y << d) (the upper part only when d > 0).
    func adderWidth(_ x: LinearVal, _ y: LinearVal, shift d: Int, subtract: Bool) -> Int {
        let q = combined(x, y, shift: d, subtract: subtract).range(inputRanges)
        return Self.adderBits(CodeRange(q.lo >> d, q.hi >> d)).width
    }

    func isConst(_ v: LinearVal) -> Bool { if case .const = b.module.op(v.sig) { return true }; return false }

    /// Sign extension folded into the offset: a w-bit y that may be negative, with its sign bit
    /// inverted, is y + 2^(w-1) extended with zeros, or y - 2^(w-1) extended with ones. In an
    /// adder (zeros) or a subtractor (ones: the subtractor adds their complement, zeros) the bits
    /// above y then take the other operand's bits unchanged into the carry chain, where a sign
    /// extension costs a LUT per bit. The constant 2^(w-1) joins the value's offset (the sum
    /// subtracts the offsets once, with the bias).
    func offsetExtended(_ y: LinearVal, ones: Bool, against x: LinearVal, shift d: Int, subtract: Bool, name: String) -> LinearVal {
        let wy = b.module[y.sig].width
        guard !isConst(y), wy >= 2, y.range(inputRanges).lo < 0 else { return y }
        var m = y
        m.offset += ones ? -(Int128(1) << (wy - 1)) : (Int128(1) << (wy - 1))
        guard adderWidth(x, m, shift: d, subtract: subtract) > wy else { return y }
        m.sig = flippedSign(y.sig, width: wy, top: ones, name: name)
        return m
    }

    /// The same for x's upper part (above the d bits that are wires) in an adder.
    func offsetExtendedHigh(_ x: LinearVal, against y: LinearVal, shift d: Int, name: String) -> LinearVal {
        let wx = b.module[x.sig].width
        guard !isConst(x), wx - 1 > d, x.range(inputRanges).lo < 0 else { return x }
        var m = x
        m.offset += Int128(1) << (wx - 1)
        guard adderWidth(m, y, shift: d, subtract: false) > wx - d else { return x }
        m.sig = flippedSign(x.sig, width: wx, top: false, name: name)
        return m
    }

    /// {top, ~s[w-1], s[w-2:0]} as a signed (w+1)-bit value.
    func flippedSign(_ s: SignalID, width w: Int, top: Bool, name: String) -> SignalID {
        let msb = b.emit("\(name)_s", width: 1, repr: .bit, .slice(s, lo: w - 1))
        let inv = b.emit("\(name)_i", width: 1, repr: .bit, .not(msb))
        let low = b.emit("\(name)_l", width: w - 1, repr: .unsigned, .slice(s, lo: 0))
        let cat = b.emit("\(name)_u", width: w + 1, repr: .unsigned, .concat([b.bitConst(top, name: "\(name)_t"), inv, low]))
        return b.emit(name, width: w + 1, repr: .signed, .copy(cat))
    }

    /// The operands moved to the stage the adder will take, before they are sliced or extended:
    /// the builder would otherwise register the extended copies (one per use, sign bits
    /// duplicated) instead of the narrow value once.
    func aligned(_ x: LinearVal, _ y: LinearVal, shift d: Int, subtract: Bool) -> (LinearVal, LinearVal) {
        let live = [x.sig, y.sig].filter { if case .const = b.module.op($0) { return false }; return true }
        guard let s = live.map({ b.stage(of: $0) }).max() else { return (x, y) }
        let t = live.filter { b.stage(of: $0) == s }.map { b.arrival(of: $0) }.max() ?? 0
        // The adder's width exactly as addShifted emits it (the upper part only when d > 0).
        var sum = x
        for i in sum.coeffs.indices { sum.coeffs[i] += (subtract ? -1 : 1) * (y.coeffs[i] << d) }
        sum.offset += (subtract ? -1 : 1) * (y.offset << d)
        let r = sum.range(inputRanges)
        let w = d == 0 ? r.signedWidth : CodeRange(r.lo >> d, r.hi >> d).signedWidth
        let dAdd = b.delays.delay(of: .add(x.sig, y.sig), width: w, operandWidths: [w, w])
        let target = (t > 0 && t + dAdd > b.delays.budget) ? s + 1 : s
        var (xa, ya) = (x, y)
        xa.sig = b.delay(x.sig, to: target)
        ya.sig = b.delay(y.sig, to: target)
        return (xa, ya)
    }

    /// The signals of a program's nodes (inputs first), emitted in order.
    func emitNodes(_ p: CMVMProgram, inputs: [LinearVal], name: String) -> [LinearVal] {
        var vals = inputs
        for (k, nd) in p.nodes.enumerated() {
            vals.append(addShifted(vals[nd.a], vals[nd.b], shift: nd.shift, subtract: nd.subtract, name: "\(name)_e\(k)", fold: true))
        }
        return vals
    }

    /// An output's sum, with folded sign extensions (`sum(foldTree: true)`) unless that one ends
    /// in a later pipeline stage than the plain sum (its constant joins last, which can cost an
    /// adder level). Both are emitted; the one not kept is never read and is removed with the dead
    /// signals, and only its adders are counted in the frame.
    func sumEndingEarlier(_ terms: [Term], name: String, constant: Int128, constName: String, constComment: String,
                          foldedComment: String) -> LinearVal {
        let a0 = f.adders
        let folded = sum(terms, name: name, constant: constant, constName: constName, constComment: foldedComment, foldTree: true)
        let a1 = f.adders
        let plain = sum(terms, name: name, constant: constant, constName: constName, constComment: constComment)
        let a2 = f.adders
        let keep = b.stage(of: folded.sig) <= b.stage(of: plain.sig)
        f.adders = a0 + (keep ? a1 - a0 : a2 - a1)
        return keep ? folded : plain
    }

    /// Sums signed shifted terms and a constant, always combining the two terms that are ready
    /// first (stage, arrival time; ties by position). The constant (the bias, less the offsets
    /// the terms carry, see offsetExtended) joins the earlier of the last two terms, and those
    /// two are added without folding, so the result is exact. Returns the exact sum as a signed
    /// value of its minimal width.
    func sum(_ terms: [Term], name: String, constant: Int128 = 0, constName: String? = nil, constComment: String = "",
             foldTree: Bool = false) -> LinearVal {
        var pool = terms
        var k = 0
        func ready(_ t: Term) -> (Int, Double) { (b.stage(of: t.v.sig), b.arrival(of: t.v.sig)) }
        // lo keeps its place (the smaller shift); the result has lo's sign. Between equal
        // shifts of opposite signs the positive term is lo, so the difference is positive.
        func oriented(_ p: Term, _ q: Term) -> (lo: Term, hi: Term) {
            var (lo, hi) = p.shift <= q.shift ? (p, q) : (q, p)
            if lo.shift == hi.shift && lo.negative && !hi.negative { swap(&lo, &hi) }
            return (lo, hi)
        }
        func merge(_ p: Term, _ q: Term, fold: Bool) -> Term {
            let (lo, hi) = oriented(p, q)
            let v = addShifted(lo.v, hi.v, shift: hi.shift - lo.shift, subtract: lo.negative != hi.negative, name: "\(name)_s\(k)", fold: fold)
            k += 1
            return Term(v: v, shift: lo.shift, negative: lo.negative)
        }
        // With foldTree, the merges fold their operands' sign extension (offsetExtended) until two
        // terms are left; the constant (known once their offsets are) then joins the earlier of
        // the two. Without, the constant is in the pool from the start (ready first).
        func earliestPair() -> (Int, Int) {
            // The two earliest terms (stable: the lower index wins a tie). (Narrowest-first among
            // equally ready terms was measured: muon student -128 LUTs, jet tagger +759: not kept.)
            var order = Array(pool.indices)
            order.sort { x, y in
                let rx = ready(pool[x]), ry = ready(pool[y])
                return rx != ry ? rx < ry : x < y
            }
            return (min(order[0], order[1]), max(order[0], order[1]))
        }
        while foldTree && pool.count > 2 {
            let (i, j) = earliestPair()
            let t = merge(pool[i], pool[j], fold: true)
            pool.remove(at: j)
            pool[i] = t
        }
        var kc = constant
        for t in pool { kc -= (t.negative ? -1 : 1) * (t.v.offset << t.shift) }
        if kc != 0 { pool.append(constTerm(kc, name: constName ?? "\(name)_k", comment: constComment)) }
        while pool.count > 2 {
            let (i, j) = earliestPair()
            let t = merge(pool[i], pool[j], fold: false)
            pool.remove(at: j)
            pool[i] = t
        }
        precondition(!pool.isEmpty)
        if pool.count == 2 {
            let (lo, hi) = oriented(pool[0], pool[1])
            let d = hi.shift - lo.shift
            if !lo.negative {
                pool = [merge(lo, hi, fold: false)]
            } else {
                // The last sum would come out negated, costing a negation as wide as the sum.
                // Cheaper: hi << d - lo (the adder also covers lo's d low bits) when hi is
                // positive, or -lo first (an adder as wide as lo) and then -lo - hi << d.
                var pos: LinearVal
                if !hi.negative {
                    var hs = hi.v
                    for c in hs.coeffs.indices { hs.coeffs[c] <<= d }
                    hs.offset <<= d
                    hs.sig = b.emit("\(name)_s\(k)_hs", width: b.module[hi.v.sig].width + d, repr: .signed, .shiftLeft(hi.v.sig, d))
                    pos = addShifted(hs, lo.v, shift: 0, subtract: true, name: "\(name)_s\(k)")
                } else {
                    let nl = negate(lo.v, name: "\(name)_s\(k)_n")
                    pos = addShifted(nl, hi.v, shift: d, subtract: true, name: "\(name)_s\(k)")
                }
                k += 1
                pool = [Term(v: pos, shift: lo.shift, negative: false)]
            }
        }
        var t = pool[0]
        if t.negative {
            t = Term(v: negate(t.v, name: name), shift: t.shift, negative: false)
        }
        if t.shift > 0 {
            var sv = t.v
            for i in sv.coeffs.indices { sv.coeffs[i] <<= t.shift }
            sv.offset <<= t.shift
            sv.sig = b.emit("\(name)_sh", width: b.module[t.v.sig].width + t.shift, repr: .signed, .shiftLeft(t.v.sig, t.shift))
            t.v = sv
        }
        return t.v
    }

    /// -v as a signed value of its exact width (an adder: `<name>_neg`).
    func negate(_ v: LinearVal, name: String) -> LinearVal {
        var nv = v
        for i in nv.coeffs.indices { nv.coeffs[i] = -nv.coeffs[i] }
        nv.offset = -nv.offset
        let w = width(nv)
        let e = b.resize(v.sig, to: w, name: "\(name)_ne")
        nv.sig = b.emit("\(name)_neg", width: w, repr: .signed, .neg(e))
        f.adders += 1
        return nv
    }

    /// A constant term: c = (+-m) << tz with m odd, so the adder that takes it starts at bit tz.
    func constTerm(_ c: Int128, name: String, comment: String) -> Term {
        precondition(c != 0)
        let tz = c.magnitude.trailingZeroBitCount
        let m = Int128(c.magnitude >> tz)
        let w = CodeRange(m, m).signedWidth
        let s = b.const(name, bigInt(m), width: w, repr: .signed, comment: comment)
        return Term(v: LinearVal(sig: s, coeffs: Array(repeating: 0, count: inputRanges.count), offset: m), shift: tz, negative: c < 0)
    }
}

extension LayerLowering {
    /// Whether a dense layer is lowered with shift-add arithmetic under `style`.
    static func usesShiftAdd(_ d: Dense, inputType: FixedType, style: MultiplierStyle) -> Bool {
        switch style {
        case .dsp: return false
        case .shiftAdd, .auto:
            // The exact linear forms are Int128: keep every product and sum below 2^100.
            if inputType.isBipolar { return false }
            let plan = try! DensePlan(dense: d, inputType: inputType)
            func bits(_ m: UInt128) -> Int { 128 - m.leadingZeroBitCount }
            let xBits = bits(max(inputType.minCode.magnitude, inputType.maxCode.magnitude))
            let wBits = bits(d.kernel.flatMap { $0 }.map { $0.magnitude }.max() ?? 0)
            let nBits = bits(UInt128(d.inputs + 1))
            let sumBits = xBits + wBits + nBits + plan.productShift
            let biasBits = plan.accumType == nil ? bits(d.bias.map { $0.magnitude }.max() ?? 0) + plan.biasShift : 0
            return max(sumBits, biasBits) <= 100
        }
    }

    /// Dense layer with shift-add constant multiplication. With `accum_type: auto` (exact sums) the
    /// whole matrix is one CMVM program and each output is its exact sum plus the bias. With an
    /// explicit accumulator every product is cast to it before the (wrapping) sum, exactly as
    /// the multiplier version: the products are computed exactly by shift-add (nodes shared only
    /// among the products of one input, which are exact values), then cast one by one.
    static func lowerDenseShiftAdd(_ d: Dense, f: LayerFrame, inputType: FixedType, outputType: FixedType) -> [SignalID] {
        let b = f.b
        let plan = try! DensePlan(dense: d, inputType: inputType)
        let p = f.prefix
        let xs = (0..<d.inputs).map { f.signedInput($0) }
        let ranges = xs.map { $0.range }
        var em = ShiftAddEmitter(f: f, inputRanges: ranges)
        em.foldSignExtension = plan.accumType == nil
        let n = d.inputs
        func unit(_ i: Int) -> LinearVal {
            var c = [Int128](repeating: 0, count: n)
            c[i] = 1
            return LinearVal(sig: xs[i].sig, coeffs: c, offset: 0)
        }
        let inputs = (0..<n).map(unit)
        let widths = xs.map { b.module[$0.sig].width }
        // Shared nodes may not be deeper than a balanced tree over one output's digits would be.
        func depthCap(_ prog: [[CMVMTerm]]) -> Int {
            let t = prog.map { $0.count }.max() ?? 1
            var l = 0
            while (1 << l) < t { l += 1 }
            return max(l, 2)
        }
        var ys: [SignalID] = []
        if let acc = plan.accumType {
            // Products of input i, one CMVM program per input over that input's weights.
            f.m.header.append("constant products: shift-add per product (each cast to the accumulator before the sum)")
            var products = Array(repeating: [Val?](repeating: nil, count: n), count: d.units)
            for i in 0..<n {
                let col = (0..<d.units).map { [d.kernel[i][$0]] }
                if col.allSatisfy({ $0[0] == 0 }) { continue }
                let plain = f.solve(matrix: col, inputWidths: [widths[i]], share: false)
                let prog = f.solve(matrix: col, inputWidths: [widths[i]], maxDepth: depthCap(plain.outputs))
                let vals = em.emitNodes(prog, inputs: [LinearVal(sig: xs[i].sig, coeffs: [1], offset: 0)], name: "\(p)_x\(i)")
                for j in 0..<d.units where d.kernel[i][j] != 0 {
                    let terms = prog.outputs[j].map { ShiftAddEmitter.Term(v: vals[$0.node], shift: $0.shift, negative: $0.negative) }
                    // Exact product with ranges over this single input.
                    let one = ShiftAddEmitter(f: f, inputRanges: [ranges[i]])
                    let v = one.sum(terms, name: "\(p)_n\(j)_p\(i)")
                    products[j][i] = Val(sig: v.sig, frac: plan.productFrac, range: v.range([ranges[i]]))
                }
            }
            for j in 0..<d.units {
                let nn = "\(p)_n\(j)"
                var terms: [Val] = []
                for i in 0..<n { if let pr = products[j][i] { terms.append(b.cast(pr, to: acc, name: "\(nn)_p\(i)_c")) } }
                let bias = acc.cast(code: d.bias[j], frac: d.biasType.fracBits)
                if bias != 0 || terms.isEmpty {
                    let c = b.const("\(nn)_bias", bigInt(bias), width: acc.width, repr: acc.signed ? .signed : .unsigned,
                                    comment: "bias \(d.biasType.decimalString(d.bias[j]))")
                    terms.append(Val(sig: c, frac: plan.accFrac, range: CodeRange(bias, bias)))
                }
                var sum = adderTree(terms, f: f, name: nn, modularWidth: acc.width)
                sum.range = CodeRange(of: acc)
                sum.sig = b.emit("\(nn)_acc", width: b.module[sum.sig].width, repr: b.module[sum.sig].repr, .copy(sum.sig))
                ys.append(b.cast(sum, to: outputType, name: "\(nn)_y").sig)
            }
            return ys
        }
        // Exact accumulator: one program over the whole matrix.
        let matrix = (0..<d.units).map { j in (0..<n).map { d.kernel[$0][j] } }
        // Both recodings are solved for the layer: binary-where-as-few digits (narrower terms,
        // fewer LUTs as a rule) are kept unless the plain CSD program, emitted beside it, ends in
        // an earlier pipeline stage, or in the same stage with fewer adders. One choice for the
        // whole layer keeps each program's sharing intact; the program not kept is never read
        // and is removed with the dead signals.
        func solved(_ digits: CMVMDigits) -> (plain: CMVMProgram, prog: CMVMProgram) {
            let plain = f.solve(matrix: matrix, inputWidths: widths, share: false, digits: digits)
            return (plain, f.solve(matrix: matrix, inputWidths: widths, maxDepth: depthCap(plain.outputs), digits: digits))
        }
        // Rounding half up (RND) or half down (RND_MIN_INF) to k fewer fractional bits is
        // floor((x + 2^(k-1)) / 2^k), resp. floor((x + 2^(k-1) - 1) / 2^k): the constant joins the
        // bias (an adder the sum has anyway) and the cast truncates, one adder level shorter.
        var castType = outputType
        var roundConst: Int128 = 0
        var roundFolded = false
        let k = plan.accFrac - outputType.fracBits
        if k > 0 && k < 100 && outputType.encoding == .plain && (outputType.rounding == .RND || outputType.rounding == .RND_MIN_INF) {
            roundConst = (Int128(1) << (k - 1)) - (outputType.rounding == .RND_MIN_INF ? 1 : 0)
            castType = FixedType(signed: outputType.signed, width: outputType.width, intBits: outputType.intBits,
                                 rounding: .TRN, overflow: outputType.overflow)
            roundFolded = true
        }
        /// Emits a program and its output sums; returns the outputs and the adders it took.
        func build(_ prog: CMVMProgram, prefix: String) -> (ys: [SignalID], adders: Int) {
            let a0 = f.adders
            let vals = em.emitNodes(prog, inputs: inputs, name: prefix)
            var ys: [SignalID] = []
            for j in 0..<d.units {
                let nn = "\(prefix)_n\(j)"
                // Products aligned to the accumulator grid by the term's shift (no extra logic).
                let terms = prog.outputs[j].map {
                    ShiftAddEmitter.Term(v: vals[$0.node], shift: $0.shift + plan.productShift, negative: $0.negative)
                }
                let bias = (d.bias[j] << plan.biasShift) + roundConst
                let note = roundConst == 0 ? "" : " + rounding constant"
                let comment = "bias \(d.biasType.decimalString(d.bias[j]))\(note)"
                var sum: Val
                if terms.isEmpty && bias == 0 {
                    let c = b.const("\(nn)_bias", 0, width: 1, repr: .signed, comment: "no weight, no bias")
                    sum = Val(sig: c, frac: plan.accFrac, range: CodeRange(0, 0))
                } else {
                    let v = em.sumEndingEarlier(terms, name: nn, constant: bias, constName: "\(nn)_bias", constComment: comment,
                                                foldedComment: comment + ", less the terms' sign-extension offsets")
                    sum = Val(sig: v.sig, frac: plan.accFrac, range: v.range(ranges))
                }
                sum.sig = b.emit("\(nn)_acc", width: b.module[sum.sig].width, repr: .signed, .copy(sum.sig))
                ys.append(b.cast(sum, to: castType, name: "\(nn)_y").sig)
            }
            return (ys, f.adders - a0)
        }
        func end(_ ys: [SignalID]) -> Int { ys.map { b.stage(of: $0) }.max() ?? 0 }
        let a0 = f.adders
        let minimal = solved(.minimal)
        var chosen = (digits: CMVMDigits.minimal, solved: minimal, built: build(minimal.prog, prefix: p))
        // Emitting twice only where the recodings differ (the unshared programs are cheap) and
        // the CSD program could win: fewer adder levels or no more adders than the binary one
        // (the programs' own estimates, cheap beside emitting; a program deeper and larger on
        // both counts did not end earlier on the models measured).
        let csdPlain = f.solve(matrix: matrix, inputWidths: widths, share: false, digits: .csd)
        if csdPlain.outputs != minimal.plain.outputs, case let csd = solved(.csd),
           csd.prog.adderDepth(extraTerm: true) < minimal.prog.adderDepth(extraTerm: true)
            || csd.prog.adderCount <= minimal.prog.adderCount {
            let built = build(csd.prog, prefix: "\(p)_csd")
            let (em_, ec) = (end(chosen.built.ys), end(built.ys))
            if ec < em_ || (ec == em_ && built.adders < chosen.built.adders) { chosen = (.csd, csd, built) }
        }
        f.adders = a0 + chosen.built.adders
        let (plain, prog) = chosen.solved
        let digitsNote = chosen.digits == .csd ? "CSD" : "signed (binary where as few as CSD)"
        f.m.header.append("constant products: shift-add, \(plain.outputs.map { $0.count }.reduce(0, +)) \(digitsNote) digits, \(prog.nodes.count) subexpression(s) shared across the matrix")
        if roundFolded {
            f.m.header.append("rounding \(outputType.rounding) folded into the bias: +\(roundConst) on the accumulator grid, then truncation")
        }
        f.details.append(("shift_add_shared_nodes", prog.nodes.count))
        f.details.append(("shift_add_csd_digits", plain.outputs.map { $0.count }.reduce(0, +)))
        return chosen.built.ys
    }
}
