// Random element-wise activation layers for the regression models (`rtlgen random-model`): after
// a dense layer, now and then, one of sigmoid, tanh (hls4ml or centred tables), lut, leaky_relu,
// relu_max, relu6, hard_sigmoid, hard_tanh, linear, elu or selu, with random table sizes, table
// types, parameters and output types. Drawn from their own generator (like the softmax layers),
// so the dense and ReLU layers of every seed stay as they were.
import FixedPoint
import ModelIR

extension RandomModel {
    /// The generator for the activation layers of one seed.
    static func activationDraw(seed: UInt64) -> RandomDraw {
        RandomDraw(seed: seed &* 0xAC71_0A7E &+ 11)
    }

    /// An activation layer named `name` to append after `layers`, or nil (about two times in
    /// three, or when no drawn layer validates). Every candidate is checked by the model core.
    static func activationLayer(draw d: inout RandomDraw, name: String, input: InputSpec, layers: [Layer]) -> Layer? {
        func r(_ n: Int) -> Int { d.int(n) }
        guard r(3) == 0 else { return nil }
        func type(w: ClosedRange<Int>, i: ClosedRange<Int>) -> FixedType { d.fixedType(w: w, i: i) }
        func decimal(_ lo: Int, _ hi: Int, digits: Int = 3) -> String {
            // lo + a random fraction of (hi - lo), written with `digits` decimals
            var scale = 1
            for _ in 0..<digits { scale *= 10 }
            let v = lo * scale + r((hi - lo) * scale + 1)
            let sign = v < 0 ? "-" : ""
            let a = abs(v)
            return "\(sign)\(a / scale).\(String(a % scale).leftPadded(to: digits))"
        }
        func code(_ text: String, _ t: FixedType) -> Int128 { try! t.quantize(decimal: text) }
        typealias D = ActivationDefaults
        let ops = ["sigmoid", "tanh", "lut", "leaky_relu", "relu_max", "relu6", "hard_sigmoid",
                   "hard_tanh", "linear", "elu", "selu"]
        for _ in 0..<20 {
            let op = ops[r(ops.count)]
            let a: Activation
            switch op {
            case "sigmoid", "tanh":
                let size = r(2) == 0 ? 1 << (2 + r(11)) : D.tableSize
                let tt = r(2) == 0 ? type(w: 6...20, i: 1...8) : D.tableType
                let mode: TableMode = r(2) == 0 ? (r(2) == 0 ? .hls4ml : .centered) : .hls4ml
                let t = FunctionTable(function: op == "sigmoid" ? .sigmoid : .tanh, mode: mode, size: size, tableType: tt)
                a = op == "sigmoid" ? .sigmoid(t) : .tanh(t)
            case "lut":
                let k = 1 + r(6)
                let tt = type(w: 4...14, i: -1...5)
                let entries = (0..<(1 << k)).map { _ in decimal(-20, 20) }
                a = .lut(UserTable(indexBits: k, tableType: tt, entries: entries.map { code($0, tt) }))
            case "leaky_relu":
                let alpha = decimal(0, 1)
                let at = r(2) == 0 ? type(w: 4...18, i: 0...3) : D.paramType
                a = .leakyRelu(LeakyRelu(alpha: code(alpha, at), alphaType: at))
            case "relu_max":
                a = .reluMax(try! ReluMax(maxText: decimal(0, 12, digits: 3), spelledRelu6: false))
            case "relu6":
                a = .reluMax(try! ReluMax(maxText: "6", spelledRelu6: true))
            case "hard_sigmoid", "hard_tanh":
                let slope = r(2) == 0 ? decimal(0, 1) : D.slope
                let shift = r(2) == 0 ? decimal(0, 1) : D.shift
                let h = HardParams(slope: code(slope, D.slopeType), slopeType: D.slopeType,
                                   shift: code(shift, D.shiftType), shiftType: D.shiftType)
                a = op == "hard_sigmoid" ? .hardSigmoid(h) : .hardTanh(h)
            case "elu":
                let alpha = r(2) == 0 ? decimal(0, 2) : D.eluAlpha
                let size = r(2) == 0 ? 1 << (2 + r(10)) : D.tableSize
                a = .elu(ExpTable(selu: false, size: size, tableType: D.tableType, alpha: code(alpha, D.paramType), alphaType: D.paramType))
            case "selu":
                let tt = r(2) == 0 ? type(w: 8...20, i: 2...8) : D.tableType
                a = .selu(ExpTable(selu: true, size: D.tableSize, tableType: tt, alpha: nil, alphaType: nil))
            default:
                a = .linear
            }
            let layer = Layer(name: name, op: .activation(a), outputType: type(w: 2...20, i: -2...8))
            if accepts(layer, input: input, layers: layers) { return layer }
        }
        return nil
    }
}

private extension String {
    func leftPadded(to n: Int) -> String {
        count >= n ? self : String(repeating: "0", count: n - count) + self
    }
}
