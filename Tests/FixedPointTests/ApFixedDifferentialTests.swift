// Differential test against the real ap_fixed headers (from the hls4ml wheel): replays the cases
// printed by Tests/apfixed/oracle.cpp (`make apfixed`) through rtlgen's FixedPoint library and
// requires bit-identical codes. See docs/arithmetic-oracle.md.
import BigInt
import Foundation
import XCTest

@testable import FixedPoint

final class ApFixedDifferentialTests: XCTestCase {
    /// The package root: this file is <root>/Tests/FixedPointTests/ApFixedDifferentialTests.swift.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testMatchesApFixedOracle() throws {
        let env = ProcessInfo.processInfo.environment
        let path = env["RTLGEN_APFIXED_CASES"]
            ?? Self.packageRoot.appendingPathComponent(".cache/apfixed/cases.txt").path
        guard FileManager.default.fileExists(atPath: path) else {
            let message = "ap_fixed oracle cases not found at \(path): run `make apfixed` "
                + "(fetches the hls4ml ap_fixed headers, builds Tests/apfixed/oracle.cpp, writes the cases)"
            if env["RTLGEN_REQUIRE_APFIXED"] == "1" {
                XCTFail(message)
                return
            }
            throw XCTSkip(message)
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)

        var types: [Substring: FixedType] = [:]
        func type(_ s: Substring) throws -> FixedType {
            if let t = types[s] { return t }
            let t = try FixedType.parse(String(s))
            types[s] = t
            return t
        }

        var total = 0, casts = 0, doubles = 0, ties = 0, mismatches = 0
        var examples: [String] = []
        var badLines: [String] = []

        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let lineNo = index + 1
            let f = line.split(separator: " ")
            do {
                let dst: FixedType
                let expected: Int128
                let got: Int128
                let input: String
                let num: BigInt, den: BigInt  // the exact input value num / den
                switch f.first {
                case "cast" where f.count == 5:
                    let src = try type(f[1])
                    guard let code = Int128(String(f[2])), let want = Int128(String(f[4])) else {
                        throw TypeParseError(description: "bad integer")
                    }
                    dst = try type(f[3])
                    expected = want
                    got = dst.cast(code: code, frac: src.fracBits)
                    input = "\(src) code \(code) (= \(src.decimalString(code)))"
                    if src.fracBits >= 0 {
                        (num, den) = (BigInt(code), BigInt(1) << src.fracBits)
                    } else {
                        (num, den) = (BigInt(code) << -src.fracBits, 1)
                    }
                    casts += 1
                case "double" where f.count == 4:
                    dst = try type(f[1])
                    let parts = f[2].components(separatedBy: "*2^")
                    guard parts.count == 2, let m = BigInt(parts[0]), let e = Int(parts[1]),
                          let want = Int128(String(f[3])) else {
                        throw TypeParseError(description: "bad value or code")
                    }
                    (num, den) = e >= 0 ? (m << e, 1) : (m, BigInt(1) << -e)
                    expected = want
                    got = dst.quantize(numerator: num, denominator: den)
                    input = "double \(f[2])"
                    doubles += 1
                default:
                    throw TypeParseError(description: "unknown line kind")
                }
                total += 1
                if Self.isTie(num: num, den: den, frac: dst.fracBits) { ties += 1 }
                if got != expected {
                    mismatches += 1
                    if examples.count < 20 {
                        examples.append("line \(lineNo): \(input) -> \(Self.spell(dst)): "
                            + "ap_fixed \(expected) (\(dst.decimalString(expected))), "
                            + "rtlgen \(got) (\(dst.decimalString(got)))")
                    }
                }
            } catch {
                if badLines.count < 20 { badLines.append("line \(lineNo): \(line) (\(error))") }
            }
        }

        XCTAssert(badLines.isEmpty, "unparsable oracle lines in \(path):\n" + badLines.joined(separator: "\n"))
        XCTAssertGreaterThanOrEqual(total, 10_000, "too few oracle cases in \(path)")
        XCTAssertGreaterThanOrEqual(ties, 1_000, "too few exact rounding ties among the oracle cases")
        XCTAssertGreaterThan(casts, 0, "no cast cases")
        XCTAssertGreaterThan(doubles, 0, "no double cases")
        XCTAssertEqual(mismatches, 0, "\(mismatches) of \(total) cases differ from ap_fixed "
            + "(first \(examples.count)):\n" + examples.joined(separator: "\n"))
        print("ap_fixed oracle: \(total) cases (\(casts) cast, \(doubles) double), \(ties) exact ties, "
            + "\(types.count) types, \(mismatches) mismatches")
    }

    /// Whether (num / den) * 2^frac has fractional part exactly 1/2 (den > 0).
    static func isTie(num: BigInt, den: BigInt, frac: Int) -> Bool {
        var n = num << 1  // test 2x: an odd integer exactly when x is a tie
        var d = den
        if frac >= 0 { n <<= frac } else { d <<= -frac }
        let (q, r) = n.quotientAndRemainder(dividingBy: d)
        return r == 0 && q % 2 != 0
    }

    /// Full four-argument spelling, as the oracle prints it.
    static func spell(_ t: FixedType) -> String {
        "\(t.signed ? "fixed" : "ufixed")<\(t.width),\(t.intBits),\(t.rounding.rawValue),\(t.overflow.rawValue)>"
    }
}
