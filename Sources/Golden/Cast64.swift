// FixedType.cast(code:frac:) on 64-bit codes, with everything that depends only on the types
// worked out once. Built only where the source values are known to fit (their range is given),
// so the result equals FixedType.cast for every value of that range; tests compare the two.
import FixedPoint

struct Cast64: Sendable {
    /// A placeholder (steps that cast nothing).
    static let identity = Cast64(to: FixedType(signed: true, width: 62, intBits: 62), srcFrac: 0, lo: 0, hi: 0)!

    let bipolar: Bool
    /// Bits dropped (> 0) or appended (<= 0): source frac - target frac.
    let k: Int
    let rounding: RoundingMode
    let overflow: OverflowMode
    let signed: Bool
    let minCode: Int64
    let maxCode: Int64
    let symMin: Int64
    /// 64 - width: the shift of a two's-complement wrap.
    let wrapShift: Int

    /// The cast of a value `code * 2^-srcFrac`, code in [lo, hi], to `t`; nil when some value of
    /// that range or of `t` needs more than 62 bits on the way.
    init?(to t: FixedType, srcFrac: Int, lo: Int128, hi: Int128) {
        let limit = Int128(1) << 62
        guard t.width <= 62, lo >= -limit, hi < limit else { return nil }
        bipolar = t.encoding == .bipolar
        k = srcFrac - t.fracBits
        if k > 62 { return nil }
        if k <= 0 {
            guard -k <= 62, (lo << -k) >> -k == lo, (hi << -k) >> -k == hi,
                  lo << -k >= -limit, hi << -k < limit else { return nil }
        }
        rounding = t.rounding
        overflow = t.overflow
        signed = t.signed
        minCode = Int64(t.minCode)
        maxCode = Int64(t.maxCode)
        symMin = Int64(t.symmetricMinCode)
        wrapShift = 64 - t.width
    }

    @inline(__always)
    func apply(_ v: Int64) -> Int64 {
        if bipolar { return v >= 0 ? 1 : -1 }
        var q: Int64
        if k > 0 {
            let fl = v >> k
            let r = v & ((1 << k) - 1)
            let half = (r >> (k - 1)) & 1 == 1
            let sticky = r & ((1 << (k - 1)) - 1) != 0
            let up = rounding.roundsUp(negative: v < 0, lsbOdd: fl & 1 == 1, half: half, sticky: sticky)
            q = up ? fl + 1 : fl
        } else {
            q = v << -k
        }
        if q >= minCode && q <= maxCode {
            if signed && overflow == .SAT_SYM && q == minCode { return symMin }
            return q
        }
        switch overflow {
        case .WRAP: return wrap(q)
        case .SAT: return q > maxCode ? maxCode : minCode
        case .SAT_ZERO: return 0
        case .SAT_SYM: return q > maxCode ? maxCode : (signed ? symMin : 0)
        }
    }

    /// FixedType.wrapCode on a 64-bit value.
    @inline(__always)
    func wrap(_ v: Int64) -> Int64 {
        if signed { return (v << wrapShift) >> wrapShift }
        return Int64(bitPattern: (UInt64(bitPattern: v) << UInt64(wrapShift)) >> UInt64(wrapShift))
    }
}
