// Tree front ends (FrontEnds/Trees): XGBoost and conifer JSON read into a bdt layer, the
// precisions of --config, and the refusals (exit 2 naming file and field).
import FixedPoint
@testable import FrontEnds
import ModelIR
import XCTest

final class TreeImportTests: XCTestCase {
    /// A one-tree XGBoost binary:logistic model (XGBoost 3 layout, trimmed to what is read).
    func xgb(objective: String = "binary:logistic", splitType: String = "[0, 0, 0]", base: String = "[5E-1]", numClass: String = "0") -> String {
        #"""
        {"learner": {"objective": {"name": "\#(objective)"},
          "learner_model_param": {"base_score": "\#(base)", "num_class": "\#(numClass)", "num_feature": "2", "num_target": "1"},
          "gradient_booster": {"name": "gbtree", "model": {"tree_info": [0], "trees": [
            {"left_children": [1, -1, -1], "right_children": [2, -1, -1], "split_indices": [1, 0, 0],
             "split_conditions": [0.35795492, -0.43160546, 0.5524032], "split_type": \#(splitType), "categories": []}]}}},
         "version": [3, 2, 0]}
        """#
    }

    func temp(_ text: String, _ name: String) -> String {
        let p = NSTemporaryDirectory() + "rtlgen-tree-\(name)"
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    func testXGBoostModel() throws {
        let cfg = temp("input_precision: ap_fixed<12,4>\nscore_precision: ap_fixed<14,6>\nbackend: cpp\n", "cfg.yml")
        let m = try XCTUnwrap(try TreeImport.model(text: xgb(), file: "m.json", configPath: cfg))
        guard case let .kind(k) = m.layers[0].op, let b = k.base as? TreeEnsemble else { return XCTFail() }
        XCTAssertEqual(b.split, .lt)
        XCTAssertEqual(m.input.type, try FixedType.parse("fixed<12,4>"))
        XCTAssertEqual(b.thresholdType, m.input.type, "threshold precision defaults to the input precision")
        // 0.357954919 floored onto 8 fraction bits: 91/256; leaves on 8 bits: floor(-0.4316 * 256) = -111.
        XCTAssertEqual(b.trees[0][0].threshold[0], 91)
        XCTAssertEqual(b.trees[0][0].value[1], -111)
        XCTAssertEqual(b.trees[0][0].value[2], 141)
        XCTAssertEqual(b.baseScore, [0], "logit(0.5) = 0")
        XCTAssertNil(try TreeImport.model(text: #"{"format": "rtlgen-model"}"#, file: "n.json", configPath: nil))
    }

    func testRefusals() {
        func check(_ text: String, _ field: String, _ words: [String], config: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
            do {
                _ = try TreeImport.model(text: text, file: "m.json", configPath: config)
                XCTFail("accepted", file: file, line: line)
            } catch let e as InputError {
                XCTAssertEqual(e.field, field, "\(e)", file: file, line: line)
                for w in words { XCTAssertTrue(e.message.contains(w), "\(e.message) lacks \(w)", file: file, line: line) }
            } catch { XCTFail("\(error)", file: file, line: line) }
        }
        let tree = "learner.gradient_booster.model.trees[0]"
        check(xgb(splitType: "[1, 0, 0]"), "\(tree).split_type[0]", ["categorical"])
        check(xgb(objective: "rank:pairwise"), "learner.objective.name", ["unsupported objective"])
        check(xgb(base: "[-2E-1]"), "learner.learner_model_param.base_score", ["(0, 1)"])
        check(xgb().replacingOccurrences(of: "\"split_indices\": [1, 0, 0]", with: "\"split_indices\": [5, 0, 0]"), "\(tree).split_indices[0]", ["not an input"])
        check(xgb(), "precision", ["wrap"], config: temp("precision: ap_fixed<16,6,AP_TRN,AP_SAT>\n", "sat.yml"))
        check(xgb(), "weight_precision", ["hold 1"], config: temp("precision: ap_fixed<16,6>\nweight_precision: ap_fixed<8,1>\n", "w.yml"))
        let conifer = #"{"n_classes": 2, "n_features": 2, "n_trees": 1, "norm": 1, "init_predict": [0.1], "splitting_convention": "<=", "trees": [[{"feature": [0, -2, -2], "weight": [[0.5, 0.5], [0, 0], [0, 0]], "threshold": [0.5, 0, 0], "value": [0, 1, 2], "children_left": [1, -1, -1], "children_right": [2, -1, -1]}]]}"#
        check(conifer, "trees[0][0].weight[0]", ["oblique"])
        check(conifer.replacingOccurrences(of: "\"norm\": 1", with: "\"norm\": 2"), "norm", ["norm 1"])
    }
}
