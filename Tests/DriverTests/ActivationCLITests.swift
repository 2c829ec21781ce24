// The activation layers through the command line: bad parameters exit 2 with one message naming
// the file and the field; report.json gives every table's size in bits.
import Foundation
import XCTest

final class ActivationCLITests: XCTestCase {
    func testBadActivationParametersExit2() throws {
        let t = try tempDir(self)
        let cases: [(String, String, String)] = [
            ("table_size", "\"op\": \"sigmoid\", \"table_size\": 1000", "layers[0].table_size"),
            ("empty_table", "\"op\": \"lut\", \"table\": [], \"table_type\": \"fixed<8,2>\"", "layers[0].table"),
            ("table_length", "\"op\": \"lut\", \"table\": [1, 2, 3], \"index_bits\": 2, \"table_type\": \"fixed<8,2>\"", "layers[0].table"),
            ("implementation", "\"op\": \"tanh\", \"table\": \"cordic\"", "layers[0].table"),
        ]
        for (name, fields, field) in cases {
            try assertBuildRefused("""
                {"format": "rtlgen-model", "version": 1, "name": "m", "input": {"size": 2, "type": "fixed<8,2>"},
                 "layers": [{"name": "a", \(fields), "output_type": "fixed<8,2>"}]}
                """, name: name, field: field, in: t)
        }
    }

    func testReportGivesEveryTableInBits() throws {
        let t = try tempDir(self)
        let out = t.appendingPathComponent("act")
        let model = packageRoot.appendingPathComponent("examples/activations/model.json").path
        let r = try rtlgen(["build", model, "--out", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let data = try Data(contentsOf: out.appendingPathComponent("report.json"))
        let rep = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let layers = try XCTUnwrap(rep["layers"] as? [[String: Any]])
        var total = 0
        var sizes: [String: [Int]] = [:]
        for l in layers {
            let tables = try XCTUnwrap(l["tables"] as? [[String: Any]])
            var sum = 0
            for tb in tables {
                let entries = tb["entries"] as! Int, width = tb["width"] as! Int, bits = tb["bits"] as! Int
                XCTAssertEqual(entries * width, bits)
                XCTAssertEqual(entries & (entries - 1), 0, "entries must be a power of two")
                sum += bits
                sizes[l["name"] as! String, default: []].append(entries)
            }
            XCTAssertEqual(l["table_bits"] as? Int, sum)
            total += sum
            let op = l["op"] as! String
            XCTAssertEqual(!tables.isEmpty, ["sigmoid", "tanh", "lut", "elu", "selu"].contains(op), "\(l["name"]!): \(op)")
        }
        XCTAssertEqual((rep["resources"] as? [String: Any])?["table_bits"] as? Int, total)
        // The narrow 8-bit input of tanh_c addresses its ROM directly (256 entries); the lut has
        // its 16 entries; the wide 16-bit tanh_w has the 1024-entry table.
        XCTAssertEqual(sizes["tanh_c"], [256])
        XCTAssertEqual(sizes["cube"], [16])
        XCTAssertEqual(sizes["tanh_w"], [1024])
        // Every ROM is a constant array in both languages.
        let v = try String(contentsOf: out.appendingPathComponent("rtl/verilog/activations_tanh_c.v"), encoding: .utf8)
        XCTAssertTrue(v.contains("reg [9:0] tanh_c_rom [0:255];"), v)
        let h = try String(contentsOf: out.appendingPathComponent("rtl/vhdl/activations_tanh_c.vhd"), encoding: .utf8)
        XCTAssertTrue(h.contains("type tanh_c_rom_t is array (0 to 255) of signed(9 downto 0);"), h)
    }
}
