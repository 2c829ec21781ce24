// Test-vector generation for `rtlgen vectors` and the `make sim` regression: random codes,
// edge values, off-grid values and out-of-range values of the model's input type.
import BigInt
import FixedPoint
import ModelIR
import RandomModels

public enum Vectors {
    /// `count` CSV lines for the model's input: 1/8 edge values, 1/8 off-grid, 1/8 out of
    /// range, the rest uniformly random codes.
    public static func generate(model: Model, count: Int, seed: UInt64) -> String {
        var rng = SplitMix64(seed: seed)
        let t = model.input.type
        let lo = t.minCode, hi = t.maxCode
        func randomCode() -> Int128 {
            let span = UInt128(truncatingIfNeeded: hi &- lo)
            if span == UInt128.max { return Int128(truncatingIfNeeded: UInt128(rng.next()) << 64 | UInt128(rng.next())) }
            let r = (UInt128(rng.next()) << 64 | UInt128(rng.next())) % (span + 1)
            return lo + Int128(r)
        }
        let edges: [Int128] = [lo, hi, 0, 1, -1, lo + 1, hi - 1].filter { $0 >= lo && $0 <= hi }
        var out = ""
        for n in 0..<count {
            let kind = n % 8
            var cells: [String] = []
            for _ in 0..<model.input.size {
                switch kind {
                case 0:
                    cells.append(t.decimalString(edges[Int(rng.next() % UInt64(edges.count))]))
                case 1:
                    // Off grid: a code plus a fraction of an LSB (including exact halves).
                    let c = randomCode()
                    let halves = ["5", "25", "75", "5000001", "4999999", "1", "9"]
                    let frac = rng.next() % 3 == 0 ? "5" : halves[Int(rng.next() % UInt64(halves.count))]
                    cells.append(offGrid(code: c, frac: t.fracBits, digits: frac))
                case 2:
                    // Out of range: up to 4x beyond the type's range either side.
                    let c = randomCode()
                    let (m, o1) = c.multipliedReportingOverflow(by: Int128(2 + Int(rng.next() % 3)))
                    let (scaled, o2) = m.addingReportingOverflow(c >= 0 ? hi : lo)
                    if o1 || o2 {
                        cells.append(t.decimalString(c >= 0 ? hi : lo) + "e1")  // ten times the limit
                    } else {
                        cells.append(decimalString(code: scaled, frac: t.fracBits))
                    }
                default:
                    cells.append(t.decimalString(randomCode()))
                }
            }
            if let sc = model.input.scale { cells = cells.map { scaled($0, sc) } }
            out += cells.joined(separator: ",") + "\n"
        }
        return out
    }

    /// A scaled input (InputScale): the cell's value v read as a code value, written as the real
    /// input (v - zero_point) * scale that quantizes back to it (exact decimal text).
    static func scaled(_ cell: String, _ s: InputScale) -> String {
        guard let e = try? ExactDecimal(parsing: cell) else { return cell }
        let r = (Rational(e) - Rational(s.zeroPoint)) * s.scale
        // The denominator is 2^a 5^b (decimals times decimals): scale to a power of ten.
        var den = r.den, twos = 0, fives = 0
        while den % 2 == 0 { den /= 2; twos += 1 }
        while den % 5 == 0 { den /= 5; fives += 1 }
        guard den == 1 else { return cell }
        let k = max(twos, fives)
        var num = r.num
        for _ in twos..<k { num *= 2 }
        for _ in fives..<k { num *= 5 }
        var digits = String(num.magnitude)
        if k > 0 {
            if digits.count <= k { digits = String(repeating: "0", count: k - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -k))
        }
        return (num.sign == .minus ? "-" : "") + digits
    }

    /// The value (code + 0.<digits>) * 2^-frac as exact decimal text.
    static func offGrid(code: Int128, frac: Int, digits: String) -> String {
        decimalAddScaled(decimalString(code: code, frac: frac), step: decimalString(code: 1, frac: frac), fraction: digits)
    }
}
