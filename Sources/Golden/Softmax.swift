// Golden softmax: hls4ml's stable softmax on codes (SoftmaxPlan holds the one definition of
// its steps and tables) and argmax (the index of the largest input, lowest on ties).
import FixedPoint
import ModelIR

extension GoldenModel {
    /// One plan per stable softmax layer (tables computed once per model).
    static func softmaxPlans(_ model: Model) throws -> [SoftmaxPlan?] {
        try model.layers.enumerated().map { i, l in
            guard case let .softmax(s) = l.op, s.implementation == .stable else { return nil }
            let (n, t) = model.inputOf(layer: i)
            return try SoftmaxPlan(s, inputType: t.arithmeticView, n: n)
        }
    }

    static func softmax(_ s: Softmax, plan: SoftmaxPlan?, x: [Int128], outputType: FixedType) -> [Int128] {
        switch s.implementation {
        case .stable:
            return plan!.evaluate(x, outputType: outputType)
        case .argmax:
            return [Int128(argmaxIndex(x))]
        }
    }
}
