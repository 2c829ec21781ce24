// Random binary/ternary models for the regression (`rtlgen random-model --family binary`):
// bipolar and fixed-point inputs, odd and even fan-in, binary/ternary dense layers, sign,
// ternary_tanh, thresholds placed on and just around grid points, multi_threshold, batchnorm
// folded with sign (negative and zero gamma, exact ties through perfect-square variances,
// irrational scales) and standalone batchnorm, and ordinary dense/ReLU layers fed by bipolar values.
// Built as a `Model` (batchnorm + sign unfolded: the model core folds them), validated, and written
// by the native JSON writer. Parameters are drawn as exact decimal text, as by the earlier text
// generator, so every seed gives the same model.
import FixedPoint
import ModelIR

public enum RandomBinaryModel {
    /// The model of `seed` as native JSON (the writer's canonical form).
    public static func generate(seed: UInt64) -> String { ModelWriter.json(model(seed: seed)) }

    /// The validated model of `seed`.
    public static func model(seed: UInt64) -> Model {
        var rng = SplitMix64(seed: seed &* 104_729 &+ 4242)
        func r(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        func pick<T>(_ xs: [T]) -> T { xs[r(xs.count)] }
        /// Exact decimal of a dyadic Double (at most 24 fractional bits here).
        func dy(_ d: Double) -> String {
            let c = d * 16_777_216
            precondition(c == c.rounded(), "not a dyadic: \(d)")
            return decimalString(code: Int128(c), frac: 24)
        }
        func log2ceil(_ n: Int) -> Int { var k = 0; while (1 << k) < n { k += 1 }; return k }
        func q(_ text: String) -> Rational { try! Rational(decimal: text) }
        func type(_ text: String) -> FixedType { try! FixedType.parse(text) }
        let modes = ["TRN", "RND", "RND_CONV", "RND_ZERO", "TRN_ZERO", "RND_INF", "RND_MIN_INF"]
        let ovfs = ["WRAP", "SAT", "SAT_SYM", "SAT_ZERO"]

        /// A threshold value on or just around a grid point of `t` within (or just outside) its range.
        func boundary(_ t: FixedType) -> String {
            let lo = Double(max(t.minCode, -1 << 20)), hi = Double(min(t.maxCode, 1 << 20))
            let c = Int128(lo - 1 + Double(r(Int(hi - lo) + 3)))
            let base = decimalString(code: c, frac: t.fracBits)
            let step = decimalString(code: 1, frac: t.fracBits)
            switch r(5) {
            case 0, 1: return base                                                  // exactly on the grid
            case 2: return decimalAddScaled(base, step: step, fraction: "5")          // half an LSB above
            case 3: return decimalAddScaled(base, step: step, fraction: "0000001")    // just above
            default: return decimalAddScaled(base, step: step, fraction: "9999999")   // just below the next
            }
        }

        let input: FixedType
        if r(2) == 0 {
            input = .bipolar
        } else {
            let w = 3 + r(8)
            let i = 1 + r(w)
            input = type(r(4) == 0 ? "ufixed<\(w),\(i)>" : "fixed<\(w),\(i),\(pick(modes)),\(pick(ovfs))>")
        }
        let nIn = 1 + r(12)
        var size = nIn
        var t = input
        var layers: [Layer] = []
        var k = 0
        func name(_ base: String) -> String { k += 1; return "\(base)\(k)" }

        /// A binary or ternary dense layer; its output type is exact, or narrow with a random mode.
        func binaryDense() {
            let ternary = r(3) == 0
            let units = 1 + r(9)
            let kernel = (0..<size).map { _ in (0..<units).map { _ -> Int8 in ternary && r(3) == 0 ? 0 : (r(2) == 0 ? 1 : -1) } }
            let g = log2ceil(size + 1) + 1
            // Bipolar and ternary values are int<2> arithmetically (F = 0, I = 2).
            let f = t.arithmeticView.fracBits
            let ib = t.arithmeticView.intBits + g
            let out: String
            if r(3) == 0 {
                let w = max(2, f + ib - 1 - r(3))
                out = "fixed<\(w),\(w - f - r(2)),\(pick(modes)),\(pick(ovfs))>"
            } else {
                out = f == 0 ? "int<\(ib)>" : "fixed<\(f + ib),\(ib)>"
            }
            let d = BinaryDense(units: units, kernel: kernel)
            t = type(out)
            layers.append(Layer(name: name(ternary ? "td" : "bd"), op: .binary(ternary ? .ternaryDense(d) : .binaryDense(d)), outputType: t))
            size = units
        }

        /// batchnorm followed by sign, with thresholds on and around grid points of t.
        func batchnormSign() {
            var ch: [(String, String, String, String)] = []   // gamma, beta, mean, variance
            let useScale = r(3) == 0
            var scales: [(String, String)] = []
            for _ in 0..<size {
                let lo = Double(max(t.minCode, -64)), hi = Double(min(t.maxCode, 64))
                let c = lo - 1 + Double(r(Int(hi - lo) + 3))
                let lsb = 1 / Double(1 << max(0, min(t.fracBits, 20)))
                let target = c * lsb + pick([0, 0, lsb / 2, -lsb / 8, lsb / 8])
                let gamma = pick([0.5, 1, 2, 4, 0.25, 0]) * (r(2) == 0 ? -1 : 1)
                if useScale {
                    // y = scale x + bias: threshold -bias / scale = target
                    scales.append((dy(gamma), dy(-gamma * target)))
                    continue
                }
                if r(3) == 0 {
                    // Irrational scale: v = 2 or 3, a tiny beta puts the threshold just off target.
                    let v = pick([2.0, 3.0])
                    ch.append((dy(gamma), dy(pick([1.0, -1.0]) / 1024), dy(target), dy(v)))
                } else {
                    let s = pick([0.5, 1.5, 2])
                    let beta = Double(r(9) - 4) / 4
                    let mean = gamma == 0 ? target : target + beta * s / gamma
                    ch.append((dy(gamma), dy(beta), dy(mean), dy(s * s)))
                }
            }
            let bn = name("bn")
            let p: BatchNorm.Parameters
            if useScale {
                p = .scaleBias(scale: scales.map { q($0.0) }, bias: scales.map { q($0.1) })
            } else {
                // variance = v - epsilon with epsilon = 0.001, so variance + epsilon = v exactly.
                let variances = ch.map { decimalAddScaled($0.3, step: "-0.01", fraction: "1") }
                p = .moments(gamma: ch.map { q($0.0) }, beta: ch.map { q($0.1) }, mean: ch.map { q($0.2) },
                             variance: variances.map(q), epsilon: q("0.001"))
            }
            // No types: the model core folds it with the sign that follows.
            layers.append(Layer(name: bn, op: .binary(.batchnorm(BatchNorm(p, hasOutputType: false))), outputType: .bipolar))
            _ = r(2)   // sign or binary_tanh: one op
            layers.append(Layer(name: name("act"), op: .binary(.sign), outputType: .bipolar))
            t = .bipolar
        }

        let nLayers = 2 + r(4)
        for step in 0..<nLayers {
            let last = step == nLayers - 1
            if step == 0 || ((t.isBipolar || t.encoding == .ternary) && r(4) != 0) {
                binaryDense()
                if last { break }
                continue
            }
            switch r(9) {
            case 0, 1:
                batchnormSign()
            case 2:
                let geq = (0..<size).map { _ in r(3) != 0 }
                let ts = (0..<size).map { _ in q(boundary(t)) }
                layers.append(Layer(name: name("th"), op: .binary(.threshold(ThresholdLayer(thresholds: ts, geq: geq))), outputType: .bipolar))
                t = .bipolar
            case 3:
                layers.append(Layer(name: name("sg"), op: .binary(.sign), outputType: .bipolar))
                t = .bipolar
            case 4:
                layers.append(Layer(name: name("tt"), op: .binary(.ternaryTanh), outputType: .ternary))
                t = .ternary
            case 5:
                let n = 1 + r(4)
                let rows = (0..<(r(2) == 0 ? 1 : size)).map { _ in (0..<n).map { _ in q(boundary(t)) } }
                let out = type(pick(["fixed<6,3,RND_CONV,SAT>", "int<3>", "bipolar", "ufixed<4,2>", "ternary"]))
                let mname = name("mt")
                let m = MultiThreshold(thresholds: rows, outScaleText: pick(["1", "0.5", "-1.5", "2"]), outBiasText: pick(["0", "-1", "0.25", "-2.5"]))
                layers.append(Layer(name: mname, op: .binary(.multiThreshold(m)), outputType: out))
                t = out
            case 6:
                let out = type("fixed<\(6 + r(6)),\(3 + r(3)),\(pick(modes)),\(pick(ovfs))>")
                let scale = (0..<size).map { _ in q(pick(["0.75", "-1.3", "0", "2.5", "-0.0625", "0.33"])) }
                let bias = (0..<size).map { _ in q(pick(["0", "0.5", "-1.25", "3.1"])) }
                let bn = BatchNorm(.scaleBias(scale: scale, bias: bias), scaleType: type("fixed<8,3,RND_CONV>"), biasType: type("fixed<10,4>"))
                layers.append(Layer(name: name("bs"), op: .binary(.batchnorm(bn)), outputType: out))
                t = out
            case 7:
                let units = 1 + r(5)
                let kt = type("fixed<6,2>")
                let kernel = (0..<size).map { _ in (0..<units).map { _ in try! kt.quantize(decimal: pick(["0.75", "-1.5", "0", "0.3", "1", "-0.125"])) } }
                let out = type("fixed<\(8 + r(6)),\(4 + r(3)),\(pick(modes)),\(pick(ovfs))>")
                let d = Dense(units: units, kernelType: kt, biasType: kt, accumType: nil, kernel: kernel, bias: Array(repeating: 0, count: units))
                layers.append(Layer(name: name("fc"), op: .dense(d), outputType: out))
                size = units
                t = out
            default:
                let out = type(pick(["ufixed<6,3,RND_CONV,SAT>", "fixed<5,2>", "bipolar"]))
                layers.append(Layer(name: name("re"), op: .relu, outputType: out))
                t = out
            }
        }
        let m = Model(name: "binary_\(seed)", description: "random binary/ternary regression model, seed \(seed)",
                      input: InputSpec(name: "x", size: nIn, type: input), layers: layers)
        return try! ModelCore.validate(m, file: "binary_\(seed)")
    }
}
