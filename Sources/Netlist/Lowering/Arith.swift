// Fixed-point building blocks shared by every layer lowering: values with exact ranges,
// explicit extensions, and the cast (rounding then overflow) as logic.
import BigInt
import FixedPoint
import ModelIR

/// A datapath value: a signal holding codes in `range`, scaled by 2^-frac.
public struct Val {
    public var sig: SignalID
    public var frac: Int
    public var range: CodeRange
}

extension DatapathBuilder {
    /// The value as a signed signal of its minimal width (zero-extends unsigned values).
    public func signedVal(_ v: Val, name: String) -> Val {
        let s = module[v.sig]
        let w = v.range.signedWidth
        if s.repr == .signed { return Val(sig: resize(v.sig, to: w, name: name), frac: v.frac, range: v.range) }
        // Unsigned: widen by one zero bit, then reinterpret as signed.
        let z = s.width + 1
        let ext = emit(name, width: z, repr: .unsigned, .extend(v.sig))
        let sg = emit(name, width: z, repr: .signed, .copy(ext))
        return Val(sig: resize(sg, to: max(w, 1), name: name), frac: v.frac, range: v.range)
    }

    /// Changes the width of a signed/unsigned signal: extends, or drops high bits that the
    /// caller knows to be redundant (the value fits the new width).
    public func resize(_ s: SignalID, to w: Int, name: String) -> SignalID {
        let sig = module[s]
        if sig.width == w { return s }
        if sig.width < w { return emit(name, width: w, repr: sig.repr, .extend(s)) }
        return emit(name, width: w, repr: sig.repr, .slice(s, lo: 0))
    }

    /// A bit constant.
    public func bitConst(_ b: Bool, name: String) -> SignalID {
        const(name, b ? 1 : 0, width: 1, repr: .bit)
    }

    func and(_ a: SignalID, _ b: SignalID, _ name: String) -> SignalID { emit(name, width: 1, repr: .bit, .bitwise(.and, a, b)) }
    func or(_ a: SignalID, _ b: SignalID, _ name: String) -> SignalID { emit(name, width: 1, repr: .bit, .bitwise(.or, a, b)) }
    func not(_ a: SignalID, _ name: String) -> SignalID { emit(name, width: 1, repr: .bit, .not(a)) }

    /// The increment of a rounding mode as logic on the sign, the kept LSB, the half bit and the
    /// sticky bit. The same truth table as `RoundingMode.roundsUp` (checked by the tests).
    func roundIncrement(_ mode: RoundingMode, neg: SignalID, lsb: SignalID, half: SignalID,
                        sticky: SignalID?, name: String) -> SignalID? {
        func orSticky(_ x: SignalID) -> SignalID { sticky.map { or($0, x, "\(name)_any") } ?? x }
        switch mode {
        case .TRN: return nil
        case .TRN_ZERO: return and(neg, sticky.map { or(half, $0, "\(name)_any") } ?? half, name)
        case .RND: return half
        case .RND_ZERO: return and(half, orSticky(neg), name)
        case .RND_MIN_INF: return sticky.map { and(half, $0, name) }
        case .RND_INF: return and(half, orSticky(not(neg, "\(name)_pos")), name)
        case .RND_CONV: return and(half, orSticky(lsb), name)
        }
    }

    /// Casts `v` to type `t` exactly as `FixedType.cast` does: drop bits with `t.rounding`, then
    /// apply `t.overflow`. Returns a signal of t's width (signed for signed types, unsigned
    /// otherwise) and its code range.
    public func cast(_ v: Val, to t: FixedType, name: String) -> Val {
        if t.isBipolar { return castToBipolar(v, name: name) }
        if let exact = castWithoutLoss(v, to: t, name: name) { return exact }
        let x = signedVal(v, name: "\(name)_sx")
        var q = x.sig
        var qr = x.range
        var floorBeforeIncrement: (sig: SignalID, range: CodeRange)? = nil
        let k = v.frac - t.fracBits
        if k > 0 {
            var src = x.sig
            if module[src].width < k + 1 { src = resize(src, to: k + 1, name: "\(name)_sxe") }
            let w = module[src].width
            let floor = emit("\(name)_fl", width: w - k, repr: .signed, .slice(src, lo: k))
            let fr = CodeRange(x.range.lo >> k, x.range.hi >> k)
            let half = emit("\(name)_half", width: 1, repr: .bit, .slice(src, lo: k - 1))
            let sticky: SignalID? = k >= 2
                ? emit("\(name)_sticky", width: 1, repr: .bit,
                       .reduceOr(emit("\(name)_low", width: k - 1, repr: .unsigned, .slice(src, lo: 0)))) : nil
            let neg = emit("\(name)_neg", width: 1, repr: .bit, .slice(src, lo: w - 1))
            let lsb = emit("\(name)_lsb", width: 1, repr: .bit, .slice(src, lo: k))
            if let inc = roundIncrement(t.rounding, neg: neg, lsb: lsb, half: half, sticky: sticky, name: "\(name)_inc") {
                qr = CodeRange(fr.lo, fr.hi + 1)
                let wq = qr.signedWidth
                let fe = resize(floor, to: wq, name: "\(name)_fle")
                let ie = emit("\(name)_incx", width: wq, repr: .signed, .extend(inc))
                q = emit("\(name)_rnd", width: wq, repr: .signed, .add(fe, ie))
                floorBeforeIncrement = (floor, fr)
            } else {
                qr = fr
                q = resize(floor, to: fr.signedWidth, name: "\(name)_flr")
            }
        } else if k < 0 {
            // Shifting by more than W+1 changes nothing observable: the low W bits are zero
            // either way and any nonzero value overflows with the same sign. Capping the shift
            // keeps every range inside Int128.
            let s = min(-k, t.width + 1)
            q = emit("\(name)_shl", width: module[x.sig].width + s, repr: .signed, .shiftLeft(x.sig, s))
            qr = CodeRange(x.range.lo << s, x.range.hi << s)
        }
        return overflow(q, range: qr, to: t, name: name, floor: floorBeforeIncrement)
    }

    /// The cast when it changes no value (same grid, range inside t's): only a width or
    /// representation change, with no sign bit that nobody reads.
    func castWithoutLoss(_ v: Val, to t: FixedType, name: String) -> Val? {
        guard v.frac == t.fracBits, v.range.lo >= t.minCode, v.range.hi <= t.maxCode else { return nil }
        let s = module[v.sig]
        guard s.repr == .signed || s.repr == .unsigned else { return nil }
        let repr: Repr = t.signed ? .signed : .unsigned
        var x = v.sig
        if s.repr == .signed && repr == .unsigned {
            // A signed value known to be non-negative: its bits below the sign bit.
            guard s.width >= 2 else { return nil }
            x = emit("\(name)_mag", width: min(s.width - 1, t.width), repr: .unsigned, .slice(x, lo: 0))
        }
        let w = module[x].width
        if w > t.width {
            x = emit(name, width: t.width, repr: module[x].repr, .slice(x, lo: 0))
        } else if w < t.width || module[x].repr != repr {
            x = emit(name, width: t.width, repr: repr, .extend(x))
        }
        if module[x].repr != repr { x = emit(name, width: t.width, repr: repr, .copy(x)) }
        return Val(sig: x, frac: t.fracBits, range: v.range)
    }

    /// Applies t's overflow mode to the signed integer q (already on t's grid). `floor`: when q is
    /// floor + a rounding increment of 0 or 1, the floor; a saturating cast then decides overflow
    /// on it, beside the rounding adder instead of after it: floor >= MAX gives MAX whether or not
    /// the increment is added, and floor < MIN gives MIN (floor = MIN - 1 rounded up is MIN).
    func overflow(_ q: SignalID, range qr: CodeRange, to t: FixedType, name: String,
                  floor: (sig: SignalID, range: CodeRange)? = nil) -> Val {
        let repr: Repr = t.signed ? .signed : .unsigned
        let wq = module[q].width
        let w = t.width
        // The low w bits of q, read with t's signedness: the WRAP result.
        var wrapped: SignalID
        if wq >= w {
            wrapped = emit("\(name)_wrap", width: w, repr: repr, .slice(q, lo: 0))
        } else {
            let e = emit("\(name)_wrap", width: w, repr: .signed, .extend(q))
            wrapped = repr == .signed ? e : emit("\(name)_wrapu", width: w, repr: repr, .copy(e))
        }
        let tr = CodeRange(t.minCode, t.maxCode)
        let lowBound = (t.overflow == .SAT_SYM && t.signed) ? t.symmetricMinCode : t.minCode
        let needLow = qr.lo < lowBound
        let needHigh = qr.hi > t.maxCode
        if t.overflow == .WRAP || (!needLow && !needHigh) {
            let fits = qr.lo >= tr.lo && qr.hi <= tr.hi
            return Val(sig: wrapped, frac: t.fracBits, range: fits ? qr : tr)
        }
        let saturates = t.overflow == .SAT || t.overflow == .SAT_SYM
        let fl = saturates ? floor : nil
        var hiOvf: SignalID? = nil
        if needHigh {
            if let fl {
                let wf = module[fl.sig].width
                hiOvf = emit("\(name)_ovf_hi", width: 1, repr: .bit, .compare(.ge, fl.sig, const("\(name)_max", bigInt(t.maxCode), width: wf, repr: .signed)))
            } else {
                hiOvf = emit("\(name)_ovf_hi", width: 1, repr: .bit, .compare(.gt, q, const("\(name)_max", bigInt(t.maxCode), width: wq, repr: .signed)))
            }
        }
        var loOvf: SignalID? = nil
        if needLow {
            // Below zero is the sign bit (of the floor when it may decide, else of q).
            let (src, ws) = fl.map { ($0.sig, module[$0.sig].width) } ?? (q, wq)
            if lowBound == 0 {
                loOvf = emit("\(name)_ovf_lo", width: 1, repr: .bit, .slice(src, lo: ws - 1))
            } else {
                loOvf = emit("\(name)_ovf_lo", width: 1, repr: .bit, .compare(.lt, src, const("\(name)_min", bigInt(lowBound), width: ws, repr: .signed)))
            }
        }
        var r = wrapped
        switch t.overflow {
        case .WRAP:
            break
        case .SAT, .SAT_SYM:
            if let lo = loOvf {
                r = emit("\(name)_satlo", width: w, repr: repr, .mux(lo, const("\(name)_minv", bigInt(lowBound), width: w, repr: repr), r))
            }
            if let hi = hiOvf {
                r = emit("\(name)_sat", width: w, repr: repr, .mux(hi, const("\(name)_maxv", bigInt(t.maxCode), width: w, repr: repr), r))
            }
        case .SAT_ZERO:
            let ovf: SignalID
            switch (loOvf, hiOvf) {
            case let (a?, b?): ovf = or(a, b, "\(name)_ovf")
            case let (a?, nil): ovf = a
            case let (nil, b?): ovf = b
            default: preconditionFailure()
            }
            r = emit("\(name)_sat", width: w, repr: repr, .mux(ovf, const("\(name)_zero", 0, width: w, repr: repr), r))
        }
        func clamp(_ x: Int128) -> Int128 { min(max(x, lowBound), t.maxCode) }
        let outRange = t.overflow == .SAT_ZERO
            ? CodeRange(min(clamp(qr.lo), 0), max(clamp(qr.hi), 0))
            : CodeRange(clamp(qr.lo), clamp(qr.hi))
        return Val(sig: r, frac: t.fracBits, range: outRange)
    }
}
