// Conversion of binary floating-point values to fixed point (ap_fixed's constructor from
// double): the exact value, rounded with the type's mode, then its overflow mode.
import BigInt
@testable import FixedPoint
import XCTest

final class FromFloatTests: XCTestCase {
    /// d = m * 2^-k built exactly, for random m and k: quantize(double:) equals the exact
    /// rational quantization, for every mode pair and several types.
    func testEqualsExactRationalQuantization() {
        var state: UInt64 = 12345
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var checked = 0
        for q in RoundingMode.allCases {
            for o in OverflowMode.allCases {
                for (s, w, i) in [(true, 18, 8), (false, 16, 6), (true, 8, -2), (true, 40, 30), (false, 5, 9)] {
                    let t = FixedType(signed: s, width: w, intBits: i, rounding: q, overflow: o)
                    for _ in 0..<200 {
                        let bits = Int(next() % 53) + 1
                        var m = Int64(next() >> (64 - UInt64(bits)))
                        if next() & 1 == 1 { m = -m }
                        let k = Int(next() % 80) - 20
                        let d = Double(m) * pow2(-k)     // exact: |m| < 2^53
                        let want = k >= 0 ? t.quantize(numerator: BigInt(m), denominator: BigInt(1) << k)
                                          : t.quantize(numerator: BigInt(m) << (-k), denominator: 1)
                        XCTAssertEqual(t.quantize(double: d), want, "\(d) -> \(t)")
                        checked += 1
                    }
                }
            }
        }
        XCTAssertEqual(checked, 7 * 4 * 5 * 200)
    }

    /// Infinity reads like 2^1024 (ap_fixed takes its exponent field at face value): WRAP gives
    /// 0, SAT the maximum, SAT_ZERO 0; -infinity the minimum under SAT. Zero, subnormals, floats.
    func testSpecialValues() {
        let sat = FixedType(signed: true, width: 18, intBits: 8, rounding: .RND, overflow: .SAT)
        XCTAssertEqual(sat.quantize(double: .infinity), sat.maxCode)
        XCTAssertEqual(sat.quantize(double: -.infinity), sat.minCode)
        XCTAssertEqual(sat.with(overflow: .WRAP).quantize(double: .infinity), 0)
        XCTAssertEqual(sat.with(overflow: .SAT_ZERO).quantize(double: .infinity), 0)
        XCTAssertEqual(sat.with(overflow: .SAT_SYM).quantize(double: -.infinity), -sat.maxCode)
        XCTAssertEqual(sat.quantize(double: 0), 0)
        XCTAssertEqual(sat.quantize(double: -0.0), 0)
        XCTAssertEqual(sat.quantize(double: Double.leastNonzeroMagnitude), 0)
        XCTAssertEqual(sat.with(rounding: .RND_INF).quantize(double: Double.leastNonzeroMagnitude), 0)
        XCTAssertEqual(sat.with(rounding: .TRN).quantize(double: -Double.leastNonzeroMagnitude), -1)
        XCTAssertEqual(sat.quantize(float: Float(1) / 3), 341)       // 0.33333334 * 1024 = 341.33
        XCTAssertEqual(sat.quantize(float: 0.5), 512)
        XCTAssertEqual(sat.quantize(double: 1e300), sat.maxCode)
    }
}
