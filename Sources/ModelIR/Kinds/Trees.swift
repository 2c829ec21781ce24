// Boosted decision trees (a tree ensemble, conifer's model): `n_classes` scores, each the base
// score plus one leaf value per tree. The arithmetic is conifer's bit-accurate C++ emulation (its
// `cpp` backend on the ap_fixed headers, conifer 1.11 backends/cpp/include/conifer.h):
//   - each input is cast to `threshold_type` (conifer's threshold_t; its cpp backend requires
//     input_precision == threshold_precision, then the cast changes nothing);
//   - at an internal node, feature f goes left when x[f] < t (`split: "<"`, XGBoost, YDF) or
//     x[f] <= t (`split: "<="`, scikit-learn, TMVA), compared exactly on codes;
//   - the leaf values and the base score are codes of the score type (the layer's output_type);
//   - per class, the base score and the trees' leaves are summed in the score type. conifer adds
//     them one after the other with ap_fixed's default wrap; a wrapped sum does not depend on the
//     order, so the hardware's adder tree gives the same codes (the score type must wrap).
// The native spelling keeps conifer's node arrays: `feature` (-2 at a leaf), `threshold`,
// `children_left` / `children_right` (-1 at a leaf), `value` (the leaf value; 0 elsewhere).
import FixedPoint

public struct TreeEnsemble: LayerKind, Equatable {
    public enum Split: String, Sendable { case lt = "<", le = "<=" }

    /// One binary tree in conifer's node arrays (node 0 is the root).
    public struct Tree: Sendable, Equatable {
        /// The feature an internal node tests; -2 at a leaf.
        public var feature: [Int]
        /// Codes of the threshold type (0 at a leaf).
        public var threshold: [Int128]
        /// Children (-1 at a leaf).
        public var left: [Int]
        public var right: [Int]
        /// Codes of the score type at leaves (0 at internal nodes).
        public var value: [Int128]
        public init(feature: [Int], threshold: [Int128], left: [Int], right: [Int], value: [Int128]) {
            self.feature = feature; self.threshold = threshold; self.left = left; self.right = right; self.value = value
        }

        /// The leaf a sample reaches.
        public func leaf(_ xt: [Int128], split: Split) -> Int {
            var i = 0
            while feature[i] != -2 {
                let x = xt[feature[i]], t = threshold[i]
                i = (split == .lt ? x < t : x <= t) ? left[i] : right[i]
            }
            return i
        }
    }

    /// Deepest tree accepted (a root-to-leaf path of at most this many comparisons): 2^12 leaves
    /// per tree is far beyond trigger BDTs (depth 3 to 6) and keeps the leaf networks small.
    public static let maxDepth = 12
    public static let maxTrees = 10_000

    public var nFeatures: Int
    public var nClasses: Int
    public var split: Split
    public var thresholdType: FixedType
    /// Codes of the score type (the output type), one per class.
    public var baseScore: [Int128]
    /// trees[tree][class], as conifer.
    public var trees: [[Tree]]

    /// The score type: the layer's output_type (the leaf values and base score are its codes).
    public var scoreType: FixedType

    public init(nFeatures: Int, nClasses: Int, split: Split, thresholdType: FixedType, scoreType: FixedType, baseScore: [Int128], trees: [[Tree]]) {
        self.nFeatures = nFeatures; self.nClasses = nClasses; self.split = split
        self.thresholdType = thresholdType; self.scoreType = scoreType; self.baseScore = baseScore; self.trees = trees
    }

    public var opName: String { "bdt" }

    /// Depth of a tree (0 for a lone leaf), or a message when the arrays do not form a tree.
    public static func depth(_ t: Tree, nFeatures: Int) -> Result<Int, TreeError> {
        let n = t.feature.count
        guard n >= 1 else { return .failure(TreeError(field: "feature", message: "a tree needs at least one node")) }
        for (k, a) in [("threshold", t.threshold.count), ("children_left", t.left.count), ("children_right", t.right.count), ("value", t.value.count)] where a != n {
            return .failure(TreeError(field: k, message: "expected \(n) entries (one per node, as feature), found \(a)"))
        }
        var seen = [Bool](repeating: false, count: n)
        var maxD = 0
        var stack = [(0, 0)]
        while let (i, d) = stack.popLast() {
            guard !seen[i] else { return .failure(TreeError(field: "children_left", message: "node \(i) is reached twice (not a tree)")) }
            seen[i] = true
            if t.feature[i] == -2 {
                guard t.left[i] == -1, t.right[i] == -1 else {
                    return .failure(TreeError(field: "children_left[\(i)]", message: "a leaf (feature -2) has children -1"))
                }
                maxD = max(maxD, d)
                continue
            }
            guard t.feature[i] >= 0, t.feature[i] < nFeatures else {
                return .failure(TreeError(field: "feature[\(i)]", message: "feature \(t.feature[i]) is not an input (0..\(nFeatures - 1), or -2 at a leaf)"))
            }
            guard d < maxDepth else {
                return .failure(TreeError(field: "", message: "the tree is deeper than \(maxDepth) comparisons (the documented limit)"))
            }
            for (k, c) in [("children_left", t.left[i]), ("children_right", t.right[i])] {
                guard c >= 0, c < n, c != i else {
                    return .failure(TreeError(field: "\(k)[\(i)]", message: "child \(c) is not a node of the tree (0..\(n - 1))"))
                }
                stack.append((c, d + 1))
            }
        }
        if let u = seen.firstIndex(of: false) {
            return .failure(TreeError(field: "feature[\(u)]", message: "node \(u) is not reachable from the root (node 0)"))
        }
        return .success(maxD)
    }

    public struct TreeError: Error { public let field: String; public let message: String }

    public func validate(_ c: KindCheck) throws -> [Int] {
        guard c.input.type.encoding == .plain else { throw c.fail("", "a bdt layer needs a fixed-point input, not \(c.input.type)") }
        guard thresholdType.encoding == .plain else { throw c.fail("threshold_type", "expected a fixed-point type") }
        let out = c.outputType
        guard out == scoreType else { throw c.fail("output_type", "the score type \(scoreType) of the leaves differs from the output type \(out)") }
        guard out.encoding == .plain, out.overflow == .WRAP else {
            throw c.fail("output_type", "the score type must be a fixed-point type that wraps (conifer sums the trees in ap_fixed's default WRAP; found \(out))")
        }
        guard c.input.size == nFeatures else {
            throw c.fail("n_features", "\(nFeatures) features, but the layer's input has \(c.input.size) values")
        }
        guard nClasses >= 1, nClasses <= 4096 else { throw c.fail("n_classes", "expected 1..4096 scores") }
        guard baseScore.count == nClasses else { throw c.fail("base_score", "expected \(nClasses) values (one per class), found \(baseScore.count)") }
        try c.codesInRange("base_score", baseScore, out)
        guard !trees.isEmpty, trees.count <= Self.maxTrees else { throw c.fail("trees", "expected 1..\(Self.maxTrees) trees") }
        for (i, perClass) in trees.enumerated() {
            guard perClass.count == nClasses else {
                throw c.fail("trees[\(i)]", "expected \(nClasses) trees (one per class), found \(perClass.count)")
            }
            for (k, t) in perClass.enumerated() {
                let at = "trees[\(i)][\(k)]"
                if case let .failure(e) = Self.depth(t, nFeatures: nFeatures) {
                    throw c.fail(e.field.isEmpty ? at : "\(at).\(e.field)", e.message)
                }
                try c.codesInRange("\(at).threshold", t.threshold, thresholdType)
                try c.codesInRange("\(at).value", t.value, out)
            }
        }
        return [nClasses]
    }

    /// The inputs as the comparators see them: cast to the threshold type.
    public func comparable(_ x: [Int128], input: FixedType) -> [Int128] {
        input == thresholdType ? x : x.map { thresholdType.cast(code: $0, frac: input.fracBits) }
    }

    public func evaluate(_ x: [Int128], input: TensorInfo, outputType: FixedType, plan: (any Sendable)?) -> [Int128] {
        let xt = comparable(x, input: input.type)
        return (0..<nClasses).map { k in
            var s = baseScore[k]
            for perClass in trees {
                let t = perClass[k]
                s = outputType.wrapCode(s + t.value[t.leaf(xt, split: split)])
            }
            return s
        }
    }

    /// The distinct comparisons (feature, threshold code) of the ensemble, in first-use order.
    public var distinctComparisons: [(feature: Int, threshold: Int128)] {
        var seen = Set<[Int128]>()
        var out: [(Int, Int128)] = []
        for perClass in trees { for t in perClass { for i in t.feature.indices where t.feature[i] != -2 {
            if seen.insert([Int128(t.feature[i]), t.threshold[i]]).inserted { out.append((t.feature[i], t.threshold[i])) }
        } } }
        return out
    }

    public var internalNodes: Int { trees.reduce(0) { $0 + $1.reduce(0) { $0 + $1.feature.filter { $0 != -2 }.count } } }
    public var maxTreeDepth: Int {
        trees.flatMap { $0 }.map { (try? Self.depth($0, nFeatures: nFeatures).get()) ?? 0 }.max() ?? 0
    }

    public func reportDetails(input: TensorInfo) -> [(String, String)] {
        [("ensemble", "\(trees.count) trees x \(nClasses) class(es)"), ("max depth", String(maxTreeDepth)),
         ("split", "x \(split.rawValue) threshold (\(thresholdType))")]
    }

    public func jsonFields() -> [(String, JSONValue)] {
        func ints(_ v: [Int]) -> JSONValue { .array(v.map { .number(String($0)) }) }
        let treesJSON: JSONValue = .array(trees.map { perClass in
            .array(perClass.map { t in
                .object([("feature", ints(t.feature)),
                         ("threshold", .array(t.threshold.map { .number(thresholdType.decimalString($0)) })),
                         ("children_left", ints(t.left)), ("children_right", ints(t.right)),
                         ("value", .array(t.value.map { .number(scoreType.decimalString($0)) }))])
            })
        })
        return [("n_features", .number(String(nFeatures))), ("n_classes", .number(String(nClasses))),
                ("split", .string(split.rawValue)), ("threshold_type", .string(thresholdType.description)),
                ("base_score", .array(baseScore.map { .number(scoreType.decimalString($0)) })),
                ("trees", treesJSON)]
    }

    static func read(_ r: JSONObjectReader) throws -> any LayerKind {
        try r.checkKeys(["name", "op", "n_features", "n_classes", "split", "threshold_type", "base_score", "trees", "output_type"])
        let nf = try r.int("n_features", min: 1, max: 1_000_000)
        let nc = try r.int("n_classes", min: 1, max: 4096)
        let sp = r.has("split") ? try r.string("split") : "<="
        guard let split = Split(rawValue: sp) else { throw r.fail("split", "expected \"<\" or \"<=\", found \"\(sp)\"") }
        let tt = try r.type("threshold_type")
        let st = try r.type("output_type")
        guard tt.encoding == .plain else { throw r.fail("threshold_type", "expected a fixed-point type") }
        guard st.encoding == .plain else { throw r.fail("output_type", "expected a fixed-point type") }
        let base = r.has("base_score") ? try r.codes("base_score", type: st) : [Int128](repeating: 0, count: nc)
        var trees: [[Tree]] = []
        for (i, v) in try r.array("trees").enumerated() {
            let f = "\(r.fieldPath("trees"))[\(i)]"
            guard case let .array(perClass) = v else { throw InputError(file: r.file, field: f, message: "expected an array of \(nc) trees (one per class), found \(v.kindName)") }
            trees.append(try perClass.enumerated().map { k, tv in
                let t = try JSONObjectReader(file: r.file, path: "\(f)[\(k)]", value: tv)
                try t.checkKeys(["feature", "threshold", "children_left", "children_right", "value"])
                func ints(_ key: String) throws -> [Int] { try Shapes.ints(t, key, min: -2, max: 1 << 30) }
                return Tree(feature: try ints("feature"), threshold: try t.codes("threshold", type: tt),
                            left: try ints("children_left"), right: try ints("children_right"), value: try t.codes("value", type: st))
            })
        }
        return TreeEnsemble(nFeatures: nf, nClasses: nc, split: split, thresholdType: tt, scoreType: st, baseScore: base, trees: trees)
    }

    static let readers: [String: LayerKinds.Reader] = ["bdt": { try read($0) }]
}
