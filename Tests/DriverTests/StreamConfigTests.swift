// The stream: config section: bad layouts and feature maps exit 2 with one message naming the
// file and field; the exact affine maps agree with the BigInt definition; the golden model on
// hand-made uGMT records.
import BigInt
import FixedPoint
import Foundation
@testable import Driver
import Golden
@testable import ModelIR
import XCTest

final class StreamConfigTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var model: Model { get throws { try ModelLoader.load(path: root.appendingPathComponent("examples/muon_recal/model.json").path) } }

    func load(_ yaml: String) throws -> Config {
        let f = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString).yaml")
        try yaml.write(to: f, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: f) }
        let c = try Config.load(path: f.path)
        try StreamConfig.validate(c.stream!, model: try model, file: f.path)
        return c
    }

    func expectError(_ yaml: String, field: String, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try load(yaml)
            XCTFail("accepted", file: file, line: line)
        } catch let e as InputError {
            XCTAssertEqual(e.field, field, "\(e)", file: file, line: line)
            XCTAssertTrue(e.message.contains(text), "\(e)", file: file, line: line)
        } catch { XCTFail("\(error)", file: file, line: line) }
    }

    static let features = """
      features:
        - {field: a, scale: 0.0625}
        - {field: a}
        - {field: a}
        - {field: a}
        - {field: a}
    """

    func testBadLayoutsAndFeatures() {
        expectError("stream:\n  layout: {words: 1, fields: [{name: a, word: 0, lsb: 0, width: 8}, {name: b, word: 0, lsb: 4, width: 8}]}\n" + Self.features,
                    field: "stream.layout.fields[1]", contains: "overlaps field 'a'")
        expectError("stream:\n  layout: {words: 1, fields: [{name: a, word: 0, lsb: 28, width: 8}]}\n" + Self.features,
                    field: "stream.layout.fields[0]", contains: "runs past the 32-bit record")
        expectError("stream:\n  layout: {words: 1, fields: [{name: a, word: 1, lsb: 0, width: 8}]}\n" + Self.features,
                    field: "stream.layout.fields[0].word", contains: "0...0")
        expectError("stream:\n  layout: {words: 1, fields: [{name: b, word: 0, lsb: 0, width: 4}]}\n" + Self.features,
                    field: "stream.features[0].field", contains: "no field 'a'")
        // 255 * 1 does not fit fixed<18,6> (range [-32, 32)).
        expectError("stream:\n  layout: {words: 1, fields: [{name: a, word: 0, lsb: 0, width: 8}]}\n  output: scores\n" + Self.features,
                    field: "stream.features[1].scale", contains: "overflows the input type")
        expectError("stream:\n  layout: ugmt-run2\n" + Self.features, field: "stream.layout", contains: "unknown built-in layout")
        expectError("stream:\n  muons_per_beat: 9\n" + Self.features, field: "stream.muons_per_beat", contains: "1...8")
        expectError("stream:\n  output: replace\n  features: [{field: hwPt, scale: 0.0625}, {field: hwQual}, {field: hwQual}, {field: hwQual}]\n  replace: [{field: hwPt, output: 0}]\n",
                    field: "stream.features", contains: "4 features for a network with 5 inputs")
    }

    func testGoodConfigsParse() throws {
        let c = try Config.load(path: root.appendingPathComponent("examples/muon_recal/stream.yaml").path)
        let s = try XCTUnwrap(c.stream)
        XCTAssertEqual(s.layout, RecordLayout.ugmtScoutingRun3)
        XCTAssertEqual(s.output, .replace)
        XCTAssertEqual(s.features[1].scale, try Rational(decimal: "0.010875"))   // exact, not a binary double
        XCTAssertEqual(s.replacements.map { $0.field }, ["hwPt", "hwEta", "hwPhi"])
        XCTAssertEqual(s.replacements[0].offset, Rational(-1))                  // from the hwPt feature
    }

    /// The Int128 rounding equals FixedType.quantize (BigInt) on every mode, random maps and values.
    func testExactSmallMatchesBigInt() throws {
        var state: UInt64 = 7
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 11 }
        for mode in RoundingMode.allCases {
            for o in OverflowMode.allCases {
                let t = FixedType(signed: true, width: 12, intBits: 5, rounding: mode, overflow: o)
                for _ in 0..<15 {
                    let sc = Rational(BigInt(Int(next() % 20001) - 10000) + 1, BigInt(Int(next() % 9999) + 1))
                    let off = Rational(BigInt(Int(next() % 201) - 100), BigInt(Int(next() % 7) + 1))
                    let m = AffineMap(scale: sc, offset: off, type: t, lo: -300, hi: 300)
                    for u in stride(from: Int128(-300), through: 300, by: 11) {
                        let v = sc * Rational(BigInt(u)) + off * sc
                        XCTAssertEqual(m.exactSmall(u), t.quantize(numerator: v.num, denominator: v.den))
                    }
                }
            }
        }
    }

    /// Hand-made records: field extraction, the feature map and the replace of the golden model.
    func testGoldenOnHandMadeRecords() throws {
        let c = try Config.load(path: root.appendingPathComponent("examples/muon_recal/stream.yaml").path)
        let g = try StreamGolden(spec: c.stream!, model: try model)
        let L = RecordLayout.ugmtScoutingRun3
        // hwPt = 33 (16 GeV), eta = -100, phi = 288, quality 12, charge negative.
        var r = BigInt(0)
        r = L.field("hwPt")!.write(r, 33)
        r = L.field("hwEta")!.write(r, -100)
        r = L.field("hwPhi")!.write(r, 288)
        r = L.field("hwQual")!.write(r, 12)
        r = L.field("hwCharge")!.write(r, 1)
        XCTAssertEqual(L.field("hwEta")!.read(r), -100)
        XCTAssertEqual(L.field("hwPt")!.read(r), 33)
        let f = g.features([r])
        // fixed<18,6>: 12 fractional bits. (33 - 1) * 0.0625 = 2 exactly; -100 * 0.010875 = -1.0875
        // -> floor(-4454.4) = -4455 (TRN); 288 * 0.0109083078 = 3.14159264... -> floor(12867.96) = 12867.
        XCTAssertEqual(f, [2 << 12, -4455, 12867, -(1 << 12), 12 << 12])
        // An empty slot passes unchanged; a full one keeps every field not replaced.
        let e = L.field("hwPt")!.write(r, 0)
        XCTAssertEqual(g.slot([e]), e)
        let out = g.slot([r])
        for fld in L.fields where !["hwPt", "hwEta", "hwPhi"].contains(fld.name) {
            XCTAssertEqual(fld.read(out), fld.read(r), fld.name)
        }
        XCTAssertGreaterThanOrEqual(L.field("hwPt")!.read(out), 1)
    }
}

/// `rtlgen build` with a bad stream section: exit 2, one line naming the config file and the
/// field, and no output folder.
final class StreamBuildRefusedTests: XCTestCase {
    func testBadStreamConfigWritesNothing() throws {
        let t = try tempDir(self)
        let good = try String(contentsOfFile: packageRoot.appendingPathComponent("examples/muon_recal/stream.yaml").path, encoding: .utf8)
        let cases: [(String, String, String)] = [
            ("missing_field", good.replacingOccurrences(of: "{field: hwQual}", with: "{field: hwQuality}"), "stream.features"),
            ("too_many_muons", good.replacingOccurrences(of: "muons_per_beat: 2", with: "muons_per_beat: 9"), "stream.muons_per_beat"),
            ("bad_output", good.replacingOccurrences(of: "output: replace", with: "output: rewrite"), "stream.output"),
        ]
        for (name, text, field) in cases {
            XCTAssertNotEqual(text, good, name)
            let cfg = t.appendingPathComponent("\(name).yaml")
            try text.write(to: cfg, atomically: true, encoding: .utf8)
            let out = t.appendingPathComponent("out_\(name)")
            let r = try rtlgen(["build", muonModel, "--config", cfg.path, "--out", out.path])
            XCTAssertEqual(r.status, 2, "\(name): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("\(name).yaml") && r.stderr.contains(field), "\(name): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), name)
        }
    }

    /// A convolutional model with a stream section: refused (image frames are not streamable).
    func testConvCoreIsRefused() throws {
        let t = try tempDir(self)
        let out = t.appendingPathComponent("out")
        let r = try rtlgen(["build", packageRoot.appendingPathComponent("Tests/models/conv/tiny_c1d.json").path,
                            "--config", packageRoot.appendingPathComponent("examples/muon_recal/stream.yaml").path, "--out", out.path])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("stream.yaml: stream:") && r.stderr.contains("vector models only"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}
