// The activation layers' netlists against the golden model: every op, narrow input types
// exhaustively, wide ones on edges, the plan's thresholds and random codes; both ways of
// addressing a ROM are exercised and counted.
import BigInt
import FixedPoint
import Golden
import ModelIR
@testable import Netlist
import XCTest

final class ActivationLoweringTests: XCTestCase {
    static let size = 64

    func model(_ fields: String, _ inType: String, _ outType: String) throws -> Model {
        try ModelLoader.parse(text: """
            {"format": "rtlgen-model", "version": 1, "name": "m",
             "input": {"size": \(Self.size), "type": "\(inType)"},
             "layers": [{"name": "act", \(fields), "output_type": "\(outType)"}]}
            """, file: "m.json")
    }

    /// The input codes to check: all of them for W <= 10, else edges, threshold neighbourhoods,
    /// bin boundaries around zero and random codes.
    func codes(_ t: FixedType, plan: TablePlan?, rng: inout TestRNG) -> [Int128] {
        if t.width <= 10 { return Array(t.minCode...t.maxCode) }
        var cs: [Int128] = [t.minCode, t.minCode + 1, t.maxCode, t.maxCode - 1, 0, 1, -1]
        var pts: [Int128] = []
        if let p = plan {
            if let l = p.low { pts.append(l.code) }
            if let h = p.high { pts.append(h.code) }
            if case let .computed(k, _, _) = p.kind, k < 100 {
                for j in 0...3 { pts += [Int128(j) << k, -(Int128(j) << k)] }
            }
        }
        for q in pts { for d in -3...3 { cs.append(q + Int128(d)) } }
        let span = UInt64(min(t.maxCode - t.minCode, Int128(UInt64.max - 1)))
        for _ in 0..<600 { cs.append(t.minCode + Int128(rng.next() % (span + 1))) }
        return cs.filter { $0 >= t.minCode && $0 <= t.maxCode }
    }

    /// Lowers the layer, runs the interpreter on `codes` (64 per evaluation, input held for
    /// `latency` edges) and compares with Activation.evaluate.
    func check(_ m: Model, _ codes: [Int128], label: String) -> Int {
        let hw = LayerLowering.lower(layer: m.layers[0], index: 0, model: m, top: "t", options: LoweringOptions())
        hw.module.eliminateDeadSignals()
        let sim = NetlistInterpreter(hw.module, library: [])
        let it = m.input.type, ot = m.layers[0].outputType
        guard case let .activation(a) = m.layers[0].op else { XCTFail("not an activation"); return 0 }
        var compared = 0
        var k = 0
        while k < codes.count {
            let chunk = (0..<Self.size).map { codes[min(k + $0, codes.count - 1)] }
            var bus = BigInt(0)
            for c in chunk.reversed() { bus = (bus << it.width) | (bigInt(c) & ((BigInt(1) << it.width) - 1)) }
            let ins: [String: BigInt] = ["ce": 1, "in_data": bus]
            sim.evaluate(inputs: ins)
            for _ in 0..<hw.latency { sim.clock(); sim.evaluate(inputs: ins) }
            let out = sim.output("out_data")
            for (j, c) in chunk.enumerated() {
                let got = code((out >> (j * ot.width)) & ((BigInt(1) << ot.width) - 1), ot)
                let want = a.evaluate(c, input: it, output: ot)
                if got != want {
                    XCTFail("\(label): code \(c): netlist \(got), golden \(want)")
                    return compared
                }
                compared += 1
            }
            k += Self.size
        }
        return compared
    }

    func testEveryOpMatchesGolden() throws {
        let ops = [
            "\"op\": \"sigmoid\"",
            "\"op\": \"sigmoid\", \"table_size\": 256, \"table_type\": \"fixed<12,2,RND,SAT>\"",
            "\"op\": \"sigmoid\", \"table_size\": 8",
            "\"op\": \"sigmoid\", \"table\": \"centered\"",
            "\"op\": \"sigmoid\", \"table\": \"centered\", \"table_size\": 64",
            "\"op\": \"tanh\"",
            "\"op\": \"tanh\", \"table_size\": 16",
            "\"op\": \"tanh\", \"table\": \"centered\", \"table_size\": 4096",
            "\"op\": \"lut\", \"table\": [-1, 0.5, 0.25, 2, 1, -0.75, 0, 3], \"table_type\": \"fixed<6,3>\"",
            "\"op\": \"lut\", \"index_bits\": 1, \"table\": [-2, 1.5], \"table_type\": \"fixed<6,3,RND>\"",
            "\"op\": \"elu\"",
            "\"op\": \"elu\", \"alpha\": 0.75, \"table_size\": 128",
            "\"op\": \"selu\"",
            "\"op\": \"selu\", \"table_size\": 32, \"table_type\": \"fixed<10,3>\"",
            "\"op\": \"leaky_relu\", \"alpha\": 0.3",
            "\"op\": \"leaky_relu\", \"alpha\": -0.5, \"alpha_type\": \"fixed<4,1>\"",
            "\"op\": \"leaky_relu\", \"alpha\": 0",
            "\"op\": \"relu_max\", \"max\": 0.75",
            "\"op\": \"relu_max\", \"max\": 1000",
            "\"op\": \"relu6\"",
            "\"op\": \"hard_sigmoid\"",
            "\"op\": \"hard_sigmoid\", \"slope\": 0.25, \"shift\": 0.75, \"shift_type\": \"ufixed<4,1>\"",
            "\"op\": \"hard_tanh\"",
            "\"op\": \"hard_tanh\", \"slope\": 0, \"slope_type\": \"fixed<4,1>\"",
            "\"op\": \"linear\"",
        ]
        let inputs = ["fixed<6,2>", "fixed<8,3>", "fixed<10,4>", "ufixed<8,3>", "fixed<12,8>", "fixed<7,9>", "int<5>",
                      "fixed<16,6>", "fixed<18,3>", "fixed<24,9>", "ufixed<14,5>", "fixed<20,-2>"]
        let outputs = ["fixed<12,3,RND_CONV,SAT>", "ufixed<6,0,RND,SAT>", "fixed<8,2>"]
        var rng = TestRNG(seed: 33)
        var compared = 0, direct = 0, computed = 0, clamped = 0
        for (i, op) in ops.enumerated() {
            for (j, inType) in inputs.enumerated() {
                let outType = outputs[(i + j) % outputs.count]
                let m: Model
                do { m = try model(op, inType, outType) } catch {
                    // Only the one width rule may refuse a combination here.
                    XCTAssertTrue("\(error)".contains("index_bits"), "\(op) on \(inType): \(error)")
                    continue
                }
                guard case let .activation(a) = m.layers[0].op else { return XCTFail() }
                var plan: TablePlan? = nil
                if a.tableAddressing(input: m.input.type) != nil {
                    let p = TablePlan(a, input: m.input.type, output: m.layers[0].outputType)
                    switch p.kind {
                    case .direct: direct += 1
                    case .computed: computed += 1
                    case .none: break
                    }
                    if p.low != nil || p.high != nil { clamped += 1 }
                    plan = p
                }
                compared += check(m, codes(m.input.type, plan: plan, rng: &rng), label: "\(op) \(inType) -> \(outType)")
            }
        }
        XCTAssertGreaterThan(direct, 20)
        XCTAssertGreaterThan(computed, 20)
        XCTAssertGreaterThan(clamped, 10)
        XCTAssertGreaterThan(compared, 100_000)
    }

    /// "Tables that depend only on a few input bits use only those bits": a 6-bit input gets a
    /// 64-entry ROM, a 16-bit input the 1024-entry table minus the clamped ends, and a lut exactly
    /// its 2^k entries.
    func testTableSizesFollowTheReachableIndices() throws {
        func tables(_ op: String, _ inType: String) throws -> [RomTable] {
            let m = try model(op, inType, "fixed<16,6>")
            let hw = LayerLowering.lower(layer: m.layers[0], index: 0, model: m, top: "t", options: LoweringOptions())
            hw.module.eliminateDeadSignals()
            return hw.module.tables
        }
        XCTAssertEqual(try tables("\"op\": \"sigmoid\"", "fixed<6,2>").map { $0.values.count }, [64])
        XCTAssertEqual(try tables("\"op\": \"sigmoid\"", "fixed<16,6>").map { $0.values.count }, [1024])
        XCTAssertEqual(try tables("\"op\": \"sigmoid\"", "fixed<12,2>").map { $0.values.count }, [256])  // |x| < 2: 256 bins
        XCTAssertEqual(try tables("\"op\": \"tanh\"", "int<16>").map { $0.values.count }, [8])  // x in -4..3
        XCTAssertEqual(try tables("\"op\": \"lut\", \"table\": [1, 2, 3, 4], \"table_type\": \"fixed<8,4>\"", "fixed<16,6>").map { $0.values.count }, [4])
        XCTAssertEqual(try tables("\"op\": \"elu\"", "ufixed<16,6>").count, 0)  // never negative
        XCTAssertEqual(try tables("\"op\": \"leaky_relu\", \"alpha\": 0.1", "fixed<16,6>").count, 0)
        // Each table's width is the output width (the output cast is folded in).
        XCTAssertEqual(try tables("\"op\": \"tanh\"", "fixed<16,6>").map { $0.width }, [16])
    }

    /// A table read with its address logic fits one stage at 250 MHz: the layer takes one cycle.
    func testTableLayersTakeOneCycle() throws {
        for op in ["\"op\": \"sigmoid\"", "\"op\": \"tanh\", \"table\": \"centered\"", "\"op\": \"elu\"", "\"op\": \"selu\", \"table_size\": 64"] {
            for inType in ["fixed<8,3>", "fixed<16,6>", "fixed<24,10>"] {
                let m = try model(op, inType, "fixed<16,6>")
                let hw = LayerLowering.lower(layer: m.layers[0], index: 0, model: m, top: "t", options: LoweringOptions())
                let expected = op.contains("selu") && inType != "fixed<8,3>" ? 2 : 1  // selu's lambda * x multiplier
                XCTAssertLessThanOrEqual(hw.latency, expected, "\(op) \(inType)")
            }
        }
    }
}
