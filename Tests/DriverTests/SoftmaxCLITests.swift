// The command line on softmax models: bad softmax parameters exit 2 with one message naming the
// file and the field and leave no output folder; a good one builds and predicts.
import Foundation
import XCTest

final class SoftmaxCLITests: XCTestCase {
    func model(_ fields: String, n: Int = 5) -> String {
        """
        {"format": "rtlgen-model", "version": 1, "name": "smx",
         "input": {"name": "x", "size": \(n), "type": "fixed<16,6>"},
         "layers": [{"name": "probs", "op": "softmax", \(fields)}]}
        """
    }

    func testBadSoftmaxParametersExit2() throws {
        let t = try tempDir(self)
        let cases: [(String, String, String)] = [
            ("pow2", #""table_size": 768, "output_type": "fixed<16,6>""#, "layers[0].table_size"),
            ("empty", #""table_size": 0, "output_type": "fixed<16,6>""#, "layers[0].table_size"),
            ("impl", #""implementation": "legacy", "output_type": "fixed<16,6>""#, "layers[0].implementation"),
            ("argmax_type", #""implementation": "argmax", "output_type": "uint<2>""#, "layers[0].output_type"),
        ]
        for (name, fields, field) in cases {
            try assertBuildRefused(model(fields), name: name, field: field, in: t)
        }
    }

    func testArgmaxPredict() throws {
        let t = try tempDir(self)
        let path = t.appendingPathComponent("argmax.json")
        try model(#""implementation": "argmax", "output_type": "uint<3>""#).write(to: path, atomically: true, encoding: .utf8)
        let csv = t.appendingPathComponent("x.csv")
        try "1,2,3,2,1\n-1,-1,-1,-1,-1\n0,0,0,0,0.0009765625\n".write(to: csv, atomically: true, encoding: .utf8)
        let r = try rtlgen(["predict", path.path, "--input", csv.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "2\n0\n4\n")
    }
}
