// The model as rtlgen understands it: a sequence of layers with exact, already-quantized
// parameters (integer codes of their declared fixed-point types).
//
// Any front end (the native JSON reader, an importer) builds a `Model` with these public
// initializers and hands it to `ModelCore.validate(_:file:)`, which checks it and returns the
// normalized model every later stage (golden model, lowering, writer) relies on.
import BigInt
import FixedPoint

public struct Model: Sendable, Equatable {
    public var name: String
    public var description: String?
    public var input: InputSpec
    public var layers: [Layer]

    public init(name: String, description: String? = nil, input: InputSpec, layers: [Layer]) {
        self.name = name
        self.description = description
        self.input = input
        self.layers = layers
    }

    /// Output size and type of the whole model.
    public var outputSize: Int { layers.last.map { $0.outputSize } ?? input.size }
    public var outputType: FixedType { layers.last?.outputType ?? input.type }

    /// Size and type flowing into layer `i`.
    public func inputOf(layer i: Int) -> (size: Int, type: FixedType) {
        i == 0 ? (input.size, input.type) : (layers[i - 1].outputSize, layers[i - 1].outputType)
    }

    /// Shape (channels last, row-major; the data is flat in that order) flowing into layer `i`.
    public func inputShape(of i: Int) -> [Int] {
        i == 0 ? input.shape : layers[i - 1].outputShape
    }

    /// Everything that flows into layer `i`.
    public func tensorInto(layer i: Int) -> TensorInfo {
        let (n, t) = inputOf(layer: i)
        let s = inputShape(of: i)
        return TensorInfo(shape: s.reduce(1, *) == n ? s : [n], type: t)
    }
}

/// A layer's input as the layer families see it: its shape (channels last, the flat data in
/// row-major order, as hls4ml's io_parallel and Keras lay it out) and its type.
public struct TensorInfo: Sendable, Equatable {
    public var shape: [Int]
    public var type: FixedType
    public init(shape: [Int], type: FixedType) { self.shape = shape; self.type = type }
    public var size: Int { shape.reduce(1, *) }
    /// The last dimension (the channels of an image or a sequence).
    public var channels: Int { shape.last ?? 1 }
    /// The spatial dimensions (every dimension but the channels).
    public var spatial: [Int] { Array(shape.dropLast()) }
}

public struct InputSpec: Sendable, Equatable {
    public var name: String
    public var size: Int
    public var type: FixedType
    /// The input's shape, channels last (`[9, 16, 1]` for a 9x16 one-channel image, `[10, 4]` for
    /// a sequence of 10 steps of 4 channels); `[size]` for a vector. Its product is `size`.
    public var shape: [Int]
    /// How a real input becomes a code when it is not simply cast to `type` (nil: cast(x, type)).
    public var scale: InputScale?
    public init(name: String, size: Int, type: FixedType, shape: [Int]? = nil, scale: InputScale? = nil) {
        self.name = name
        self.size = size
        self.type = type
        self.shape = shape ?? [size]
        self.scale = scale
    }

    /// The code of the exact real input n / d (d > 0): cast(x, type), or with a scale
    /// cast(x / scale + zero_point, type), with the type's rounding and overflow modes.
    public func quantize(numerator n: BigInt, denominator d: BigInt) -> Int128 {
        guard let s = scale else { return type.quantize(numerator: n, denominator: d) }
        return s.quantize(numerator: n, denominator: d, to: type)
    }
}

/// An input quantizer with a real scale and a zero point (a QONNX / Brevitas input `Quant` whose
/// scale is not a power of two): the real input x is the code cast(x / scale + zero_point, type);
/// the hardware receives that code. The scale is an exact decimal > 0, the zero point an integer.
public struct InputScale: Sendable, Equatable {
    /// The scale as exact decimal text (kept as written).
    public let scaleText: String
    public let zeroPoint: BigInt
    public let scale: Rational

    /// Throws `DecimalParseError` for text that is not a decimal; the model core checks scale > 0.
    public init(scaleText: String, zeroPoint: BigInt = 0) throws {
        self.scaleText = scaleText
        self.zeroPoint = zeroPoint
        scale = try Rational(decimal: scaleText)
    }

    /// The same for a finite double (its exact binary value).
    public func quantize(double x: Double, to t: FixedType) -> Int128 {
        precondition(x.isFinite)
        if x == 0 { return quantize(numerator: 0, denominator: 1, to: t) }
        let e = Int(x.exponent) - Double.significandBitCount
        let m = BigInt(x.significandBitPattern | (x.isNormal ? UInt64(1) << Double.significandBitCount : 0))
        let n = x < 0 ? -m : m
        let exp = x.isNormal ? e : Int(Double.leastNormalMagnitude.exponent) - Double.significandBitCount
        return exp >= 0 ? quantize(numerator: n << exp, denominator: 1, to: t) : quantize(numerator: n, denominator: BigInt(1) << -exp, to: t)
    }

    /// cast(n / d / scale + zero_point, t), exactly (d > 0, scale > 0).
    public func quantize(numerator n: BigInt, denominator d: BigInt, to t: FixedType) -> Int128 {
        t.quantize(numerator: n * scale.den + zeroPoint * d * scale.num, denominator: d * scale.num)
    }
}

public struct Layer: Sendable, Equatable {
    public var name: String
    public var op: LayerOp
    public var outputType: FixedType
    /// Number of values this layer produces. Derived from the op and the layer's input by
    /// `ModelCore.validate`: a front end may pass 0 ("derive it"); any other value must match.
    public var outputSize: Int
    /// The output's shape (channels last), derived by `ModelCore.validate` (a front end passes []).
    public var outputShape: [Int]

    public init(name: String, op: LayerOp, outputType: FixedType, outputSize: Int = 0, outputShape: [Int] = []) {
        self.name = name
        self.op = op
        self.outputType = outputType
        self.outputSize = outputSize
        self.outputShape = outputShape
    }

    public var opName: String {
        switch op {
        case .dense: return "dense"
        case .relu: return "relu"
        case let .binary(b): return b.opName
        case let .activation(a): return a.opName
        case .softmax: return "softmax"
        case let .kind(k): return k.base.opName
        }
    }
}

public enum LayerOp: Sendable, Equatable {
    case dense(Dense)
    case relu
    /// Binary/ternary-network ops (Semantics/Binary.swift).
    case binary(BinaryLayerOp)
    /// Element-wise activations (sigmoid, tanh, lut, leaky_relu, ...): see Semantics/Activations.swift.
    case activation(Activation)
    case softmax(Softmax)
    /// A layer family defined behind the `LayerKind` seam (Kinds/: convolution, pooling,
    /// reshape, zero padding, ...): its semantics, shape rule and JSON spelling in one file.
    case kind(AnyLayerKind)
}

/// A fully-connected layer. `kernel[i][j]` is the code (of `kernelType`) of the weight from
/// input i to output j; `bias[j]` the code of `biasType`. `accumType == nil` means "auto":
/// exact accumulation, the only quantization is the final cast.
public struct Dense: Sendable, Equatable {
    public var units: Int
    public var kernelType: FixedType
    public var biasType: FixedType
    public var accumType: FixedType?
    public var kernel: [[Int128]]
    public var bias: [Int128]

    public init(units: Int, kernelType: FixedType, biasType: FixedType, accumType: FixedType?,
                kernel: [[Int128]], bias: [Int128]) {
        self.units = units
        self.kernelType = kernelType
        self.biasType = biasType
        self.accumType = accumType
        self.kernel = kernel
        self.bias = bias
    }

    public var inputs: Int { kernel.count }
    /// The most outputs a dense layer may have.
    public static let maxUnits = 1_000_000
}
