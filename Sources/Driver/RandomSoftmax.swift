// Random softmax layers for the regression models (`rtlgen random-model`): on even seeds a final
// stable softmax (random table size and table, accumulator, inverse-input and output types,
// every rounding and overflow mode) or an argmax. Drawn from their own generator, so the dense
// and ReLU layers of every seed stay as they were.
import FixedPoint
import ModelIR

extension RandomModel {
    static func softmaxLayer(seed: UInt64, size: Int, layers: [String], inputJSON: String) -> String? {
        guard seed % 2 == 0 else { return nil }
        var d = RandomDraw(seed: seed &* 0x50F7_3A4B &+ 3)
        func r(_ n: Int) -> Int { d.int(n) }
        func type(w: ClosedRange<Int>, i: ClosedRange<Int>) -> String { d.fixedType(w: w, i: i) }
        for _ in 0..<20 {
            let layer: String
            if r(4) == 0 {
                var bits = 1
                while (1 << bits) < size { bits += 1 }
                layer = #"{"name": "argmax", "op": "softmax", "implementation": "argmax", "output_type": "uint<\#(bits + r(3))>"}"#
            } else {
                var f = [#""name": "softmax", "op": "softmax", "implementation": "stable""#,
                         #""table_size": \#(1 << (2 + r(9)))"#,
                         #""exp_table_type": "\#(type(w: 6...20, i: 0...3))""#,
                         #""inv_table_type": "\#(type(w: 8...20, i: 2...10))""#]
                if r(3) == 0 { f.append(#""inv_inp_type": "\#(type(w: 8...20, i: 2...8))""#) }
                f.append(#""accum_type": "\#(r(2) == 0 ? "auto" : type(w: 6...24, i: 1...8))""#)
                f.append(#""output_type": "\#(type(w: 4...20, i: -1...4))""#)
                layer = "{" + f.joined(separator: ", ") + "}"
            }
            let text = """
            {"format": "rtlgen-model", "version": 1, "name": "check", "input": \(inputJSON),
             "layers": [\((layers + [layer]).joined(separator: ",\n"))]}
            """
            if (try? ModelLoader.parse(text: text, file: "random")) != nil { return layer }
        }
        return nil
    }
}
