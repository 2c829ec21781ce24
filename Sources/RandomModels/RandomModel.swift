// Random dense/ReLU models for the regression (`rtlgen random-model`): every type spelling,
// rounding and overflow mode, odd shapes, off-grid weights, explicit and auto accumulators; now and
// then an element-wise activation after a dense layer (RandomActivation.swift) and on even seeds a
// final softmax or argmax (RandomSoftmax.swift). Built as a `Model`, validated by the model core,
// written by the native JSON writer. The draws (and so the model of every seed) are those of the
// earlier text generator: values are still drawn as decimal text and quantized to their types.
import FixedPoint
import ModelIR

public enum RandomModel {
    /// The model of `seed` as native JSON (the writer's canonical form).
    public static func generate(seed: UInt64) -> String { ModelWriter.json(model(seed: seed)) }

    /// The validated model of `seed`.
    public static func model(seed: UInt64) -> Model {
        var rng = SplitMix64(seed: seed &* 7919 &+ 17)
        func r(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        let qs = RoundingMode.allCases.map { $0.rawValue }
        let os = OverflowMode.allCases.map { $0.rawValue }
        /// A random type, drawn as one of its spellings (the spelling costs draws, so it stays).
        func type(signed: Bool? = nil, maxW: Int = 20, wrapOnly: Bool = false) -> FixedType {
            let s = signed ?? (r(4) != 0)
            let w = 2 + r(maxW - 1)
            let i = r(w + 6) - 3
            let q = qs[r(qs.count)]
            let o = wrapOnly ? "WRAP" : os[r(os.count)]
            let prefix = r(2) == 0 ? "ap_" : ""
            let mp = r(2) == 0 ? "AP_" : ""
            let base = s ? "fixed" : "ufixed"
            let text: String
            switch r(4) {
            case 0: text = "\(prefix)\(base)<\(w),\(i)>"
            case 1: text = "\(prefix)\(base)<\(w), \(i), \(mp)\(q)>"
            default: text = "\(prefix)\(base)<\(w),\(i),\(mp)\(q),\(mp)\(o)>"
            }
            return try! FixedType.parse(text)
        }
        func number(_ t: FixedType) -> Int128 {
            // A value around the type's range, often off its grid, quantized to the type.
            let span = Double(t.maxCode - t.minCode + 1)
            let c = Double(t.minCode) + Double(rng.next() % 1_000_000) / 1_000_000 * span * 1.1
            let v = c * pow2(-t.fracBits)
            return try! t.quantize(decimal: r(3) == 0 ? t.decimalString(Int128(c.rounded(.down))) : String(v))
        }
        let nIn = 1 + r(10)
        let input = InputSpec(name: "x", size: nIn, type: type())
        var layers: [Layer] = []
        var size = nIn
        let nLayers = 1 + r(4)
        var adraw = RandomModel.activationDraw(seed: seed)
        for k in 0..<nLayers {
            if k > 0 && r(2) == 0 {
                layers.append(Layer(name: "relu\(k)", op: .relu, outputType: type(signed: r(3) != 0)))
            }
            let units = 1 + r(7)
            let kt = type(maxW: 10)
            let bt = type(maxW: 12)
            let kernel = (0..<size).map { _ in (0..<units).map { _ in r(6) == 0 ? 0 : number(kt) } }
            let bias = (0..<units).map { _ in number(bt) }
            let accum = r(3) == 0 ? type(maxW: 28, wrapOnly: true) : nil
            let useBias = r(5) != 0
            let d = Dense(units: units, kernelType: kt, biasType: bt, accumType: accum, kernel: kernel,
                          bias: useBias ? bias : Array(repeating: 0, count: units))
            layers.append(Layer(name: "fc\(k)", op: .dense(d), outputType: type()))
            size = units
            if let act = RandomModel.activationLayer(draw: &adraw, name: "act\(k)", input: input, layers: layers) {
                layers.append(act)
            }
        }
        if let sm = RandomModel.softmaxLayer(seed: seed, size: size, input: input, layers: layers) {
            layers.append(sm)
        }
        let m = Model(name: "random_\(seed)", description: "random regression model, seed \(seed)", input: input, layers: layers)
        return try! ModelCore.validate(m, file: "random_\(seed)")
    }

    /// `candidate` appended to `layers` validates (the generators keep only layers that do).
    static func accepts(_ candidate: Layer, input: InputSpec, layers: [Layer]) -> Bool {
        (try? ModelCore.validate(Model(name: "check", input: input, layers: layers + [candidate]), file: "random")) != nil
    }
}
