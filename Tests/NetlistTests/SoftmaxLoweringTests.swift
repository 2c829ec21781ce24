// Softmax lowering: the netlist, interpreted cycle by cycle with clock-enable stalls, equals the
// golden model for stable softmax (many type, table-size and accumulator combinations, inputs
// with ties and spreads that wrap the difference) and argmax (ties keep the lowest index);
// report.json lists each ROM with its size in bits.
import BigInt
import Driver
import FixedPoint
import Foundation
import Golden
import ModelIR
@testable import Netlist
import XCTest

/// Runs `samples` (input codes) through the lowered design with stalls; returns the outputs in
/// order and checks that the latency seen equals the reported one.
func runNetlist(_ model: Model, _ samples: [[Int128]], clockPeriodNs: Double, file: StaticString = #filePath, line: UInt = #line) -> [[Int128]] {
    let design = DesignLowering.lower(model, options: LoweringOptions(clockPeriodNs: clockPeriodNs))
    for m in design.modules { m.eliminateDeadSignals() }
    let sim = NetlistInterpreter(design.top, library: design.modules)
    let t = model.input.type
    let ot = model.outputType
    var outputs: [[Int128]] = []
    var next = 0
    var cycle = 0
    var enabledEdges = 0
    var sentAt: [Int] = []
    sim.evaluate(inputs: ["rst": 1])
    sim.clock()
    while outputs.count < samples.count && cycle < 20 * (samples.count + 50) {
        let ce = cycle % 7 != 3
        var bus = BigInt(0)
        if next < samples.count {
            for c in samples[next].reversed() { bus = (bus << t.width) | (bigInt(c) & ((BigInt(1) << t.width) - 1)) }
        }
        sim.evaluate(inputs: ["rst": 0, "ce": ce ? 1 : 0, "in_valid": next < samples.count ? 1 : 0, "in_data": bus])
        if ce && sim.output("out_valid") == 1 {
            let out = sim.output("out_data")
            outputs.append((0..<model.outputSize).map { code((out >> ($0 * ot.width)) & ((BigInt(1) << ot.width) - 1), ot) })
            XCTAssertEqual(enabledEdges - sentAt[outputs.count - 1], design.latency, "latency", file: file, line: line)
        }
        sim.clock()
        if ce {
            if next < samples.count { sentAt.append(enabledEdges); next += 1 }
            enabledEdges += 1
        }
        cycle += 1
    }
    return outputs
}

/// Random input rows: a third uniform over the type (spreads that wrap max - x), a third
/// clustered (realistic logits), a third drawn from 3 values (ties), plus extremes.
func softmaxSamples(_ t: FixedType, n: Int, count: Int, seed: UInt64) -> [[Int128]] {
    var rng = TestRNG(seed: seed)
    let span = Int(min(t.maxCode - t.minCode, 1 << 40))
    func any() -> Int128 { t.minCode + Int128(rng.int(0...span)) }
    var rows: [[Int128]] = [Array(repeating: t.minCode, count: n), Array(repeating: t.maxCode, count: n),
                            (0..<n).map { $0 % 2 == 0 ? t.maxCode : t.minCode }]
    while rows.count < count {
        switch rows.count % 3 {
        case 0: rows.append((0..<n).map { _ in any() })
        case 1:
            let c = any(), w = Int128(1) << max(1, (t.width - 3))
            rows.append((0..<n).map { _ in min(max(c + Int128(rng.int(0...Int(2 * w))) - w, t.minCode), t.maxCode) })
        default:
            let vals = [any(), any(), any()]
            rows.append((0..<n).map { _ in rng.pick(vals) })
        }
    }
    return rows
}

final class SoftmaxLoweringTests: XCTestCase {
    func check(_ text: String, count: Int = 120, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try ModelLoader.parse(text: text, file: "softmax test")
        let golden = try GoldenModel(model)
        let samples = softmaxSamples(model.input.type, n: model.input.size, count: count, seed: UInt64(text.utf8.count))
        let want = samples.map { golden.evaluate(codes: $0) }
        for period in [4.0, 1.5] {
            let got = runNetlist(model, samples, clockPeriodNs: period, file: file, line: line)
            XCTAssertEqual(got.count, samples.count, "outputs missing", file: file, line: line)
            for (k, (g, w)) in zip(got, want).enumerated() where g != w {
                XCTFail("\(model.layers.last!.name) @\(period) ns sample \(k) \(samples[k]): netlist \(g), golden \(w)", file: file, line: line)
                return
            }
        }
    }

    func testStableSoftmaxConfigurations() throws {
        let cases: [(Int, String, String)] = [
            (5, "fixed<16,6>", #""output_type": "fixed<16,6>""#),
            (8, "fixed<8,3>", #""table_size": 256, "exp_table_type": "fixed<14,2,RND_CONV,SAT>", "inv_table_type": "ufixed<16,6,RND,SAT>", "output_type": "ufixed<12,1,RND_CONV,SAT>""#),
            (12, "ufixed<12,4>", #""table_size": 64, "accum_type": "fixed<12,3,RND,SAT>", "exp_table_type": "fixed<12,2,TRN,SAT>", "inv_inp_type": "fixed<14,5,RND,SAT>", "output_type": "fixed<10,2>""#),
            (3, "fixed<6,2>", #""table_size": 16, "accum_type": "fixed<10,4,RND_CONV,SAT_SYM>", "exp_table_type": "ufixed<10,1,RND,SAT>", "inv_table_type": "fixed<12,6,RND_INF,WRAP>", "output_type": "fixed<8,1,RND_ZERO,SAT_ZERO>""#),
            (7, "fixed<5,1>", #""table_size": 8, "accum_type": "fixed<6,2>", "exp_table_type": "fixed<8,1,RND,SAT>", "inv_inp_type": "fixed<8,3,TRN,WRAP>", "output_type": "fixed<12,4,RND,SAT>""#),
            (1, "fixed<8,3>", #""output_type": "ufixed<4,1,RND,SAT>""#),
            (4, "int<6>", #""table_size": 32, "accum_type": "ufixed<9,3,TRN_ZERO,SAT>", "exp_table_type": "ufixed<9,1,RND_MIN_INF,SAT>", "output_type": "fixed<20,4,RND_CONV,SAT_SYM>""#),
        ]
        for (n, inType, fields) in cases {
            try check(softmaxModelText(n: n, inType: inType, fields: fields))
        }
    }

    /// A negative sum (a wrapping accumulator) addresses the upper half of the inverse table,
    /// the table entries of 1/negative: the full-address path of the lowering.
    func testWrappingAccumulatorReadsNegativeEntries() throws {
        let text = softmaxModelText(n: 6, inType: "fixed<6,3>", fields: #""table_size": 16, "accum_type": "fixed<5,2>", "exp_table_type": "fixed<6,1,RND,SAT>", "output_type": "fixed<12,6>""#)
        let model = try ModelLoader.parse(text: text, file: "t")
        guard case let .softmax(s) = model.layers[0].op else { return XCTFail("not softmax") }
        let plan = try SoftmaxPlan(s, inputType: model.input.type, n: 6)
        func sumCode(_ row: [Int128]) -> Int128 {
            let m = row.max()!
            let a = row.map { plan.accumType.cast(plan.expTable[plan.expIndex(normCode: plan.normCode(max: m, x: $0))], from: plan.expTableType) }
            return hlsReduce(a[...]) { plan.accumType.cast(code: $0 + $1, frac: plan.accumType.fracBits) }
        }
        let rows = softmaxSamples(model.input.type, n: 6, count: 200, seed: UInt64(text.utf8.count))
        let negative = rows.filter { sumCode($0) < 0 }.count
        XCTAssertGreaterThan(negative, 10, "the test inputs should reach negative sums")
        try check(text, count: 200)
    }

    func testDenseThenSoftmax() throws {
        let text = """
        {"format": "rtlgen-model", "version": 1, "name": "ds",
         "input": {"name": "x", "size": 3, "type": "fixed<8,3>"},
         "layers": [
          {"name": "fc", "op": "dense", "units": 4, "kernel": [[0.5, -1.25, 2, 0.75], [1.5, 0.25, -0.5, -2], [-1, 1, 0.125, 3]],
           "bias": [0.5, -0.25, 0, 1], "kernel_type": "fixed<6,2>", "bias_type": "fixed<6,2>", "output_type": "fixed<12,5>"},
          {"name": "sm", "op": "softmax", "output_type": "ufixed<10,1,RND,SAT>"}]}
        """
        try check(text)
    }

    /// After a bipolar layer (one stored bit per value) softmax reads the values -1/+1 (int<2>),
    /// as every arithmetic layer does: a 2-bit difference type, a 2-entry exp table.
    func testAfterABipolarLayer() throws {
        for fields in [#""output_type": "ufixed<10,1,RND,SAT>""#, #""implementation": "argmax", "output_type": "uint<3>""#] {
            let text = """
            {"format": "rtlgen-model", "version": 1, "name": "bp",
             "input": {"name": "x", "size": 6, "type": "fixed<6,3>"},
             "layers": [{"name": "s", "op": "sign"}, {"name": "sm", "op": "softmax", \(fields)}]}
            """
            let m = try ModelLoader.parse(text: text, file: "t")
            let g = try GoldenModel(m)
            // +1 at index 2 only: argmax 2. Stable: max - x = 2 wraps to 0 in the 1-bit
            // difference type ufixed<1,1> (hls4ml's quirk), so every element gets the same value.
            let y = g.evaluate(codes: [-8, -1, 5, -3, -2, -32])
            if m.outputSize == 1 { XCTAssertEqual(y, [2]) } else { XCTAssertEqual(Set(y).count, 1); XCTAssertNotEqual(y[0], 0) }
            try check(text)
        }
    }

    func testArgmax() throws {
        for (n, inType, out) in [(7, "fixed<6,2>", "uint<3>"), (1, "fixed<8,3>", "uint<1>"), (16, "ufixed<3,3>", "uint<8>"),
                                 (5, "fixed<16,6>", "ap_uint<3>"), (2, "int<40>", "uint<1>")] {
            try check(softmaxModelText(n: n, inType: inType, fields: #""implementation": "argmax", "output_type": "\#(out)""#), count: 150)
        }
    }

    /// The ROMs: one exp table read by every element, one inverse table; each addressed only by
    /// the bits that can vary (the inverse table of a 5-input softmax with entries <= 1 needs
    /// only the first 32 of its 1024 entries); report.json gives entries, width and bits.
    func testTablesInTheReport() throws {
        let text = softmaxModelText(n: 5, inType: "fixed<16,6>", fields: #""output_type": "fixed<16,6>""#)
        let model = try ModelLoader.parse(text: text, file: "t")
        let (files, design) = try Driver.Builder.generate(model: model, options: BuildOptions())
        let m = design.layers[0].module
        XCTAssertEqual(m.tables.map { $0.values.count }, [1024, 32])
        XCTAssertEqual(design.layers[0].multipliers, 5)
        XCTAssertEqual(m.defs.filter { if case .rom = $0 { return true }; return false }.count, 6)
        let report = files.first { $0.0 == "report.json" }!.1
        guard let obj = try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any],
              let layers = obj["layers"] as? [[String: Any]], let tables = layers[0]["tables"] as? [[String: Any]],
              let res = obj["resources"] as? [String: Any] else { return XCTFail("report shape") }
        XCTAssertEqual(tables.count, 2)
        var total = 0
        for (t, rom) in zip(tables, m.tables) {
            XCTAssertEqual(t["entries"] as? Int, rom.values.count)
            XCTAssertEqual(t["width"] as? Int, rom.width)
            XCTAssertEqual(t["bits"] as? Int, rom.values.count * rom.width)
            total += rom.values.count * rom.width
        }
        XCTAssertEqual(tables[0]["name"] as? String, "sm_exp_table")
        XCTAssertEqual(tables[0]["width"] as? Int, 11)          // entries 0..1024 (1.0 in fixed<18,8>)
        XCTAssertEqual(layers[0]["table_bits"] as? Int, total)
        XCTAssertEqual(res["table_bits"] as? Int, total)
        XCTAssertEqual(layers[0]["multipliers"] as? Int, 5)
    }
}

/// Same as the ModelIR tests' helper (test targets do not share code).
func softmaxModelText(n: Int, inType: String, fields: String) -> String {
    """
    {"format": "rtlgen-model", "version": 1, "name": "smx",
     "input": {"name": "x", "size": \(n), "type": "\(inType)"},
     "layers": [{"name": "sm", "op": "softmax", \(fields)}]}
    """
}
