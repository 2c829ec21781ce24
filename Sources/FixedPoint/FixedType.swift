// Fixed-point types as ap_fixed defines them: W total bits, I integer bits (sign included for
// signed types), a rounding mode applied when bits are dropped and an overflow mode applied after.
import BigInt

/// Rounding (quantization) modes, exactly as ap_fixed's `ap_q_mode`.
public enum RoundingMode: String, CaseIterable, Sendable {
    case TRN, TRN_ZERO, RND, RND_ZERO, RND_MIN_INF, RND_INF, RND_CONV

    /// The one definition of rounding, shared by the golden model and the hardware lowering tests.
    /// `floor` is the value rounded toward minus infinity; the dropped part is described by its
    /// top bit (`half`) and whether any lower dropped bit is set (`sticky`).
    /// `negative` is the sign of the exact value, `lsbOdd` the parity of `floor`.
    /// Returns whether to add one to `floor`.
    @inlinable
    public func roundsUp(negative: Bool, lsbOdd: Bool, half: Bool, sticky: Bool) -> Bool {
        switch self {
        case .TRN: return false
        case .TRN_ZERO: return negative && (half || sticky)
        case .RND: return half
        case .RND_ZERO: return half && (sticky || negative)
        case .RND_MIN_INF: return half && sticky
        case .RND_INF: return half && (sticky || !negative)
        case .RND_CONV: return half && (sticky || lsbOdd)
        }
    }
}

/// Overflow modes, exactly as ap_fixed's `ap_o_mode` (saturation bits N = 0).
public enum OverflowMode: String, CaseIterable, Sendable {
    case WRAP, SAT, SAT_ZERO, SAT_SYM
}

/// Largest supported width. Codes are held in `Int128`, so an unsigned type can have 127 bits.
public let maxSignedWidth = 128
public let maxUnsignedWidth = 127

public struct FixedType: Hashable, Sendable, CustomStringConvertible {
    public let signed: Bool
    public let width: Int
    public let intBits: Int
    public let rounding: RoundingMode
    public let overflow: OverflowMode
    /// How codes are stored in hardware: plain two's complement / unsigned, or one of the
    /// binary-network encodings (see `TypeEncoding`).
    public let encoding: TypeEncoding

    public init(signed: Bool, width: Int, intBits: Int,
                rounding: RoundingMode = .TRN, overflow: OverflowMode = .WRAP, encoding: TypeEncoding = .plain) {
        precondition(width >= 1 && width <= (signed ? maxSignedWidth : maxUnsignedWidth),
                     "FixedType width \(width) out of range")
        self.signed = signed
        self.width = width
        self.intBits = intBits
        self.rounding = rounding
        self.overflow = overflow
        self.encoding = encoding
    }

    /// Integer type `int<W>` / `uint<W>`.
    public static func integer(signed: Bool, width: Int) -> FixedType {
        FixedType(signed: signed, width: width, intBits: width)
    }

    /// Number of fractional bits F = W - I (may be negative or exceed W).
    public var fracBits: Int { width - intBits }

    /// Smallest code (-1 for `bipolar` and `ternary`).
    public var minCode: Int128 {
        if encoding != .plain { return -1 }
        return signed ? Int128.min >> (128 - width) : 0
    }
    /// Largest code (+1 for `bipolar` and `ternary`).
    public var maxCode: Int128 {
        if encoding != .plain { return 1 }
        return signed ? Int128.max >> (128 - width) : Int128.max >> (127 - width)
    }

    /// The same type with other modes (binary-network types have fixed modes: unchanged).
    public func with(rounding: RoundingMode? = nil, overflow: OverflowMode? = nil) -> FixedType {
        if encoding != .plain { return self }
        return FixedType(signed: signed, width: width, intBits: intBits,
                  rounding: rounding ?? self.rounding, overflow: overflow ?? self.overflow)
    }

    /// Canonical spelling: `fixed<W,I>` (modes shown only when not TRN/WRAP), `int<W>` for
    /// integer types with default modes.
    public var description: String {
        switch encoding {
        case .bipolar: return "bipolar"
        case .ternary: return "ternary"
        case .plain: break
        }
        let base = signed ? "fixed" : "ufixed"
        if intBits == width && rounding == .TRN && overflow == .WRAP {
            return "\(signed ? "int" : "uint")<\(width)>"
        }
        var s = "\(base)<\(width),\(intBits)"
        if rounding != .TRN || overflow != .WRAP { s += ",\(rounding.rawValue)" }
        if overflow != .WRAP { s += ",\(overflow.rawValue)" }
        return s + ">"
    }
}

public struct TypeParseError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

extension FixedType {
    /// Parses every spelling of the contract: `fixed<W,I[,Q[,O]]>`, `ufixed<...>`, `int<W>`,
    /// `uint<W>`, with or without `ap_`, modes with or without `AP_`. hls4ml's fifth template
    /// argument (saturation bits) is accepted only as 0.
    public static func parse(_ text: String) throws -> FixedType {
        let s = text.filter { !$0.isWhitespace }
        switch s.lowercased() {
        case "bipolar": return .bipolar
        case "ternary": return .ternary
        default: break
        }
        func fail(_ why: String) -> TypeParseError {
            TypeParseError(description: "unknown or unsupported type '\(text)': \(why)")
        }
        guard let lt = s.firstIndex(of: "<"), s.hasSuffix(">") else {
            throw fail("expected e.g. fixed<16,6>, ufixed<8,3,RND_CONV,SAT>, int<8>, bipolar, ternary")
        }
        var base = s[s.startIndex..<lt].lowercased()
        if base.hasPrefix("ap_") { base.removeFirst(3) }
        let argText = s[s.index(after: lt)..<s.index(before: s.endIndex)]
        let args = argText.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        func intArg(_ i: Int, _ what: String) throws -> Int {
            guard i < args.count, let v = Int(args[i]) else { throw fail("\(what) must be an integer") }
            return v
        }
        let signed: Bool
        let isInt: Bool
        switch base {
        case "fixed": signed = true; isInt = false
        case "ufixed": signed = false; isInt = false
        case "int": signed = true; isInt = true
        case "uint": signed = false; isInt = true
        default: throw fail("base type must be fixed, ufixed, int or uint")
        }
        let width = try intArg(0, "the width W")
        let limit = signed ? maxSignedWidth : maxUnsignedWidth
        guard width >= 1 else { throw fail("the width W must be at least 1") }
        guard width <= limit else { throw fail("the width W = \(width) exceeds the supported \(limit) bits") }
        if isInt {
            guard args.count == 1 else { throw fail("int<W> and uint<W> take one argument") }
            return FixedType.integer(signed: signed, width: width)
        }
        guard args.count >= 2 && args.count <= 5 else { throw fail("expected 2 to 4 arguments") }
        let intBits = try intArg(1, "the integer bits I")
        guard abs(intBits) <= 4096 else { throw fail("the integer bits I = \(intBits) is out of range") }
        var rounding = RoundingMode.TRN
        var overflow = OverflowMode.WRAP
        func mode(_ t: String) -> String { t.uppercased().hasPrefix("AP_") ? String(t.uppercased().dropFirst(3)) : t.uppercased() }
        if args.count >= 3 {
            guard let q = RoundingMode(rawValue: mode(args[2])) else {
                throw fail("unknown rounding mode '\(args[2])' (TRN, TRN_ZERO, RND, RND_ZERO, RND_MIN_INF, RND_INF, RND_CONV)")
            }
            rounding = q
        }
        if args.count >= 4 {
            guard let o = OverflowMode(rawValue: mode(args[3])) else {
                throw fail("unknown overflow mode '\(args[3])' (WRAP, SAT, SAT_ZERO, SAT_SYM)")
            }
            overflow = o
        }
        if args.count == 5 {
            guard Int(args[4]) == 0 else { throw fail("saturation bits other than 0 are not supported") }
        }
        return FixedType(signed: signed, width: width, intBits: intBits, rounding: rounding, overflow: overflow)
    }
}
