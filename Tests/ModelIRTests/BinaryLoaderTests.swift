// Binary and ternary networks in the model file: types, bad input, hand-computed golden results,
// and the exactness of batchnorm + sign folding, proved by enumerating every input code.
import BigInt
import FixedPoint
import Foundation
import Golden
@testable import ModelIR
import XCTest

let binaryBase = """
{"format": "rtlgen-model", "version": 1, "name": "bnn",
 "input": {"size": 3, "type": "fixed<8,3>"},
 "layers": [
  {"name": "bd0", "op": "binary_dense", "units": 2, "kernel": [[1, -1], [-1, -1], [1, 1]], "output_type": "fixed<11,6>"},
  {"name": "bn0", "op": "batchnorm", "gamma": [1.5, -0.5], "beta": [0.25, 1], "mean": [0.5, -1], "variance": [2.2499, 4], "epsilon": 0.0001},
  {"name": "act0", "op": "sign"},
  {"name": "td1", "op": "ternary_dense", "units": 2, "kernel": [[1, 0], [-1, 1]], "output_type": "int<3>"},
  {"name": "th1", "op": "threshold", "thresholds": [0.5, -1], "directions": ["ge", "le"]},
  {"name": "mt2", "op": "multi_threshold", "thresholds": [[-1, 0, 1]], "out_scale": 0.5, "out_bias": -0.75, "output_type": "fixed<6,3>"},
  {"name": "bs3", "op": "batchnorm", "scale": [0.3, -1.25], "bias": [0.1, 2], "scale_type": "fixed<8,2,RND_CONV>", "bias_type": "fixed<8,3>", "output_type": "fixed<10,4,RND,SAT>"}
 ]}
"""

func binaryEdited(_ from: String, _ to: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    XCTAssertTrue(binaryBase.contains(from), "test setup: '\(from)' not in the base model", file: file, line: line)
    return binaryBase.replacingOccurrences(of: from, with: to)
}

final class BinaryLoaderTests: XCTestCase {
    func testBinaryTypes() throws {
        XCTAssertEqual(try FixedType.parse("bipolar"), .bipolar)
        XCTAssertEqual(try FixedType.parse(" Ternary "), .ternary)
        XCTAssertEqual(FixedType.bipolar.description, "bipolar")
        XCTAssertEqual(FixedType.ternary.description, "ternary")
        XCTAssertEqual(FixedType.bipolar.width, 1)
        XCTAssertEqual(FixedType.ternary.width, 2)
        XCTAssertNotEqual(FixedType.ternary, try FixedType.parse("fixed<2,2,TRN,SAT_SYM>"))
        // The cast into bipolar is the sign (0 -> +1); into ternary it truncates and clamps.
        let b = FixedType.bipolar, t = FixedType.ternary
        XCTAssertEqual([-3, -1, 0, 1, 5].map { b.cast(code: $0, frac: 4) }, [-1, -1, 1, 1, 1])
        XCTAssertEqual(try ["-0.001", "0", "-0", "7.5", "-1e-30"].map { try b.quantize(decimal: $0) }, [-1, 1, 1, 1, -1])
        XCTAssertEqual(try ["-0.5", "0.99", "1", "3", "-7", "-1"].map { try t.quantize(decimal: $0) }, [-1, 0, 1, 1, -1, -1])
        // Stored bits: bipolar 0 means -1; ternary is two's complement.
        XCTAssertEqual(b.encode(-1), 0)
        XCTAssertEqual(b.encode(1), 1)
        XCTAssertEqual(b.decode(0), -1)
        XCTAssertEqual(b.decode(1), 1)
        XCTAssertEqual((-1...1).map { t.encode(Int128($0)) }, [3, 0, 1])
        XCTAssertEqual([3, 0, 1].map { t.decode($0) }, [-1, 0, 1])
        XCTAssertEqual(b.decimalString(-1), "-1")
    }

    func testBadBinaryModels() throws {
        let cases: [(String, String, String, [String])] = [
            ("[[1, -1], [-1, -1], [1, 1]]", "[[1, -1], [-1, 0.5], [1, 1]]", "layers[0].kernel[1][1]", ["+1 or -1", "0.5"]),
            ("[[1, -1], [-1, -1], [1, 1]]", "[[1, -1], [-1, 0], [1, 1]]", "layers[0].kernel[1][1]", ["+1 or -1", "0"]),
            ("[[1, 0], [-1, 1]]", "[[1, 0], [-1, 2]]", "layers[3].kernel[1][1]", ["-1, 0 or +1", "2"]),
            ("[[1, 0], [-1, 1]]", "[[1, 0]]", "layers[3].kernel", ["expected 2 rows"]),
            ("\"thresholds\": [0.5, -1]", "\"thresholds\": [0.5]", "layers[4].thresholds", ["expected 2", "found 1"]),
            ("[\"ge\", \"le\"]", "[\"ge\", \">=\"]", "layers[4].directions[1]", ["ge", "le"]),
            ("[[-1, 0, 1]]", "[[-1, 0, 1], [1]]", "layers[5].thresholds[1]", ["expected 3", "found 1"]),
            ("[[-1, 0, 1]]", "[[-1], [0], [1]]", "layers[5].thresholds", ["expected 2 rows"]),
            ("\"scale_type\": \"fixed<8,2,RND_CONV>\", ", "", "layers[6].scale_type", ["missing", "not followed by sign"]),
            ("\"scale_type\": \"fixed<8,2,RND_CONV>\"", "\"scale_type\": \"bipolar\"", "layers[6].scale_type", ["bipolar"]),
            ("{\"name\": \"act0\", \"op\": \"sign\"}", "{\"name\": \"act0\", \"op\": \"sign\", \"output_type\": \"int<2>\"}", "layers[2].output_type", ["bipolar"]),
            ("\"variance\": [2.2499, 4]", "\"variance\": [2.2499, -0.0001]", "layers[1].variance[1]", ["positive"]),
            ("\"mean\": [0.5, -1], ", "", "layers[1].mean", ["missing"]),
            ("\"gamma\": [1.5, -0.5]", "\"scale\": [1, 1], \"gamma\": [1.5, -0.5]", "layers[1].gamma", ["either scale and bias"]),
        ]
        for (from, to, field, words) in cases {
            XCTAssertThrowsError(try ModelLoader.parse(text: binaryEdited(from, to), file: "b.json"), field) { e in
                guard let ie = e as? InputError else { return XCTFail("\(e)") }
                XCTAssertEqual(ie.file, "b.json")
                XCTAssertEqual(ie.field, field, "\(ie)")
                for w in words { XCTAssertTrue(ie.message.contains(w), "'\(w)' not in: \(ie)") }
            }
        }
        // A batchnorm followed by something other than sign needs its types.
        let standalone = binaryEdited("{\"name\": \"act0\", \"op\": \"sign\"},", "")
        XCTAssertThrowsError(try ModelLoader.parse(text: standalone, file: "b.json")) { e in
            XCTAssertEqual((e as? InputError)?.field, "layers[1].scale_type")
        }
        // bipolar/ternary cannot be an accumulator.
        let acc = binaryEdited("\"input\": {\"size\": 3, \"type\": \"fixed<8,3>\"},\n \"layers\": [",
                               "\"input\": {\"size\": 3, \"type\": \"bipolar\"},\n \"layers\": [{\"name\": \"fc\", \"op\": \"dense\", \"units\": 3, \"kernel\": [[1,1,1],[1,1,1],[1,1,1]], \"kernel_type\": \"int<2>\", \"bias_type\": \"int<2>\", \"accum_type\": \"ternary\", \"output_type\": \"int<4>\"},")
        XCTAssertThrowsError(try ModelLoader.parse(text: acc, file: "b.json")) { e in
            XCTAssertEqual((e as? InputError)?.field, "layers[0].accum_type")
        }
    }

    /// Hand-computed results of every op.
    func testGoldenBinaryOps() throws {
        func run(_ input: String, _ layers: String, _ xs: [[String]]) throws -> [[String]] {
            let text = """
            {"format": "rtlgen-model", "version": 1, "name": "h", "input": {"size": \(xs[0].count), "type": "\(input)"}, "layers": [\(layers)]}
            """
            let m = try ModelLoader.parse(text: text, file: "h.json")
            let g = try GoldenModel(m)
            return try xs.map { row in g.evaluate(codes: try row.map { try m.input.type.quantize(decimal: $0) }).map { m.outputType.decimalString($0) } }
        }
        // XNOR-popcount: x = (+1, -1, -1, +1, +1), w = (+1, +1, -1, -1, +1): agreements 1, 0, 1, 0, 1:
        // 2 * 3 - 5 = 1. Second output all weights -1: -(1 - 1 - 1 + 1 + 1) = -1.
        XCTAssertEqual(try run("bipolar", """
            {"name": "b", "op": "binary_dense", "units": 2, "kernel": [[1,-1],[1,-1],[-1,-1],[-1,-1],[1,-1]], "output_type": "int<4>"}
            """, [["1", "-1", "-1", "1", "1"], ["0", "-0.5", "-3", "2", "0.0"]]), [["1", "-1"], ["1", "-1"]])
        // Fixed-point input: +x0 - x1, cast to a narrow saturating type.
        XCTAssertEqual(try run("fixed<8,4>", """
            {"name": "b", "op": "binary_dense", "units": 1, "kernel": [[1],[-1]], "output_type": "fixed<6,3,RND,SAT>"}
            """, [["1.25", "-2.5"], ["-7", "6"], ["0.0625", "0"]]), [["3.75"], ["-4"], ["0.125"]])
        // sign: 0 -> +1. ternary_tanh: d = 2x wraps in fixed<4,2> (2 * 1.5 = 3 wraps to -1, 2 * -1.25 = -2.5 wraps to 1.5).
        XCTAssertEqual(try run("fixed<4,2>", #"{"name": "s", "op": "sign"}"#, [["0", "-0.25", "1.75", "-2"]]), [["1", "-1", "1", "-1"]])
        XCTAssertEqual(try run("fixed<4,2>", #"{"name": "t", "op": "ternary_tanh"}"#, [["0.5", "0.75", "-0.5", "-0.25"], ["1.5", "-1.25", "0.25", "-2"]]),
                       [["0", "1", "-1", "0"], ["-1", "1", "0", "0"]])
        // threshold at 0.3 on a 1/4 grid: x >= 0.3 <=> x >= 0.5; "le" -0.3: x <= -0.5.
        XCTAssertEqual(try run("fixed<6,3>", #"{"name": "t", "op": "threshold", "thresholds": [0.3, -0.3], "directions": ["ge", "le"]}"#,
                               [["0.25", "-0.25"], ["0.5", "-0.5"]]), [["-1", "-1"], ["1", "1"]])
        // multi_threshold: count of x >= (-1, 0, 1), times 0.5, minus 0.75, in fixed<6,3> (TRN: -0.75 -> -0.75).
        XCTAssertEqual(try run("fixed<6,3>", #"{"name": "m", "op": "multi_threshold", "thresholds": [[-1, 0, 1]], "out_scale": 0.5, "out_bias": -0.75, "output_type": "fixed<6,3>"}"#,
                               [["-1.25"], ["-1"], ["0"], ["3"]]), [["-0.75"], ["-0.25"], ["0.25"], ["0.75"]])
        // standalone batchnorm: scale 0.3 -> 19/64 = 0.296875 in fixed<8,2,RND_CONV>, bias 0.1 -> 3/32 = 0.09375 in
        // fixed<8,3> (TRN); 4 * 0.296875 + 0.09375 = 1.28125, -8 * 0.296875 + 0.09375 = -2.28125.
        XCTAssertEqual(try run("int<4>", #"{"name": "b", "op": "batchnorm", "scale": [0.3], "bias": [0.1], "scale_type": "fixed<8,2,RND_CONV>", "bias_type": "fixed<8,3>", "output_type": "fixed<12,4>"}"#,
                               [["4"], ["-8"]]), [["1.28125"], ["-2.28125"]])
        // gamma form: scale = 2 / sqrt(0.25) = 4, bias = 1 - 0.5 * 4 = -1 (both exact).
        XCTAssertEqual(try run("int<4>", #"{"name": "b", "op": "batchnorm", "gamma": [2], "beta": [1], "mean": [0.5], "variance": [0.2499], "epsilon": 0.0001, "scale_type": "fixed<8,4>", "bias_type": "fixed<8,4>", "output_type": "fixed<12,8>"}"#,
                               [["3"], ["-2"]]), [["11"], ["-9"]])
    }

    /// The written model (batchnorm + sign folded into a threshold) reads back as the same model.
    func testFoldedModelRoundTrips() throws {
        let m = try ModelLoader.parse(text: binaryBase, file: "b.json")
        XCTAssertEqual(m.layers.map { $0.opName }, ["binary_dense", "threshold", "ternary_dense", "threshold", "multi_threshold", "batchnorm"])
        XCTAssertEqual(m.layers[1].name, "bn0")
        let text = ModelWriter.json(m)
        let again = try ModelLoader.parse(text: text, file: "again.json")
        XCTAssertEqual(ModelWriter.json(again), text)
        let g1 = try GoldenModel(m), g2 = try GoldenModel(again)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let x = (0..<3).map { _ in Int128(Int.random(in: -128...127, using: &rng)) }
            XCTAssertEqual(g1.evaluate(codes: x), g2.evaluate(codes: x))
        }
    }
}

// MARK: - The exactness of batchnorm + sign folding

/// An independent evaluation of sign(beta + (x - mean) * gamma / sqrt(v)) for the proof: the
/// square root is bracketed by integer square roots at 2^-300 and only an exact tie (possible only
/// when v is the square of a rational) is decided exactly; nothing is shared with the folding code
/// except the parsed decimals and the rational type.
struct IndependentBN {
    let gamma: Rational, beta: Rational, mean: Rational
    /// 1/sqrt(v) exactly, or strictly between inv.lo and inv.hi.
    let exactInv: Rational?
    let inv: (lo: Rational, hi: Rational)

    init(gamma: Rational, beta: Rational, mean: Rational, v: Rational) {
        func isqrt(_ n: BigInt) -> BigInt {   // floor(sqrt(n)), Newton
            if n < 2 { return n }
            var x = BigInt(1) << ((n.bitWidth + 1) / 2)
            while true { let y = (x + n / x) / 2; if y >= x { return x }; x = y }
        }
        self.gamma = gamma; self.beta = beta; self.mean = mean
        // sqrt(v) = sqrt(n d) / d, and sqrt(n d) 2^P is in [s, s + 1]
        let p = 300
        let nd = (v.num * v.den) << (2 * p)
        let s = isqrt(nd)
        exactInv = s * s == nd ? Rational(v.den << p, s) : nil
        inv = (Rational(v.den << p, s + 1), Rational(v.den << p, s))
    }

    func sign(at x: Rational) -> Int {
        let a = (x - mean) * gamma           // y = beta + a / sqrt(v)
        if a.sign == 0 { return beta.sign >= 0 ? 1 : -1 }
        if let e = exactInv { return (beta + a * e).sign >= 0 ? 1 : -1 }
        let y1 = beta + a * inv.lo, y2 = beta + a * inv.hi
        if y1.sign > 0 && y2.sign > 0 { return 1 }
        if y1.sign < 0 && y2.sign < 0 { return -1 }
        XCTFail("undecided at 2^-300 without an exact square root")
        return 0
    }
}

final class BatchNormFoldProofTests: XCTestCase {
    /// Every input code of small layers, for channels with positive, negative and zero gamma,
    /// exact ties (perfect-square variance + epsilon), irrational scales, thresholds outside the
    /// range, and the scale/bias form: the loaded (folded) model's golden output equals the
    /// independent exact evaluation for every code. Also counts how often hls4ml 1.3's rule
    /// (threshold = floor(-bias/scale on the input grid), x >= t, regardless of the sign of scale)
    /// would differ.
    func testFoldingIsExactForEveryInputCode() throws {
        let gamma = ["1.5", "-0.5", "0", "0", "2", "-3", "0.7", "-0.7", "1", "-1", "1e-3", "4"]
        let beta  = ["0.25", "1", "0.5", "-0.5", "-0.3", "0.1", "0.05", "0.05", "0", "0", "0.0001", "-100"]
        let mean  = ["0.5", "-1", "3", "3", "0.125", "-2.2", "1.1", "1.1", "0.75", "-0.75", "2", "0"]
        let vari  = ["2.2499", "3.9999", "1", "1", "1.9999", "0.0899", "0.4999", "0.4999", "0.0624", "0.0624", "0.9999", "0.0001"]
        let inputTypes = ["fixed<8,3>", "fixed<7,7>", "ufixed<6,2>", "fixed<8,1,RND,SAT>", "fixed<6,-1>", "int<7>", "bipolar"]
        var codesChecked = 0
        var hlsDiffers = 0
        var hlsCases = 0
        for inText in inputTypes {
            let text = """
            {"format": "rtlgen-model", "version": 1, "name": "f", "input": {"size": \(gamma.count), "type": "\(inText)"},
             "layers": [{"name": "bn", "op": "batchnorm", "gamma": [\(gamma.joined(separator: ","))], "beta": [\(beta.joined(separator: ","))],
                         "mean": [\(mean.joined(separator: ","))], "variance": [\(vari.joined(separator: ","))], "epsilon": 0.0001},
                        {"name": "s", "op": "sign"}]}
            """
            let m = try ModelLoader.parse(text: text, file: "f.json")
            XCTAssertEqual(m.layers.count, 1)
            guard case let .binary(.threshold(th)) = m.layers[0].op else { return XCTFail("not folded") }
            let g = try GoldenModel(m)
            let t = m.input.type
            let codes: [Int128] = t.isBipolar ? [-1, 1] : Array(t.minCode...t.maxCode)
            let ref = try gamma.indices.map { j in
                IndependentBN(gamma: try Rational(decimal: gamma[j]), beta: try Rational(decimal: beta[j]),
                              mean: try Rational(decimal: mean[j]), v: try Rational(decimal: vari[j]) + Rational(decimal: "0.0001"))
            }
            for c in codes {
                let y = g.evaluate(codes: Array(repeating: c, count: gamma.count))
                let x = Rational(code: c, frac: t.fracBits)
                for j in gamma.indices {
                    let want = ref[j].sign(at: x)
                    XCTAssertEqual(Int(y[j]), want, "\(inText) code \(c) channel \(j) rule \(th.rules[j])")
                    codesChecked += 1
                    // hls4ml 1.3: scale, bias in floating point, t = floor(-bias/scale * 2^F) / 2^F, x >= t.
                    let gd = Double(gamma[j])!, sd = gd / (Double(vari[j])! + 0.0001).squareRoot()
                    if sd != 0 && !t.isBipolar {
                        let bias = Double(beta[j])! - Double(mean[j])! * sd
                        let tq = (-bias / sd * pow2(t.fracBits)).rounded(.down)
                        let hls = Double(c) >= tq ? 1 : -1
                        hlsCases += 1
                        if hls != want { hlsDiffers += 1 }
                    }
                }
            }
        }
        XCTAssertGreaterThan(codesChecked, 10_000)
        // The floor rule and the ignored sign of scale do change results (documented in arithmetic.md).
        XCTAssertGreaterThan(hlsDiffers, 0)
        print("batchnorm+sign fold: \(codesChecked) (code, channel) pairs exact; hls4ml 1.3's rule differs on \(hlsDiffers) of \(hlsCases)")
    }
}
