// The exact semantics of a whole layer on integer codes: the per-family definitions (Dense.swift,
// Binary.swift, Activations.swift, Softmax.swift) behind one call. The golden model evaluates
// models with it; the lowering reads the same plans and tables.
import FixedPoint

/// What a layer derives once from its input before it evaluates samples.
public enum LayerPlan: Sendable {
    case none
    case dense(DensePlan)
    case softmax(SoftmaxPlan)
    /// A layer kind's own plan, with the shape of its input.
    case kind(TensorInfo, (any Sendable)?)
}

extension Layer {
    /// The plan of this layer for an input of `inputSize` values of `inputType`.
    public func plan(inputSize: Int, inputType: FixedType) throws -> LayerPlan {
        try plan(input: TensorInfo(shape: [inputSize], type: inputType))
    }

    /// The plan of this layer for its input (shape and type; see `Model.tensorInto(layer:)`).
    public func plan(input: TensorInfo) throws -> LayerPlan {
        let inputSize = input.size, inputType = input.type
        switch op {
        case let .kind(k):
            return .kind(input, try k.base.plan(input: input))
        case let .dense(d):
            return .dense(try DensePlan(dense: d, inputType: inputType))
        case let .softmax(s) where s.implementation == .stable:
            return .softmax(try SoftmaxPlan(s, inputType: inputType.arithmeticView, n: inputSize))
        default:
            return .none
        }
    }

    /// The layer on input codes `x` of `inputType` (with the plan from `plan(inputSize:inputType:)`):
    /// output codes of `outputType`.
    public func evaluate(_ x: [Int128], inputType: FixedType, plan: LayerPlan) -> [Int128] {
        switch op {
        case let .dense(d):
            guard case let .dense(p) = plan else { preconditionFailure("a dense layer needs its DensePlan") }
            return d.evaluate(plan: p, x: x, outputType: outputType)
        case .relu:
            return x.map { outputType.cast(code: max($0, 0), frac: inputType.fracBits) }
        case let .binary(b):
            return b.evaluate(x, inputType: inputType, outputType: outputType)
        case let .activation(a):
            return x.map { a.evaluate($0, input: inputType.arithmeticView, output: outputType) }
        case let .softmax(s):
            if case let .softmax(p) = plan { return s.evaluate(plan: p, x: x, outputType: outputType) }
            return s.evaluate(plan: nil, x: x, outputType: outputType)
        case let .kind(k):
            guard case let .kind(info, p) = plan else { preconditionFailure("a layer kind needs its plan (the input's shape)") }
            return k.base.evaluate(x, input: info, outputType: outputType, plan: p)
        }
    }
}
