// The two types of binary and ternary networks. Arithmetic (the golden model, value ranges) works
// on value codes as for every type (value = code * 2^-fracBits, here fracBits = 0); only the
// hardware storage differs for `bipolar`.
//
// - `bipolar`: the values -1 and +1 stored in ONE bit, 0 meaning -1 and 1 meaning +1
//   (stored bit = (code + 1) / 2). A cast into `bipolar` is the sign: +1 when the value is
//   >= 0, else -1 (0 maps to +1, as hls4ml's binary_tanh and QONNX's BipolarQuant do). So are CSV
//   inputs quantized to it.
// - `ternary`: the values -1, 0, +1 in two bits of two's complement. It is exactly
//   `int<2>` with TRN rounding and SAT_SYM overflow (so the code -2 never occurs): a cast into
//   it truncates toward minus infinity and clamps to [-1, +1].

/// Storage encoding of a `FixedType`.
public enum TypeEncoding: Sendable, Hashable {
    /// Two's complement (signed) or plain binary (unsigned) of the code.
    case plain
    /// One bit: 0 is -1, 1 is +1.
    case bipolar
    /// `int<2, TRN, SAT_SYM>`: codes -1, 0, +1.
    case ternary
}

extension FixedType {
    /// `bipolar`: values -1 and +1 in one bit.
    public static let bipolar = FixedType(signed: true, width: 1, intBits: 1, encoding: .bipolar)
    /// `ternary`: values -1, 0, +1 in two bits (int<2>, TRN, SAT_SYM).
    public static let ternary = FixedType(signed: true, width: 2, intBits: 2, rounding: .TRN, overflow: .SAT_SYM, encoding: .ternary)

    public var isBipolar: Bool { encoding == .bipolar }

    /// The type an arithmetic layer (dense, relu, activations, softmax) sees its input as: a
    /// bipolar input is read as its value, `int<2>` (-1 or +1); every other type is itself.
    public var arithmeticView: FixedType {
        encoding == .bipolar ? FixedType.integer(signed: true, width: 2) : self
    }

    /// The stored bits of a value code (the low `width` bits; bipolar: 1 for +1, 0 for -1).
    public func encode(_ code: Int128) -> UInt128 {
        if encoding == .bipolar { return code >= 0 ? 1 : 0 }
        let u = UInt128(truncatingIfNeeded: code)
        return width >= 128 ? u : u & ((UInt128(1) << width) - 1)
    }

    /// The value code of stored bits (the low `width` bits of `bits`).
    public func decode(_ bits: UInt128) -> Int128 {
        if encoding == .bipolar { return bits & 1 == 1 ? 1 : -1 }
        let u = width >= 128 ? bits : bits & ((UInt128(1) << width) - 1)
        var v = Int128(truncatingIfNeeded: u)
        if signed && width < 128 && (u >> (width - 1)) & 1 == 1 { v -= Int128(1) << width }
        return v
    }
}
