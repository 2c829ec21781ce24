import BigInt
import FixedPoint
import Golden
import ModelIR
@testable import Netlist
import XCTest

/// Deterministic generator for tests (SplitMix64).
struct TestRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
    mutating func bool() -> Bool { next() & 1 == 1 }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(0...(xs.count - 1))] }
}

func code(_ bits: BigInt, _ t: FixedType) -> Int128 {
    let v = Int128(bits)
    return t.signed && t.width < 128 && v >= (Int128(1) << (t.width - 1)) ? v - (Int128(1) << t.width) : v
}

final class CastLoweringTests: XCTestCase {
    /// The cast logic, interpreted, equals FixedType.cast for every code of the source type,
    /// for every rounding and overflow mode, and for shifts in both directions.
    func testCastLogicMatchesGoldenExhaustively() {
        let sources = [
            FixedType(signed: true, width: 7, intBits: 3),
            FixedType(signed: false, width: 6, intBits: 2),
            FixedType(signed: true, width: 5, intBits: -1),
            FixedType(signed: true, width: 1, intBits: 1),
        ]
        var checked = 0
        for src in sources {
            for (tw, ti, ts) in [(4, 2, true), (3, 1, false), (6, 5, true), (5, 8, true), (8, 2, false), (2, -2, true), (1, 0, true), (9, 3, true)] {
                for q in RoundingMode.allCases {
                    for o in OverflowMode.allCases {
                        let dst = FixedType(signed: ts, width: tw, intBits: ti, rounding: q, overflow: o)
                        let m = Module(name: "t")
                        let b = DatapathBuilder(module: m, delays: DelayModel(clockPeriodNs: 1000))
                        let inp = b.input("x", width: src.width, repr: src.signed ? .signed : .unsigned)
                        let y = b.cast(Val(sig: inp, frac: src.fracBits, range: CodeRange(of: src)), to: dst, name: "c")
                        m.define("y", width: dst.width, repr: .bus, .copy(y.sig), role: .output)
                        let sim = NetlistInterpreter(m, library: [])
                        var c = src.minCode
                        while c <= src.maxCode {
                            sim.evaluate(inputs: ["x": bigInt(c)])
                            let got = code(sim.output("y"), dst)
                            let want = dst.cast(code: c, frac: src.fracBits)
                            XCTAssertEqual(got, want, "\(src) code \(c) -> \(dst)")
                            if got != want { return }
                            XCTAssertTrue(y.range.lo <= got && got <= y.range.hi, "range of \(dst) from \(src)")
                            checked += 1
                            c += 1
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 10_000)
    }

    /// The per-mode increment logic equals RoundingMode.roundsUp on all 16 input combinations.
    func testRoundIncrementTruthTables() {
        for mode in RoundingMode.allCases {
            let m = Module(name: "r")
            let b = DatapathBuilder(module: m, delays: DelayModel())
            let neg = b.input("neg", width: 1, repr: .bit)
            let lsb = b.input("lsb", width: 1, repr: .bit)
            let half = b.input("half", width: 1, repr: .bit)
            let sticky = b.input("sticky", width: 1, repr: .bit)
            let inc = b.roundIncrement(mode, neg: neg, lsb: lsb, half: half, sticky: sticky, name: "i")
                ?? b.bitConst(false, name: "zero")
            m.define("y", width: 1, repr: .bit, .copy(inc), role: .output)
            let sim = NetlistInterpreter(m, library: [])
            for k in 0..<16 {
                let bits = (0..<4).map { (k >> $0) & 1 == 1 }
                sim.evaluate(inputs: ["neg": bits[0] ? 1 : 0, "lsb": bits[1] ? 1 : 0, "half": bits[2] ? 1 : 0, "sticky": bits[3] ? 1 : 0])
                let want = mode.roundsUp(negative: bits[0], lsbOdd: bits[1], half: bits[2], sticky: bits[3])
                XCTAssertEqual(sim.output("y") != 0, want, "\(mode) \(bits)")
            }
        }
    }
}
