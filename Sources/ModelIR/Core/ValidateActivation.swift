// Model core checks of the element-wise activations: table sizes and shapes, and bounds that keep
// every exact intermediate value within 128-bit arithmetic. A bipolar input is checked as its
// value (int<2>), as the op computes with it.
import BigInt
import FixedPoint

extension LayerCheck {
    func activation(_ a: Activation) throws {
        let inType = self.inType.arithmeticView
        switch a {
        case let .sigmoid(t), let .tanh(t):
            try tableSize(t.size)
        case let .lut(u):
            try range("index_bits", u.indexBits, 1, 16)
            guard u.entries.count == 1 << u.indexBits else {
                throw fail("table", "expected 2^\(u.indexBits) = \(1 << u.indexBits) values (index_bits \(u.indexBits)), found \(u.entries.count)")
            }
            guard u.indexBits <= inType.width else {
                throw fail("index_bits", "\(u.indexBits) index bits exceed the \(inType.width)-bit input type \(inType)")
            }
            try codesInRange("table", u.entries, u.tableType)
        case let .leakyRelu(l):
            try codesInRange("alpha", [l.alpha], l.alphaType)
            try magnitude(maxMagnitude(inType) * maxMagnitude(l.alphaType), "the product alpha * x")
        case let .reluMax(r):
            guard r.max.numerator.sign != .minus else { throw fail("max", "\(r.maxText) is negative (max must be >= 0)") }
        case let .hardSigmoid(h), let .hardTanh(h):
            let ps = h.productShift(input: inType), ss = h.shiftShift(input: inType)
            guard ps <= 120 && ss <= 120 else { throw fail("", "unsupported width: the grids of slope*x and shift are more than 120 bits apart") }
            let bound = (maxMagnitude(inType) * maxMagnitude(h.slopeType)) << ps + maxMagnitude(h.shiftType) << ss
                + (BigInt(2) << h.frac(input: inType))
            try magnitude(bound * 2, "slope * x + shift")
        case .linear:
            break
        case let .elu(e):
            try tableSize(e.size)
            guard let alpha = e.alpha, let at = e.alphaType else { throw fail("alpha", "missing required field") }
            try codesInRange("alpha", [alpha], at)
            try magnitude(maxMagnitude(e.tableType) * maxMagnitude(at), "the product alpha * table entry")
        case let .selu(e):
            try tableSize(e.size)
            try magnitude(maxMagnitude(inType) << 16, "the product lambda * x")
        }
    }

    func tableSize(_ v: Int) throws {
        guard isValidTableSize(v) else {
            throw fail("table_size", "\(v) is not a power of two between 2 and \(maxActivationTableSize)")
        }
    }

    /// Rejects a layer whose exact intermediate values would not fit 128-bit arithmetic.
    func magnitude(_ bound: BigInt, _ what: String) throws {
        if bound >= BigInt(1) << 120 {
            throw fail("", "unsupported width: \(what) would exceed 120 bits")
        }
    }

    func maxMagnitude(_ t: FixedType) -> BigInt {
        Swift.max(BigInt(bigInt(t.minCode).magnitude), BigInt(bigInt(t.maxCode).magnitude))
    }
}
