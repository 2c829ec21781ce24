// The bit-exact golden model (`rtlgen predict`): evaluates a model on integer codes, layer by
// layer, with the one definition of every op's semantics in ModelIR/Semantics.
import FixedPoint
import ModelIR

public struct GoldenModel: Sendable {
    public let model: Model
    let plans: [LayerPlan]

    public init(_ model: Model) throws {
        self.model = model
        plans = try model.layers.indices.map { i in
            try model.layers[i].plan(input: model.tensorInto(layer: i))
        }
    }

    /// Evaluates one sample given as input codes; returns output codes of `model.outputType`.
    public func evaluate(codes input: [Int128]) -> [Int128] {
        trace(codes: input).last ?? input
    }

    /// Evaluates every layer, returning each layer's output codes (for tracing).
    public func trace(codes input: [Int128]) -> [[Int128]] {
        precondition(input.count == model.input.size)
        var x = input
        var xType = model.input.type
        var out: [[Int128]] = []
        for (i, layer) in model.layers.enumerated() {
            x = layer.evaluate(x, inputType: xType, plan: plans[i])
            xType = layer.outputType
            out.append(x)
        }
        return out
    }
}
