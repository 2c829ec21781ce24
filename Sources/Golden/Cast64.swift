// FixedType.cast(code:frac:) on 64-bit codes, with everything that depends only on the types
// worked out once. Built only where the source values are known to fit (their range is given),
// so the result equals FixedType.cast for every value of that range; tests compare the two.
//
// Rounding is one add and one shift: every quantization mode rounds up exactly when the dropped
// bits r (k of them, half = 2^(k-1)) reach a threshold that depends only on the sign and, for
// RND_CONV, on the kept LSB, so q = (v + add) >> k with
//   TRN 0 | RND half | RND_MIN_INF half-1 | RND_ZERO half-1 (+1 if v < 0)
//   RND_INF half (-1 if v < 0) | TRN_ZERO 0 (2^k - 1 if v < 0) | RND_CONV half-1 + LSB.
// Overflow is a clamp (SAT, and SAT_SYM from the symmetric minimum), a wrap, or zero.
import FixedPoint

struct Cast64: Sendable {
    /// A placeholder (steps that cast nothing).
    static let identity = Cast64(to: FixedType(signed: true, width: 62, intBits: 62), srcFrac: 0, lo: 0, hi: 0)!

    enum Overflow: Sendable { case wrap, clamp, zero }

    let bipolar: Bool
    /// Bits dropped (k > 0) or appended (shiftLeft > 0).
    let k: Int
    let shiftLeft: Int
    /// The rounding increments for v >= 0 and v < 0, and whether the kept LSB is added (RND_CONV).
    let addPos: Int64
    let addNeg: Int64
    let addLSB: Bool
    let overflow: Overflow
    let signed: Bool
    /// The in-range codes [lo, hi] (SAT_SYM: from the symmetric minimum).
    let lo: Int64
    let hi: Int64
    /// 64 - width: the shift of a two's-complement wrap.
    let wrapShift: Int

    /// The cast of a value `code * 2^-srcFrac`, code in [lo, hi], to `t`; nil when some value of
    /// that range or of `t` needs more than 62 bits on the way.
    init?(to t: FixedType, srcFrac: Int, lo: Int128, hi: Int128) {
        let limit = Int128(1) << 62
        guard t.width <= 62, lo >= -limit, hi < limit else { return nil }
        bipolar = t.encoding == .bipolar
        let k = srcFrac - t.fracBits
        if k > 62 { return nil }
        if k <= 0 {
            guard -k <= 62, (lo << -k) >> -k == lo, (hi << -k) >> -k == hi,
                  lo << -k >= -limit, hi << -k < limit else { return nil }
        }
        self.k = max(k, 0)
        shiftLeft = max(-k, 0)
        var pos: Int64 = 0, neg: Int64 = 0
        if k > 0 {
            let half = Int64(1) << (k - 1)
            switch t.rounding {
            case .TRN: break
            case .RND: pos = half; neg = half
            case .RND_MIN_INF, .RND_CONV: pos = half - 1; neg = half - 1
            case .RND_ZERO: pos = half - 1; neg = half
            case .RND_INF: pos = half; neg = half - 1
            case .TRN_ZERO: neg = (Int64(1) << k) - 1
            }
        }
        addPos = pos
        addNeg = neg
        addLSB = k > 0 && t.rounding == .RND_CONV
        signed = t.signed
        self.hi = Int64(t.maxCode)
        switch t.overflow {
        case .WRAP: overflow = .wrap; self.lo = Int64(t.minCode)
        case .SAT: overflow = .clamp; self.lo = Int64(t.minCode)
        case .SAT_SYM: overflow = .clamp; self.lo = Int64(t.signed ? t.symmetricMinCode : t.minCode)
        case .SAT_ZERO: overflow = .zero; self.lo = Int64(t.minCode)
        }
        wrapShift = 64 - t.width
    }

    @inline(__always)
    func apply(_ v: Int64) -> Int64 {
        if bipolar { return v >= 0 ? 1 : -1 }
        var q = v << shiftLeft
        if k > 0 {
            var add = v < 0 ? addNeg : addPos
            if addLSB { add &+= (v >> k) & 1 }
            q = (v &+ add) >> k
        }
        switch overflow {
        case .clamp: return q < lo ? lo : (q > hi ? hi : q)
        case .wrap: return wrap(q)
        case .zero: return q < lo || q > hi ? 0 : q
        }
    }

    /// FixedType.wrapCode on a 64-bit value.
    @inline(__always)
    func wrap(_ v: Int64) -> Int64 {
        if signed { return (v << wrapShift) >> wrapShift }
        return Int64(bitPattern: (UInt64(bitPattern: v) << UInt64(wrapShift)) >> UInt64(wrapShift))
    }
}
