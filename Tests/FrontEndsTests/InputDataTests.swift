// --input files: CSV as common tools write it and NumPy .npy arrays (Driver/Inputs).
import Driver
import FixedPoint
import Foundation
import ModelIR
import XCTest

final class InputDataTests: XCTestCase {
    let t = FixedType(signed: true, width: 16, intBits: 6)

    func tmp(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = FileManager.default.temporaryDirectory.appendingPathComponent("rtlgen-input-\(ProcessInfo.processInfo.processIdentifier)-\(name)").path
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    func read(_ name: String, _ bytes: [UInt8], size: Int = 2) throws -> ([[Int128]], [String]) {
        var notes: [String] = []
        let rows = try InputData.read(path: try tmp(name, bytes), size: size, type: t) { notes.append($0) }
        return (rows, notes)
    }

    func code(_ s: String) -> Int128 { try! t.quantize(decimal: s) }

    func testCRLFBOMHeaderBlankAndComments() throws {
        let text = "\u{FEFF}pt,\"eta\"\r\n# comment\r\n\r\n1.5,-2\r\n 0.25 , \"3\"\r\n"
        let (rows, notes) = try read("crlf.csv", Array(text.utf8))
        XCTAssertEqual(rows, [[code("1.5"), code("-2")], [code("0.25"), code("3")]])
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes[0].contains("line 1 is a header"), notes[0])
    }

    func testNumericFirstLineIsData() throws {
        let (rows, notes) = try read("numeric.csv", Array("0,1\n2,3".utf8))
        XCTAssertEqual(rows.count, 2)
        XCTAssertTrue(notes.isEmpty)
    }

    func testErrorsNameLineAndColumn() throws {
        XCTAssertThrowsError(try read("bad.csv", Array("a,b\r\n1,2\r\n1,x\r\n".utf8))) { e in
            XCTAssertTrue("\(e)".contains("line 3, column 2"), "\(e)")
        }
        XCTAssertThrowsError(try read("short.csv", Array("1,2\n3\n".utf8))) { e in
            XCTAssertTrue("\(e)".contains("line 2: expected 2 values, found 1"), "\(e)")
        }
        XCTAssertThrowsError(try read("hdr.csv", Array("a,b,c\n1,2\n".utf8))) { e in
            XCTAssertTrue("\(e)".contains("header of 3 names"), "\(e)")
        }
    }

    /// A .npy file: magic, version, header dict padded to 64 bytes, data.
    func npy(descr: String, shape: String, fortran: Bool = false, version: UInt8 = 1, data: [UInt8]) -> [UInt8] {
        var h = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
        let pre = version == 1 ? 10 : 12
        while (pre + h.utf8.count + 1) % 64 != 0 { h += " " }
        h += "\n"
        var b: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        let n = h.utf8.count
        b += version == 1 ? [UInt8(n & 255), UInt8(n >> 8)] : [UInt8(n & 255), UInt8(n >> 8), 0, 0]
        return b + Array(h.utf8) + data
    }

    func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

    func testNPYFloat64Float32AndIntegers() throws {
        let d: [Double] = [1.5, -0.1, 31.999, -40]
        let (r64, _) = try read("f8.npy", npy(descr: "<f8", shape: "(2, 2)", data: d.flatMap { le($0.bitPattern) }))
        XCTAssertEqual(r64, [[t.quantize(double: 1.5), t.quantize(double: -0.1)], [t.quantize(double: 31.999), t.quantize(double: -40)]])
        let f: [Float] = [0.1, -3.25]
        let (r32, _) = try read("f4.npy", npy(descr: "<f4", shape: "(1, 2)", version: 2, data: f.flatMap { le($0.bitPattern) }))
        XCTAssertEqual(r32, [[t.quantize(float: 0.1), t.quantize(float: -3.25)]])
        let (ri, _) = try read("i2.npy", npy(descr: ">i2", shape: "(1, 2)", data: be(Int16(-7)) + be(Int16(300))))
        XCTAssertEqual(ri, [[code("-7"), code("300")]])
        let (ru, _) = try read("u1.npy", npy(descr: "|u1", shape: "(1, 2)", data: [255, 3]))
        XCTAssertEqual(ru, [[code("255"), code("3")]])
    }

    func testNPYErrors() throws {
        let cases: [(String, [UInt8], String)] = [
            ("trunc.npy", npy(descr: "<f8", shape: "(2, 2)", data: Array(repeating: 0, count: 20)), "truncated"),
            ("shape3.npy", npy(descr: "<f8", shape: "(1, 2, 1)", data: Array(repeating: 0, count: 16)), "2-D"),
            ("cols.npy", npy(descr: "<f8", shape: "(1, 3)", data: Array(repeating: 0, count: 24)), "expected 2 columns"),
            ("fortran.npy", npy(descr: "<f8", shape: "(2, 2)", fortran: true, data: Array(repeating: 0, count: 32)), "Fortran"),
            ("c16.npy", npy(descr: "<c16", shape: "(1, 2)", data: Array(repeating: 0, count: 32)), "unsupported dtype"),
            ("nan.npy", npy(descr: "<f8", shape: "(1, 2)", data: le(Double.nan.bitPattern) + le(UInt64(0))), "sample 1, column 1"),
            ("head.npy", [0x93] + Array("NUMPY".utf8) + [1, 0, 200, 0], "truncated"),
        ]
        for (name, bytes, want) in cases {
            XCTAssertThrowsError(try read(name, bytes), name) { e in
                XCTAssertTrue(e is InputError && "\(e)".contains(want), "\(name): \(e)")
            }
        }
    }
}
