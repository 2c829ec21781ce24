// Binary and ternary networks: the ops and their exact meaning on integer codes (the golden
// model evaluates them with `BinaryLayerOp.evaluate`; the lowering mirrors it).
//
//   binary_dense    kernel of +1/-1; y_j = sum_i x_i * w_ij (an integer for bipolar inputs:
//                   2 * popcount(xnor(x, w)) - n_in), cast to output_type. No bias.
//   ternary_dense   kernel of -1/0/+1, likewise; zero weights cost nothing.
//   sign            (also binary_tanh) y = +1 if x >= 0 else -1; output bipolar.
//   ternary_tanh    hls4ml: d = cast(2x, input type); +1 if d > 1, -1 if d <= -1, else 0.
//   threshold       y_j = +1 if x_j >= t_j else -1 (or x_j <= t_j with direction "le").
//   multi_threshold y_j = cast(out_scale * #{i : x_j >= T_ji} + out_bias, output_type).
//   batchnorm       followed by sign: folded into an exact threshold by ModelCore (BatchNormFold);
//                   alone: y = cast(x * scale_q + bias_q, output_type), scale and bias quantized
//                   exactly from the declared real parameters to scale_type and bias_type.
import BigInt
import FixedPoint

public enum BinaryLayerOp: Sendable, Equatable {
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
}

/// A binary or ternary fully-connected layer: `kernel[i][j]` in {-1, 0, +1} (0 only for ternary).
public struct BinaryDense: Sendable, Equatable {
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

public struct ThresholdLayer: Sendable, Equatable {
    public var rules: [ThresholdRule]
    /// Fractional bits of the input type (the grid of the codes).
    public var frac: Int
    /// A front end's form: real thresholds, placed on the input grid by `ModelCore.validate`
    /// (nil in a validated model).
    public var unplaced: RealThresholds?

    /// Rules already on the grid of an input type with `frac` fractional bits.
    public init(rules: [ThresholdRule], frac: Int) {
        self.rules = rules
        self.frac = frac
    }

    /// y_j = +1 when x_j >= thresholds[j] (or x_j <= thresholds[j] where geq[j] is false; nil: all
    /// >=). The exact real thresholds are placed on the input type's grid by `ModelCore.validate`.
    public init(thresholds: [Rational], geq: [Bool]? = nil) {
        rules = []
        frac = 0
        unplaced = RealThresholds(values: thresholds, geq: geq)
    }
}

/// Exact real thresholds before they are placed on an input grid.
public struct RealThresholds: Sendable, Equatable {
    public var values: [Rational]
    /// Per channel: x >= t (true) or x <= t (false); nil: all >=.
    public var geq: [Bool]?
    public init(values: [Rational], geq: [Bool]?) {
        self.values = values
        self.geq = geq
    }
}

extension ThresholdRule {
    /// The threshold code on the grid of `inType`: x >= t <=> code >= ceil(t 2^F); x <= t <=>
    /// code <= floor(t 2^F); clamped to one step beyond the input type's range.
    public static func code(of t: Rational, geq: Bool, inputType inType: FixedType) -> Int128 {
        let scaled = t * Rational(code: 1, frac: -inType.fracBits)
        let c = geq ? scaled.ceil : scaled.floor
        let lo = bigInt(inType.minCode) - 1, hi = bigInt(inType.maxCode) + 1
        return int128(exactly: min(max(c, lo), hi))!
    }
}

public struct MultiThreshold: Sendable, Equatable {
    /// Per channel, the threshold codes (x >= T fires), on the input grid, clamped.
    public var thresholds: [[Int128]]
    public var frac: Int
    /// out_scale and out_bias as exact decimal text (kept as written).
    public var outScaleText: String
    public var outBiasText: String
    /// Output code for each count 0...N (derived by `ModelCore.validate` from out_scale, out_bias
    /// and the output type).
    public var table: [Int128]
    /// A front end's form: real thresholds (one row per channel, or one shared row), placed on the
    /// input grid by `ModelCore.validate` (nil in a validated model).
    public var unplaced: [[Rational]]?

    /// Thresholds already on the grid of an input type with `frac` fractional bits.
    public init(thresholds: [[Int128]], frac: Int, outScaleText: String = "1", outBiasText: String = "0", table: [Int128] = []) {
        self.thresholds = thresholds
        self.frac = frac
        self.outScaleText = outScaleText
        self.outBiasText = outBiasText
        self.table = table
    }

    /// Real thresholds (one row per channel, or a single row shared by every channel).
    public init(thresholds: [[Rational]], outScaleText: String = "1", outBiasText: String = "0") {
        self.init(thresholds: [], frac: 0, outScaleText: outScaleText, outBiasText: outBiasText)
        unplaced = thresholds
    }

    /// The output code of each count 0...n: cast(out_scale * k + out_bias, output type).
    public static func table(count n: Int, scale s: Rational, bias b: Rational, outputType out: FixedType) -> [Int128] {
        (0...n).map { k -> Int128 in
            let v = s * Rational(BigInt(k)) + b
            return out.quantize(numerator: v.num, denominator: v.den)
        }
    }
}

/// Exact parameters of one batch-normalization channel: y = beta + (x - mean) * gamma / sqrt(v),
/// where v = variance + epsilon (the scale/bias form is gamma = scale, beta = bias, mean = 0, v = 1).
public struct BNChannel: Sendable, Equatable {
    public var gamma: Rational
    public var beta: Rational
    public var mean: Rational
    public var v: Rational

    public init(gamma: Rational, beta: Rational, mean: Rational, v: Rational) {
        self.gamma = gamma
        self.beta = beta
        self.mean = mean
        self.v = v
    }

    /// The exact output for the input value x.
    public func value(at x: Rational) -> SqrtForm { SqrtForm(p: beta, q: (x - mean) * gamma, v: v) }
    /// The exact real scale gamma / sqrt(v) and bias beta - mean * gamma / sqrt(v).
    public var scale: SqrtForm { SqrtForm(p: .zero, q: gamma, v: v) }
    public var bias: SqrtForm { SqrtForm(p: beta, q: -(mean * gamma), v: v) }
}

/// Batch normalization. A front end gives the real parameters (`Parameters`, or `channels`) and,
/// for a standalone batchnorm, scale_type, bias_type and an output type. `ModelCore.validate`
/// folds a batchnorm directly followed by sign into an exact threshold layer; it quantizes a
/// standalone one (then `channels` hold the quantized scale and bias: gamma = scale, beta = bias).
public struct BatchNorm: Sendable, Equatable {
    /// The declared real parameters, one per channel.
    public var channels: [BNChannel]
    public var scaleType: FixedType?
    public var biasType: FixedType?
    /// False when the layer declares no output type (then it must be followed by sign).
    public var hasOutputType: Bool
    /// Quantized scale and bias codes (standalone batchnorm only; set by `ModelCore.validate`).
    public var scale: [Int128] = []
    public var bias: [Int128] = []
    /// A front end's form of the parameters, turned into `channels` by `ModelCore.validate`
    /// (which checks the counts; nil in a validated model).
    public var parameters: Parameters?

    /// The parameters as frameworks give them.
    public enum Parameters: Sendable, Equatable {
        /// y = x * scale + bias.
        case scaleBias(scale: [Rational], bias: [Rational])
        /// Keras: y = beta + (x - mean) * gamma / sqrt(variance + epsilon).
        case moments(gamma: [Rational], beta: [Rational], mean: [Rational], variance: [Rational], epsilon: Rational)
    }

    public init(channels: [BNChannel], scaleType: FixedType? = nil, biasType: FixedType? = nil, hasOutputType: Bool = true) {
        self.channels = channels
        self.scaleType = scaleType
        self.biasType = biasType
        self.hasOutputType = hasOutputType
    }

    /// A batchnorm from framework parameters (checked and turned into channels by `ModelCore.validate`).
    public init(_ parameters: Parameters, scaleType: FixedType? = nil, biasType: FixedType? = nil, hasOutputType: Bool = true) {
        self.init(channels: [], scaleType: scaleType, biasType: biasType, hasOutputType: hasOutputType)
        self.parameters = parameters
    }

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

/// Folding batchnorm + sign into thresholds, exactly: for every input code x of the input type,
/// the folded rule fires exactly when beta + (x - mean) * gamma / sqrt(variance + epsilon) >= 0
/// (the comparison with the square root is decided by squaring). The condition is monotone in x
/// (increasing for gamma > 0, decreasing for gamma < 0, constant for gamma = 0), so the threshold
/// is found by bisection over the input codes with the exact predicate.
public enum BatchNormFold {
    public static func threshold(_ channels: [BNChannel], inputType t: FixedType) -> ThresholdLayer {
        let f = t.fracBits
        let rules = channels.map { ch -> ThresholdRule in
            func fires(_ c: Int128) -> Bool { ch.value(at: Rational(code: c, frac: f)).geq(.zero) }
            let lo = t.minCode, hi = t.maxCode
            switch ch.gamma.sign {
            case 0:
                // Constant: sign(beta). A threshold at the range's edge (always) or beyond it (never).
                return ThresholdRule(geq: true, code: ch.beta.sign >= 0 ? lo : hi + 1)
            case 1:
                // Smallest code that fires (hi + 1: none).
                if !fires(hi) { return ThresholdRule(geq: true, code: hi + 1) }
                var a = lo - 1, b = hi   // !fires(a) (virtually), fires(b)
                if fires(lo) { return ThresholdRule(geq: true, code: lo) }
                a = lo
                while b - a > 1 { let m = a + (b - a) / 2; if fires(m) { b = m } else { a = m } }
                return ThresholdRule(geq: true, code: b)
            default:
                // Largest code that fires (lo - 1: none): x <= code.
                if !fires(lo) { return ThresholdRule(geq: false, code: lo - 1) }
                if fires(hi) { return ThresholdRule(geq: false, code: hi) }
                var a = lo, b = hi       // fires(a), !fires(b)
                while b - a > 1 { let m = a + (b - a) / 2; if fires(m) { a = m } else { b = m } }
                return ThresholdRule(geq: false, code: a)
            }
        }
        return ThresholdLayer(rules: rules, frac: f)
    }
}

// MARK: - Semantics

extension BinaryLayerOp {
    /// The one definition of the op on input codes of `inputType`: output codes of `outputType`.
    /// (A batchnorm is evaluated in its standalone form; a validated model holds no other.)
    public func evaluate(_ x: [Int128], inputType: FixedType, outputType: FixedType) -> [Int128] {
        let f = inputType.fracBits
        switch self {
        case let .binaryDense(d), let .ternaryDense(d):
            // Exact sum of +-x (validation checked it fits); for bipolar x it is
            // 2 * popcount(xnor(x, w)) - n.
            return (0..<d.units).map { j in
                var acc: Int128 = 0
                for i in 0..<d.inputs {
                    switch d.kernel[i][j] {
                    case 1: acc += x[i]
                    case -1: acc -= x[i]
                    default: break
                    }
                }
                return outputType.cast(code: acc, frac: f)
            }
        case .sign:
            return x.map { $0 >= 0 ? 1 : -1 }
        case .ternaryTanh:
            let (hi, lo) = ternaryTanhBounds(frac: f)
            return x.map { c in
                let d = inputType.cast(code: c, frac: f - 1)   // 2x cast back to the input type
                if let h = hi, d > h { return 1 }
                if let l = lo, d <= l { return -1 }
                return 0
            }
        case let .threshold(t):
            return zip(x, t.rules).map { $1.fires($0) ? 1 : -1 }
        case let .multiThreshold(m):
            return x.indices.map { j in m.table[m.thresholds[j].filter { x[j] >= $0 }.count] }
        case let .batchnorm(bn):
            return x.indices.map { j in
                let d = bn.channelDense(j)
                let plan = try! DensePlan(dense: d, inputType: inputType)
                return d.evaluate(plan: plan, x: [x[j]], outputType: outputType)[0]
            }
        }
    }
}
