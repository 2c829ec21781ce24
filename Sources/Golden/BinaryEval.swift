// Golden meaning of the binary/ternary ops (see ModelIR/BinaryOps.swift), on value codes.
import FixedPoint
import ModelIR

extension GoldenModel {
    static func binary(_ op: BinaryLayerOp, x: [Int128], inputType: FixedType, outputType: FixedType) -> [Int128] {
        let f = inputType.fracBits
        switch op {
        case let .binaryDense(d), let .ternaryDense(d):
            // Exact sum of +-x (the loader checked it fits); for bipolar x it is
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
                return dense(d, plan: plan, x: [x[j]], inputType: inputType, outputType: outputType)[0]
            }
        }
    }
}
