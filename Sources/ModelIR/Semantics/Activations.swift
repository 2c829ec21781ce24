// Element-wise activation layers (issue 3): their parameters and their exact semantics. `Activation.evaluate` is the one definition of every op's arithmetic: the
// golden model calls it, and the hardware lowering fills its ROMs from it (so a table's contents
// can never disagree with the golden model).
import BigInt
import FixedPoint
import Foundation

/// An element-wise activation: y[i] = f(x[i]) for every element.
public enum Activation: Sendable, Equatable {
    case sigmoid(FunctionTable)
    case tanh(FunctionTable)
    case lut(UserTable)
    case leakyRelu(LeakyRelu)
    case reluMax(ReluMax)
    case hardSigmoid(HardParams)
    case hardTanh(HardParams)
    case linear
    case elu(ExpTable)
    case selu(ExpTable)

    /// The op name of the model file.
    public var opName: String {
        switch self {
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .lut: return "lut"
        case .leakyRelu: return "leaky_relu"
        case let .reluMax(r): return r.spelledRelu6 ? "relu6" : "relu_max"
        case .hardSigmoid: return "hard_sigmoid"
        case .hardTanh: return "hard_tanh"
        case .linear: return "linear"
        case .elu: return "elu"
        case .selu: return "selu"
        }
    }
}

/// How a sigmoid/tanh table is filled and indexed.
public enum TableMode: String, Sendable, CaseIterable {
    /// hls4ml 1.3 bit for bit: entry i = f(lo + i*span/N) in float32, cast to table_type;
    /// index = trunc0(x*N/span) + N/2, clamped.
    case hls4ml
    /// Entry i = f at the centre of bin i, rounded to nearest into table_type (then its overflow
    /// mode); index = floor(x*N/span) + N/2, clamped. Bins and table are symmetric about zero.
    case centered
}

/// A sigmoid or tanh table over [-span/2, span/2): sigmoid span 16, tanh span 8 (as hls4ml).
public struct FunctionTable: Sendable, Equatable {
    public enum Function: String, Sendable { case sigmoid, tanh }
    public let function: Function
    public let mode: TableMode
    public let size: Int
    public let tableType: FixedType
    /// Entry codes of `tableType`.
    public let entries: [Int128]

    public init(function: Function, mode: TableMode, size: Int, tableType: FixedType) {
        self.function = function
        self.mode = mode
        self.size = size
        self.tableType = tableType
        // An invalid size is rejected by ModelCore.validate; no table is computed for it.
        entries = isValidTableSize(size) ? ActivationTables.functionTable(function, mode: mode, size: size, type: tableType) : []
    }

    /// log2(span): 4 for sigmoid ([-8, 8)), 3 for tanh ([-4, 4)).
    public var spanLog2: Int { function == .sigmoid ? 4 : 3 }
    var sizeLog2: Int { size.trailingZeroBitCount }

    /// The table index of input code c (fracBits F), clamped to [0, N-1].
    public func index(_ c: Int128, frac: Int) -> Int {
        let t: Int128
        switch mode {
        case .hls4ml: t = hlsQuotient(c, frac: frac, sizeLog2: sizeLog2, divisorLog2: spanLog2)
        case .centered: t = scaled(c, exponent: sizeLog2 - spanLog2 - frac, towardZero: false)
        }
        return clampIndex(t + Int128(size / 2), size)
    }
}

/// A user table: `table` (2^k values of `tableType`) indexed by the top k bits of the input
/// code, offset so that index 0 is the most negative input.
public struct UserTable: Sendable, Equatable {
    public let indexBits: Int
    public let tableType: FixedType
    public let entries: [Int128]
    public init(indexBits: Int, tableType: FixedType, entries: [Int128]) {
        self.indexBits = indexBits
        self.tableType = tableType
        self.entries = entries
    }
}

public struct LeakyRelu: Sendable, Equatable {
    public let alpha: Int128
    public let alphaType: FixedType
    public init(alpha: Int128, alphaType: FixedType) {
        self.alpha = alpha
        self.alphaType = alphaType
    }
}

/// y = clamp(x, 0, max) cast to the output type; `max` is an exact decimal (relu6: 6).
public struct ReluMax: Sendable, Equatable {
    public let maxText: String
    public let max: ExactDecimal
    public let spelledRelu6: Bool
    public init(maxText: String, spelledRelu6: Bool) throws {
        self.maxText = maxText
        self.max = try ExactDecimal(parsing: maxText)
        self.spelledRelu6 = spelledRelu6
    }

    /// `max` is derived from `maxText`.
    public static func == (a: ReluMax, b: ReluMax) -> Bool {
        a.maxText == b.maxText && a.spelledRelu6 == b.spelledRelu6
    }

    /// The largest input code not above `max`: x > max exactly when code > threshold.
    public func threshold(input t: FixedType) -> Int128 {
        var num = max.numerator
        var den = max.denominator
        if t.fracBits >= 0 { num <<= t.fracBits } else { den <<= -t.fracBits }
        var (q, r) = num.quotientAndRemainder(dividingBy: den)
        if r.sign == .minus && !r.isZero { q -= 1; r += den }
        return int128(exactly: q) ?? (q.sign == .minus ? Int128.min : Int128.max)
    }

    /// The output code of the value `max`.
    public func maxCode(output t: FixedType) -> Int128 {
        t.quantize(numerator: max.numerator, denominator: max.denominator)
    }
}

/// hard_sigmoid = clip(slope*x + shift, 0, 1); hard_tanh = 2*hard_sigmoid - 1 (hls4ml/Keras).
public struct HardParams: Sendable, Equatable {
    public let slope: Int128
    public let slopeType: FixedType
    public let shift: Int128
    public let shiftType: FixedType
    public init(slope: Int128, slopeType: FixedType, shift: Int128, shiftType: FixedType) {
        self.slope = slope
        self.slopeType = slopeType
        self.shift = shift
        self.shiftType = shiftType
    }

    /// Fractional bits of v = slope*x + shift (exact, and 1 is on its grid).
    public func frac(input t: FixedType) -> Int { Swift.max(t.fracBits + slopeType.fracBits, shiftType.fracBits, 0) }
    public func productShift(input t: FixedType) -> Int { frac(input: t) - t.fracBits - slopeType.fracBits }
    public func shiftShift(input t: FixedType) -> Int { frac(input: t) - shiftType.fracBits }
}

/// elu / selu: a table of exp(x)-1 over [-8, 0) for x < 0 (hls4ml); x >= 0 is computed in logic.
public struct ExpTable: Sendable, Equatable {
    public let size: Int
    public let tableType: FixedType
    /// elu's alpha (selu: nil).
    public let alpha: Int128?
    public let alphaType: FixedType?
    public let entries: [Int128]
    public let selu: Bool

    public init(selu: Bool, size: Int, tableType: FixedType, alpha: Int128?, alphaType: FixedType?) {
        self.selu = selu
        self.size = size
        self.tableType = tableType
        self.alpha = alpha
        self.alphaType = alphaType
        entries = isValidTableSize(size) ? ActivationTables.expTable(selu: selu, size: size, type: tableType) : []
    }

    /// selu's positive-branch factor: hls4ml's `ap_ufixed<16,1> lambda = 1.0507009873554805`.
    public static let seluLambdaType = FixedType(signed: false, width: 16, intBits: 1)
    public static let seluLambda: Int128 = seluLambdaType.quantize(numerator: BigInt(10_507_009_873_554_805),
                                                                   denominator: BigInt(10).power(16))

    /// The table index of a negative input code: trunc0(x*N/-8), clamped to [0, N-1].
    public func index(_ c: Int128, frac: Int) -> Int {
        let q = hlsQuotient(c, frac: frac, sizeLog2: size.trailingZeroBitCount, divisorLog2: 3)
        return clampIndex(-q, size)
    }
}

/// hls4ml's defaults of the activation parameters, used when a front end's model omits them.
public enum ActivationDefaults {
    public static let tableSize = 1024
    /// hls4ml's table_t: ap_fixed<18,8>.
    public static let tableType = FixedType(signed: true, width: 18, intBits: 8)
    /// hls4ml's default precision of a layer parameter (`param_t`): its model default.
    public static let paramType = FixedType(signed: true, width: 16, intBits: 6)
    /// Keras' hard_sigmoid: slope 0.2, shift 0.5, in hls4ml's slope_t / shift_t.
    public static let slopeType = FixedType(signed: false, width: 16, intBits: 0)
    public static let slope = "0.2"
    public static let shiftType = FixedType(signed: false, width: 2, intBits: 0)
    public static let shift = "0.5"
    public static let eluAlpha = "1.0"
}

/// Sizes of sigmoid, tanh, elu and selu tables: a power of two from 2 to `maxActivationTableSize`.
public let maxActivationTableSize = 65536
public func isValidTableSize(_ n: Int) -> Bool { n >= 2 && n <= maxActivationTableSize && n & (n - 1) == 0 }

// MARK: - Index arithmetic shared by the golden model and the lowering

/// c * 2^e rounded toward zero (or toward minus infinity), saturated to +-2^100 (every caller
/// clamps the result to a table index, so larger magnitudes need not be exact).
public func scaled(_ c: Int128, exponent e: Int, towardZero: Bool) -> Int128 {
    let big = Int128(1) << 100
    if e >= 0 {
        if c == 0 { return 0 }
        if e >= 100 || c.magnitude >= UInt128(1) << (100 - e) { return c < 0 ? -big : big }
        return c << e
    }
    let k = -e
    if k >= 127 { return (c < 0 && !towardZero) ? -1 : 0 }
    if c >= 0 || !towardZero { return c >> k }
    return -Int128(c.magnitude >> k)
}

/// hls4ml's `int(x * N / D)` for x = c * 2^-F, N = 2^n, D = 2^d: ap_fixed's quotient keeps F
/// fractional bits (truncating toward zero; for F < 0 that is a multiple of 2^-F), and the
/// conversion to int truncates toward zero again.
public func hlsQuotient(_ c: Int128, frac F: Int, sizeLog2 n: Int, divisorLog2 d: Int) -> Int128 {
    if F >= 0 { return scaled(c, exponent: n - d - F, towardZero: true) }
    let q = scaled(c, exponent: n - d, towardZero: true)
    return scaled(q, exponent: -F, towardZero: true)
}

func clampIndex(_ t: Int128, _ n: Int) -> Int {
    t < 0 ? 0 : (t > Int128(n - 1) ? n - 1 : Int(t))
}

// MARK: - Semantics

extension Activation {
    /// The one definition of the op: the output code for input code c.
    public func evaluate(_ c: Int128, input it: FixedType, output ot: FixedType) -> Int128 {
        let F = it.fracBits
        switch self {
        case .linear:
            return ot.cast(code: c, frac: F)
        case let .sigmoid(t), let .tanh(t):
            return ot.cast(code: t.entries[t.index(c, frac: F)], frac: t.tableType.fracBits)
        case let .lut(u):
            let idx = Int((c - it.minCode) >> (it.width - u.indexBits))
            return ot.cast(code: u.entries[idx], frac: u.tableType.fracBits)
        case let .leakyRelu(l):
            if c > 0 { return ot.cast(code: c, frac: F) }
            return ot.cast(code: l.alpha * c, frac: F + l.alphaType.fracBits)
        case let .reluMax(r):
            if c > r.threshold(input: it) { return r.maxCode(output: ot) }
            return ot.cast(code: Swift.max(c, 0), frac: F)
        case let .hardSigmoid(h), let .hardTanh(h):
            let vf = h.frac(input: it)
            let one = Int128(1) << vf
            var v = (h.slope * c) << h.productShift(input: it) + h.shift << h.shiftShift(input: it)
            v = Swift.min(Swift.max(v, 0), one)
            if case .hardTanh = self { v = 2 * v - one }
            return ot.cast(code: v, frac: vf)
        case let .elu(e):
            if c >= 0 { return ot.cast(code: c, frac: F) }
            let entry = e.entries[e.index(c, frac: F)]
            return ot.cast(code: e.alpha! * entry, frac: e.alphaType!.fracBits + e.tableType.fracBits)
        case let .selu(e):
            if c >= 0 {
                return ot.cast(code: ExpTable.seluLambda * c, frac: F + ExpTable.seluLambdaType.fracBits)
            }
            return ot.cast(code: e.entries[e.index(c, frac: F)], frac: e.tableType.fracBits)
        }
    }

    /// The table of a table-based op.
    public var table: (type: FixedType, entries: [Int128])? {
        switch self {
        case let .sigmoid(t), let .tanh(t): return (t.tableType, t.entries)
        case let .lut(u): return (u.tableType, u.entries)
        case let .elu(e), let .selu(e): return (e.tableType, e.entries)
        default: return nil
        }
    }

    /// For table-based ops: how the table index depends on the input code c, for the hardware.
    /// Within the table's domain (c < 0 only when `negativeOnly`), the output depends on c only
    /// through u = c / 2^shift rounded toward zero (`towardZero`) or toward minus infinity, and
    /// `index(c)` is monotone. Non-table ops: nil.
    public func tableAddressing(input it: FixedType) -> (shift: Int, towardZero: Bool, negativeOnly: Bool)? {
        let F = it.fracBits
        switch self {
        case let .sigmoid(t), let .tanh(t):
            let n = t.sizeLog2, s = t.spanLog2
            switch t.mode {
            case .hls4ml: return (Swift.max(0, s - n + Swift.max(F, 0)), true, false)
            case .centered: return (Swift.max(0, s - n + F), false, false)
            }
        case let .lut(u):
            return (it.width - u.indexBits, false, false)
        case let .elu(e), let .selu(e):
            return (Swift.max(0, 3 - e.size.trailingZeroBitCount + Swift.max(F, 0)), true, true)
        default:
            return nil
        }
    }

    /// The (monotone) table index of code c within the table's domain.
    public func tableIndex(_ c: Int128, input it: FixedType) -> Int {
        switch self {
        case let .sigmoid(t), let .tanh(t): return t.index(c, frac: it.fracBits)
        case let .lut(u): return Int((c - it.minCode) >> (it.width - u.indexBits))
        case let .elu(e), let .selu(e): return e.index(c, frac: it.fracBits)
        default: preconditionFailure("not a table op")
        }
    }

    /// Header lines for the layer's HDL module.
    public var summary: String {
        switch self {
        case let .sigmoid(t), let .tanh(t):
            return "table: \(t.size) entries of \(t.tableType) over [-\(1 << (t.spanLog2 - 1)), \(1 << (t.spanLog2 - 1))), mode \(t.mode.rawValue)"
        case let .lut(u):
            return "user table: \(u.entries.count) entries of \(u.tableType), indexed by the top \(u.indexBits) input bits"
        case let .leakyRelu(l):
            return "alpha = \(l.alphaType.decimalString(l.alpha)) (\(l.alphaType))"
        case let .reluMax(r):
            return "max = \(r.maxText)"
        case let .hardSigmoid(h), let .hardTanh(h):
            return "slope = \(h.slopeType.decimalString(h.slope)) (\(h.slopeType)), shift = \(h.shiftType.decimalString(h.shift)) (\(h.shiftType))"
        case .linear:
            return "a plain cast"
        case let .elu(e):
            return "table: \(e.size) entries of \(e.tableType) over [-8, 0), alpha = \(e.alphaType!.decimalString(e.alpha!)) (\(e.alphaType!))"
        case let .selu(e):
            return "table: \(e.size) entries of \(e.tableType) over [-8, 0), lambda = \(ExpTable.seluLambdaType.decimalString(ExpTable.seluLambda)) (\(ExpTable.seluLambdaType))"
        }
    }
}
