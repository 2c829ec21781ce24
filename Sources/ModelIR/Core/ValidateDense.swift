// Model core checks of a dense layer: shape against the input, accumulator type, codes in their
// types' ranges, and a width plan that fits 128-bit arithmetic.
import FixedPoint

extension LayerCheck {
    func dense(_ d: Dense) throws {
        try range("units", d.units, 1, Dense.maxUnits)
        if let a = d.accumType {
            if a.encoding != .plain {
                throw fail("accum_type", "\(a) cannot be an accumulator type; use a fixed-point type or \"auto\"")
            }
            if a.overflow != .WRAP {
                throw fail("accum_type", "an explicit accumulator with overflow mode \(a.overflow.rawValue) is not supported: a saturating sum depends on the order of additions, which an adder tree does not have; use WRAP or \"auto\"")
            }
        }
        try kernelShape(d.kernel.map { $0.count }, units: d.units)
        for (i, row) in d.kernel.enumerated() { try codesInRange("kernel[\(i)]", row, d.kernelType) }
        guard d.bias.count == d.units else { throw fail("bias", "expected \(d.units) values, found \(d.bias.count)") }
        try codesInRange("bias", d.bias, d.biasType)
        try plan(d, inputType: inType)
    }

    /// A kernel in Keras layout: one row per input, `units` values per row.
    func kernelShape(_ rowLengths: [Int], units: Int) throws {
        guard rowLengths.count == nIn else {
            throw fail("kernel", "expected \(nIn) rows (one per input, Keras layout [n_in][units]), found \(rowLengths.count)")
        }
        for (i, n) in rowLengths.enumerated() where n != units {
            throw fail("kernel[\(i)]", "expected \(units) values (units), found \(n)")
        }
    }
}
