// The AXI4-Stream muon wrapper's specification: the record layout (fields of a fixed-width
// record), the feature map (network input i = an exact affine map of a field, or of a charge bit
// read as +-1), the lane/pair arrangement and the output mode. The exact arithmetic of every map
// is here (`AffineMap.exact`), so the golden model and the hardware plan read one definition.
import BigInt
import FixedPoint

public struct RecordField: Sendable, Equatable {
    public var name: String
    public var word: Int
    public var lsb: Int
    public var width: Int
    public var signed: Bool
    public init(name: String, word: Int, lsb: Int, width: Int, signed: Bool = false) {
        self.name = name; self.word = word; self.lsb = lsb; self.width = width; self.signed = signed
    }
    /// First bit in the record (word 0 in the record's least significant 32 bits).
    public var offset: Int { word * 32 + lsb }
    public var minValue: Int128 { signed ? -(Int128(1) << (width - 1)) : 0 }
    public var maxValue: Int128 { signed ? (Int128(1) << (width - 1)) - 1 : (Int128(1) << width) - 1 }
    /// The field read from a record.
    public func read(_ record: BigInt) -> Int128 {
        let raw = Int128((record >> offset) & ((BigInt(1) << width) - 1))
        if signed && raw >= Int128(1) << (width - 1) { return raw - (Int128(1) << width) }
        return raw
    }
    /// The record with this field replaced by `value` (in the field's range).
    public func write(_ record: BigInt, _ value: Int128) -> BigInt {
        let mask = (BigInt(1) << width) - 1
        let raw = (BigInt(value) % (BigInt(1) << width) + (BigInt(1) << width)) & mask
        return (record & ~(mask << offset)) | (raw << offset)
    }
}

public struct RecordLayout: Sendable, Equatable {
    public var name: String
    public var words: Int
    public var fields: [RecordField]
    /// The field whose value 0 marks an empty slot (hwPt for uGMT muons), if any.
    public var emptyField: String?
    public init(name: String, words: Int, fields: [RecordField], emptyField: String?) {
        self.name = name; self.words = words; self.fields = fields; self.emptyField = emptyField
    }
    public var bits: Int { words * 32 }
    public func field(_ n: String) -> RecordField? { fields.first { $0.name == n } }

    /// The Run-3 uGMT muon as CMS L1 scouting unpacks it (three 32-bit words).
    public static let ugmtScoutingRun3 = RecordLayout(name: "ugmt-scouting-run3", words: 3, fields: [
        RecordField(name: "hwPhi", word: 0, lsb: 0, width: 10),
        RecordField(name: "hwPt", word: 0, lsb: 10, width: 9),
        RecordField(name: "hwQual", word: 0, lsb: 19, width: 4),
        RecordField(name: "hwEta", word: 0, lsb: 23, width: 9, signed: true),
        RecordField(name: "hwIso", word: 1, lsb: 0, width: 2),
        RecordField(name: "hwCharge", word: 1, lsb: 2, width: 1),
        RecordField(name: "hwChargeValid", word: 1, lsb: 3, width: 1),
        RecordField(name: "tfMuonIndex", word: 1, lsb: 4, width: 7),
        RecordField(name: "hwPhiAtStation", word: 1, lsb: 11, width: 10),
        RecordField(name: "hwPtUnconstrained", word: 1, lsb: 21, width: 8),
        RecordField(name: "hwDXY", word: 1, lsb: 30, width: 2),
        RecordField(name: "hwEtaAtStation1", word: 2, lsb: 13, width: 9, signed: true),
        RecordField(name: "hwEtaAtStation2", word: 2, lsb: 22, width: 9, signed: true),
        RecordField(name: "intermediate", word: 2, lsb: 31, width: 1),
    ], emptyField: "hwPt")

    public static let builtIn: [String: RecordLayout] = ["ugmt-scouting-run3": ugmtScoutingRun3]
}

/// value = (u + offset) * scale, rounded to `type` with its rounding mode and overflow mode.
/// `u` is a field value in [lo, hi] (or +-1 for a charge).
public struct AffineMap: Sendable, Equatable {
    public let scale: Rational
    public let offset: Rational
    public let type: FixedType
    public let lo: Int128
    public let hi: Int128

    public init(scale: Rational, offset: Rational, type: FixedType, lo: Int128, hi: Int128) {
        self.scale = scale; self.offset = offset; self.type = type; self.lo = lo; self.hi = hi
        a = scale; b = offset * scale
    }

    /// a * u + b with a = scale, b = offset * scale.
    let a: Rational
    let b: Rational

    /// The exact result code (the one definition, used by the golden model).
    public func exact(_ u: Int128) -> Int128 {
        if let q = exactSmall(u) { return q }
        let a = self.a, b = self.b
        return type.quantize(numerator: a.num * BigInt(u) * b.den + b.num * a.den, denominator: a.den * b.den)
    }

    /// The same rounding as `FixedType.quantize` in Int128 (nil when a term would not fit; the
    /// tests compare it with the BigInt form).
    func exactSmall(_ u: Int128) -> Int128? {
        let a = self.a, b = self.b
        guard let an = Int128(exactly: a.num), let ad = Int128(exactly: a.den), let bn = Int128(exactly: b.num),
              let bd = Int128(exactly: b.den), type.fracBits >= 0, type.fracBits < 40,
              an.magnitude < 1 << 40, ad < 1 << 40, bn.magnitude < 1 << 40, bd < 1 << 40, u.magnitude < 1 << 24 else { return nil }
        let num = (an * u * bd + bn * ad) << type.fracBits
        let den = ad * bd
        var q = num / den, r = num % den
        if r < 0 { q -= 1; r += den }
        let half = 2 * r >= den
        let sticky = half ? 2 * r > den : r > 0
        if type.rounding.roundsUp(negative: num < 0, lsbOdd: q & 1 != 0, half: half, sticky: sticky) { q += 1 }
        return type.overflowCode(q)
    }

    /// Whether every exact value of u in [lo, hi] lies within the type's range (no overflow).
    public var fits: Bool {
        let lim = (Rational(code: type.minCode, frac: type.fracBits), Rational(code: type.maxCode, frac: type.fracBits))
        for u in [lo, hi] {
            let v = a * Rational(BigInt(u)) + b
            if v < lim.0 || lim.1 < v { return false }
        }
        return true
    }

    /// The hardware form: code = cast(u * k + c, frac: f + g) with integers k, c (f the type's
    /// fractional bits, g guard bits), equal to `exact` for every u in [lo, hi]. For each g, k is
    /// a * 2^(f+g) rounded down or up, and c any integer in the intersection over u of the
    /// offsets that give the exact code (the cast is monotone, so each is an interval). Nil when
    /// no such form exists within 48 guard bits.
    public func hardwarePlan() -> (k: Int128, c: Int128, frac: Int)? {
        let f = type.fracBits
        let want = (lo...hi).map { exact($0) }
        for g in 0...48 {
            let fr = f + g
            func scaled(_ r: Rational) -> Rational { fr >= 0 ? r * Rational(BigInt(1) << fr) : r * Rational(1, BigInt(1) << -fr) }
            let ka = scaled(a), cb = scaled(b)
            for kb in Set([ka.floor, ka.ceil]).sorted() {
                guard let k = Int128(exactly: kb), let cTarget = Int128(exactly: cb.floor) else { continue }
                // A sample first (cheap rejection), then every u.
                let n = want.count
                let sample = n <= 4096 ? Array(0..<n) : Array(stride(from: 0, to: n, by: n / 1024)) + [n - 1]
                guard let c1 = offsetInterval(k: k, frac: fr, indices: sample, want: want),
                      let c = offsetInterval(k: k, frac: fr, indices: n <= 4096 ? [] : Array(0..<n), want: want, start: c1) else { continue }
                return (k, min(max(cTarget, c.0), c.1), fr)
            }
        }
        return nil
    }

    /// The offsets c for which cast(u * k + c) == want for every u at the given indices (an
    /// interval, narrowed from `start`), or nil when there is none.
    func offsetInterval(k: Int128, frac: Int, indices: [Int], want: [Int128],
                        start: (Int128, Int128) = (Int128.min / 4, Int128.max / 4)) -> (Int128, Int128)? {
        var (cLo, cHi) = start
        for i in indices {
            let u = lo + Int128(i)
            guard let (pl, ph) = pRange(want[i], frac: frac) else { return nil }
            let (uk, o) = u.multipliedReportingOverflow(by: k)
            if o { return nil }
            cLo = max(cLo, pl - uk)
            cHi = min(cHi, ph - uk)
            if cLo > cHi { return nil }
        }
        return (cLo, cHi)
    }

    /// The integers P with cast(P, frac) == code, as an interval (the cast is monotone).
    func pRange(_ code: Int128, frac: Int) -> (Int128, Int128)? {
        let s = frac - type.fracBits
        if s <= 0 {
            let p = code >> (-s)
            return p << (-s) == code ? (p, p) : nil
        }
        guard s < 100 else { return nil }
        let sat = type.overflow == .SAT || type.overflow == .SAT_SYM
        let atTop = sat && code == type.maxCode, atBottom = type.overflow == .SAT && code == type.minCode
        // Direct forms of the two common modes (floor; half up), inside the type's range.
        if type.rounding == .TRN || type.rounding == .RND, code >= type.minCode, code <= type.maxCode {
            let base = code << s
            var (l, h) = type.rounding == .TRN ? (base, base + (1 << s) - 1) : (base - (1 << (s - 1)), base + (1 << (s - 1)) - 1)
            if atTop { h = Int128.max / 4 }
            if atBottom { l = Int128.min / 4 }
            return (l, h)
        }
        let lo0 = (code - 2) << s, hi0 = (code + 2) << s
        func cast(_ p: Int128) -> Int128 { type.cast(code: p, frac: frac) }
        var a = lo0, b = hi0          // first P with cast(P) >= code
        while a < b { let mid = a + (b - a) / 2; if cast(mid) >= code { b = mid } else { a = mid + 1 } }
        let first = a
        a = lo0; b = hi0              // last P with cast(P) <= code
        while a < b { let mid = a + (b - a + 1) / 2; if cast(mid) <= code { a = mid } else { b = mid - 1 } }
        guard first <= a, cast(first) == code else { return nil }
        // Saturation: every larger (smaller) P gives the top (bottom) code too.
        let hiP = sat && code == type.maxCode ? Int128.max / 4 : a
        let loP = type.overflow == .SAT && code == type.minCode ? Int128.min / 4 : first
        return (loP, hiP)
    }
}

/// Where a network input comes from.
public enum FeatureSource: Sendable, Equatable {
    /// A field read as its integer value.
    case field(String)
    /// A one-bit field read as +1 (bit 0) or -1 (bit 1): the uGMT charge.
    case sign(String)
    public var fieldName: String { switch self { case let .field(n), let .sign(n): return n } }
}

public struct Feature: Sendable, Equatable {
    public var source: FeatureSource
    /// Which muon of a pair (pairs mode); 0 in lanes mode.
    public var muon: Int
    public var scale: Rational
    public var offset: Rational
    public var scaleText: String
    public var offsetText: String
    public init(source: FeatureSource, muon: Int = 0, scale: Rational, offset: Rational, scaleText: String, offsetText: String) {
        self.source = source; self.muon = muon; self.scale = scale; self.offset = offset
        self.scaleText = scaleText; self.offsetText = offsetText
    }
}

/// Output j of the network written back into a field (replace mode): hw = y / scale - offset,
/// rounded half up and saturated to the field's range (an empty-slot field to at least 1).
public struct Replacement: Sendable, Equatable {
    public var field: String
    public var output: Int
    public var scale: Rational
    public var offset: Rational
    public init(field: String, output: Int, scale: Rational, offset: Rational) {
        self.field = field; self.output = output; self.scale = scale; self.offset = offset
    }
}

public enum StreamArrangement: String, Sendable { case lanes, pairsAdjacent = "adjacent", pairsAll = "all" }
public enum StreamOutputMode: String, Sendable, CaseIterable { case append, replace, scores }

public struct StreamSpec: Sendable, Equatable {
    public var layout: RecordLayout
    public var muonsPerBeat: Int = 2
    public var tuserWidth: Int = 16
    public var arrangement: StreamArrangement = .lanes
    public var output: StreamOutputMode = .scores
    public var features: [Feature] = []
    public var replacements: [Replacement] = []
    public init(layout: RecordLayout) { self.layout = layout }

    /// The muon indices of each network instance (one lane, or a pair).
    public var units: [[Int]] {
        switch arrangement {
        case .lanes: return (0..<muonsPerBeat).map { [$0] }
        case .pairsAdjacent: return stride(from: 0, to: muonsPerBeat - 1, by: 2).map { [$0, $0 + 1] }
        case .pairsAll:
            var r: [[Int]] = []
            for i in 0..<muonsPerBeat { for j in (i + 1)..<max(i + 1, muonsPerBeat) { r.append([i, j]) } }
            return r
        }
    }
    public var tdataWidth: Int { muonsPerBeat * layout.bits }
}
