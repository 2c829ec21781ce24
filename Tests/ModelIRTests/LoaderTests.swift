// The native model file: every kind of bad input becomes one InputError naming the field,
// every type spelling of the contract parses, weights are quantized with their type's modes,
// the writer round-trips, and the golden model computes hand-checked results.
import FixedPoint
import Foundation
import Golden
@testable import ModelIR
import XCTest

/// A small valid model (Tests/models/tiny.json, shared with the CLI tests); the bad-input
/// cases are textual edits of it.
let baseModel = try! String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("models/tiny.json"), encoding: .utf8)

/// (case name, the edit of `baseModel`, expected `field`, words the message must contain).
let badModelCases: [(name: String, from: String, to: String, field: String, words: [String])] = [
    ("malformed JSON", "\"units\": 3,", "\"units\": 3,,", "", ["malformed JSON", "line 5", "column"]),
    ("wrong format", "\"rtlgen-model\"", "\"keras\"", "format", ["rtlgen-model", "keras"]),
    ("version 2", "\"version\": 1", "\"version\": 2", "version", ["2", "not supported"]),
    ("misspelled top-level key", "\"layers\": [", "\"layer\": [", "layer", ["unknown field", "layers"]),
    ("unknown op", "\"op\": \"dense\"", "\"op\": \"conv9d\"", "layers[0].op", ["unknown op", "conv9d"]),
    ("kernel row count", "[[0.5, -0.25, 1], [0.125, 0.75, -1]]", "[[0.5, -0.25, 1]]", "layers[0].kernel", ["expected 2 rows", "found 1"]),
    ("kernel row length", "[0.125, 0.75, -1]", "[0.125, 0.75]", "layers[0].kernel[1]", ["expected 3", "found 2"]),
    ("string weight", "[[0.5, -0.25, 1]", "[[0.5, \"0.5\", 1]", "layers[0].kernel[0][1]", ["expected a number", "string"]),
    ("unknown type spelling", "\"kernel_type\": \"fixed<6,3>\"", "\"kernel_type\": \"fixd<6,1>\"", "layers[0].kernel_type", ["fixd<6,1>"]),
    ("zero width", "\"kernel_type\": \"fixed<6,3>\"", "\"kernel_type\": \"fixed<0,0>\"", "layers[0].kernel_type", ["fixed<0,0>", "width"]),
    ("signed too wide", "\"bias_type\": \"fixed<8,4>\"", "\"bias_type\": \"fixed<200,10>\"", "layers[0].bias_type", ["fixed<200,10>", "200"]),
    ("unsigned too wide", "\"output_type\": \"ufixed<8,3,RND_CONV,SAT>\"", "\"output_type\": \"ufixed<128,1>\"", "layers[1].output_type", ["ufixed<128,1>", "128"]),
    ("input type too wide", "\"type\": \"fixed<8,4>\"", "\"type\": \"int<129>\"", "input.type", ["int<129>"]),
    ("bad rounding mode", "\"fixed<12,6,RND_CONV,SAT>\"", "\"fixed<12,6,RND_UP,SAT>\"", "layers[0].output_type", ["rounding mode", "RND_UP"]),
    ("bad overflow mode", "\"fixed<12,6,RND_CONV,SAT>\"", "\"fixed<12,6,RND_CONV,CLAMP>\"", "layers[0].output_type", ["overflow mode", "CLAMP"]),
    ("saturating accum", "\"accum_type\": \"auto\"", "\"accum_type\": \"fixed<24,8,TRN,SAT>\"", "layers[0].accum_type", ["SAT", "WRAP"]),
    ("duplicate layer name", "\"name\": \"relu1\"", "\"name\": \"FC1\"", "layers[1].name", ["duplicate", "FC1"]),
    ("unknown field", "\"kernel\": [[", "\"kernal\": [[0]], \"kernel\": [[", "layers[0].kernal", ["unknown field"]),
    ("bias length", "[0.0625, 0, -0.5]", "[0.0625, 0]", "layers[0].bias", ["expected 3", "found 2"]),
    ("missing output_type", ", \"output_type\": \"ufixed<8,3,RND_CONV,SAT>\"", "", "layers[1].output_type", ["missing"]),
    ("missing kernel", "\"kernel\": [[0.5, -0.25, 1], [0.125, 0.75, -1]],", "", "layers[0].kernel", ["missing"]),
    ("bad weight text", "[[0.5, -0.25, 1]", "[[0.5, -0.25, 1e99999]", "layers[0].kernel[0][2]", ["1e99999"]),
]

/// The same cases that need a whole-document change rather than one edit.
let wholeDocumentBadCases: [(name: String, text: String, field: String, words: [String])] = [
    ("missing layers",
     #"{"format": "rtlgen-model", "version": 1, "name": "m", "input": {"size": 1, "type": "int<8>"}}"#,
     "layers", ["missing"]),
    ("empty layers",
     #"{"format": "rtlgen-model", "version": 1, "name": "m", "input": {"size": 1, "type": "int<8>"}, "layers": []}"#,
     "layers", ["at least one layer"]),
    ("not an object", "[1, 2]", "", ["expected an object"]),
    ("malformed JSON at end", "{\"format\": \"rtlgen-model\",\n \"version\": 1,\n", "", ["malformed JSON", "line 3"]),
]

func edited(_ from: String, _ to: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    XCTAssertTrue(baseModel.contains(from), "test setup: '\(from)' not in the base model", file: file, line: line)
    return baseModel.replacingOccurrences(of: from, with: to)
}

/// A one-dense-layer model with `n` inputs of `inType` (plus optional further layers).
func denseModel(n: Int, inType: String, units: Int, kernel: String, bias: String?, kernelType: String,
                biasType: String, accum: String, outType: String, extraLayers: String = "") -> String {
    let biasText = bias.map { "\"bias\": \($0)," } ?? ""
    return """
    {"format": "rtlgen-model", "version": 1, "name": "hand",
     "input": {"size": \(n), "type": "\(inType)"},
     "layers": [{"name": "fc", "op": "dense", "units": \(units), "kernel": \(kernel), \(biasText)
                 "kernel_type": "\(kernelType)", "bias_type": "\(biasType)",
                 "accum_type": "\(accum)", "output_type": "\(outType)"}\(extraLayers)]}
    """
}

func dense(_ m: Model, _ i: Int = 0) -> Dense? {
    if case let .dense(d) = m.layers[i].op { return d }
    XCTFail("layer \(i) is not dense")
    return nil
}

final class LoaderErrorTests: XCTestCase {
    func assertRejected(_ text: String, field: String, words: [String], _ name: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try ModelLoader.parse(text: text, file: "models/bad.json")
            XCTFail("\(name): accepted", file: file, line: line)
        } catch let e as InputError {
            XCTAssertEqual(e.file, "models/bad.json", name, file: file, line: line)
            XCTAssertEqual(e.field, field, "\(name): \(e)", file: file, line: line)
            for w in words {
                XCTAssertTrue(e.message.contains(w), "\(name): message '\(e.message)' lacks '\(w)'", file: file, line: line)
            }
            // One clear message: the description names the file and the field, on one line.
            XCTAssertTrue(e.description.hasPrefix("models/bad.json: "), "\(name): \(e)", file: file, line: line)
            if !field.isEmpty {
                XCTAssertTrue(e.description.contains(field), "\(name): \(e)", file: file, line: line)
            }
            XCTAssertFalse(e.description.contains("\n"), "\(name): multi-line message", file: file, line: line)
        } catch {
            XCTFail("\(name): threw \(type(of: error)) instead of InputError: \(error)", file: file, line: line)
        }
    }

    func testBaseModelIsValid() throws {
        let m = try ModelLoader.parse(text: baseModel, file: "base.json")
        XCTAssertEqual(m.layers.count, 2)
        XCTAssertEqual(m.outputSize, 3)
    }

    func testEveryEditedBadInputNamesItsField() {
        for c in badModelCases {
            assertRejected(edited(c.from, c.to), field: c.field, words: c.words, c.name)
        }
    }

    func testWholeDocumentBadInputs() {
        for c in wholeDocumentBadCases {
            assertRejected(c.text, field: c.field, words: c.words, c.name)
        }
    }

    func testMalformedJSONReportsLineAndColumn() {
        // The stray comma is on line 5; the column is where the parser stops (after ",,").
        do {
            _ = try ModelLoader.parse(text: edited("\"units\": 3,", "\"units\": 3,,"), file: "x.json")
            XCTFail("accepted")
        } catch let e as InputError {
            let lineNo = baseModel.components(separatedBy: "\n").firstIndex { $0.contains("\"units\": 3,") }! + 1
            let col = baseModel.components(separatedBy: "\n")[lineNo - 1].range(of: "3,")!.upperBound
            let colNo = baseModel.components(separatedBy: "\n")[lineNo - 1].distance(from: baseModel.components(separatedBy: "\n")[lineNo - 1].startIndex, to: col) + 1
            XCTAssertTrue(e.message.contains("line \(lineNo), column \(colNo)"), "\(e.message) (expected line \(lineNo), column \(colNo))")
        } catch { XCTFail("\(error)") }
    }

    func testExplicitWrapAccumulatorAccepted() throws {
        for spelling in ["fixed<24,8>", "fixed<24,8,TRN,WRAP>", "ap_fixed<24,8,AP_RND,AP_WRAP>", "int<30>"] {
            let m = try ModelLoader.parse(text: edited("\"accum_type\": \"auto\"", "\"accum_type\": \"\(spelling)\""), file: "a.json")
            guard case let .dense(d) = m.layers[0].op else { return XCTFail("not dense") }
            XCTAssertEqual(d.accumType, try FixedType.parse(spelling))
        }
        for mode in ["SAT", "SAT_ZERO", "SAT_SYM", "AP_SAT"] {
            assertRejected(edited("\"accum_type\": \"auto\"", "\"accum_type\": \"fixed<24,8,TRN,\(mode)>\""),
                           field: "layers[0].accum_type", words: ["WRAP"], "accum \(mode)")
        }
    }

    func testAccumTypeDefaultsToAuto() throws {
        let m = try ModelLoader.parse(text: edited("\"accum_type\": \"auto\",", ""), file: "a.json")
        guard case let .dense(d) = m.layers[0].op else { return XCTFail("not dense") }
        XCTAssertNil(d.accumType)
    }

    func testBiasIsOptional() throws {
        let m = try ModelLoader.parse(text: edited("\"bias\": [0.0625, 0, -0.5],", ""), file: "a.json")
        guard case let .dense(d) = m.layers[0].op else { return XCTFail("not dense") }
        XCTAssertEqual(d.bias, [0, 0, 0])
    }

    func testDuplicateNamesIgnoreCase() {
        assertRejected(edited("\"name\": \"relu1\"", "\"name\": \"fc1\""), field: "layers[1].name", words: ["duplicate"], "same case")
        assertRejected(edited("\"name\": \"relu1\"", "\"name\": \"Fc1\""), field: "layers[1].name", words: ["duplicate"], "mixed case")
    }

    func testLoadFromPathNamesTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rtlgen-loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = dir.appendingPathComponent("typo.json").path
        try edited("\"version\": 1", "\"version\": 2").write(toFile: p, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ModelLoader.load(path: p)) { e in
            XCTAssertEqual((e as? InputError)?.field, "version")
            XCTAssertTrue("\(e)".contains("typo.json"), "\(e)")
        }
        XCTAssertThrowsError(try ModelLoader.load(path: dir.appendingPathComponent("absent.json").path)) { e in
            XCTAssertTrue("\(e)".contains("absent.json"), "\(e)")
        }
    }
}

final class TypeSpellingTests: XCTestCase {
    func parse(_ s: String) throws -> FixedType { try FixedType.parse(s) }

    func testSpellingsOfTheSameType() throws {
        let f166 = FixedType(signed: true, width: 16, intBits: 6)
        for s in ["fixed<16,6>", "ap_fixed<16,6>", "ap_fixed<16, 6, AP_TRN, AP_WRAP>", "fixed<16,6,TRN>",
                  "fixed<16,6,TRN,WRAP>", "ap_fixed<16,6,TRN,WRAP,0>", " fixed< 16 , 6 > "] {
            XCTAssertEqual(try parse(s), f166, s)
        }
        let i8 = FixedType(signed: true, width: 8, intBits: 8)
        for s in ["int<8>", "ap_int<8>", "fixed<8,8>", "ap_fixed<8,8,AP_TRN,AP_WRAP>"] {
            XCTAssertEqual(try parse(s), i8, s)
        }
        let u4 = FixedType(signed: false, width: 4, intBits: 4)
        for s in ["ap_uint<4>", "uint<4>", "ufixed<4,4>", "ap_ufixed<4,4>"] {
            XCTAssertEqual(try parse(s), u4, s)
        }
        let u83 = FixedType(signed: false, width: 8, intBits: 3, rounding: .RND_CONV, overflow: .SAT)
        for s in ["ufixed<8,3,RND_CONV,SAT>", "ap_ufixed<8,3,AP_RND_CONV,AP_SAT>", "ufixed<8, 3, AP_RND_CONV, SAT>"] {
            XCTAssertEqual(try parse(s), u83, s)
        }
        XCTAssertNotEqual(try parse("fixed<16,6>"), try parse("ufixed<16,6>"))
        XCTAssertNotEqual(try parse("fixed<16,6>"), try parse("fixed<16,6,RND>"))
    }

    func testEveryModeSpelling() throws {
        for q in RoundingMode.allCases {
            for o in OverflowMode.allCases {
                let want = FixedType(signed: true, width: 10, intBits: 3, rounding: q, overflow: o)
                XCTAssertEqual(try parse("fixed<10,3,\(q.rawValue),\(o.rawValue)>"), want)
                XCTAssertEqual(try parse("ap_fixed<10,3,AP_\(q.rawValue),AP_\(o.rawValue)>"), want)
            }
        }
    }

    func testNegativeAndLargeIntegerBits() throws {
        let neg = try parse("fixed<8,-2>")
        XCTAssertEqual(neg.intBits, -2)
        XCTAssertEqual(neg.fracBits, 10)
        let big = try parse("ufixed<4,10>")
        XCTAssertEqual(big.fracBits, -6)
        // Through the loader, as kernel and bias types; the codes follow the grid 2^-F:
        // 0.001 * 2^10 = 1.024 -> 1; -0.1 * 2^10 = -102.4 -> TRN -103; 100 / 2^6 = 1.5625 -> 1.
        let text = denseModel(n: 2, inType: "fixed<8,4>", units: 1, kernel: "[[0.001], [-0.1]]", bias: "[100]",
                              kernelType: "fixed<8,-2>", biasType: "ufixed<4,10>", accum: "auto", outType: "fixed<24,12>")
        let m = try ModelLoader.parse(text: text, file: "k.json")
        let d = try XCTUnwrap(dense(m))
        XCTAssertEqual(d.kernelType, neg)
        XCTAssertEqual(d.kernel, [[1], [-103]])
        XCTAssertEqual(d.bias, [1])
        XCTAssertEqual(d.biasType.decimalString(d.bias[0]), "64")
        XCTAssertEqual(d.kernelType.decimalString(d.kernel[1][0]), "-0.1005859375")
    }

    func testSupportedWidthLimits() throws {
        XCTAssertEqual(try parse("fixed<128,10>").width, 128)
        XCTAssertEqual(try parse("ufixed<127,1>").width, 127)
        XCTAssertEqual(try parse("fixed<1,1>").width, 1)
        for bad in ["fixed<129,10>", "ufixed<128,1>", "fixed<200,10>", "fixed<0,0>", "int<0>", "fixd<6,1>",
                    "fixed<6>", "fixed<6,1,RND,SAT,3>", "fixed<a,1>", "fixed<6,1", "int<8,2>", "float"] {
            XCTAssertThrowsError(try parse(bad), bad)
        }
    }
}

final class WeightQuantizationTests: XCTestCase {
    /// Kernel codes of a 1-input dense layer whose weights are `weights` in `kernelType`.
    func kernelCodes(_ weights: [String], _ kernelType: String) throws -> [Int128] {
        let text = denseModel(n: 1, inType: "fixed<8,4>", units: weights.count,
                              kernel: "[[\(weights.joined(separator: ", "))]]", bias: nil,
                              kernelType: kernelType, biasType: "int<4>", accum: "auto", outType: "fixed<16,8>")
        let m = try ModelLoader.parse(text: text, file: "w.json")
        return try XCTUnwrap(dense(m)).kernel[0]
    }

    func testKernelRoundingMode() throws {
        // fixed<6,3>: F = 3, 0.1249 * 8 = 0.9992.
        XCTAssertEqual(try kernelCodes(["0.1249"], "fixed<6,3,RND>"), [1])
        XCTAssertEqual(try kernelCodes(["0.1249"], "fixed<6,3>"), [0])
        XCTAssertEqual(try kernelCodes(["-0.1249"], "fixed<6,3>"), [-1])
        XCTAssertEqual(try kernelCodes(["-0.1249"], "fixed<6,3,TRN_ZERO>"), [0])
        // Exact ties (0.0625 * 8 = 0.5, 0.1875 * 8 = 1.5, -0.0625 * 8 = -0.5) in every rounding mode.
        let ties = ["0.0625", "0.1875", "-0.0625", "-0.1875"]
        let want: [RoundingMode: [Int128]] = [
            .TRN: [0, 1, -1, -2], .TRN_ZERO: [0, 1, 0, -1], .RND: [1, 2, 0, -1], .RND_ZERO: [0, 1, 0, -1],
            .RND_MIN_INF: [0, 1, -1, -2], .RND_INF: [1, 2, -1, -2], .RND_CONV: [0, 2, 0, -2],
        ]
        for q in RoundingMode.allCases {
            XCTAssertEqual(try kernelCodes(ties, "fixed<6,3,\(q.rawValue)>"), want[q], q.rawValue)
        }
    }

    func testWeightsAreReadExactlyNotThroughDouble() throws {
        // Both texts are the double 0.0625; exactly they lie either side of the tie.
        XCTAssertEqual(try kernelCodes(["0.06250000000000000000001", "0.06249999999999999999999"], "fixed<6,3,RND_CONV>"), [1, 0])
        XCTAssertEqual(try kernelCodes(["6.25e-2", "625E-4", "0.0625"], "fixed<6,3,RND>"), [1, 1, 1])
    }

    func testKernelOverflowMode() throws {
        // fixed<6,3>: codes -32..31 (-4 .. 3.875). 5 -> 40, -5 -> -40.
        XCTAssertEqual(try kernelCodes(["5", "-5"], "fixed<6,3>"), [-24, 24])
        XCTAssertEqual(try kernelCodes(["5", "-5"], "fixed<6,3,TRN,SAT>"), [31, -32])
        XCTAssertEqual(try kernelCodes(["5", "-5"], "fixed<6,3,TRN,SAT_ZERO>"), [0, 0])
        XCTAssertEqual(try kernelCodes(["5", "-5", "-4"], "fixed<6,3,TRN,SAT_SYM>"), [31, -31, -31])
        XCTAssertEqual(try kernelCodes(["5", "-5", "3.9"], "ufixed<5,2,RND,SAT>"), [31, 0, 31])
        // Rounding happens before overflow: 3.99 rounds to 4.0, which then saturates.
        XCTAssertEqual(try kernelCodes(["3.99"], "fixed<6,3,RND,SAT>"), [31])
        XCTAssertEqual(try kernelCodes(["3.99"], "fixed<6,3,RND,WRAP>"), [-32])
    }

    func testBiasUsesBiasTypeModes() throws {
        let text = denseModel(n: 1, inType: "fixed<8,4>", units: 3, kernel: "[[1, 1, 1]]", bias: "[0.1875, 100, -0.0625]",
                              kernelType: "fixed<6,3>", biasType: "fixed<6,3,RND_CONV,SAT>", accum: "auto", outType: "fixed<16,8>")
        let d = try XCTUnwrap(dense(try ModelLoader.parse(text: text, file: "b.json")))
        XCTAssertEqual(d.bias, [2, 31, 0])
    }
}

final class WriterRoundTripTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func assertSameModel(_ a: Model, _ b: Model, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.name, b.name, what, file: file, line: line)
        XCTAssertEqual(a.description, b.description, what, file: file, line: line)
        XCTAssertEqual(a.input.name, b.input.name, what, file: file, line: line)
        XCTAssertEqual(a.input.size, b.input.size, what, file: file, line: line)
        XCTAssertEqual(a.input.type, b.input.type, what, file: file, line: line)
        XCTAssertEqual(a.layers.count, b.layers.count, what, file: file, line: line)
        for (x, y) in zip(a.layers, b.layers) {
            XCTAssertEqual(x.name, y.name, what, file: file, line: line)
            XCTAssertEqual(x.opName, y.opName, what, file: file, line: line)
            XCTAssertEqual(x.outputType, y.outputType, "\(what) \(x.name)", file: file, line: line)
            XCTAssertEqual(x.outputSize, y.outputSize, what, file: file, line: line)
            if case let .dense(p) = x.op, case let .dense(q) = y.op {
                XCTAssertEqual(p.units, q.units, what, file: file, line: line)
                XCTAssertEqual(p.kernelType, q.kernelType, "\(what) \(x.name)", file: file, line: line)
                XCTAssertEqual(p.biasType, q.biasType, "\(what) \(x.name)", file: file, line: line)
                XCTAssertEqual(p.accumType, q.accumType, "\(what) \(x.name)", file: file, line: line)
                XCTAssertEqual(p.kernel, q.kernel, "\(what) \(x.name) kernel", file: file, line: line)
                XCTAssertEqual(p.bias, q.bias, "\(what) \(x.name) bias", file: file, line: line)
            }
        }
    }

    func roundTrip(_ text: String, _ what: String) throws {
        let m1 = try ModelLoader.parse(text: text, file: what)
        let w1 = ModelWriter.json(m1)
        let m2 = try ModelLoader.parse(text: w1, file: what + " (written)")
        assertSameModel(m1, m2, what)
        XCTAssertEqual(ModelWriter.json(m2), w1, "\(what): writing is not a fixed point")
    }

    func testExamplesRoundTrip() throws {
        var n = 0
        for ex in ["muon_recal", "jet_tagger"] {
            let url = Self.root.appendingPathComponent("examples/\(ex)/model.json")
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            try roundTrip(text, ex)
            n += 1
        }
        XCTAssertGreaterThan(n, 0, "no example model found under \(Self.root.path)/examples")
    }

    func testAllSpellingsAndModesRoundTrip() throws {
        try roundTrip(baseModel, "base")
        var layers: [String] = []
        var k = 0
        for q in RoundingMode.allCases {
            for o in OverflowMode.allCases {
                let (sg, pre, mp) = k % 3 == 0 ? ("fixed", "ap_", "AP_") : k % 3 == 1 ? ("ufixed", "", "") : ("fixed", "", "AP_")
                layers.append("""
                {"name": "fc\(k)", "op": "dense", "units": 2, "kernel": [[0.30103, -1.7], [2.99, 0.0078125]],
                 "bias": [-0.333, 1e1], "kernel_type": "\(pre)\(sg)<\(5 + k % 4),\(k % 5 - 2),\(mp)\(q.rawValue),\(mp)\(o.rawValue)>",
                 "bias_type": "\(pre)fixed<\(6 + k % 3), \(k % 7 - 1), \(mp)\(q.rawValue), \(mp)\(o.rawValue)>",
                 "accum_type": "\(k % 2 == 0 ? "auto" : "fixed<40,20,\(q.rawValue)>")",
                 "output_type": "\(pre)fixed<12,\(k % 9 - 1),\(q.rawValue),\(o.rawValue)>"}
                """)
                k += 1
            }
        }
        layers.append(#"{"name": "last", "op": "relu", "output_type": "ap_uint<4>"}"#)
        let text = """
        {"format": "rtlgen-model", "version": 1, "name": "spellings", "description": "all \\"modes\\"",
         "input": {"name": "inp", "size": 2, "type": "ap_int<6>"}, "layers": [\(layers.joined(separator: ",\n"))]}
        """
        try roundTrip(text, "spellings")
        let m = try ModelLoader.parse(text: text, file: "spellings")
        XCTAssertEqual(m.layers.count, 29)
        XCTAssertEqual(m.input.type, FixedType(signed: true, width: 6, intBits: 6))
    }
}

/// Tiny models whose outputs were computed by hand (see the comments).
final class GoldenHandTests: XCTestCase {
    func run(_ text: String, _ inputs: [String]) throws -> [String] {
        let m = try ModelLoader.parse(text: text, file: "hand.json")
        let g = try GoldenModel(m)
        let codes = try inputs.map { try m.input.type.quantize(decimal: $0) }
        return g.evaluate(codes: codes).map { m.outputType.decimalString($0) }
    }

    func testDenseAutoAccumulator() throws {
        // x = [1.5, 2.25] in fixed<8,4>; kernel fixed<6,3> [[0.5, 3.875], [-1.25, 3.875]]; bias [0, 0.0625].
        // y0 = 0.75 - 2.8125 + 0       = -2.0625  -> x8 = -16.5  (an exact tie, nothing rounded before)
        // y1 = 5.8125 + 8.71875 + 0.0625 = 14.59375 -> x8 = 116.75
        let cases: [(String, [String])] = [
            ("fixed<6,3,RND_CONV,SAT>", ["-2", "3.875"]),     // -16.5 -> -16 (even); 117 > 31 -> 31
            ("fixed<6,3,TRN,SAT>", ["-2.125", "3.875"]),      // floor(-16.5) = -17
            ("fixed<6,3,RND,SAT>", ["-2", "3.875"]),          // tie up -> -16
            ("fixed<6,3,RND_INF,SAT>", ["-2.125", "3.875"]),  // tie away from zero -> -17
            ("fixed<6,3,RND_CONV,WRAP>", ["-2", "-1.375"]),   // 116.75 -> 117 -> 117 - 128 = -11
            ("fixed<6,3>", ["-2.125", "-1.5"]),               // 116 - 128 = -12
            ("fixed<16,8>", ["-2.0625", "14.59375"]),         // exact: F = 8 holds every bit
        ]
        for (out, want) in cases {
            let text = denseModel(n: 2, inType: "fixed<8,4>", units: 2, kernel: "[[0.5, 3.875], [-1.25, 3.875]]", bias: "[0, 0.0625]",
                                  kernelType: "fixed<6,3>", biasType: "fixed<8,4>", accum: "auto", outType: out)
            XCTAssertEqual(try run(text, ["1.5", "2.25"]), want, out)
        }
    }

    func testDenseExplicitWrapAccumulator() throws {
        // x = [3, 3, 0.0625]; kernel fixed<8,4> [[2], [2], [0.5]]; bias fixed<10,2> [0.00390625] (code 1).
        func model(_ accum: String) -> String {
            denseModel(n: 3, inType: "fixed<8,4>", units: 1, kernel: "[[2], [2], [0.5]]", bias: "[0.00390625]",
                       kernelType: "fixed<8,4>", biasType: "fixed<10,2>", accum: accum, outType: "fixed<16,8>")
        }
        // auto: 6 + 6 + 0.03125 + 0.00390625 = 12.03515625, exact in fixed<16,8>.
        XCTAssertEqual(try run(model("auto"), ["3", "3", "0.0625"]), ["12.03515625"])
        // fixed<8,4> (TRN, WRAP): products 6 -> code 96, 6 -> 96, 0.03125 -> 0.5 -> 0; bias 0.0625 codes -> 0.
        // 96 + 96 = 192 wraps in 8 bits to 192 - 256 = -64 -> -4.
        XCTAssertEqual(try run(model("fixed<8,4>"), ["3", "3", "0.0625"]), ["-4"])
        // fixed<8,4,RND>: 0.03125 is 0.5 of an LSB -> rounds up to code 1; bias 0.0625 LSB -> 0. 193 - 256 = -63.
        XCTAssertEqual(try run(model("fixed<8,4,RND>"), ["3", "3", "0.0625"]), ["-3.9375"])
        // A wider accumulator does not wrap: 96 + 96 + 0 = 192 -> 12 (products still truncated to F = 4).
        XCTAssertEqual(try run(model("fixed<10,6>"), ["3", "3", "0.0625"]), ["12"])
        // A single product that overflows the accumulator wraps too: 7 * 2 = 14 -> code 224 -> -32 -> -2;
        // 224 + 96 = 320 -> 64 -> 4 (order does not matter: the sum is modulo 256).
        XCTAssertEqual(try run(model("fixed<8,4>"), ["7", "3", "0"]), ["4"])
        XCTAssertEqual(try run(model("fixed<8,4>"), ["7", "0", "0"]), ["-2"])
    }

    func testReluToUnsignedSaturating() throws {
        let text = """
        {"format": "rtlgen-model", "version": 1, "name": "r", "input": {"size": 4, "type": "fixed<8,4>"},
         "layers": [{"name": "relu", "op": "relu", "output_type": "ufixed<4,2,RND,SAT>"}]}
        """
        // ufixed<4,2>: F = 2, codes 0..15 (0 .. 3.75). -1.5 -> 0; 5 -> 20 -> 15; 1.125 -> 4.5 -> RND 5; -0.0625 -> 0.
        XCTAssertEqual(try run(text, ["-1.5", "5", "1.125", "-0.0625"]), ["0", "3.75", "1.25", "0"])
        let wrap = text.replacingOccurrences(of: "ufixed<4,2,RND,SAT>", with: "ufixed<4,2,RND>")
        // WRAP: 20 -> 20 - 16 = 4 -> 1.
        XCTAssertEqual(try run(wrap, ["-1.5", "5", "1.125", "-0.0625"]), ["0", "1", "1.25", "0"])
    }

    func testDenseThenRelu() throws {
        // The base model: fixed<8,4> -> dense (fixed<12,6,RND_CONV,SAT>) -> relu (ufixed<8,3,RND_CONV,SAT>).
        // x = [2.5, -1.0625]: y0 = 1.25 - 0.1328125 + 0.0625 = 1.1796875 -> x64 = 75.5 -> 76 -> 1.1875
        //                     y1 = -0.625 - 0.796875 = -1.421875 -> relu 0
        //                     y2 = 2.5 + 1.0625 - 0.5 = 3.0625
        XCTAssertEqual(try run(baseModel, ["2.5", "-1.0625"]), ["1.1875", "0", "3.0625"])
        // x = [7.9375, 7.9375]: y0 = 3.96875 + 0.9921875 + 0.0625 = 5.0234375 -> x64 = 321.5 -> 322 -> 5.03125
        //                       y1 = -1.984375 + 5.953125 = 3.96875; y2 = -0.5 -> 0
        XCTAssertEqual(try run(baseModel, ["7.9375", "7.9375"]), ["5.03125", "3.96875", "0"])
        // Inputs beyond fixed<8,4> wrap (TRN, WRAP): 8 -> code 128 -> -128 = -8, 9.99 -> 159 -> -97 = -6.0625.
        let m = try ModelLoader.parse(text: baseModel, file: "b")
        XCTAssertEqual(try m.input.type.quantize(decimal: "8"), -128)
        XCTAssertEqual(try m.input.type.quantize(decimal: "9.99"), -97)
    }
}
