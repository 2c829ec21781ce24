// `rtlgen predict`'s fast path (CompiledModel, FastCSV, quantizeDecimal, appendDecimal) against
// the exact path (CSVText, GoldenModel, CSV.format): every output byte identical on the examples,
// on random dense / activation / softmax / binary models, on awkward CSV text, and in errors.
import Driver
import FixedPoint
import Foundation
@testable import Golden
import ModelIR
import RandomModels
import XCTest

final class FastPredictTests: XCTestCase {
    /// Fast and exact predict on the same bytes: identical output (or the identical error).
    func assertSame(_ m: Model, _ text: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let data = Data(text.utf8)
        var fastNotes: [String] = [], exactNotes: [String] = []
        let fast = Result { try PredictFile.run(model: m, data: data, path: "x.csv", fast: true) { fastNotes.append($0) } }
        let exact = Result { try PredictFile.run(model: m, data: data, path: "x.csv", fast: false) { exactNotes.append($0) } }
        XCTAssertEqual(fastNotes, exactNotes, what, file: file, line: line)
        switch (fast, exact) {
        case let (.success(a), .success(b)):
            if a != b {
                let la = String(decoding: a, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                let lb = String(decoding: b, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                let i = (0..<min(la.count, lb.count)).first { la[$0] != lb[$0] } ?? min(la.count, lb.count)
                XCTFail("\(what): fast and exact predict differ at output line \(i + 1): \(i < la.count ? String(la[i]) : "-") vs \(i < lb.count ? String(lb[i]) : "-")", file: file, line: line)
            }
        case let (.failure(a), .failure(b)):
            XCTAssertEqual("\(a)", "\(b)", what, file: file, line: line)
        default:
            XCTFail("\(what): fast \(fast), exact \(exact)", file: file, line: line)
        }
    }

    func example(_ name: String) throws -> Model {
        try ModelLoader.load(path: packageRoot.appendingPathComponent("examples/\(name)/model.json").path)
    }

    func testExamplesCompileAndMatchTheExactEvaluator() throws {
        for name in ["jet_tagger", "jet_tagger_argmax", "muon_recal", "keras_bnn", "activations"] {
            let m = try example(name)
            let c = CompiledModel(try GoldenModel(m))
            XCTAssertNotNil(c, "\(name) must take the fast path")
            assertSame(m, Vectors.generate(model: m, count: 800, seed: 3), name)
        }
        // The dense and ReLU layers of the two issue models run as 64-bit steps, only the jet
        // tagger's softmax through the exact layer evaluation.
        XCTAssertEqual(CompiledModel(try GoldenModel(try example("muon_recal")))?.exactLayers, 0)
        XCTAssertEqual(CompiledModel(try GoldenModel(try example("jet_tagger")))?.exactLayers, 1)
        // keras_bnn's standalone batchnorm (bn4) is a compiled scale-and-shift step.
        XCTAssertEqual(CompiledModel(try GoldenModel(try example("keras_bnn")))?.exactLayers, 0)
    }

    /// A linear activation on a type too wide for a table (hls4ml's output layer of the muon
    /// student) and standalone batchnorms between dense layers (as hls4ml imports the student)
    /// are compiled steps, and equal the exact evaluator.
    func testLinearAndBatchnormStepsMatchTheExactEvaluator() throws {
        let base = try example("muon_recal")
        let bnn = try example("keras_bnn")
        guard let bnLayer = bnn.layers.first(where: { $0.opName == "batchnorm" }), case let .binary(.batchnorm(bn)) = bnLayer.op else {
            return XCTFail("keras_bnn has a standalone batchnorm")
        }
        // The batchnorm's channels re-sized to 8 (after the muon network's first dense layer).
        var bn8 = bn
        bn8.scale = (0..<8).map { bn.scale[$0 % bn.scale.count] }
        bn8.bias = (0..<8).map { bn.bias[$0 % bn.bias.count] * Int128($0 % 2 == 0 ? 1 : -1) }
        bn8.channels = (0..<8).map { bn.channels[$0 % bn.channels.count] }
        var layers = Array(base.layers.prefix(1))
        layers.append(Layer(name: "bn1", op: .binary(.batchnorm(bn8)), outputType: try FixedType.parse("fixed<18,6,RND_CONV,SAT>"), outputSize: 8))
        layers += base.layers.dropFirst()
        layers.append(Layer(name: "out", op: .activation(.linear), outputType: try FixedType.parse("fixed<12,4,RND,SAT>"), outputSize: base.outputSize))
        let m = Model(name: "m", description: nil, input: base.input, layers: layers)
        let c = try XCTUnwrap(CompiledModel(try GoldenModel(m)))
        XCTAssertEqual(c.exactLayers, 0)
        assertSame(m, Vectors.generate(model: m, count: 3000, seed: 12), "batchnorm + linear")
    }

    /// Convolutions run as their unrolled dense layer in the compiled plan, flatten as a cast;
    /// pooling and zero padding through the exact layer evaluation: the same bytes.
    func testConvModelsMatchTheExactEvaluator() throws {
        for name in ["tiny_cnn", "tiny_c1d"] {
            let m = try ModelLoader.load(path: packageRoot.appendingPathComponent("Tests/models/conv/\(name).json").path)
            let c = try XCTUnwrap(CompiledModel(try GoldenModel(m)), name)
            let convs = m.layers.filter { $0.opName.hasPrefix("conv") }.count
            let other = m.layers.filter { $0.opName.contains("pool") || $0.opName.hasPrefix("zero_pad") }.count
            XCTAssertEqual(c.exactLayers, other, "\(name): \(convs) conv layers compiled")
            assertSame(m, Vectors.generate(model: m, count: 1500, seed: 8), name)
        }
    }

    func testRandomModelsMatchTheExactEvaluator() throws {
        var compiled = 0
        for seed in UInt64(1)...24 {
            let m = RandomModel.model(seed: seed)
            if CompiledModel(try GoldenModel(m)) != nil { compiled += 1 }
            assertSame(m, Vectors.generate(model: m, count: 200, seed: seed), "random model \(seed)")
        }
        for seed in UInt64(1)...12 {
            let m = RandomBinaryModel.model(seed: seed)
            if CompiledModel(try GoldenModel(m)) != nil { compiled += 1 }
            assertSame(m, Vectors.generate(model: m, count: 300, seed: seed), "random binary model \(seed)")
        }
        XCTAssertGreaterThan(compiled, 26, "most random models must exercise the compiled plan")
    }

    func testAwkwardCSVAndChunkBoundaries() throws {
        let m = try example("muon_recal")
        // BOM, header, CRLF, blank and comment lines, quotes, spaces, exponents, long mantissas.
        var text = "\u{FEFF}a,b,c,d,e\r\n# comment\r\n\r\n"
        text += "1.5,-2,\"3\", 4 ,5e-1\r\n  # indented comment\n"
        text += "0.1234567890123456789012345678901234567,-1e3,+.5,7.,-0.0\n"
        text += "12345678901234567890123456789012345678901234567890e-40,1E+1,99999,-99999,0.00000000000000000000000000000000000000001\n"
        let many = Vectors.generate(model: m, count: 4000, seed: 5)   // several 64 KB chunks
        assertSame(m, text + many, "awkward CSV")
        // Without a trailing newline, and only skipped lines.
        assertSame(m, String(many.dropLast()), "no final newline")
        assertSame(m, "# nothing\n\n", "no samples")
        // Errors deep inside a later chunk: the same message and line number.
        var lines = many.split(separator: "\n").map(String.init)
        lines[3500] = "1,2,x,4,5"
        assertSame(m, lines.joined(separator: "\n"), "bad cell")
        lines[3500] = "1,2,3,4"
        assertSame(m, lines.joined(separator: "\n"), "short line")
        lines[3500] = "1,2,3,4,5,6"
        assertSame(m, lines.joined(separator: "\n"), "long line")
        assertSame(m, "a,b\n1,2,3,4,5\n", "header of the wrong size")
        assertSame(m, "1,2,3,4,5e99999\n", "huge exponent")
        assertSame(m, "0e5000,1,2,3,4\n", "zero with an exponent out of range")
    }

    func testQuantizeDecimalEqualsTheExactQuantizer() throws {
        var rng = SplitMix64(seed: 99)
        func r(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        var fastCount = 0
        for _ in 0..<20000 {
            let signed = r(2) == 0
            let w = 1 + r(signed ? 62 : 61)
            let t = FixedType(signed: signed, width: w, intBits: r(w + 40) - 20,
                              rounding: RoundingMode.allCases[r(7)], overflow: OverflowMode.allCases[r(4)])
            var s = ["", "-", "+"][r(3)]
            s += String((0..<r(25)).map { _ in Character(String(r(10))) })
            if r(3) > 0 { s += "." + String((0..<r(25)).map { _ in Character(String(r(10))) }) }
            if r(4) == 0 { s += ["e", "E"][r(2)] + ["", "-", "+"][r(3)] + String(r(60)) }
            let exact = try? t.quantize(decimal: s)
            let fast = Array(s.utf8).withUnsafeBufferPointer { t.quantizeDecimal($0) }
            if let f = fast {
                fastCount += 1
                XCTAssertEqual(f, exact, "\(s) as \(t)")
            }
        }
        XCTAssertGreaterThan(fastCount, 10000)
    }

    func testAppendDecimalEqualsDecimalString() {
        var rng = SplitMix64(seed: 7)
        var formatted = 0
        for _ in 0..<50000 {
            let frac = Int(rng.next() % 44) - 22
            let bits = Int(rng.next() % 63)
            let code = Int64(bitPattern: rng.next()) >> (63 - bits)
            var out: [UInt8] = []
            if appendDecimal(code: code, frac: frac, to: &out) {
                formatted += 1
                XCTAssertEqual(String(decoding: out, as: UTF8.self), decimalString(code: Int128(code), frac: frac), "\(code) frac \(frac)")
            } else {
                XCTAssertTrue(out.isEmpty)
                XCTAssertTrue(frac > 19 || frac < 0, "\(code) frac \(frac) must be formatted")
            }
        }
        XCTAssertGreaterThan(formatted, 35000)
    }
    /// Cast64's one-add rounding and clamp / wrap / zero overflow against FixedType.cast, for
    /// every rounding and overflow mode, shifts both ways, and values near every boundary.
    func testCast64EqualsFixedTypeCast() {
        var rng = SplitMix64(seed: 41)
        func r(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        var checked = 0
        for _ in 0..<4000 {
            let signed = r(2) == 0
            let w = 1 + r(signed ? 40 : 39)
            let t = FixedType(signed: signed, width: w, intBits: r(w + 20) - 10,
                              rounding: RoundingMode.allCases[r(7)], overflow: OverflowMode.allCases[r(4)])
            let srcFrac = t.fracBits + r(30) - 8
            let bits = 1 + r(50)
            let lo = -(Int128(1) << (bits - 1)), hi = (Int128(1) << (bits - 1)) - 1
            guard let c = Cast64(to: t, srcFrac: srcFrac, lo: lo, hi: hi) else { continue }
            let k = srcFrac - t.fracBits
            for _ in 0..<25 {
                var v = Int128(Int64(bitPattern: rng.next()) >> (64 - bits))
                if k > 0 && r(2) == 0 {
                    // On or next to a rounding tie: the dropped bits are half, half - 1 or half + 1.
                    v = ((v >> k) << k) + (Int128(1) << (k - 1)) + Int128(r(3) - 1)
                    v = min(max(v, lo), hi)
                }
                XCTAssertEqual(Int128(c.apply(Int64(v))), t.cast(code: v, frac: srcFrac), "\(v) 2^-\(srcFrac) to \(t)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 50000)
    }
    /// `PredictFile.write` (chunks streamed to a temporary file, renamed at the end) writes what
    /// `run` returns; on a bad line deep in the file it leaves neither the output nor a temporary.
    func testStreamedOutputFileIsAllOrNothing() throws {
        let m = try example("muon_recal")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rtlgen-predict-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("x.csv"), output = dir.appendingPathComponent("y.csv")
        let text = "a,b,c,d,e\n" + Vectors.generate(model: m, count: 9000, seed: 8)   // many chunks
        try text.write(to: input, atomically: true, encoding: .utf8)
        var notes: [String] = []
        try PredictFile.write(model: m, inputPath: input.path, outputPath: output.path) { notes.append($0) }
        let expected = try PredictFile.run(model: m, data: Data(text.utf8), path: input.path, fast: false) { _ in }
        XCTAssertEqual(try Data(contentsOf: output), expected)
        XCTAssertEqual(notes.count, 1, "the header notice, once")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["x.csv", "y.csv"])
        // A bad cell in a late chunk: the error, the old output untouched, no temporary left.
        var lines = text.split(separator: "\n").map(String.init)
        lines[8500] = "1,2,x,4,5"
        try (lines.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PredictFile.write(model: m, inputPath: input.path, outputPath: output.path) { _ in }) { e in
            XCTAssertTrue("\(e)".contains("line 8501"), "\(e)")
        }
        XCTAssertEqual(try Data(contentsOf: output), expected)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["x.csv", "y.csv"])
    }
}
