// Random softmax layers for the regression models (`rtlgen random-model`): on even seeds a final
// stable softmax (random table size and table, accumulator, inverse-input and output types,
// every rounding and overflow mode) or an argmax. Drawn from their own generator, so the dense
// and ReLU layers of every seed stay as they were.
import FixedPoint
import ModelIR

extension RandomModel {
    static func softmaxLayer(seed: UInt64, size: Int, input: InputSpec, layers: [Layer]) -> Layer? {
        guard seed % 2 == 0 else { return nil }
        var d = RandomDraw(seed: seed &* 0x50F7_3A4B &+ 3)
        func r(_ n: Int) -> Int { d.int(n) }
        func type(w: ClosedRange<Int>, i: ClosedRange<Int>) -> FixedType { d.fixedType(w: w, i: i) }
        for _ in 0..<20 {
            let layer: Layer
            if r(4) == 0 {
                var bits = 1
                while (1 << bits) < size { bits += 1 }
                layer = Layer(name: "argmax", op: .softmax(Softmax(implementation: .argmax)),
                              outputType: try! FixedType.parse("uint<\(bits + r(3))>"))
            } else {
                let tableSize = 1 << (2 + r(9))
                let exp = type(w: 6...20, i: 0...3)
                let inv = type(w: 8...20, i: 2...10)
                let invIn = r(3) == 0 ? type(w: 8...20, i: 2...8) : Softmax.defaultTableType
                let accum = r(2) == 0 ? nil : type(w: 6...24, i: 1...8)
                let s = Softmax(implementation: .stable, tableSize: tableSize, expTableType: exp, invTableType: inv,
                                invInputType: invIn, accumType: accum)
                layer = Layer(name: "softmax", op: .softmax(s), outputType: type(w: 4...20, i: -1...4))
            }
            if accepts(layer, input: input, layers: layers) { return layer }
        }
        return nil
    }
}
