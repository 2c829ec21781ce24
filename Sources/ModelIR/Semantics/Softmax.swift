// Softmax: hls4ml's "stable" implementation, reproduced bit for bit (tables, index slicing,
// the narrower unsigned difference type, the summation tree, the inverse table's input type
// and its 1/0 entry), and an argmax that outputs the index of the largest input.
// The layer and the plan (effective table sizes, table contents and the arithmetic on codes)
// shared by the golden model and the hardware lowering, so both use one definition.
import Foundation
import FixedPoint

public enum SoftmaxImplementation: String, Sendable, CaseIterable {
    case stable, argmax
}

/// A softmax layer as written in the model file. For `argmax` the table fields are unused.
public struct Softmax: Sendable, Equatable {
    public var implementation: SoftmaxImplementation
    /// Requested table size (power of two); hls4ml shrinks it for narrow types (see SoftmaxPlan).
    public var tableSize: Int
    public var expTableType: FixedType
    public var invTableType: FixedType
    /// Type the sum is converted to before it indexes the inverse table (hls4ml's inv_inp_t).
    public var invInputType: FixedType
    /// nil = "auto": the sum of the table entries is exact.
    public var accumType: FixedType?

    public static let defaultTableSize = 1024
    /// hls4ml's default for exp_table_t, inv_table_t and inv_inp_t: ap_fixed<18,8,AP_RND,AP_SAT>.
    public static let defaultTableType = FixedType(signed: true, width: 18, intBits: 8, rounding: .RND, overflow: .SAT)
    /// Widest table, inverse-input or accumulator type (products then fit a signed 128-bit value).
    public static let maxTypeWidth = 63
    public static let maxTableSize = 65536

    public init(implementation: SoftmaxImplementation, tableSize: Int = Softmax.defaultTableSize,
                expTableType: FixedType = Softmax.defaultTableType, invTableType: FixedType = Softmax.defaultTableType,
                invInputType: FixedType = Softmax.defaultTableType, accumType: FixedType? = nil) {
        self.implementation = implementation
        self.tableSize = tableSize
        self.expTableType = expTableType
        self.invTableType = invTableType
        self.invInputType = invInputType
        self.accumType = accumType
    }
}

/// hls4ml's balanced reduction (nnet_common.h `reduce`): the left part takes the largest power of
/// two below n, recursively. The sum of a saturating or rounding accumulator depends on this
/// shape, so the golden model and the hardware both use this function.
public func hlsReduce<T>(_ xs: ArraySlice<T>, _ op: (T, T) -> T) -> T {
    let n = xs.count
    precondition(n >= 1)
    if n == 1 { return xs[xs.startIndex] }
    if n == 2 { return op(xs[xs.startIndex], xs[xs.startIndex + 1]) }
    var left = 1
    while left * 2 <= n - 1 { left *= 2 }
    let mid = xs.startIndex + left
    return op(hlsReduce(xs[xs.startIndex..<mid], op), hlsReduce(xs[mid...], op))
}

/// Everything derived from a stable softmax layer and its input: what hls4ml 1.3 computes.
public struct SoftmaxPlan: Sendable {
    public let inputType: FixedType
    public let n: Int
    /// hls4ml's inp_norm_t: the type of max - x_i, ufixed<W-1, I-1> for a signed input
    /// fixed<W,I> (one bit narrower, so it wraps when the inputs spread by 2^(I-1) or more),
    /// ufixed<W,I> for an unsigned input. Codes share the input's grid.
    public let normType: FixedType
    /// Effective table sizes and their address bits.
    public let expTableSize: Int
    public let invTableSize: Int
    public var expAddressBits: Int { expTableSize.trailingZeroBitCount }
    public var invAddressBits: Int { invTableSize.trailingZeroBitCount }
    public let expTableType: FixedType
    public let invTableType: FixedType
    public let invInputType: FixedType
    /// The accumulator actually used (the exact one when the layer says "auto").
    public let accumType: FixedType
    public let accumIsAuto: Bool
    /// Table contents: codes of expTableType / invTableType.
    public let expTable: [Int128]
    public let invTable: [Int128]

    public struct PlanError: Error, CustomStringConvertible { public let description: String }

    public init(_ s: Softmax, inputType x: FixedType, n: Int) throws {
        precondition(s.implementation == .stable)
        inputType = x
        self.n = n
        if x.signed && x.width < 2 {
            throw PlanError(description: "a stable softmax needs a signed input of at least 2 bits (max - x is held in W-1 bits), found \(x)")
        }
        normType = x.signed
            ? FixedType(signed: false, width: x.width - 1, intBits: x.intBits - 1)
            : FixedType(signed: false, width: x.width, intBits: x.intBits)
        // hls4ml's FixSoftmaxTableSize: the table size is cut to 2^min(W_input, W_inv_table);
        // then the config template cuts the exp table to 2^(W-1) for a signed input.
        var size = s.tableSize
        let cap = min(x.width, s.invTableType.width)
        if cap < 30 && (1 << cap) < size { size = 1 << cap }
        invTableSize = size
        expTableSize = x.signed ? min(size, 1 << min(x.width - 1, 30)) : size
        if invTableSize > (1 << min(s.invInputType.width, 30)) {
            throw PlanError(description: "the inverse table (\(invTableSize) entries) is indexed by the top bits of the inverse-table input type \(s.invInputType), which has only \(s.invInputType.width) bits; use a smaller table_size or a wider inv_inp_type")
        }
        expTableType = s.expTableType
        invTableType = s.invTableType
        invInputType = s.invInputType
        if let a = s.accumType {
            accumType = a
            accumIsAuto = false
        } else {
            // Exact: the sum of n table codes needs ceil(log2 n) more integer bits.
            var g = 0
            while (1 << g) < n { g += 1 }
            let e = s.expTableType
            accumType = FixedType(signed: e.signed, width: e.width + g, intBits: e.intBits + g)
            accumIsAuto = true
        }
        expTable = SoftmaxPlan.expTable(normType: normType, size: expTableSize, type: expTableType)
        invTable = SoftmaxPlan.invTable(inputType: invInputType, size: invTableSize, type: invTableType)
    }

    /// The value hls4ml's softmax_real_val_from_idx gives index i: a value of `t` whose top
    /// log2(size) bits are i (read with t's signedness), as a float.
    static func indexValue(_ i: Int, type t: FixedType, size: Int) -> Float {
        let bits = size.trailingZeroBitCount
        var v = Int128(i)
        if t.signed && i >= size / 2 { v -= Int128(size) }
        if v == 0 { return 0 }
        // value = v * 2^(I - bits); through Double (exact), then to float as ap_fixed does.
        return Float(Double(v) * pow2(t.intBits - bits))
    }

    /// exp table (init_exp_table with negative = true): entry i = expf(-x_i) in float, x_i the
    /// value of index i in the normalized type, converted to the table type (round, overflow).
    /// expf is the C library's (glibc on Linux), the function hls4ml's std::exp(float) calls.
    public static func expTable(normType: FixedType, size: Int, type: FixedType) -> [Int128] {
        (0..<size).map { i in
            let x = indexValue(i, type: normType, size: size) * Float(1.0)  // exp_scale = 1
            return type.quantize(float: expf(-x))
        }
    }

    /// Inverse table (init_invert_table): entry i = 1 / x_i in float, x_i the (signed) value of
    /// index i in the inverse-table input type; entry 0 is 1/0 = +inf.
    public static func invTable(inputType: FixedType, size: Int, type: FixedType) -> [Int128] {
        (0..<size).map { i in
            let x = indexValue(i, type: inputType, size: size)
            return type.quantize(float: Float(1) / x)
        }
    }

    // --- the arithmetic, on codes (the golden model; the hardware mirrors each step) ---

    /// max - x_i wrapped into the normalized type (same grid as the input): its code.
    public func normCode(max m: Int128, x: Int128) -> Int128 {
        normType.wrapCode(m &- x)
    }

    /// Address of the exp table: the top address bits of the normalized difference.
    public func expIndex(normCode d: Int128) -> Int {
        Int(d >> (normType.width - expAddressBits))
    }

    /// Address of the inverse table: the top address bits of the sum's code in invInputType
    /// (its bit pattern, so a negative sum reads the upper half).
    public func invIndex(sumCode s: Int128) -> Int {
        let u = UInt128(truncatingIfNeeded: s) & ((UInt128(1) << invInputType.width) - 1)
        return Int(u >> (invInputType.width - invAddressBits))
    }

    /// The whole layer on input codes: y_i = cast(a_i * inv, output), a_i = cast(exp, accum).
    public func evaluate(_ x: [Int128], outputType out: FixedType) -> [Int128] {
        let m = hlsReduce(x[...]) { a, b in a >= b ? a : b }
        let a = x.map { xi in
            accumType.cast(expTable[expIndex(normCode: normCode(max: m, x: xi))], from: expTableType)
        }
        let sum = hlsReduce(a[...]) { p, q in accumType.cast(code: p + q, frac: accumType.fracBits) }
        let s = invInputType.cast(sum, from: accumType)
        let inv = invTable[invIndex(sumCode: s)]
        let frac = accumType.fracBits + invTableType.fracBits
        return a.map { out.cast(code: $0 * inv, frac: frac) }
    }
}

/// argmax: the index of the largest input, the lowest index on ties.
public func argmaxIndex(_ x: [Int128]) -> Int {
    var best = 0
    for i in 1..<max(x.count, 1) where x[i] > x[best] { best = i }
    return best
}

extension Softmax {
    /// The one definition of the layer on input codes (`plan`: the stable softmax's plan for its
    /// input; unused by argmax): output codes of `outputType`.
    public func evaluate(plan: SoftmaxPlan?, x: [Int128], outputType: FixedType) -> [Int128] {
        switch implementation {
        case .stable:
            return plan!.evaluate(x, outputType: outputType)
        case .argmax:
            return [Int128(argmaxIndex(x))]
        }
    }
}
