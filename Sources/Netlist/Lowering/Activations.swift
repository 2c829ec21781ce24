// Lowering of the element-wise activation layers (issue 3).
//
// Table ops (sigmoid, tanh, lut, elu, selu) become one ROM per layer whose entries are the final
// output codes, computed by the golden definition (`Activation.evaluate`) at a representative
// input code of each address, so the output cast (and elu's alpha) is folded into the table and
// the contents cannot disagree with the golden model. Two ways to address it:
// - direct: a narrow input (W <= max(address bits of the other way, 6)) addresses a 2^W-entry
//   ROM with its own code;
// - computed: u = x / 2^k (truncated toward zero with a carry-in correction for negative x, or
//   floored, which is a plain bit slice); the ROM is addressed by the low m bits of u, where m
//   covers exactly the values of u that reach distinct entries; inputs beyond the table's range
//   (where hls4ml clamps the index) select constant outputs by comparators.
// elu and selu compute x >= 0 in logic and mux on the sign. The other ops are logic.
import BigInt
import FixedPoint
import ModelIR

/// How one table op's ROM is laid out (the same for every element of a layer).
struct TablePlan {
    enum Kind {
        /// A 2^W-entry ROM addressed by the input code.
        case direct
        /// ROM addressed by the low `m` bits of u = x / 2^shift (m = 0: a constant).
        case computed(shift: Int, towardZero: Bool, m: Int)
        /// No table input reaches the table (elu/selu on an unsigned input).
        case none
    }
    let kind: Kind
    let entries: [BigInt]
    /// Inputs below `low.code` give `low.out`; inputs above `high.code` give `high.out`.
    let low: (code: Int128, out: Int128)?
    let high: (code: Int128, out: Int128)?
    /// The constant output when the computed ROM has no address bits.
    let constant: Int128
    let negativeOnly: Bool

    init(_ a: Activation, input it: FixedType, output ot: FixedType) {
        let (k, tz, negOnly) = a.tableAddressing(input: it)!
        negativeOnly = negOnly
        func golden(_ c: Int128) -> Int128 { a.evaluate(c, input: it, output: ot) }
        func u(_ c: Int128) -> Int128 { k == 0 ? c : scaled(c, exponent: -k, towardZero: tz) }
        func index(_ c: Int128) -> Int { a.tableIndex(c, input: it) }
        let lo = it.minCode
        let hi = negOnly ? min(it.maxCode, -1) : it.maxCode
        guard lo <= hi else {
            kind = .none; entries = []; low = nil; high = nil; constant = 0
            return
        }
        // The index is monotone in c: find where it first leaves index(lo) and last differs from
        // index(hi). Codes outside that span give the constant outputs golden(lo) / golden(hi).
        func mid(_ a: Int128, _ b: Int128) -> Int128 { a + Int128(UInt128(truncatingIfNeeded: b &- a) / 2) }
        var firstChange: Int128? = nil
        if index(hi) != index(lo) {
            var a = lo, b = hi  // index(a) == index(lo), index(b) != index(lo)
            while UInt128(truncatingIfNeeded: b &- a) > 1 { let m = mid(a, b); if index(m) == index(lo) { a = m } else { b = m } }
            firstChange = b
        }
        var lastChange: Int128? = nil
        if index(hi) != index(lo) {
            var a = lo, b = hi  // index(a) != index(hi), index(b) == index(hi)
            while UInt128(truncatingIfNeeded: b &- a) > 1 { let m = mid(a, b); if index(m) == index(hi) { b = m } else { a = m } }
            lastChange = a
        }
        // Address bits for u in [ua, ub]: the low m bits of any 2^m consecutive integers differ.
        func bits(_ ua: Int128, _ ub: Int128) -> Int {
            let span = UInt128(truncatingIfNeeded: ub &- ua)
            return span == 0 ? 0 : 128 - span.leadingZeroBitCount
        }
        // A rough cost in LUTs: a ROM of 2^m entries is one LUT6 per output bit up to 6 address
        // bits and doubles per further bit; a cut is a comparator on the input and an output mux.
        let ow = ot.width, w = it.width
        func romCost(_ m: Int) -> Int { m == 0 ? 0 : (m <= 6 ? 1 : 1 << min(m - 6, 40)) * ow }
        let cutCost = (w + 1) / 2 + ow
        // The cheapest of: no cut, cut below, cut above, cut both.
        var best: (cost: Int, m: Int, a: Int128, b: Int128, cutLo: Bool, cutHi: Bool)? = nil
        for (cutLo, cutHi) in [(false, false), (true, false), (false, true), (true, true)] {
            if (cutLo && firstChange == nil) || (cutHi && lastChange == nil) { continue }
            let ca = cutLo ? firstChange! : lo
            let cb = cutHi ? lastChange! : hi
            if ca > cb { continue }
            let m = bits(u(ca), u(cb))
            let cost = romCost(m) + ((cutLo ? 1 : 0) + (cutHi ? 1 : 0)) * cutCost
            if best == nil || cost < best!.cost { best = (cost, m, ca, cb, cutLo, cutHi) }
        }
        let p = best!
        // A ROM addressed by the input code itself needs no address logic, and covers elu/selu's
        // positive branch too: take it when it is no more expensive.
        let logic = (tz && it.signed && k > 0 ? (k + p.m) / 2 : 0) + (negOnly ? 2 * ow : 0)
        if w <= 20 && romCost(w) <= p.cost + logic {
            kind = .direct
            entries = (0..<(1 << w)).map { (a: Int) -> BigInt in
                var c = Int128(a)
                if it.signed && c >= Int128(1) << (w - 1) { c -= Int128(1) << w }
                return bigInt(golden(c))
            }
            low = nil; high = nil; constant = 0
            return
        }
        kind = .computed(shift: k, towardZero: tz && it.signed, m: p.m)
        low = p.cutLo ? (p.a, golden(lo)) : nil
        high = p.cutHi ? (p.b, golden(hi)) : nil
        let ua = u(p.a), ub = u(p.b)
        constant = golden(p.a)
        if p.m == 0 {
            entries = []
            return
        }
        precondition(p.m <= 20, "table plan: \(p.m) address bits")
        // Entry (u mod 2^m) for every u in [ua, ub], from a representative input code; addresses
        // no input reaches hold 0.
        var e = [BigInt](repeating: 0, count: 1 << p.m)
        var uv = ua
        while true {
            let rep = min(max(scaled(uv, exponent: k, towardZero: true), p.a), p.b)
            precondition(u(rep) == uv, "table plan: no representative code for u = \(uv)")
            e[Int(truncatingIfNeeded: uv) & ((1 << p.m) - 1)] = bigInt(golden(rep))
            if uv == ub { break }
            uv += 1
        }
        entries = e
    }

    var description: String {
        switch kind {
        case .none: return "no input reaches the table (unsigned input): logic only"
        case .direct: return "ROM: \(entries.count) entries addressed directly by the input code (output cast folded in)"
        case let .computed(k, tz, m):
            if m == 0 { return "the table output is one constant over the input range" }
            var s = "ROM: \(entries.count) entries addressed by "
            if k == 0 { s += "the low \(m) bits of the input code" } else {
                s += "the low \(m) bits of u = x / 2^\(k)" + (tz ? " rounded toward zero" : " (floor: a bit slice)")
            }
            s += " (output cast folded in)"
            if low != nil || high != nil { s += "; inputs beyond the table's range select constants" }
            return s
        }
    }
}

extension LayerLowering {
    static func lowerActivation(_ a: Activation, f: LayerFrame, inputType storedType: FixedType, outputType ot: FixedType,
                                name p: String) -> [SignalID] {
        let b = f.b
        // A bipolar input arrives decoded (f.inputs are 2-bit signed values -1/+1).
        let it = storedType.arithmeticView
        f.m.header.append(a.summary)
        let outRepr: Repr = ot.signed ? .signed : .unsigned
        func const(_ name: String, _ code: Int128) -> SignalID {
            b.const(name, bigInt(code), width: ot.width, repr: outRepr)
        }
        if a.tableAddressing(input: it) != nil {
            let plan = TablePlan(a, input: it, output: ot)
            f.m.header.append(plan.description)
            var table: Int? = nil
            if !plan.entries.isEmpty {
                table = f.m.addTable(RomTable(name: "\(p)_rom", width: ot.width, repr: outRepr, values: plan.entries,
                                              comment: "\(a.opName) table: output codes of \(ot)"))
            }
            return f.inputs.enumerated().map { i, x in
                let n = "\(p)_n\(i)"
                var out: SignalID
                switch plan.kind {
                case .none:
                    return positiveBranch(a, x, f: f, inputType: it, outputType: ot, name: n)
                case .direct:
                    let addr = b.emit("\(n)_addr", width: it.width, repr: .unsigned, .copy(x.sig))
                    return b.emit("\(n)_rom", width: ot.width, repr: outRepr, .rom(addr, table: table!))
                case let .computed(k, tz, m):
                    if m == 0 {
                        out = const("\(n)_tbl", plan.constant)
                    } else {
                        let addr = tableAddress(x, shift: k, towardZero: tz, bits: m, f: f, name: n)
                        out = b.emit("\(n)_rom", width: ot.width, repr: outRepr, .rom(addr, table: table!))
                    }
                }
                let xr: Repr = it.signed ? .signed : .unsigned
                if let (c, y) = plan.low {
                    let below = b.emit("\(n)_below", width: 1, repr: .bit,
                                       .compare(.lt, x.sig, b.const("\(n)_lo_c", bigInt(c), width: it.width, repr: xr)))
                    out = b.emit("\(n)_lo", width: ot.width, repr: outRepr, .mux(below, const("\(n)_lo_y", y), out))
                }
                if let (c, y) = plan.high {
                    let above = b.emit("\(n)_above", width: 1, repr: .bit,
                                       .compare(.gt, x.sig, b.const("\(n)_hi_c", bigInt(c), width: it.width, repr: xr)))
                    out = b.emit("\(n)_hi", width: ot.width, repr: outRepr, .mux(above, const("\(n)_hi_y", y), out))
                }
                if plan.negativeOnly {
                    let pos = positiveBranch(a, x, f: f, inputType: it, outputType: ot, name: n)
                    let neg = b.emit("\(n)_isneg", width: 1, repr: .bit, .slice(x.sig, lo: it.width - 1))
                    out = b.emit("\(n)_y", width: ot.width, repr: outRepr, .mux(neg, out, pos))
                }
                return out
            }
        }
        return f.inputs.enumerated().map { i, x in
            lowerLogicActivation(a, x, f: f, inputType: it, outputType: ot, name: "\(p)_n\(i)")
        }
    }

    /// The low `bits` bits of u = x / 2^shift, rounded toward zero or floored.
    static func tableAddress(_ x: Val, shift k: Int, towardZero: Bool, bits m: Int, f: LayerFrame, name n: String) -> SignalID {
        let b = f.b
        var src = x.sig
        let w = b.module[src].width
        if k + m > w { src = b.emit("\(n)_xe", width: k + m, repr: b.module[src].repr, .extend(src)) }
        if k == 0 || !towardZero {
            return b.emit("\(n)_addr", width: m, repr: .unsigned, .slice(src, lo: k))
        }
        // Toward zero: a negative x first gets 2^k - 1 added (only the low k + m bits matter).
        let low = b.emit("\(n)_xl", width: k + m, repr: .unsigned, .slice(src, lo: 0))
        let neg = b.emit("\(n)_xneg", width: 1, repr: .bit, .slice(x.sig, lo: w - 1))
        let corr = b.emit("\(n)_corr", width: k + m, repr: .unsigned,
                          .mux(neg, b.const("\(n)_ones", (BigInt(1) << k) - 1, width: k + m, repr: .unsigned),
                               b.const("\(n)_zero", 0, width: k + m, repr: .unsigned)))
        let sum = b.emit("\(n)_xc", width: k + m, repr: .unsigned, .add(low, corr))
        return b.emit("\(n)_addr", width: m, repr: .unsigned, .slice(sum, lo: k))
    }

    /// elu / selu for x >= 0: cast(x), or cast(lambda * x).
    static func positiveBranch(_ a: Activation, _ x: Val, f: LayerFrame, inputType it: FixedType, outputType ot: FixedType,
                               name n: String) -> SignalID {
        let b = f.b
        let xp = Val(sig: x.sig, frac: x.frac, range: CodeRange(max(x.range.lo, 0), max(x.range.hi, 0)))
        if case .selu = a {
            let xs = b.signedVal(xp, name: "\(n)_px")
            let lam = ExpTable.seluLambda
            let pr = CodeRange(xs.range.lo * lam, xs.range.hi * lam)
            let prod = product(xs, weight: lam, range: pr, f: f, name: "\(n)_lx", wname: "\(n)_lambda", kernelType: ExpTable.seluLambdaType)
            return b.cast(Val(sig: prod, frac: x.frac + ExpTable.seluLambdaType.fracBits, range: pr), to: ot, name: "\(n)_pos").sig
        }
        return b.cast(xp, to: ot, name: "\(n)_pos").sig
    }

    /// A value plus a constant code (exact, as wide as the resulting range).
    static func addConst(_ v: Val, _ k: Int128, f: LayerFrame, name n: String) -> Val {
        if k == 0 { return v }
        let b = f.b
        let r = CodeRange(v.range.lo + k, v.range.hi + k)
        let w = max(r.signedWidth, v.range.signedWidth, CodeRange(k, k).signedWidth)
        let vs = b.signedVal(v, name: "\(n)_s")
        let a = b.resize(vs.sig, to: w, name: "\(n)_e")
        let s = b.emit(n, width: w, repr: .signed, .add(a, b.const("\(n)_k", bigInt(k), width: w, repr: .signed)))
        return Val(sig: s, frac: v.frac, range: r)
    }

    /// Clamps a signed value to [lo, hi] with comparators and muxes (only where its range needs it).
    static func clampVal(_ v: Val, lo: Int128, hi: Int128, f: LayerFrame, name n: String) -> Val {
        let b = f.b
        var s = b.signedVal(v, name: "\(n)_s").sig
        let w = b.module[s].width
        if v.range.hi > hi {
            let c = b.const("\(n)_max", bigInt(hi), width: w, repr: .signed)
            let over = b.emit("\(n)_over", width: 1, repr: .bit, .compare(.gt, s, c))
            s = b.emit("\(n)_top", width: w, repr: .signed, .mux(over, c, s))
        }
        if v.range.lo < lo {
            let c = b.const("\(n)_min", bigInt(lo), width: w, repr: .signed)
            let under = b.emit("\(n)_under", width: 1, repr: .bit, .compare(.lt, s, c))
            s = b.emit("\(n)_bot", width: w, repr: .signed, .mux(under, c, s))
        }
        func cl(_ x: Int128) -> Int128 { min(max(x, lo), hi) }
        return Val(sig: s, frac: v.frac, range: CodeRange(cl(v.range.lo), cl(v.range.hi)))
    }

    /// x * constant code (shift or multiplier), as an exact signed Val with `frac`.
    static func constProduct(_ x: Val, _ w: Int128, type: FixedType, f: LayerFrame, name n: String) -> Val {
        let b = f.b
        let frac = x.frac + type.fracBits
        if w == 0 { return Val(sig: b.const("\(n)_zero", 0, width: 1, repr: .signed), frac: frac, range: CodeRange(0, 0)) }
        let xs = b.signedVal(x, name: "\(n)_x")
        let p0 = xs.range.lo * w, p1 = xs.range.hi * w
        let pr = CodeRange(min(p0, p1), max(p0, p1))
        let s = product(xs, weight: w, range: pr, f: f, name: n, wname: "\(n)_c", kernelType: type)
        return Val(sig: s, frac: frac, range: pr)
    }

    static func lowerLogicActivation(_ a: Activation, _ x: Val, f: LayerFrame, inputType it: FixedType, outputType ot: FixedType,
                                     name n: String) -> SignalID {
        let b = f.b
        let outRepr: Repr = ot.signed ? .signed : .unsigned
        switch a {
        case .linear:
            return b.cast(x, to: ot, name: n).sig
        case let .reluMax(r):
            let y = lowerRelu(x, f: f, name: n, to: ot)
            let t = r.threshold(input: it)
            if t >= it.maxCode { return y }
            let xr: Repr = it.signed ? .signed : .unsigned
            let above = b.emit("\(n)_above", width: 1, repr: .bit,
                               .compare(.gt, x.sig, b.const("\(n)_limit", bigInt(t), width: it.width, repr: xr)))
            let m = b.const("\(n)_maxv", bigInt(r.maxCode(output: ot)), width: ot.width, repr: outRepr, comment: "max = \(r.maxText)")
            return b.emit("\(n)_clip", width: ot.width, repr: outRepr, .mux(above, m, y))
        case let .leakyRelu(l):
            let pos = b.cast(x, to: ot, name: "\(n)_pos").sig
            if x.range.lo >= 0 { return pos }  // x = 0 gives cast(0) either way
            let neg = b.cast(constProduct(x, l.alpha, type: l.alphaType, f: f, name: "\(n)_ax"), to: ot, name: "\(n)_neg").sig
            if x.range.hi <= 0 { return neg }
            let xr: Repr = it.signed ? .signed : .unsigned
            let gt0 = b.emit("\(n)_gt0", width: 1, repr: .bit,
                             .compare(.gt, x.sig, b.const("\(n)_z", 0, width: it.width, repr: xr)))
            return b.emit("\(n)_y", width: ot.width, repr: outRepr, .mux(gt0, pos, neg))
        case let .hardSigmoid(h), let .hardTanh(h):
            let vf = h.frac(input: it)
            var v = constProduct(x, h.slope, type: h.slopeType, f: f, name: "\(n)_sx")
            let ps = h.productShift(input: it)
            if ps > 0 && v.range != CodeRange(0, 0) {
                let s = b.emit("\(n)_sxa", width: b.module[v.sig].width + ps, repr: .signed, .shiftLeft(v.sig, ps))
                v = Val(sig: s, frac: vf, range: CodeRange(v.range.lo << ps, v.range.hi << ps))
            }
            v.frac = vf
            v = addConst(v, h.shift << h.shiftShift(input: it), f: f, name: "\(n)_v")
            let one = Int128(1) << vf
            v = clampVal(v, lo: 0, hi: one, f: f, name: "\(n)_c")
            if case .hardTanh = a {
                let s = b.emit("\(n)_2v", width: b.module[v.sig].width + 1, repr: .signed, .shiftLeft(v.sig, 1))
                v = addConst(Val(sig: s, frac: vf, range: CodeRange(v.range.lo * 2, v.range.hi * 2)), -one, f: f, name: "\(n)_t")
            }
            return b.cast(v, to: ot, name: n).sig
        default:
            preconditionFailure("\(a.opName) is a table op")
        }
    }
}
