// Random dense/ReLU models for the regression (`rtlgen random-model`): every type spelling,
// rounding and overflow mode, odd shapes, off-grid weights, explicit and auto accumulators; now and
// then an element-wise activation after a dense layer (RandomActivation.swift) and on even seeds a
// final softmax or argmax (RandomSoftmax.swift).
import FixedPoint
import ModelIR

public enum RandomModel {
    public static func generate(seed: UInt64) -> String {
        var rng = SplitMix64(seed: seed &* 7919 &+ 17)
        func r(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        let qs = RoundingMode.allCases.map { $0.rawValue }
        let os = OverflowMode.allCases.map { $0.rawValue }
        func typeText(signed: Bool? = nil, maxW: Int = 20, wrapOnly: Bool = false) -> String {
            let s = signed ?? (r(4) != 0)
            let w = 2 + r(maxW - 1)
            let i = r(w + 6) - 3
            let q = qs[r(qs.count)]
            let o = wrapOnly ? "WRAP" : os[r(os.count)]
            let prefix = r(2) == 0 ? "ap_" : ""
            let mp = r(2) == 0 ? "AP_" : ""
            let base = s ? "fixed" : "ufixed"
            switch r(4) {
            case 0: return "\(prefix)\(base)<\(w),\(i)>"
            case 1: return "\(prefix)\(base)<\(w), \(i), \(mp)\(q)>"
            default: return "\(prefix)\(base)<\(w),\(i),\(mp)\(q),\(mp)\(o)>"
            }
        }
        func number(_ t: FixedType) -> String {
            // A value around the type's range, often off its grid.
            let span = Double(t.maxCode - t.minCode + 1)
            let c = Double(t.minCode) + Double(rng.next() % 1_000_000) / 1_000_000 * span * 1.1
            let v = c * pow2(-t.fracBits)
            return r(3) == 0 ? t.decimalString(Int128(c.rounded(.down))) : String(v)
        }
        let nIn = 1 + r(10)
        let inType = typeText()
        var layers: [String] = []
        var size = nIn
        let nLayers = 1 + r(4)
        var adraw = RandomModel.activationDraw(seed: seed)
        let inputJSON = "{\"name\": \"x\", \"size\": \(nIn), \"type\": \"\(inType)\"}"
        for k in 0..<nLayers {
            if k > 0 && r(2) == 0 {
                layers.append("{\"name\": \"relu\(k)\", \"op\": \"relu\", \"output_type\": \"\(typeText(signed: r(3) != 0))\"}")
            }
            let units = 1 + r(7)
            let kt = try! FixedType.parse(typeText(maxW: 10))
            let bt = try! FixedType.parse(typeText(maxW: 12))
            let kernel = (0..<size).map { _ in "[" + (0..<units).map { _ in r(6) == 0 ? "0" : number(kt) }.joined(separator: ", ") + "]" }
            let bias = (0..<units).map { _ in number(bt) }
            let accum = r(3) == 0 ? typeText(maxW: 28, wrapOnly: true) : "auto"
            let useBias = r(5) != 0
            layers.append("""
            {"name": "fc\(k)", "op": "dense", "units": \(units),
             "kernel": [\(kernel.joined(separator: ", "))],
             \(useBias ? "\"bias\": [\(bias.joined(separator: ", "))]," : "")
             "kernel_type": "\(kt)", "bias_type": "\(bt)", "accum_type": "\(accum)",
             "output_type": "\(typeText())"}
            """)
            size = units
            if let act = RandomModel.activationLayer(draw: &adraw, name: "act\(k)", layers: layers, inputJSON: inputJSON) {
                layers.append(act)
            }
        }
        if let sm = RandomModel.softmaxLayer(seed: seed, size: size, layers: layers, inputJSON: inputJSON) {
            layers.append(sm)
        }
        return """
        {"format": "rtlgen-model", "version": 1, "name": "random_\(seed)",
         "description": "random regression model, seed \(seed)",
         "input": {"name": "x", "size": \(nIn), "type": "\(inType)"},
         "layers": [
        \(layers.joined(separator: ",\n"))
        ]}

        """
    }
}
