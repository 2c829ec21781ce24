// Tree-ensemble front ends: conifer's saved JSON (`model.save()`, any converter conifer has:
// XGBoost, scikit-learn, TMVA, ONNX, YDF) and XGBoost's own JSON model
// (`Booster.save_model("m.json")`). Both become one `bdt` layer (ModelIR/Kinds/Trees.swift)
// whose numbers are what conifer's cpp emulation computes with:
//   - conifer JSON: every threshold, leaf and initial score is the double in the file, converted
//     to its ap_fixed type as conifer's `(T) double` does (the type's rounding and overflow);
//   - XGBoost JSON: conifer reads XGBoost through its text dump, where each float32 is printed
//     with 9 significant digits; rtlgen prints the float32 of the JSON the same way and converts
//     that decimal's double. The base score is learner_model_param.base_score, through a logit
//     for probability objectives (binary:logistic, reg:logistic, multi:softprob, multi:softmax),
//     one value repeated per class when only one is stored: conifer's rule.
// The outputs are the raw scores (margins) per class before any sigmoid / softmax; a binary
// classifier has one.
import Foundation
import FixedPoint
import ModelIR

public enum TreeImport {
    public enum Source { case conifer, xgboost }

    public static func source(of v: JSONValue) -> Source? {
        guard case .object = v, v["format"] == nil else { return nil }
        if v["trees"] != nil, v["n_classes"] != nil, v["init_predict"] != nil { return .conifer }
        if let l = v["learner"], l["gradient_booster"] != nil { return .xgboost }
        return nil
    }

    /// The model of a tree file, or nil when `text` is not one. `configPath`: --config.
    public static func model(text: String, file: String, configPath: String?) throws -> Model? {
        guard let v = try? JSONParser.parse(text), let src = source(of: v) else { return nil }
        let given = try configPath.map { try TreeConfig.load(path: $0) }
        // The file name up to its first dot ("muon_pt_bdt.conifer.json" -> muon_pt_bdt).
        let name = identifier(String((file as NSString).lastPathComponent.split(separator: ".").first ?? "bdt"))
        let m: Model
        switch src {
        case .conifer: m = try conifer(v, file: file, config: given, name: name)
        case .xgboost: m = try xgboost(v, file: file, config: given ?? TreeConfig.parse([:], file: file, strict: false), name: name)
        }
        return try ModelCore.validate(m, file: file)
    }

    static func identifier(_ fileName: String) -> String {
        var s = (fileName as NSString).deletingPathExtension.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" }
        if s.isEmpty || !(s.first!.isLetter) { s.insert(contentsOf: "bdt_", at: s.startIndex) }
        let id = String(s)
        return ModelCore.isIdentifier(id) ? id : "bdt_model"
    }

    // MARK: - small JSON readers with field paths

    struct Cursor {
        let file: String
        func fail(_ field: String, _ m: String) -> InputError { InputError(file: file, field: field, message: m) }
        func get(_ v: JSONValue, _ key: String, _ at: String) throws -> JSONValue {
            guard let x = v[key] else { throw fail(at.isEmpty ? key : "\(at).\(key)", "missing required field") }
            return x
        }
        func array(_ v: JSONValue, _ field: String) throws -> [JSONValue] {
            guard case let .array(a) = v else { throw fail(field, "expected an array, found \(v.kindName)") }
            return a
        }
        func double(_ v: JSONValue, _ field: String) throws -> Double {
            switch v {
            case let .number(t): if let d = Double(t), d.isFinite { return d }
            case let .string(t): if let d = Double(t), d.isFinite { return d }   // XGBoost writes some numbers as strings
            default: break
            }
            throw fail(field, "expected a finite number, found \(v.kindName)")
        }
        func int(_ v: JSONValue, _ field: String, min lo: Int, max hi: Int) throws -> Int {
            var n: Int? = nil
            switch v {
            case let .number(t): n = Int(t) ?? Double(t).flatMap { $0 == $0.rounded() && abs($0) < 1e15 ? Int($0) : nil }
            case let .string(t): n = Int(t)
            default: break
            }
            guard let n else { throw fail(field, "expected an integer, found \(v.kindName)") }
            guard n >= lo, n <= hi else { throw fail(field, "\(n) is out of range [\(lo), \(hi)]") }
            return n
        }
        func ints(_ v: JSONValue, _ field: String, min lo: Int, max hi: Int) throws -> [Int] {
            try array(v, field).enumerated().map { try int($1, "\(field)[\($0)]", min: lo, max: hi) }
        }
        func doubles(_ v: JSONValue, _ field: String) throws -> [Double] {
            try array(v, field).enumerated().map { try double($1, "\(field)[\($0)]") }
        }
    }

    static func checkTree(_ t: TreeEnsemble.Tree, nFeatures: Int, field: String, file: String) throws {
        if case let .failure(e) = TreeEnsemble.depth(t, nFeatures: nFeatures) {
            throw InputError(file: file, field: e.field.isEmpty ? field : "\(field).\(e.field)", message: e.message)
        }
    }

    // MARK: - conifer's JSON

    static func conifer(_ v: JSONValue, file: String, config given: TreeConfig?, name: String) throws -> Model {
        let c = Cursor(file: file)
        var cfg = given
        if cfg == nil {
            if case let .object(members)? = v["config"] {
                var map: [String: Any] = [:]
                for (k, x) in members { if case let .string(s) = x { map[k] = s } }
                // conifer writes "float" when no precision was set: then conifer's default type.
                for k in Array(map.keys) where (map[k] as? String) == "float" { map.removeValue(forKey: k) }
                cfg = try TreeConfig.parse(map, file: file, fieldPrefix: "config.", strict: false)
            } else {
                cfg = try TreeConfig.parse([:], file: file, strict: false)
            }
        }
        let config = cfg!
        let nClassesRaw = try c.int(try c.get(v, "n_classes", ""), "n_classes", min: 1, max: 4096)
        let k = nClassesRaw == 2 ? 1 : nClassesRaw   // conifer: a binary model has one score
        let nf = try c.int(try c.get(v, "n_features", ""), "n_features", min: 1, max: 1_000_000)
        let norm = try c.double(try c.get(v, "norm", ""), "norm")
        guard norm == 1 else { throw c.fail("norm", "\(norm): only norm 1 is supported (conifer's XGBoost and scikit-learn converters write 1)") }
        var split = TreeEnsemble.Split.le
        if let s = v["splitting_convention"] {
            guard case let .string(t) = s, let sp = TreeEnsemble.Split(rawValue: t) else {
                throw c.fail("splitting_convention", "expected \"<\" or \"<=\"")
            }
            split = sp
        }
        let init0 = try c.doubles(try c.get(v, "init_predict", ""), "init_predict")
        guard init0.count >= k else { throw c.fail("init_predict", "expected \(k) initial score(s), found \(init0.count)") }
        let base = init0.prefix(k).map { config.score.quantize(double: $0) }
        let treesV = try c.array(try c.get(v, "trees", ""), "trees")
        guard !treesV.isEmpty else { throw c.fail("trees", "the ensemble has no trees") }
        if let nt = v["n_trees"], try c.int(nt, "n_trees", min: 0, max: Int.max) != treesV.count {
            throw c.fail("n_trees", "says \(try c.int(nt, "n_trees", min: 0, max: Int.max)) trees, the file has \(treesV.count)")
        }
        var trees: [[TreeEnsemble.Tree]] = []
        for (i, tv) in treesV.enumerated() {
            let perClass = try c.array(tv, "trees[\(i)]")
            guard perClass.count >= k else { throw c.fail("trees[\(i)]", "expected \(k) tree(s) (one per class), found \(perClass.count)") }
            trees.append(try perClass.prefix(k).enumerated().map { j, t in
                let at = "trees[\(i)][\(j)]"
                let feature = try c.ints(try c.get(t, "feature", at), "\(at).feature", min: -2, max: 1_000_000)
                let thr = try c.doubles(try c.get(t, "threshold", at), "\(at).threshold")
                let val = try c.doubles(try c.get(t, "value", at), "\(at).value")
                let left = try c.ints(try c.get(t, "children_left", at), "\(at).children_left", min: -1, max: 1 << 30)
                let right = try c.ints(try c.get(t, "children_right", at), "\(at).children_right", min: -1, max: 1 << 30)
                let n = feature.count
                for (key, a) in [("threshold", thr.count), ("value", val.count), ("children_left", left.count), ("children_right", right.count)] where a != n {
                    throw c.fail("\(at).\(key)", "expected \(n) entries (one per node), found \(a)")
                }
                // Axis-aligned splits only: conifer's weight vector one-hot on the node's feature.
                if let w = t["weight"] {
                    let rows = try c.array(w, "\(at).weight")
                    for (node, row) in rows.enumerated() where node < n && feature[node] >= 0 {
                        let ws = try c.doubles(row, "\(at).weight[\(node)]")
                        let oneHot = ws.enumerated().allSatisfy { $0.element == ($0.offset == feature[node] ? 1 : 0) }
                        guard oneHot else { throw c.fail("\(at).weight[\(node)]", "an oblique split (weights other than one-hot on feature \(feature[node])) is not supported") }
                    }
                }
                let tree = TreeEnsemble.Tree(
                    feature: feature,
                    threshold: feature.indices.map { feature[$0] == -2 ? 0 : config.threshold.quantize(double: thr[$0]) },
                    left: left, right: right,
                    value: feature.indices.map { feature[$0] == -2 ? config.score.quantize(double: val[$0]) : 0 })
                try checkTree(tree, nFeatures: nf, field: at, file: file)
                return tree
            })
        }
        return makeModel(name: name, library: v["library"], nFeatures: nf, k: k, split: split, config: config, base: base, trees: trees)
    }

    static func makeModel(name: String, library: JSONValue?, nFeatures nf: Int, k: Int, split: TreeEnsemble.Split, config: TreeConfig,
                          base: [Int128], trees: [[TreeEnsemble.Tree]]) -> Model {
        var lib = ""
        if case let .string(s)? = library { lib = " (\(s))" }
        let layer = Layer(name: "bdt", op: .of(TreeEnsemble(nFeatures: nf, nClasses: k, split: split, thresholdType: config.threshold,
                                                            scoreType: config.score, baseScore: base, trees: trees)),
                          outputType: config.score)
        return Model(name: name, description: "Boosted decision trees\(lib): \(trees.count) tree(s) x \(k) score(s), raw scores before sigmoid / softmax",
                     input: InputSpec(name: "x", size: nf, type: config.input), layers: [layer])
    }

    // MARK: - XGBoost's JSON model

    static let objectives: Set<String> = ["reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror", "reg:logistic",
                                          "binary:logistic", "binary:logitraw", "multi:softprob", "multi:softmax"]
    static let probabilityObjectives: Set<String> = ["reg:logistic", "binary:logistic", "multi:softmax", "multi:softprob"]

    /// A float32 as conifer sees it: printed with 9 significant digits, read back as a double.
    static func dumped(_ d: Double) -> Double {
        Double(String(format: "%.9g", Double(Float(d))))!
    }

    static func xgboost(_ v: JSONValue, file: String, config: TreeConfig, name: String) throws -> Model {
        let c = Cursor(file: file)
        let learner = try c.get(v, "learner", "")
        let obj = try c.get(try c.get(learner, "objective", "learner"), "name", "learner.objective")
        guard case let .string(objective) = obj else { throw c.fail("learner.objective.name", "expected a string") }
        guard objectives.contains(objective) else {
            throw c.fail("learner.objective.name", "unsupported objective '\(objective)' (supported: \(objectives.sorted().joined(separator: ", ")))")
        }
        let p = try c.get(learner, "learner_model_param", "learner")
        let numClass = try c.int(try c.get(p, "num_class", "learner.learner_model_param"), "learner.learner_model_param.num_class", min: 0, max: 4096)
        let k = max(numClass, 1)
        let nf = try c.int(try c.get(p, "num_feature", "learner.learner_model_param"), "learner.learner_model_param.num_feature", min: 1, max: 1_000_000)
        if let nt = p["num_target"], try c.int(nt, "learner.learner_model_param.num_target", min: 0, max: 1 << 20) > 1 {
            throw c.fail("learner.learner_model_param.num_target", "multi-target models are not supported")
        }
        // Base score: "[a,b,...]" (XGBoost 3) or "a".
        let bsField = "learner.learner_model_param.base_score"
        guard case let .string(bs) = try c.get(p, "base_score", "learner.learner_model_param") else { throw c.fail(bsField, "expected a string") }
        let parts = bs.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var base = try parts.map { s -> Double in
            guard let d = Double(s), d.isFinite else { throw c.fail(bsField, "'\(bs)' is not a list of numbers") }
            return d
        }
        if base.contains(where: { $0 != 0 }) {
            if probabilityObjectives.contains(objective) {
                base = try base.map { q in
                    guard q > 0, q < 1 else {
                        throw c.fail(bsField, "\(q) is not a probability in (0, 1): conifer takes the logit of a \(objective) base score (NaN here); retrain with base_score=0.5")
                    }
                    return Foundation.log(q / (1 - q))
                }
            }
            if base.count == 1 { base = [Double](repeating: base[0], count: k) }
        } else {
            base = [Double](repeating: 0, count: k)
        }
        guard base.count == k else { throw c.fail(bsField, "expected \(k) base score(s), found \(base.count)") }

        let gb = try c.get(learner, "gradient_booster", "learner")
        if case let .string(n)? = gb["name"], n != "gbtree" {
            throw c.fail("learner.gradient_booster.name", "booster '\(n)' is not supported (gbtree only)")
        }
        let model = try c.get(gb, "model", "learner.gradient_booster")
        let mp = "learner.gradient_booster.model"
        let treesV = try c.array(try c.get(model, "trees", mp), "\(mp).trees")
        let info = try c.ints(try c.get(model, "tree_info", mp), "\(mp).tree_info", min: 0, max: 4095)
        guard info.count == treesV.count, !treesV.isEmpty, treesV.count % k == 0 else {
            throw c.fail("\(mp).tree_info", "expected one class per tree and \(k) tree(s) per boosting round; found \(info.count) classes for \(treesV.count) trees")
        }
        for (i, cls) in info.enumerated() where cls != i % k {
            throw c.fail("\(mp).tree_info[\(i)]", "class \(cls): expected the trees round-robin over the classes as conifer reads them (num_parallel_tree 1)")
        }
        var trees: [[TreeEnsemble.Tree]] = []
        for r in 0..<(treesV.count / k) {
            var perClass: [TreeEnsemble.Tree] = []
            for j in 0..<k {
                let idx = r * k + j
                let t = treesV[idx]
                let at = "\(mp).trees[\(idx)]"
                let left = try c.ints(try c.get(t, "left_children", at), "\(at).left_children", min: -1, max: 1 << 30)
                let right = try c.ints(try c.get(t, "right_children", at), "\(at).right_children", min: -1, max: 1 << 30)
                let fidx = try c.ints(try c.get(t, "split_indices", at), "\(at).split_indices", min: 0, max: 1 << 30)
                let cond = try c.doubles(try c.get(t, "split_conditions", at), "\(at).split_conditions")
                let n = left.count
                for (key, a) in [("right_children", right.count), ("split_indices", fidx.count), ("split_conditions", cond.count)] where a != n {
                    throw c.fail("\(at).\(key)", "expected \(n) entries (one per node), found \(a)")
                }
                if let st = t["split_type"] {
                    let types = try c.ints(st, "\(at).split_type", min: 0, max: 255)
                    guard types.count == n else { throw c.fail("\(at).split_type", "expected \(n) entries (one per node), found \(types.count)") }
                    if let bad = types.indices.first(where: { types[$0] != 0 && left[$0] != -1 }) {
                        throw c.fail("\(at).split_type[\(bad)]", "a categorical split is not supported (numerical splits only)")
                    }
                }
                if case let .array(cats)? = t["categories"], !cats.isEmpty {
                    throw c.fail("\(at).categories", "a categorical split is not supported (numerical splits only)")
                }
                let isLeaf = left.map { $0 == -1 }
                let tree = TreeEnsemble.Tree(
                    feature: (0..<n).map { isLeaf[$0] ? -2 : fidx[$0] },
                    threshold: (0..<n).map { isLeaf[$0] ? 0 : config.threshold.quantize(double: dumped(cond[$0])) },
                    left: left, right: (0..<n).map { isLeaf[$0] ? -1 : right[$0] },
                    value: (0..<n).map { isLeaf[$0] ? config.score.quantize(double: dumped(cond[$0])) : 0 })
                for i in 0..<n where !isLeaf[i] && fidx[i] >= nf {
                    throw c.fail("\(at).split_indices[\(i)]", "feature \(fidx[i]) is not an input (num_feature \(nf))")
                }
                try checkTree(tree, nFeatures: nf, field: at, file: file)
                perClass.append(tree)
            }
            trees.append(perClass)
        }
        return makeModel(name: name, library: .string("xgboost \(objective)"), nFeatures: nf, k: k, split: .lt, config: config,
                         base: base.map { config.score.quantize(double: $0) }, trees: trees)
    }
}
