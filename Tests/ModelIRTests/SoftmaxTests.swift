// Softmax: the model-file fields and their errors, hls4ml's table sizes and table contents,
// the reduction tree shape, the golden model on hand-computed cases and its quirks.
import FixedPoint
import Foundation
import Golden
@testable import ModelIR
import XCTest

/// A one-layer softmax model with the given layer fields (JSON text after the op).
func softmaxModel(n: Int, inType: String, fields: String) -> String {
    """
    {"format": "rtlgen-model", "version": 1, "name": "smx",
     "input": {"name": "x", "size": \(n), "type": "\(inType)"},
     "layers": [{"name": "sm", "op": "softmax", \(fields)}]}
    """
}

final class SoftmaxLoaderTests: XCTestCase {
    func assertRejected(_ text: String, field: String, words: [String], _ name: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try ModelLoader.parse(text: text, file: "m.json")
            XCTFail("\(name): accepted", file: file, line: line)
        } catch let e as InputError {
            XCTAssertEqual(e.field, field, "\(name): \(e)", file: file, line: line)
            for w in words {
                XCTAssertTrue(e.message.contains(w), "\(name): '\(e.message)' lacks '\(w)'", file: file, line: line)
            }
            XCTAssertTrue(e.description.hasPrefix("m.json: \(field)"), "\(name): \(e)", file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), name, file: file, line: line)
        } catch {
            XCTFail("\(name): \(error)", file: file, line: line)
        }
    }

    func testDefaultsAreHls4mls() throws {
        let m = try ModelLoader.parse(text: softmaxModel(n: 5, inType: "fixed<16,6>", fields: #""output_type": "fixed<16,6>""#), file: "m")
        guard case let .softmax(s) = m.layers[0].op else { return XCTFail("not softmax") }
        XCTAssertEqual(s.implementation, .stable)
        XCTAssertEqual(s.tableSize, 1024)
        let t = try FixedType.parse("ap_fixed<18,8,AP_RND,AP_SAT>")
        XCTAssertEqual(s.expTableType, t)
        XCTAssertEqual(s.invTableType, t)
        XCTAssertEqual(s.invInputType, t)
        XCTAssertNil(s.accumType)
        XCTAssertEqual(m.outputSize, 5)
        XCTAssertEqual(m.layers[0].opName, "softmax")
    }

    func testArgmaxOutputsOneIndex() throws {
        let m = try ModelLoader.parse(text: softmaxModel(n: 8, inType: "fixed<8,3>", fields: #""implementation": "argmax", "output_type": "uint<3>""#), file: "m")
        XCTAssertEqual(m.outputSize, 1)
        XCTAssertEqual(m.outputType, FixedType.integer(signed: false, width: 3))
        // ufixed<W,W> is the same type as uint<W>.
        XCTAssertNoThrow(try ModelLoader.parse(text: softmaxModel(n: 2, inType: "int<4>", fields: #""implementation": "argmax", "output_type": "ufixed<1,1>""#), file: "m"))
    }

    func testBadParametersNameTheirField() {
        let cases: [(String, String, String, String, [String])] = [
            ("table size not a power of two", "fixed<16,6>", #""table_size": 1000, "output_type": "fixed<16,6>""#, "layers[0].table_size", ["1000", "power of two"]),
            ("empty table", "fixed<16,6>", #""table_size": 0, "output_type": "fixed<16,6>""#, "layers[0].table_size", ["empty"]),
            ("negative table size", "fixed<16,6>", #""table_size": -4, "output_type": "fixed<16,6>""#, "layers[0].table_size", ["empty"]),
            ("one-entry table", "fixed<16,6>", #""table_size": 1, "output_type": "fixed<16,6>""#, "layers[0].table_size", ["power of two of at least 2"]),
            ("huge table", "fixed<16,6>", #""table_size": 131072, "output_type": "fixed<16,6>""#, "layers[0].table_size", ["65536"]),
            ("table size not an integer", "fixed<16,6>", #""table_size": 10.5, "output_type": "fixed<16,6>""#, "layers[0].table_size", ["integer"]),
            ("unknown implementation", "fixed<16,6>", #""implementation": "latency", "output_type": "fixed<16,6>""#, "layers[0].implementation", ["latency", "stable", "argmax"]),
            ("misspelled implementation", "fixed<16,6>", #""implementation": "Stable", "output_type": "fixed<16,6>""#, "layers[0].implementation", ["Stable"]),
            ("bad table type", "fixed<16,6>", #""exp_table_type": "fixed<18>", "output_type": "fixed<16,6>""#, "layers[0].exp_table_type", ["fixed<18>"]),
            ("table type too wide", "fixed<16,6>", #""inv_table_type": "fixed<64,8>", "output_type": "fixed<16,6>""#, "layers[0].inv_table_type", ["63"]),
            ("unknown field", "fixed<16,6>", #""table_sise": 512, "output_type": "fixed<16,6>""#, "layers[0].table_sise", ["unknown field"]),
            ("table field on argmax", "fixed<16,6>", #""implementation": "argmax", "table_size": 512, "output_type": "uint<3>""#, "layers[0].table_size", ["unknown field"]),
            ("argmax into a signed type", "fixed<16,6>", #""implementation": "argmax", "output_type": "int<4>""#, "layers[0].output_type", ["unsigned integer"]),
            ("argmax into a fraction", "fixed<16,6>", #""implementation": "argmax", "output_type": "ufixed<4,2>""#, "layers[0].output_type", ["unsigned integer"]),
            ("argmax index too wide", "fixed<16,6>", #""implementation": "argmax", "output_type": "uint<2>""#, "layers[0].output_type", ["index 4", "uint<3>"]),
            ("1-bit signed input", "fixed<1,1>", #""output_type": "fixed<16,6>""#, "layers[0]", ["2 bits"]),
            ("inverse table wider than its input type", "fixed<24,8>",
             #""table_size": 65536, "inv_table_type": "fixed<20,8>", "inv_inp_type": "fixed<12,4>", "output_type": "fixed<16,6>""#,
             "layers[0]", ["inv_inp_type", "12 bits"]),
            ("missing output type", "fixed<16,6>", #""implementation": "stable""#, "layers[0].output_type", ["missing"]),
        ]
        for (name, inType, fields, field, words) in cases {
            assertRejected(softmaxModel(n: 5, inType: inType, fields: fields), field: field, words: words, name)
        }
    }

    func testWriterRoundTrip() throws {
        for fields in [#""output_type": "fixed<16,6>""#,
                       #""implementation": "stable", "table_size": 64, "exp_table_type": "ufixed<12,1,RND_CONV,SAT>", "inv_table_type": "fixed<16,8,RND,SAT>", "inv_inp_type": "ap_fixed<14,5,AP_RND,AP_SAT>", "accum_type": "fixed<12,3,RND,SAT>", "output_type": "fixed<10,2>""#,
                       #""implementation": "argmax", "output_type": "uint<4>""#] {
            let m1 = try ModelLoader.parse(text: softmaxModel(n: 5, inType: "fixed<16,6>", fields: fields), file: "m")
            let w = ModelWriter.json(m1)
            let m2 = try ModelLoader.parse(text: w, file: "written")
            guard case let .softmax(a) = m1.layers[0].op, case let .softmax(b) = m2.layers[0].op else { return XCTFail("not softmax") }
            XCTAssertEqual(a.implementation, b.implementation)
            XCTAssertEqual(a.tableSize, b.tableSize)
            XCTAssertEqual(a.expTableType, b.expTableType)
            XCTAssertEqual(a.invTableType, b.invTableType)
            XCTAssertEqual(a.invInputType, b.invInputType)
            XCTAssertEqual(a.accumType, b.accumType)
            XCTAssertEqual(m1.outputType, m2.outputType)
            XCTAssertEqual(ModelWriter.json(m2), w)
        }
    }
}

final class SoftmaxPlanTests: XCTestCase {
    func plan(_ inType: String, n: Int = 5, size: Int = 1024, exp: String? = nil, inv: String? = nil,
              invIn: String? = nil, accum: String? = nil) throws -> SoftmaxPlan {
        var s = Softmax(implementation: .stable, tableSize: size)
        if let e = exp { s.expTableType = try FixedType.parse(e) }
        if let i = inv { s.invTableType = try FixedType.parse(i) }
        if let i = invIn { s.invInputType = try FixedType.parse(i) }
        if let a = accum { s.accumType = try FixedType.parse(a) }
        return try SoftmaxPlan(s, inputType: try FixedType.parse(inType), n: n)
    }

    /// hls4ml's effective sizes: the table size is cut to 2^min(W_in, W_inv_table), then the exp
    /// table to 2^(W-1) for a signed input (values checked against hls4ml's parameters.h).
    func testEffectiveTableSizes() throws {
        let cases: [(String, Int, String?, Int, Int, String)] = [
            ("fixed<16,6>", 1024, nil, 1024, 1024, "ufixed<15,5>"),
            ("fixed<8,3>", 1024, nil, 256, 128, "ufixed<7,2>"),
            ("fixed<8,3>", 256, nil, 256, 128, "ufixed<7,2>"),
            ("ufixed<12,4>", 64, nil, 64, 64, "ufixed<12,4>"),
            ("ufixed<6,2>", 1024, nil, 64, 64, "ufixed<6,2>"),
            ("fixed<4,2>", 1024, nil, 16, 8, "ufixed<3,1>"),
            ("fixed<24,8>", 65536, "fixed<12,4>", 4096, 4096, "ufixed<23,7>"),
        ]
        for (inType, size, inv, invSize, expSize, norm) in cases {
            let p = try plan(inType, size: size, inv: inv, invIn: inv)
            XCTAssertEqual(p.invTableSize, invSize, "\(inType) \(size)")
            XCTAssertEqual(p.expTableSize, expSize, "\(inType) \(size)")
            XCTAssertEqual(p.normType, try FixedType.parse(norm), inType)
            XCTAssertEqual(p.expTable.count, expSize)
            XCTAssertEqual(p.invTable.count, invSize)
        }
    }

    /// Table entries at points computed by hand: exp(-0) = 1, the 1/0 entry (maximum under SAT,
    /// 0 under WRAP), 1/0.25 = 4, a negative index (1/-128), exp(-1) rounded (RND) to 10 bits.
    func testTableEntries() throws {
        let p = try plan("fixed<16,6>")
        XCTAssertEqual(p.expTable[0], 1024)                 // 1.0 in fixed<18,8>
        // index 32 of 1024 over ufixed<15,5>: 32 * 2^(5-10) = 1; exp(-1) * 1024 = 376.71 -> 377.
        XCTAssertEqual(p.expTable[32], 377)
        XCTAssertEqual(p.expTable[1023], 0)                 // exp(-31.97) rounds to 0
        XCTAssertEqual(p.invTable[0], (1 << 17) - 1)        // 1/0 saturates
        XCTAssertEqual(p.invTable[1], 4096)                 // 1 / (1 * 2^(8-10)) = 4
        XCTAssertEqual(p.invTable[4], 1024)                 // 1 / 1
        XCTAssertEqual(p.invTable[512], -8)                 // 1 / -128 = -0.0078125
        let w = try plan("fixed<16,6>", inv: "fixed<18,8,RND,WRAP>")
        XCTAssertEqual(w.invTable[0], 0)                    // 1/0 -> 2^1024, wraps to 0
        XCTAssertEqual(w.invTable[1], 4096)
        // An unsigned table type: no negative entries (1/negative saturates to 0).
        let u = try plan("fixed<16,6>", inv: "ufixed<16,6,RND,SAT>")
        XCTAssertEqual(u.invTable[512], 0)
        XCTAssertEqual(u.invTable[0], (1 << 16) - 1)
    }

    /// The exp tables use the C library's expf on float, as hls4ml does. glibc's expf is not
    /// always correctly rounded (it differs in the last bit at a few points, far below any
    /// table's resolution), so the tables are compared with tables built from the correctly
    /// rounded float of exp: every code is the same for these configurations, i.e. the tables do
    /// not depend on the C library's last-bit behaviour.
    func testExpTablesDoNotDependOnLibmRounding() throws {
        var checked = 0
        var floatDiffs = 0
        for inType in ["fixed<16,6>", "fixed<8,3>", "ufixed<12,4>", "fixed<18,8>", "fixed<10,4>", "fixed<20,10>"] {
            for tt in ["fixed<18,8,RND,SAT>", "fixed<14,2,RND_CONV,SAT>", "ufixed<24,1,RND,SAT>", "ufixed<32,1>"] {
                let t = try FixedType.parse(tt)
                let p = try plan(inType, exp: tt)
                for i in 0..<p.expTableSize {
                    let x = SoftmaxPlan.indexValue(i, type: p.normType, size: p.expTableSize)
                    let correct = Float(exp(Double(-x)))
                    if expf(-x) != correct { floatDiffs += 1 }
                    XCTAssertEqual(p.expTable[i], t.quantize(float: correct), "\(inType) \(tt) entry \(i)")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 15000)
        print("exp tables: \(checked) entries, expf differs from the correctly rounded float at \(floatDiffs) points, no table code differs")
    }

    func testReductionTreeShapeIsHls4mls() {
        func shape(_ n: Int) -> String {
            hlsReduce((0..<n).map { String(UnicodeScalar(UInt8(97 + $0))) }[...]) { "(\($0)\($1))" }
        }
        XCTAssertEqual(shape(1), "a")
        XCTAssertEqual(shape(2), "(ab)")
        XCTAssertEqual(shape(3), "((ab)c)")
        XCTAssertEqual(shape(5), "(((ab)(cd))e)")
        XCTAssertEqual(shape(6), "(((ab)(cd))(ef))")
        XCTAssertEqual(shape(7), "(((ab)(cd))((ef)g))")
        XCTAssertEqual(shape(9), "((((ab)(cd))((ef)(gh)))i)")
    }
}

final class SoftmaxGoldenTests: XCTestCase {
    func run(_ text: String, _ rows: [[String]]) throws -> [[String]] {
        let m = try ModelLoader.parse(text: text, file: "m")
        let g = try GoldenModel(m)
        return try rows.map { r in
            g.evaluate(codes: try r.map { try m.input.type.quantize(decimal: $0) }).map { m.outputType.decimalString($0) }
        }
    }

    func testHandComputedStable() throws {
        let text = softmaxModel(n: 2, inType: "fixed<16,6>", fields: #""output_type": "fixed<16,6>""#)
        // Equal inputs: exp = 1 each, sum 2 (code 2048 of fixed<18,8>), index 2048 >> 8 = 8,
        // value 8 * 2^-2 = 2, inverse 0.5: outputs 1 * 0.5.
        // 1 apart: d = 1 -> index 32 -> exp(-1) = 377/1024; sum = 1401/1024, index 5 -> value
        // 1.25 -> 1/1.25 = 0.8 -> 819/1024 (RND); y0 = 1024*819/2^20 = 0.7998046875 (truncated
        // to 10 fraction bits), y1 = 377*819/2^20 = 0.294464... -> 301/1024 = 0.2939453125.
        XCTAssertEqual(try run(text, [["3", "3"], ["2.5", "1.5"]]), [["0.5", "0.5"], ["0.7998046875", "0.2939453125"]])
    }

    /// The difference max - x_i lives in a type one bit narrower than the input, so a spread of
    /// 2^(I-1) or more wraps: [3.96875, -4] in fixed<8,3> behaves like [3.96875, 0].
    func testDifferenceWrapsLikeHls4ml() throws {
        let text = softmaxModel(n: 2, inType: "fixed<8,3>", fields: #""output_type": "fixed<16,6>""#)
        let y = try run(text, [["3.96875", "-4"], ["3.96875", "0"], ["3.96875", "0.03125"]])
        XCTAssertEqual(y[0], y[1])
        XCTAssertNotEqual(y[0][1], "0")
        XCTAssertNotEqual(y[1], y[2])
    }

    /// The sum is cast to the accumulator at every node of hls4ml's tree: a saturating narrow
    /// accumulator caps it, which changes the inverse and so every output.
    func testAccumulatorSaturatesAndRounds() throws {
        let exact = softmaxModel(n: 8, inType: "fixed<16,6>", fields: #""output_type": "fixed<24,8>""#)
        let sat = softmaxModel(n: 8, inType: "fixed<16,6>", fields: #""accum_type": "fixed<12,2,RND,SAT>", "output_type": "fixed<24,8>""#)
        let row = Array(repeating: "1", count: 8)
        // Exact: sum 8 -> 1/8; saturating at 2 - 2^-10: index of 1.999 -> 7 (value 1.75) -> 1/1.75.
        XCTAssertEqual(try run(exact, [row])[0], Array(repeating: "0.125", count: 8))
        let s = try run(sat, [row])[0]
        XCTAssertEqual(s[0], "0.5712890625")                 // 1 * 585/1024 (1/1.75 = 0.5714 -> 585)
        XCTAssertEqual(Set(s).count, 1)
    }

    func testArgmaxLowestIndexOnTies() throws {
        let text = softmaxModel(n: 5, inType: "fixed<8,3>", fields: #""implementation": "argmax", "output_type": "uint<3>""#)
        let y = try run(text, [["0", "1", "2", "3", "-1"], ["3", "3", "3", "3", "3"], ["-4", "-4", "-3.5", "-3.5", "-4"],
                               ["1", "2", "2", "0", "2"], ["-1", "-2", "-3", "-4", "-1"], ["9", "0", "0", "0", "0"]])
        // Inputs are read into fixed<8,3> first: 9 wraps to 1 (9 - 8), the largest of its row.
        XCTAssertEqual(y.map { $0[0] }, ["3", "0", "2", "1", "0", "0"])
        XCTAssertEqual(argmaxIndex([5]), 0)
    }
}
