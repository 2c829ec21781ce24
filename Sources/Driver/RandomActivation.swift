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
    /// three, or when no drawn layer loads). Every candidate is checked by the model loader.
    static func activationLayer(draw d: inout RandomDraw, name: String, layers: [String], inputJSON: String) -> String? {
        func r(_ n: Int) -> Int { d.int(n) }
        guard r(3) == 0 else { return nil }
        func type(w: ClosedRange<Int>, i: ClosedRange<Int>) -> String { d.fixedType(w: w, i: i) }
        func decimal(_ lo: Int, _ hi: Int, digits: Int = 3) -> String {
            // lo + a random fraction of (hi - lo), written with `digits` decimals
            var scale = 1
            for _ in 0..<digits { scale *= 10 }
            let v = lo * scale + r((hi - lo) * scale + 1)
            let sign = v < 0 ? "-" : ""
            let a = abs(v)
            return "\(sign)\(a / scale).\(String(a % scale).leftPadded(to: digits))"
        }
        let ops = ["sigmoid", "tanh", "lut", "leaky_relu", "relu_max", "relu6", "hard_sigmoid",
                   "hard_tanh", "linear", "elu", "selu"]
        for _ in 0..<20 {
            let op = ops[r(ops.count)]
            var f = [#""name": "\#(name)""#, #""op": "\#(op)""#]
            switch op {
            case "sigmoid", "tanh":
                if r(2) == 0 { f.append(#""table_size": \#(1 << (2 + r(11)))"#) }
                if r(2) == 0 { f.append(#""table_type": "\#(type(w: 6...20, i: 1...8))""#) }
                if r(2) == 0 { f.append(#""table": "\#(r(2) == 0 ? "hls4ml" : "centered")""#) }
            case "lut":
                let k = 1 + r(6)
                let tt = type(w: 4...14, i: -1...5)
                let entries = (0..<(1 << k)).map { _ in decimal(-20, 20) }
                f.append(#""index_bits": \#(k)"#)
                f.append(#""table_type": "\#(tt)""#)
                f.append(#""table": [\#(entries.joined(separator: ", "))]"#)
            case "leaky_relu":
                f.append(#""alpha": \#(decimal(0, 1))"#)
                if r(2) == 0 { f.append(#""alpha_type": "\#(type(w: 4...18, i: 0...3))""#) }
            case "relu_max":
                f.append(#""max": \#(decimal(0, 12, digits: 3))"#)
            case "hard_sigmoid", "hard_tanh":
                if r(2) == 0 { f.append(#""slope": \#(decimal(0, 1))"#) }
                if r(2) == 0 { f.append(#""shift": \#(decimal(0, 1))"#) }
            case "elu":
                if r(2) == 0 { f.append(#""alpha": \#(decimal(0, 2))"#) }
                if r(2) == 0 { f.append(#""table_size": \#(1 << (2 + r(10)))"#) }
            case "selu":
                if r(2) == 0 { f.append(#""table_type": "\#(type(w: 8...20, i: 2...8))""#) }
            default:
                break
            }
            f.append(#""output_type": "\#(type(w: 2...20, i: -2...8))""#)
            let layer = "{" + f.joined(separator: ", ") + "}"
            let text = """
            {"format": "rtlgen-model", "version": 1, "name": "check", "input": \(inputJSON),
             "layers": [\((layers + [layer]).joined(separator: ",\n"))]}
            """
            if (try? ModelLoader.parse(text: text, file: "random")) != nil { return layer }
        }
        return nil
    }
}

private extension String {
    func leftPadded(to n: Int) -> String {
        count >= n ? self : String(repeating: "0", count: n - count) + self
    }
}
