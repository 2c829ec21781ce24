// The binary example through the CLI: yosys statistics (no $mul in binary_dense layers), the
// adder depth of binary dense layers in report.json, bipolar CSV output, and a bad binary model's exit status.
import Foundation
import ModelIR
import XCTest

final class BinaryCLITests: XCTestCase {
    let bnn = packageRoot.appendingPathComponent("examples/keras_bnn/model.json").path

    func report(_ dir: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: dir.appendingPathComponent("report.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// `--yosys-stats`: yosys finds no `$mul` cell in any binary_dense layer of keras_bnn, and does
    /// find the final batchnorm's constant multipliers (so the check can fail). Skipped without yosys.
    func testYosysFindsNoMultiplierInBinaryDense() throws {
        guard (try? rtlgen(["--help"])) != nil else { throw XCTSkip("no rtlgen binary") }
        let which = Process()
        which.executableURL = URL(fileURLWithPath: "/bin/sh")
        which.arguments = ["-c", "command -v yosys"]
        try which.run(); which.waitUntilExit()
        guard which.terminationStatus == 0 else { throw XCTSkip("yosys not installed") }
        let out = try tempDir(self).appendingPathComponent("bnn")
        let r = try rtlgen(["build", bnn, "--out", out.path, "--lang", "verilog", "--yosys-stats"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let layers = try report(out)["layers"] as! [[String: Any]]
        var binaryLayers = 0
        for l in layers {
            let y = l["yosys"] as! [String: Any]
            let muls = y["mul_cells"] as! Int
            XCTAssertGreaterThan(y["cells"] as! Int, 0)
            switch l["op"] as! String {
            case "binary_dense":
                binaryLayers += 1
                XCTAssertEqual(muls, 0, "\(l["name"]!)")
                XCTAssertEqual(l["multipliers"] as! Int, 0)
            case "batchnorm":
                XCTAssertEqual(muls, 5)
            default: break
            }
        }
        XCTAssertEqual(binaryLayers, 4)
        // Without the flag the report has no yosys figures (yosys stays optional).
        let plain = try tempDir(self).appendingPathComponent("plain")
        XCTAssertEqual(try rtlgen(["build", bnn, "--out", plain.path]).status, 0)
        XCTAssertNil((try report(plain)["layers"] as! [[String: Any]])[0]["yosys"])
    }

    /// The report gives each binary dense layer's adder depth; a sign layer's output prints as -1/1.
    func testReportAndBipolarOutput() throws {
        let out = try tempDir(self).appendingPathComponent("bnn")
        XCTAssertEqual(try rtlgen(["build", bnn, "--out", out.path, "--lang", "vhdl"]).status, 0)
        let layers = try report(out)["layers"] as! [[String: Any]]
        XCTAssertEqual(layers.map { $0["op"] as! String },
                       ["binary_dense", "threshold", "binary_dense", "threshold", "binary_dense", "threshold", "binary_dense", "batchnorm"])
        // Shared shift-add partial sums: 64 bipolar inputs plus the offset need 7 levels at least
        // (sharing may go deeper); 16 fixed-point inputs keep a balanced tree's 4 levels.
        let d2 = try XCTUnwrap(layers[2]["adder_depth"] as? Int)
        XCTAssertGreaterThanOrEqual(d2, 7)
        XCTAssertLessThanOrEqual(d2, 12)
        XCTAssertEqual(layers[0]["adder_depth"] as? Int, 4)
        XCTAssertNil(layers[2]["popcount_depth"])
        XCTAssertGreaterThan(layers[2]["shift_add_shared_nodes"] as? Int ?? 0, 0)
        let dir = try tempDir(self)
        let model = dir.appendingPathComponent("s.json")
        try """
        {"format": "rtlgen-model", "version": 1, "name": "s", "input": {"size": 3, "type": "fixed<8,4>"},
         "layers": [{"name": "sg", "op": "binary_tanh"}]}
        """.write(to: model, atomically: true, encoding: .utf8)
        let csv = dir.appendingPathComponent("x.csv")
        try "0,-0.01,3\n-8,0.0625,-0\n".write(to: csv, atomically: true, encoding: .utf8)
        let r = try rtlgen(["predict", model.path, "--input", csv.path])
        XCTAssertEqual(r.stdout, "1,-1,1\n-1,1,1\n")   // -0.01 truncates to -0.0625 (TRN): -1
        let e = try assertBuildRefused(try cliBaseModelText(kernelEntry: "0.5"), name: "kernel",
                                       field: "layers[0].kernel[0][1]", in: dir)
        XCTAssertTrue(e.contains("+1 or -1"), e)
    }

    func cliBaseModelText(kernelEntry: String) throws -> String {
        """
        {"format": "rtlgen-model", "version": 1, "name": "b", "input": {"size": 2, "type": "bipolar"},
         "layers": [{"name": "bd", "op": "binary_dense", "units": 2, "kernel": [[1, \(kernelEntry)], [-1, 1]], "output_type": "int<3>"}]}
        """
    }
}
