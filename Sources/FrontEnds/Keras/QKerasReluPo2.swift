// QKeras' quantized_relu_po2(bits, max_value, log2_rounding) as a QActivation. hls4ml 1.3 has no
// conversion for it ("Unsupported QKeras activation"), so the reference is QKeras' own quantizer,
// applied to the values of the layer's input type (the previous layer's result, as hls4ml would
// compute it). QKeras (negative_slope 0), in float32:
//   e = min_exp when relu(x) < 1e-7, else clip(round(log(x_f) / log(2)), min_exp, max_exp)
//       (floor with log2_rounding "floor"), x_f = relu(x), clipped to max_value when given;
//   y = x' + (2^e - x'), x' = relu(x) (clipped to max_value): 2^e whenever float32 holds the
//       difference exactly (checked below for every value of the input type).
// x <= 0 gives 2^min_exp, 0 when TensorFlow flushes that denormal (min_exp < -126). e is a
// monotone staircase in x, so rtlgen
// computes it exactly with two existing layers: a `multi_threshold` counting the exponent steps
// (each threshold the first input code whose exponent, computed with QKeras' float32 steps and a
// correctly rounded float32 logarithm, reaches the next level), and a `lut` mapping the count to
// 2^e in an unsigned type holding every reachable power exactly.
import FixedPoint
import Foundation
import ModelIR

extension KerasImporter {
    /// QKeras' exponent for the input value `x` (a float32 value).
    static func reluPo2Exponent(_ x: Float, _ q: QKerasQuantizer) -> Int {
        let xr = max(x, 0)
        let eps = Float(1e-7)
        if xr < eps { return q.minExp }
        var xf = xr
        if let m = q.maxValue, xf >= Float(m) { xf = Float(m) }
        let l = Float(Foundation.log(Double(xf))) / Float(M_LN2)
        let r = q.log2Floor ? l.rounded(.down) : l.rounded(.toNearestOrEven)
        return Int(min(max(r, Float(q.minExp)), Float(q.maxExp)))
    }

    /// The layers of a quantized_relu_po2 QActivation on input `inType`: (multi_threshold, lut).
    static func reluPo2Layers(_ l: HLSLayer, _ q: QKerasQuantizer, inType t: FixedType, names: inout NameTable, file: String) throws -> [Layer] {
        func fail(_ m: String) -> InputError { InputError(file: file, field: l.source, message: m) }
        guard t.encoding == .plain, t.width <= 24 else {
            throw fail("quantized_relu_po2 on \(t): inputs wider than 24 bits are not float32 values (QKeras computes in float32)")
        }
        let frac = t.fracBits
        func value(_ c: Int128) -> Float { Float(Double(c) * pow(2, Double(-frac))) }   // exact: <= 24 bits
        func e(_ c: Int128) -> Int { reluPo2Exponent(value(c), q) }
        let lo = e(t.minCode), hi = e(t.maxCode)
        guard hi >= lo else { throw fail("quantized_relu_po2: the exponent decreases over the input range (unexpected)") }
        // QKeras' 2^e in float32: TensorFlow flushes the denormals 2^-127 .. 2^-149 (and below) to
        // zero, so those exponents give 0 (quantized_relu_po2(8) outputs 0 for x <= 0).
        func po2(_ e: Int) -> Float { e < -126 ? 0 : Float(sign: .plus, exponent: e, significand: 1) }
        // QKeras' y = x' + (2^e - x') (float32) must be 2^e exactly: x' = 0 for x <= 0; every
        // positive code is checked (at most 2^23 of them).
        if t.maxCode >= 1 {
            var c: Int128 = 1
            while c <= t.maxCode {
                let x = value(c)
                var xp = x
                if let m = q.maxValue, x > Float(m) { xp = Float(m) }
                let xq = po2(e(c))
                if xp + (xq - xp) != xq {
                    throw fail("quantized_relu_po2 on \(t): QKeras' float32 x + (2^e - x) is not exactly 2^e for the input \(exactDecimal(Double(x))) (e = \(e(c))); rtlgen would differ from QKeras there: use a narrower input type or fewer bits")
                }
                c += 1
            }
        }
        // The staircase: the exponent of the lowest input, then at each threshold (the first code
        // whose exponent reaches a level; levels reached at the same code merge) a new exponent.
        var segments = [lo]
        var thresholds: [Rational] = []
        var last: Int128? = nil
        for level in (lo + 1)...max(hi, lo + 1) where level <= hi {
            var a = t.minCode, b = t.maxCode   // e(a) < level <= e(b)
            while b - a > 1 {
                let m = a + (b - a) / 2
                if e(m) >= level { b = m } else { a = m }
            }
            if b == last { segments[segments.count - 1] = e(b); continue }
            thresholds.append(Rational(code: b, frac: frac))
            segments.append(e(b))
            last = b
        }
        let n = thresholds.count
        var k = 1
        while (1 << k) < n + 1 { k += 1 }
        let nonzero = segments.filter { $0 >= -126 }
        let low = nonzero.min() ?? 0, top = nonzero.max() ?? 0
        let width = top - low + 1
        guard width <= 120 else { throw fail("quantized_relu_po2: outputs 2^\(low) to 2^\(top) need a \(width)-bit type (at most 120)") }
        let out = FixedType(signed: false, width: width, intBits: top + 1)
        let countType = FixedType.integer(signed: false, width: k)
        // Count c -> 2^segments[c] on the grid 2^low (0 for a flushed power).
        let entries: [Int128] = (0..<(1 << k)).map { c in
            let ex = segments[min(c, n)]
            return ex < -126 ? 0 : Int128(1) << (ex - low)
        }
        let mt = MultiThreshold(thresholds: [thresholds], outScaleText: "1", outBiasText: "0")
        return [
            Layer(name: names.unique("\(l.name)_exp"), op: .binary(.multiThreshold(mt)), outputType: countType),
            Layer(name: names.unique(l.name), op: .activation(.lut(UserTable(indexBits: k, tableType: out, entries: entries))), outputType: out),
        ]
    }
}
