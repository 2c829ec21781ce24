// Binary and ternary networks: the ops, their exact meaning, and how they are written back.
//
//   binary_dense    kernel of +1/-1; y_j = sum_i x_i * w_ij (an integer for bipolar inputs:
//                   2 * popcount(xnor(x, w)) - n_in), cast to output_type. No bias.
//   ternary_dense   kernel of -1/0/+1, likewise; zero weights cost nothing.
//   sign            (also binary_tanh) y = +1 if x >= 0 else -1; output bipolar.
//   ternary_tanh    hls4ml: d = cast(2x, input type); +1 if d > 1, -1 if d <= -1, else 0.
//   threshold       y_j = +1 if x_j >= t_j else -1 (or x_j <= t_j with direction "le").
//   multi_threshold y_j = cast(out_scale * #{i : x_j >= T_ji} + out_bias, output_type).
//   batchnorm       followed by sign: folded into an exact threshold (see BatchNormFold.swift);
//                   alone: y = cast(x * scale_q + bias_q, output_type), scale and bias quantized
//                   exactly from the declared real parameters to scale_type and bias_type.
import FixedPoint

public enum BinaryLayerOp: Sendable {
    case binaryDense(BinaryDense)
    case ternaryDense(BinaryDense)
    case sign
    case ternaryTanh
    case threshold(ThresholdLayer)
    case multiThreshold(MultiThreshold)
    case batchnorm(BatchNorm)

    public var opName: String {
        switch self {
        case .binaryDense: return "binary_dense"
        case .ternaryDense: return "ternary_dense"
        case .sign: return "sign"
        case .ternaryTanh: return "ternary_tanh"
        case .threshold: return "threshold"
        case .multiThreshold: return "multi_threshold"
        case .batchnorm: return "batchnorm"
        }
    }

    /// The fields after name and op, before output_type, as `ModelWriter` prints them.
    func jsonFields() -> [(String, JSONValue)] {
        func num(_ s: String) -> JSONValue { .number(s) }
        switch self {
        case let .binaryDense(d), let .ternaryDense(d):
            return [("units", num(String(d.units))),
                    ("kernel", .array(d.kernel.map { row in .array(row.map { num(String($0)) }) }))]
        case .sign, .ternaryTanh:
            return []
        case let .threshold(t):
            var f: [(String, JSONValue)] = [("thresholds", .array(t.rules.map { num(decimalString(code: $0.code, frac: t.frac)) }))]
            if t.rules.contains(where: { !$0.geq }) {
                f.append(("directions", .array(t.rules.map { .string($0.geq ? "ge" : "le") })))
            }
            return f
        case let .multiThreshold(m):
            return [("thresholds", .array(m.thresholds.map { row in .array(row.map { num(decimalString(code: $0, frac: m.frac)) }) })),
                    ("out_scale", num(m.outScaleText)), ("out_bias", num(m.outBiasText))]
        case let .batchnorm(b):
            guard let st = b.scaleType, let bt = b.biasType else { return [] }
            return [("scale", .array(b.scale.map { num(st.decimalString($0)) })),
                    ("bias", .array(b.bias.map { num(bt.decimalString($0)) })),
                    ("scale_type", .string(st.description)), ("bias_type", .string(bt.description))]
        }
    }
}

/// A binary or ternary fully-connected layer: `kernel[i][j]` in {-1, 0, +1} (0 only for ternary).
public struct BinaryDense: Sendable {
    public var units: Int
    public var kernel: [[Int8]]
    public init(units: Int, kernel: [[Int8]]) {
        self.units = units
        self.kernel = kernel
    }
    public var inputs: Int { kernel.count }
}

/// One channel's rule: +1 when x >= code (geq) or x <= code (!geq), codes of the input type's grid
/// (clamped just outside the input range: an always/never rule is a threshold beyond the range).
public struct ThresholdRule: Sendable, Equatable {
    public var geq: Bool
    public var code: Int128
    public init(geq: Bool, code: Int128) {
        self.geq = geq
        self.code = code
    }
    public func fires(_ x: Int128) -> Bool { geq ? x >= code : x <= code }
}

public struct ThresholdLayer: Sendable {
    public var rules: [ThresholdRule]
    /// Fractional bits of the input type (the grid of the codes).
    public var frac: Int
    public init(rules: [ThresholdRule], frac: Int) {
        self.rules = rules
        self.frac = frac
    }
}

public struct MultiThreshold: Sendable {
    /// Per channel, the threshold codes (x >= T fires), on the input grid, clamped.
    public var thresholds: [[Int128]]
    public var frac: Int
    public var outScaleText: String
    public var outBiasText: String
    /// Output code for each count 0...N.
    public var table: [Int128]
}

/// Exact parameters of one batch-normalization channel: y = beta + (x - mean) * gamma / sqrt(v),
/// where v = variance + epsilon (the scale/bias form is gamma = scale, beta = bias, mean = 0, v = 1).
public struct BNChannel: Sendable {
    public var gamma: Rational
    public var beta: Rational
    public var mean: Rational
    public var v: Rational

    /// The exact output for the input value x.
    public func value(at x: Rational) -> SqrtForm { SqrtForm(p: beta, q: (x - mean) * gamma, v: v) }
    /// The exact real scale gamma / sqrt(v) and bias beta - mean * gamma / sqrt(v).
    public var scale: SqrtForm { SqrtForm(p: .zero, q: gamma, v: v) }
    public var bias: SqrtForm { SqrtForm(p: beta, q: -(mean * gamma), v: v) }
}

public struct BatchNorm: Sendable {
    /// The declared real parameters.
    public var channels: [BNChannel]
    public var scaleType: FixedType?
    public var biasType: FixedType?
    public var hasOutputType: Bool
    /// Quantized scale and bias codes (standalone batchnorm only).
    public var scale: [Int128] = []
    public var bias: [Int128] = []

    /// Channel j as a 1 x 1 dense layer (the arithmetic of a standalone batchnorm).
    public func channelDense(_ j: Int) -> Dense {
        Dense(units: 1, kernelType: scaleType!, biasType: biasType!, accumType: nil, kernel: [[scale[j]]], bias: [bias[j]])
    }
}

/// Constants of ternary_tanh for an input grid of `frac` fractional bits: d > 1 <=> dCode > hi,
/// d <= -1 <=> dCode <= lo (nil: unreachable for any 128-bit code).
public func ternaryTanhBounds(frac f: Int) -> (hi: Int128?, lo: Int128?) {
    if f < 0 { return (0, -1) }
    if f >= 127 { return (nil, nil) }
    let p = Int128(1) << f
    return (p, -p)
}
