// The model core: a Model built in code is validated and normalized by ModelCore.validate, the
// same function the native JSON reader calls; errors name the file and the JSON-style field;
// validation is idempotent; the writer round-trips every valid model.
import FixedPoint
import Foundation
import Golden
@testable import ModelIR
import RandomModels
import XCTest

final class ModelCoreTests: XCTestCase {
    let fixed84 = try! FixedType.parse("fixed<8,4>")
    let out = try! FixedType.parse("fixed<12,6,RND_CONV,SAT>")

    func dense(units: Int, inputs: Int, weight: Int128 = 8) -> Dense {
        Dense(units: units, kernelType: fixed84, biasType: fixed84, accumType: nil,
              kernel: Array(repeating: Array(repeating: weight, count: units), count: inputs),
              bias: Array(repeating: 0, count: units))
    }

    func model(_ layers: [Layer], size: Int = 2, type: FixedType? = nil) -> Model {
        Model(name: "m", input: InputSpec(name: "x", size: size, type: type ?? fixed84), layers: layers)
    }

    func assertInputError(_ m: Model, field: String, _ words: [String], line: UInt = #line) {
        XCTAssertThrowsError(try ModelCore.validate(m, file: "code.swift"), line: line) { e in
            guard let ie = e as? InputError else { return XCTFail("not an InputError: \(e)", line: line) }
            XCTAssertEqual(ie.file, "code.swift", line: line)
            XCTAssertEqual(ie.field, field, ie.description, line: line)
            for w in words { XCTAssertTrue(ie.message.contains(w), "'\(w)' not in: \(ie.message)", line: line) }
        }
    }

    /// A model built in code: output sizes derived, and the result equals the same model read
    /// from its JSON text.
    func testModelBuiltInCodeEqualsTheSameModelRead() throws {
        let m = try ModelCore.validate(model([Layer(name: "fc1", op: .dense(dense(units: 3, inputs: 2)), outputType: out),
                                              Layer(name: "relu1", op: .relu, outputType: out)]), file: "code")
        XCTAssertEqual(m.layers.map { $0.outputSize }, [3, 3])
        let read = try ModelLoader.parse(text: ModelWriter.json(m), file: "written")
        XCTAssertEqual(read, m)
        XCTAssertEqual(try GoldenModel(m).evaluate(codes: [16, -8]), try GoldenModel(read).evaluate(codes: [16, -8]))
    }

    /// The checks of the JSON reader hold for code-built models, with the same field paths.
    func testCodeBuiltErrorsNameTheField() {
        assertInputError(model([Layer(name: "fc1", op: .dense(dense(units: 3, inputs: 1)), outputType: out)]),
                         field: "layers[0].kernel", ["expected 2 rows", "found 1"])
        var d = dense(units: 3, inputs: 2)
        d.kernel[1].removeLast()
        assertInputError(model([Layer(name: "fc1", op: .dense(d), outputType: out)]), field: "layers[0].kernel[1]", ["expected 3", "found 2"])
        d = dense(units: 3, inputs: 2)
        d.kernel[0][2] = 1000
        assertInputError(model([Layer(name: "fc1", op: .dense(d), outputType: out)]), field: "layers[0].kernel[0][2]", ["outside the range"])
        assertInputError(model([Layer(name: "fc1", op: .dense(dense(units: 3, inputs: 2)), outputType: out),
                                Layer(name: "FC1", op: .relu, outputType: out)]), field: "layers[1].name", ["duplicate", "FC1"])
        assertInputError(model([Layer(name: "bad__name", op: .relu, outputType: out)]), field: "layers[0].name", ["identifier"])
        assertInputError(Model(name: "1m", input: InputSpec(name: "x", size: 2, type: fixed84), layers: []), field: "name", ["identifier"])
        assertInputError(model([]), field: "layers", ["at least one layer"])
        assertInputError(model([Layer(name: "s", op: .binary(.sign), outputType: out)]), field: "layers[0].output_type", ["bipolar"])
        assertInputError(model([Layer(name: "r", op: .relu, outputType: out, outputSize: 5)]), field: "layers[0]", ["declares 5 outputs"])
        let bad = BinaryDense(units: 1, kernel: [[1], [0]])
        assertInputError(model([Layer(name: "b", op: .binary(.binaryDense(bad)), outputType: out)]), field: "layers[0].kernel[1][0]", ["+1 or -1"])
        let sig = FunctionTable(function: .sigmoid, mode: .hls4ml, size: 3, tableType: fixed84)
        assertInputError(model([Layer(name: "a", op: .activation(.sigmoid(sig)), outputType: out)]), field: "layers[0].table_size", ["power of two"])
        let bn = BatchNorm(.scaleBias(scale: [.one], bias: [.zero]))
        assertInputError(model([Layer(name: "bn", op: .binary(.batchnorm(bn)), outputType: out)]), field: "layers[0].scale", ["expected 2 values"])
    }

    /// An importer's batchnorm + sign (Keras moments, no types) is folded by the core into the
    /// same threshold layer the JSON reader gives; its golden outputs are sign(batchnorm(x)).
    func testBatchNormSignFromCodeIsFolded() throws {
        func q(_ s: String) -> Rational { try! Rational(decimal: s) }
        let bn = BatchNorm(.moments(gamma: [q("2"), q("-0.5")], beta: [q("0.25"), q("1")], mean: [q("0.5"), q("0")],
                                    variance: [q("3.999"), q("0.999")], epsilon: q("0.001")), hasOutputType: false)
        let m = try ModelCore.validate(model([Layer(name: "bn1", op: .binary(.batchnorm(bn)), outputType: .bipolar),
                                              Layer(name: "act1", op: .binary(.sign), outputType: .bipolar)]), file: "keras")
        XCTAssertEqual(m.layers.count, 1)
        guard case let .binary(.threshold(t)) = m.layers[0].op else { return XCTFail("not folded: \(m.layers[0].op)") }
        XCTAssertEqual(m.layers[0].name, "bn1")
        // Channel 0: 0.25 + (x - 0.5) * 2 / 2 >= 0 <=> x >= 0.25 (code 4 of fixed<8,4>).
        XCTAssertEqual(t.rules[0], ThresholdRule(geq: true, code: 4))
        // Channel 1: 1 - 0.5 x >= 0 <=> x <= 2 (code 32).
        XCTAssertEqual(t.rules[1], ThresholdRule(geq: false, code: 32))
        let text = """
        {"format": "rtlgen-model", "version": 1, "name": "m", "input": {"name": "x", "size": 2, "type": "fixed<8,4>"},
         "layers": [{"name": "bn1", "op": "batchnorm", "gamma": [2, -0.5], "beta": [0.25, 1], "mean": [0.5, 0],
                     "variance": [3.999, 0.999], "epsilon": 0.001}, {"name": "act1", "op": "sign"}]}
        """
        XCTAssertEqual(try ModelLoader.parse(text: text, file: "t"), m)
        let g = try GoldenModel(m)
        XCTAssertEqual(g.evaluate(codes: [4, 33]), [1, -1])
        XCTAssertEqual(g.evaluate(codes: [3, 32]), [-1, 1])
    }

    /// Validating a validated model changes nothing; writing and reading it gives it back
    /// (examples, reference models and the random regression models of both families).
    func testValidateIsIdempotentAndTheWriterRoundTrips() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var models: [(String, Model)] = []
        let dirs = ["examples", "Tests/reference/models", "Tests/models"]
        for dir in dirs {
            let e = FileManager.default.enumerator(atPath: root.appendingPathComponent(dir).path)
            while let f = e?.nextObject() as? String {
                guard f.hasSuffix(".json") else { continue }
                let path = root.appendingPathComponent(dir).appendingPathComponent(f).path
                // Native models only (examples/muon_student_keras holds a Keras architecture JSON).
                guard (try? String(contentsOfFile: path, encoding: .utf8))?.contains("\"rtlgen-model\"") == true else { continue }
                models.append((path, try ModelLoader.load(path: path)))
            }
        }
        XCTAssertGreaterThan(models.count, 10)
        for s in UInt64(1)...20 {
            models.append(("random \(s)", RandomModel.model(seed: s)))
            models.append(("binary \(s)", RandomBinaryModel.model(seed: s)))
        }
        for (what, m) in models {
            XCTAssertEqual(try ModelCore.validate(m, file: what), m, what)
            let text = ModelWriter.json(m)
            XCTAssertEqual(try ModelLoader.parse(text: text, file: what), m, what)
        }
    }

    /// The front-end example of docs/architecture.md, as written there: it validates, folds the
    /// batchnorm and writes a model file that reads back to the same model.
    func testArchitectureDocExample() throws {
        func q(_ s: String) -> Rational { try! Rational(decimal: s) }
        let (gammas, betas, means, variances, eps) = ([q("1"), q("-2")], [q("0.5"), q("0")], [q("0"), q("1")], [q("1"), q("4")], q("0.001"))
        let t = try FixedType.parse("fixed<16,6>")
        let w = try FixedType.parse("fixed<8,3>")
        let fc1 = Dense(units: 2, kernelType: w, biasType: w, accumType: nil,
                        kernel: [[try w.quantize(decimal: "0.5"), try w.quantize(decimal: "-0.25")],
                                 [try w.quantize(decimal: "1"), 0]],
                        bias: [0, try w.quantize(decimal: "0.125")])
        let bn = BatchNorm(.moments(gamma: gammas, beta: betas, mean: means, variance: variances, epsilon: eps),
                           hasOutputType: false)
        let model = Model(name: "my_net", input: InputSpec(name: "x", size: 2, type: t), layers: [
            Layer(name: "fc1", op: .dense(fc1), outputType: t),
            Layer(name: "bn1", op: .binary(.batchnorm(bn)), outputType: .bipolar),
            Layer(name: "act1", op: .binary(.sign), outputType: .bipolar),
        ])
        let valid = try ModelCore.validate(model, file: "my_net.h5")
        XCTAssertEqual(valid.layers.map { $0.opName }, ["dense", "threshold"])
        XCTAssertEqual(valid.outputType, .bipolar)
        let text = ModelWriter.json(valid)
        XCTAssertEqual(try ModelLoader.parse(text: text, file: "written"), valid)
    }
}
