// Model core checks of softmax and argmax: argmax's index type, the stable softmax's table size,
// type widths (products fit 128-bit arithmetic) and the plan hls4ml would build.
import FixedPoint

extension LayerCheck {
    func softmax(_ s: Softmax, outputType out: FixedType) throws {
        switch s.implementation {
        case .argmax:
            guard !out.signed && out.intBits == out.width else {
                throw fail("output_type", "argmax outputs an index: the type must be an unsigned integer such as uint<\(Self.bitsFor(nIn - 1))>, found \(out)")
            }
            guard out.width >= 63 || Int128(nIn - 1) <= out.maxCode else {
                throw fail("output_type", "\(out) cannot hold the index \(nIn - 1) of the last of \(nIn) inputs; use at least uint<\(Self.bitsFor(nIn - 1))>")
            }
        case .stable:
            let size = s.tableSize
            guard size >= 1 else {
                throw fail("table_size", "\(size) entries: a table needs at least 2 entries (an empty table has nothing to read)")
            }
            guard size >= 2 && size & (size - 1) == 0 else {
                throw fail("table_size", "\(size) is not a power of two of at least 2 (a table is addressed by the top log2(table_size) bits of a value)")
            }
            guard size <= Softmax.maxTableSize else {
                throw fail("table_size", "\(size) entries is more than the supported \(Softmax.maxTableSize)")
            }
            var types = [("exp_table_type", s.expTableType), ("inv_table_type", s.invTableType), ("inv_inp_type", s.invInputType)]
            if let a = s.accumType { types.append(("accum_type", a)) }
            for (key, t) in types where t.width > Softmax.maxTypeWidth {
                throw fail(key, "unsupported width: \(t) is wider than \(Softmax.maxTypeWidth) bits")
            }
            // A bipolar input is read as its value (int<2>), as every arithmetic layer does.
            let plan: SoftmaxPlan
            do { plan = try SoftmaxPlan(s, inputType: inType.arithmeticView, n: nIn) } catch let e as SoftmaxPlan.PlanError {
                throw fail("", e.description)
            }
            if plan.accumType.width > Softmax.maxTypeWidth {
                throw fail("accum_type", "unsupported width: the exact sum of \(nIn) \(s.expTableType) entries needs more than \(Softmax.maxTypeWidth) bits; give an explicit accum_type")
            }
        }
    }

    /// Bits of an unsigned integer holding v (at least 1).
    static func bitsFor(_ v: Int) -> Int {
        var w = 1
        while w < 63 && (1 << w) <= v { w += 1 }
        return w
    }
}
