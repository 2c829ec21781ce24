// The activation layers (issue 3): golden semantics checked against independent computations
// (Double evaluations of the functions, hand-computed codes), the centred tables' exactness and
// symmetry, the model-file errors, and the writer round trip. hls4ml itself is the oracle of
// Tests/hls4ml/activations.py (`make hls4ml-activations`).
import FixedPoint
import Foundation
import Golden
@testable import ModelIR
import XCTest

/// A one-layer model: `size` inputs of `inType`, then the layer given by its JSON fields.
func activationModel(_ fields: String, inType: String, outType: String, size: Int = 1, name: String = "act") -> String {
    """
    {"format": "rtlgen-model", "version": 1, "name": "m",
     "input": {"size": \(size), "type": "\(inType)"},
     "layers": [{"name": "\(name)", \(fields), "output_type": "\(outType)"}]}
    """
}

func activation(_ m: Model) -> Activation {
    guard case let .activation(a) = m.layers[0].op else { preconditionFailure("not an activation") }
    return a
}

func sigmoidD(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

final class ActivationGoldenTests: XCTestCase {
    func load(_ fields: String, _ inType: String, _ outType: String) throws -> (Activation, FixedType, FixedType) {
        let m = try ModelLoader.parse(text: activationModel(fields, inType: inType, outType: outType), file: "a.json")
        return (activation(m), m.input.type, m.layers[0].outputType)
    }

    /// hls4ml tables: entry i is f(lo + i * span / N) truncated onto fixed<18,8> (its TRN mode).
    /// Checked against Double evaluations wherever the value is not within 1e-6 of a grid point
    /// (there a float32 rounding could legitimately land on either side).
    func testHls4mlTablesAgainstDouble() throws {
        var checked = 0
        for (f, span) in [("sigmoid", 16.0), ("tanh", 8.0)] {
            for n in [8, 256, 1024, 4096] {
                let (a, _, _) = try load("\"op\": \"\(f)\", \"table_size\": \(n)", "fixed<16,6>", "fixed<18,8>")
                let (tt, entries) = a.table!
                XCTAssertEqual(tt, FixedType(signed: true, width: 18, intBits: 8))
                XCTAssertEqual(entries.count, n)
                for i in 0..<n {
                    let x = -span / 2 + Double(i) * span / Double(n)
                    let v = (f == "sigmoid" ? sigmoidD(x) : Foundation.tanh(x)) * 1024
                    if abs(v - v.rounded()) < 1e-6 * 1024 { continue }
                    XCTAssertEqual(entries[i], Int128(v.rounded(.down)), "\(f) N=\(n) entry \(i)")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 10_000)
    }

    /// The index: trunc0(x * N / span) + N/2, clamped. Small negative inputs share bin N/2 with
    /// small positive ones in hls4ml mode (truncation toward zero); centred mode floors.
    func testIndexRule() throws {
        let (hls, it, _) = try load("\"op\": \"sigmoid\"", "fixed<16,6>", "fixed<18,8>")
        let (cen, _, _) = try load("\"op\": \"sigmoid\", \"table\": \"centered\"", "fixed<16,6>", "fixed<18,8>")
        // x = c / 1024; x * 1024 / 16 = c / 16.
        for (c, hi, ci): (Int128, Int, Int) in [(0, 512, 512), (15, 512, 512), (16, 513, 513), (-1, 512, 511),
                                                (-15, 512, 511), (-16, 511, 511), (-17, 511, 510),
                                                (8191, 1023, 1023), (-8192, 0, 0), (-8177, 1, 0), (32767, 1023, 1023)] {
            XCTAssertEqual(hls.tableIndex(c, input: it), hi, "hls4ml index of code \(c)")
            XCTAssertEqual(cen.tableIndex(c, input: it), ci, "centred index of code \(c)")
        }
        // ap_fixed's quotient keeps only F fractional bits: with F = -2 and N = 8, x = -4 gives
        // x * 8 / 16 = -2 exactly, but the quotient grid is 4, so hls4ml's int is 0.
        XCTAssertEqual(hlsQuotient(-1, frac: -2, sizeLog2: 3, divisorLog2: 4), 0)
        XCTAssertEqual(hlsQuotient(-2, frac: -2, sizeLog2: 3, divisorLog2: 4), -4)
        XCTAssertEqual(hlsQuotient(-1, frac: 2, sizeLog2: 3, divisorLog2: 4), 0)
        XCTAssertEqual(hlsQuotient(-9, frac: 0, sizeLog2: 3, divisorLog2: 4), -4)
    }

    /// Centred tables: symmetric about zero, and within half an LSB of the function at each bin
    /// centre (the nearest grid point; the rounding is decided exactly).
    func testCenteredTablesAreSymmetricAndNearest() throws {
        for (f, span) in [("sigmoid", 16.0), ("tanh", 8.0)] {
            for n in [2, 64, 1024] {
                for tt in ["fixed<18,8>", "fixed<12,2>", "fixed<40,2>"] {
                    let (a, _, _) = try load("\"op\": \"\(f)\", \"table\": \"centered\", \"table_size\": \(n), \"table_type\": \"\(tt)\"",
                                             "fixed<16,6>", "fixed<18,8>")
                    let (t, e) = a.table!
                    let scale = pow2(t.fracBits)
                    for i in 0..<n {
                        if f == "sigmoid" {
                            XCTAssertEqual(e[i] + e[n - 1 - i], Int128(1) << t.fracBits, "\(f) \(tt) N=\(n) entry \(i)")
                        } else {
                            XCTAssertEqual(e[i], -e[n - 1 - i], "\(f) \(tt) N=\(n) entry \(i)")
                        }
                        let x = -span / 2 + (Double(i) + 0.5) * span / Double(n)
                        let v = f == "sigmoid" ? sigmoidD(x) : Foundation.tanh(x)
                        // Double has 53 bits: for 38 fractional bits allow a few Double ulps.
                        XCTAssertLessThanOrEqual(abs(Double(e[i]) / scale - v), 0.5 / scale + 1e-15, "\(f) \(tt) N=\(n) entry \(i)")
                    }
                }
            }
        }
    }

    /// The figure in docs/arithmetic.md: the maximum error against the real function over every
    /// input code of fixed<16,6> within the table's range (and beyond it), with the table's own
    /// precision as output, for both modes.
    func testCenteredModeIsCloserToTheFunction() throws {
        var report: [String] = []
        for (f, range) in [("sigmoid", 8.0), ("tanh", 4.0)] {
            var err: [String: (inside: Double, all: Double)] = [:]
            for mode in ["hls4ml", "centered"] {
                let (a, it, ot) = try load("\"op\": \"\(f)\", \"table\": \"\(mode)\"", "fixed<16,6>", "fixed<18,8>")
                var inside = 0.0, all = 0.0
                for c in it.minCode...it.maxCode {
                    let x = Double(c) / 1024
                    let y = Double(a.evaluate(c, input: it, output: ot)) / 1024
                    let e = abs(y - (f == "sigmoid" ? sigmoidD(x) : Foundation.tanh(x)))
                    all = max(all, e)
                    if abs(x) < range { inside = max(inside, e) }
                }
                err[mode] = (inside, all)
            }
            let h = err["hls4ml"]!, c = err["centered"]!
            report.append(String(format: "%@: max error hls4ml %.6f (all inputs %.6f), centered %.6f (all inputs %.6f)",
                                 f, h.inside, h.all, c.inside, c.all))
            XCTAssertLessThan(c.inside, h.inside * 0.75, f)
            XCTAssertLessThan(c.all, h.all, f)
            // Centred: half a bin times the largest slope plus half an LSB of fixed<18,8>.
            let slope = f == "sigmoid" ? 0.25 : 1.0
            XCTAssertLessThanOrEqual(c.inside, slope * (2 * range / 1024) / 2 + 0.5 / 1024 + 1e-9, f)
        }
        print("activation table accuracy (input fixed<16,6>, table 1024 x fixed<18,8>):\n  " + report.joined(separator: "\n  "))
    }

    /// elu / selu tables: exp(x) - 1 (selu: times lambda * alpha) at x = -8i/N, truncated.
    func testExpTablesAgainstDouble() throws {
        for op in ["elu", "selu"] {
            let (a, _, _) = try load("\"op\": \"\(op)\"", "fixed<16,6>", "fixed<18,8>")
            let (_, e) = a.table!
            var checked = 0
            for i in 0..<1024 {
                let x = -8.0 * Double(i) / 1024
                var v = Foundation.expm1(x)
                if op == "selu" { v *= 1.0507009873554805 * 1.6732632423543772 }
                v *= 1024
                if abs(v - v.rounded()) < 1e-3 { continue }
                XCTAssertEqual(e[i], Int128(v.rounded(.down)), "\(op) entry \(i)")
                checked += 1
            }
            XCTAssertGreaterThan(checked, 1000)
        }
        // hls4ml's selu lambda is ap_ufixed<16,1>(1.0507009873554805), truncated: 34429 / 2^15.
        XCTAssertEqual(ExpTable.seluLambda, 34429)
    }

    /// Hand-computed results of every op.
    func testHandComputedResults() throws {
        func y(_ fields: String, _ inType: String, _ outType: String, _ x: Int128) throws -> Int128 {
            let (a, it, ot) = try load(fields, inType, outType)
            let golden = try GoldenModel(ModelLoader.parse(text: activationModel(fields, inType: inType, outType: outType), file: "g.json"))
            let v = a.evaluate(x, input: it, output: ot)
            XCTAssertEqual(golden.evaluate(codes: [x]), [v], fields)
            return v
        }
        // leaky_relu: alpha 0.3 in fixed<16,6> is 307/1024; x = -2.5 (code -640 of fixed<12,4>):
        // 307 * -640 = -196480 / 2^18 = -0.7495..., truncated onto fixed<16,6> (2^-10): -768.
        XCTAssertEqual(try y("\"op\": \"leaky_relu\", \"alpha\": 0.3", "fixed<12,4>", "fixed<16,6>", -640), -768)
        XCTAssertEqual(try y("\"op\": \"leaky_relu\", \"alpha\": 0.3", "fixed<12,4>", "fixed<16,6>", 640), 640 * 4)
        XCTAssertEqual(try y("\"op\": \"leaky_relu\", \"alpha\": 0.3", "fixed<12,4>", "fixed<16,6,RND>", -640), -767)
        // relu_max 0.75, x = 0.8125 (code 13 of fixed<8,4>) -> 0.75 in ufixed<8,1> (code 96);
        // x = 0.75 passes through; x < 0 gives 0.
        XCTAssertEqual(try y("\"op\": \"relu_max\", \"max\": 0.75", "fixed<8,4>", "ufixed<8,1>", 13), 96)
        XCTAssertEqual(try y("\"op\": \"relu_max\", \"max\": 0.75", "fixed<8,4>", "ufixed<8,1>", 12), 96)
        XCTAssertEqual(try y("\"op\": \"relu_max\", \"max\": 0.75", "fixed<8,4>", "ufixed<8,1>", 11), 88)
        XCTAssertEqual(try y("\"op\": \"relu_max\", \"max\": 0.75", "fixed<8,4>", "ufixed<8,1>", -3), 0)
        // relu6: 7 -> 6, 5.5 -> 5.5.
        XCTAssertEqual(try y("\"op\": \"relu6\"", "fixed<8,5>", "fixed<8,4>", 56), 96)
        XCTAssertEqual(try y("\"op\": \"relu6\"", "fixed<8,5>", "fixed<8,4>", 44), 88)
        // hard_sigmoid: slope 0.2 in ufixed<16,0> is 13107/65536; x = 1 (code 256 of fixed<12,4>):
        // v = 13107/65536 + 0.5 = 45875/65536, onto fixed<16,2> (2^-14): floor(45875 / 4) = 11468.
        XCTAssertEqual(try y("\"op\": \"hard_sigmoid\"", "fixed<12,4>", "fixed<16,2>", 256), 11468)
        XCTAssertEqual(try y("\"op\": \"hard_sigmoid\"", "fixed<12,4>", "fixed<16,2>", 256 * 3), 1 << 14)  // clipped at 1
        XCTAssertEqual(try y("\"op\": \"hard_sigmoid\"", "fixed<12,4>", "fixed<16,2>", -256 * 3), 0)
        // hard_tanh: 2 * 45875/65536 - 1 = 26214/65536 -> floor(26214 / 4) = 6553.
        XCTAssertEqual(try y("\"op\": \"hard_tanh\"", "fixed<12,4>", "fixed<16,2>", 256), 6553)
        XCTAssertEqual(try y("\"op\": \"hard_tanh\"", "fixed<12,4>", "fixed<16,2>", -256 * 3), -(1 << 14))
        // linear: a plain cast (RND_CONV of 0.5 LSB ties to even).
        XCTAssertEqual(try y("\"op\": \"linear\"", "fixed<8,4>", "fixed<6,4,RND_CONV>", 6), 2)
        XCTAssertEqual(try y("\"op\": \"linear\"", "fixed<8,4>", "fixed<6,4,RND_CONV>", 10), 2)
        // lut: index = top 2 bits of the code offset by 2^(W-1): code -128 -> 0, 127 -> 3.
        let lut = "\"op\": \"lut\", \"table\": [-1, 0.5, 0.25, 2], \"table_type\": \"fixed<6,3>\""
        XCTAssertEqual(try y(lut, "fixed<8,2>", "fixed<6,3>", -128), -8)
        XCTAssertEqual(try y(lut, "fixed<8,2>", "fixed<6,3>", -1), 4)
        XCTAssertEqual(try y(lut, "fixed<8,2>", "fixed<6,3>", 0), 2)
        XCTAssertEqual(try y(lut, "fixed<8,2>", "fixed<6,3>", 127), 16)
        XCTAssertEqual(try y(lut, "ufixed<8,2>", "fixed<6,3>", 64), 4)  // unsigned: 64 >> 6 = 1
        // elu: x >= 0 passes; x = -8 (beyond the table) reads the last entry, exp(-8+8/1024)-1.
        XCTAssertEqual(try y("\"op\": \"elu\"", "fixed<16,6>", "fixed<16,6>", 1000), 1000)
        let last = Int128((Foundation.expm1(-8.0 + 8.0 / 1024) * 1024).rounded(.down))
        XCTAssertEqual(try y("\"op\": \"elu\"", "fixed<16,6>", "fixed<18,8>", -20000), last)
        // elu alpha 0.5: half the entry, exactly (alpha 0.5 * entry on a finer grid, then cast).
        let e1 = try y("\"op\": \"elu\"", "fixed<16,6>", "fixed<20,8>", -1024)
        XCTAssertEqual(try y("\"op\": \"elu\", \"alpha\": 0.5", "fixed<16,6>", "fixed<20,8>", -1024) * 2, e1)
        // selu: x >= 0 is lambda * x (34429/2^15): x = 1 -> 34429/2^15 onto 2^-10: floor(1075.9) = 1075.
        XCTAssertEqual(try y("\"op\": \"selu\"", "fixed<16,6>", "fixed<16,6>", 1024), 1075)
    }

    func testBadParametersNameTheField() {
        let cases: [(String, String, String, [String])] = [
            ("\"op\": \"sigmoid\", \"table_size\": 1000", "fixed<16,6>", "layers[0].table_size", ["1000", "power of two"]),
            ("\"op\": \"tanh\", \"table_size\": 1", "fixed<16,6>", "layers[0].table_size", ["power of two"]),
            ("\"op\": \"elu\", \"table_size\": 131072", "fixed<16,6>", "layers[0].table_size", ["131072"]),
            ("\"op\": \"selu\", \"table_size\": \"big\"", "fixed<16,6>", "layers[0].table_size", ["integer"]),
            ("\"op\": \"sigmoid\", \"table\": \"cordic\"", "fixed<16,6>", "layers[0].table", ["unknown table implementation", "cordic", "centered"]),
            ("\"op\": \"lut\", \"table\": [], \"table_type\": \"fixed<8,2>\"", "fixed<8,2>", "layers[0].table", ["empty"]),
            ("\"op\": \"lut\", \"table\": [1, 2, 3], \"table_type\": \"fixed<8,2>\", \"index_bits\": 2", "fixed<8,2>", "layers[0].table", ["expected 2^2 = 4", "found 3"]),
            ("\"op\": \"lut\", \"table\": [1, 2, 3], \"table_type\": \"fixed<8,2>\"", "fixed<8,2>", "layers[0].table", ["3", "not a power of two"]),
            ("\"op\": \"lut\", \"table\": [1, 2, 3, 4], \"table_type\": \"fixed<8,2>\"", "fixed<1,1>", "layers[0].index_bits", ["exceed", "1-bit"]),
            ("\"op\": \"lut\", \"table\": [1, 2], \"table_type\": \"fixed<8,2>\", \"index_bits\": 0", "fixed<8,2>", "layers[0].index_bits", ["out of range"]),
            ("\"op\": \"lut\", \"table\": [1, 2]", "fixed<8,2>", "layers[0].table_type", ["missing"]),
            ("\"op\": \"lut\", \"table\": [1, \"x\"], \"table_type\": \"fixed<8,2>\"", "fixed<8,2>", "layers[0].table[1]", ["expected a number"]),
            ("\"op\": \"leaky_relu\"", "fixed<8,2>", "layers[0].alpha", ["missing"]),
            ("\"op\": \"leaky_relu\", \"alpha\": 0.1, \"alpha_type\": \"fixd<8,1>\"", "fixed<8,2>", "layers[0].alpha_type", ["fixd"]),
            ("\"op\": \"leaky_relu\", \"alpha\": 0.1", "fixed<120,2>", "layers[0]", ["unsupported width"]),
            ("\"op\": \"relu_max\", \"max\": -1", "fixed<8,2>", "layers[0].max", ["negative"]),
            ("\"op\": \"relu_max\"", "fixed<8,2>", "layers[0].max", ["missing"]),
            ("\"op\": \"relu6\", \"max\": 6", "fixed<8,2>", "layers[0].max", ["unknown field"]),
            ("\"op\": \"selu\", \"alpha\": 1", "fixed<8,2>", "layers[0].alpha", ["unknown field"]),
            ("\"op\": \"hard_sigmoid\", \"slope\": \"0.2\"", "fixed<8,2>", "layers[0].slope", ["expected a number"]),
            ("\"op\": \"tanh\", \"table_type\": \"fixed<0,0>\"", "fixed<8,2>", "layers[0].table_type", ["width"]),
        ]
        for (fields, inType, field, words) in cases {
            let text = activationModel(fields, inType: inType, outType: "fixed<8,2>")
            do {
                _ = try ModelLoader.parse(text: text, file: "bad.json")
                XCTFail("accepted: \(fields)")
            } catch let e as InputError {
                XCTAssertEqual(e.field, field, "\(fields): \(e)")
                for w in words { XCTAssertTrue(e.message.contains(w), "\(fields): '\(e.message)' lacks '\(w)'") }
                XCTAssertTrue(e.description.hasPrefix("bad.json: \(field): "), "\(e)")
            } catch {
                XCTFail("\(fields): \(error)")
            }
        }
    }

    /// Table-based layers cannot output `bipolar` (exit 2 naming output_type); `sign` after them can.
    func testBipolarOutputOfATableLayerIsRejected() throws {
        for fields in ["\"op\": \"sigmoid\"", "\"op\": \"relu6\"", "\"op\": \"softmax\""] {
            let text = activationModel(fields, inType: "fixed<8,2>", outType: "bipolar", size: 2)
            XCTAssertThrowsError(try ModelLoader.parse(text: text, file: "bad.json")) { e in
                XCTAssertEqual((e as? InputError)?.field, "layers[0].output_type", "\(fields): \(e)")
                XCTAssertTrue("\(e)".contains("add a `sign` layer"), "\(e)")
            }
        }
        let ok = activationModel("\"op\": \"tanh\"", inType: "fixed<8,2>", outType: "ternary", size: 2)
        XCTAssertNoThrow(try ModelLoader.parse(text: ok, file: "ok.json"))
    }

    /// The example model round-trips through the writer: same outputs, and writing is a fixed point.
    func testWriterRoundTrip() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/activations/model.json").path
        let m1 = try ModelLoader.load(path: path)
        let t1 = ModelWriter.json(m1)
        let m2 = try ModelLoader.parse(text: t1, file: "written.json")
        XCTAssertEqual(ModelWriter.json(m2), t1)
        XCTAssertEqual(m1.layers.map { $0.opName }, m2.layers.map { $0.opName })
        let ops = Set(m1.layers.map { $0.opName })
        for op in ["sigmoid", "tanh", "lut", "leaky_relu", "relu6", "relu_max", "hard_sigmoid", "hard_tanh", "linear", "elu", "selu"] {
            XCTAssertTrue(ops.contains(op), "the example lacks \(op)")
        }
        let g1 = try GoldenModel(m1), g2 = try GoldenModel(m2)
        let t = m1.input.type
        for k in 0..<200 {
            let x = (0..<m1.input.size).map { i in t.minCode + Int128((k * 97 + i * 1009) % Int(t.maxCode - t.minCode + 1)) }
            XCTAssertEqual(g1.evaluate(codes: x), g2.evaluate(codes: x))
        }
    }
}
