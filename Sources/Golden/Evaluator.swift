// The bit-exact golden model: evaluates a model on integer codes with the FixedPoint casts.
import FixedPoint
import ModelIR

public struct GoldenModel: Sendable {
    public let model: Model
    let plans: [DensePlan?]
    let softmaxPlans: [SoftmaxPlan?]

    public init(_ model: Model) throws {
        self.model = model
        var plans: [DensePlan?] = []
        for (i, l) in model.layers.enumerated() {
            if case let .dense(d) = l.op {
                plans.append(try DensePlan(dense: d, inputType: model.inputOf(layer: i).type))
            } else {
                plans.append(nil)
            }
        }
        self.plans = plans
        softmaxPlans = try Self.softmaxPlans(model)
    }

    /// Evaluates one sample given as input codes; returns output codes of `model.outputType`.
    public func evaluate(codes input: [Int128]) -> [Int128] {
        precondition(input.count == model.input.size)
        var x = input
        var xType = model.input.type
        for (i, layer) in model.layers.enumerated() {
            x = Self.evaluate(layer: layer, plan: plans[i], softmax: softmaxPlans[i], input: x, inputType: xType)
            xType = layer.outputType
        }
        return x
    }

    /// Evaluates every layer, returning each layer's output codes (for tracing).
    public func trace(codes input: [Int128]) -> [[Int128]] {
        var x = input
        var xType = model.input.type
        var out: [[Int128]] = []
        for (i, layer) in model.layers.enumerated() {
            x = Self.evaluate(layer: layer, plan: plans[i], softmax: softmaxPlans[i], input: x, inputType: xType)
            xType = layer.outputType
            out.append(x)
        }
        return out
    }

    static func evaluate(layer: Layer, plan: DensePlan?, softmax: SoftmaxPlan?, input x: [Int128], inputType: FixedType) -> [Int128] {
        switch layer.op {
        case let .dense(d):
            return dense(d, plan: plan!, x: x, inputType: inputType, outputType: layer.outputType)
        case .relu:
            return x.map { layer.outputType.cast(code: max($0, 0), frac: inputType.fracBits) }
        case let .binary(b):
            return binary(b, x: x, inputType: inputType, outputType: layer.outputType)
        case let .activation(a):
            return x.map { a.evaluate($0, input: inputType.arithmeticView, output: layer.outputType) }
        case let .softmax(s):
            return Self.softmax(s, plan: softmax, x: x, outputType: layer.outputType)
        }
    }

    /// acc = bias + sum x*w; auto: exact; explicit accum: products and bias cast to it, sum wraps.
    static func dense(_ d: Dense, plan p: DensePlan, x: [Int128], inputType: FixedType, outputType: FixedType) -> [Int128] {
        var y = [Int128](repeating: 0, count: d.units)
        if let a = p.accumType {
            for j in 0..<d.units {
                var acc = a.cast(code: d.bias[j], frac: d.biasType.fracBits)
                for i in 0..<d.inputs {
                    let w = d.kernel[i][j]
                    if w == 0 { continue }
                    acc = acc &+ a.cast(code: x[i] * w, frac: p.productFrac)
                }
                acc = a.wrapCode(acc)
                y[j] = outputType.cast(code: acc, frac: a.fracBits)
            }
        } else {
            for j in 0..<d.units {
                var acc = d.bias[j] << p.biasShift
                for i in 0..<d.inputs {
                    let w = d.kernel[i][j]
                    if w == 0 { continue }
                    acc += (x[i] * w) << p.productShift
                }
                y[j] = outputType.cast(code: acc, frac: p.accFrac)
            }
        }
        return y
    }
}
