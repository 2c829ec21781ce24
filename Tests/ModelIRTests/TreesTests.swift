// Boosted decision trees (ModelIR/Kinds/Trees.swift): the golden semantics against a reference
// written here from conifer's emulation (input floored onto the threshold grid and wrapped,
// compare, one sum wrapped once at the end), the native JSON round trip, and the errors users see.
import FixedPoint
@testable import ModelIR
import XCTest

fileprivate struct RNG {
    var s: UInt64
    mutating func next() -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
    mutating func code(_ t: FixedType) -> Int128 { t.minCode + Int128(int(0...Int(t.maxCode - t.minCode))) }
}

/// A random tree of at most `depth` levels in conifer's arrays (children numbered after parents).
fileprivate func randomTree(_ r: inout RNG, depth: Int, nf: Int, th: FixedType, score: FixedType) -> TreeEnsemble.Tree {
    var t = TreeEnsemble.Tree(feature: [], threshold: [], left: [], right: [], value: [])
    func node(_ d: Int) -> Int {
        let i = t.feature.count
        t.feature.append(-2); t.threshold.append(0); t.left.append(-1); t.right.append(-1); t.value.append(0)
        if d < depth && (d == 0 || r.int(0...3) > 0) {
            t.feature[i] = r.int(0...(nf - 1))
            // Few distinct thresholds, so that comparisons repeat across trees.
            t.threshold[i] = Int128(r.int(-3...3)) * (th.maxCode / 4)
            let l = node(d + 1); let rr = node(d + 1)
            t.left[i] = l; t.right[i] = rr
        } else {
            t.value[i] = r.code(score)
        }
        return i
    }
    _ = node(0)
    return t
}

fileprivate func wrap(_ v: Int128, _ t: FixedType) -> Int128 {
    let m = Int128(1) << t.width
    var u = (v - t.minCode) % m
    if u < 0 { u += m }
    return u + t.minCode
}

final class TreesTests: XCTestCase {
    fileprivate func randomModel(_ r: inout RNG) throws -> Model {
        let nf = r.int(1...5), k = r.int(1...3)
        let th = try FixedType.parse(["fixed<10,4>", "fixed<7,3>", "fixed<12,6>"][r.int(0...2)])
        // Half the models as conifer builds them (input type = threshold type), half with a cast.
        let inT = r.int(0...1) == 0 ? th : try FixedType.parse(["fixed<10,4>", "fixed<8,5>", "ufixed<9,3>", "fixed<12,4>"][r.int(0...3)])
        let score = try FixedType.parse(["fixed<6,3>", "fixed<10,4>", "ufixed<5,2>"][r.int(0...2)])
        var trees: [[TreeEnsemble.Tree]] = []
        for _ in 0..<r.int(1...12) { trees.append((0..<k).map { _ in randomTree(&r, depth: r.int(0...4), nf: nf, th: th, score: score) }) }
        let bdt = TreeEnsemble(nFeatures: nf, nClasses: k, split: r.int(0...1) == 0 ? .lt : .le, thresholdType: th, scoreType: score,
                               baseScore: (0..<k).map { _ in r.code(score) }, trees: trees)
        return try ModelCore.validate(Model(name: "t", input: InputSpec(name: "x", size: nf, type: inT),
                                            layers: [Layer(name: "bdt", op: .of(bdt), outputType: score)]), file: "t")
    }

    /// conifer's arithmetic, written out: x floored onto the threshold grid and wrapped into its
    /// width, compared, the leaves and base score summed exactly and wrapped once.
    func reference(_ m: Model, _ x: [Int128]) -> [Int128] {
        guard case let .kind(k) = m.layers[0].op, let b = k.base as? TreeEnsemble else { fatalError() }
        let d = b.thresholdType.fracBits - m.input.type.fracBits
        let xt = x.map { wrap(d >= 0 ? $0 << d : $0 >> -d, b.thresholdType) }
        return (0..<b.nClasses).map { c in
            var s = b.baseScore[c]
            for per in b.trees {
                let t = per[c]
                var i = 0
                while t.feature[i] >= 0 {
                    let go = b.split == .lt ? xt[t.feature[i]] < t.threshold[i] : xt[t.feature[i]] <= t.threshold[i]
                    i = go ? t.left[i] : t.right[i]
                }
                s += t.value[i]
            }
            return wrap(s, b.scoreType)
        }
    }

    func testEqualsConiferReference() throws {
        var r = RNG(s: 5)
        var compared = 0
        for trial in 0..<150 {
            let m = try randomModel(&r)
            let l = m.layers[0]
            let info = m.tensorInto(layer: 0)
            let plan = try l.plan(input: info)
            for _ in 0..<20 {
                guard case let .kind(k) = l.op, let b = k.base as? TreeEnsemble else { return XCTFail() }
                // Half the values exactly on a threshold when the types agree (tells < from <=).
                let x = (0..<m.input.size).map { _ in
                    m.input.type == b.thresholdType && r.int(0...1) == 0 ? Int128(r.int(-3...3)) * (b.thresholdType.maxCode / 4) : r.code(m.input.type)
                }
                XCTAssertEqual(l.evaluate(x, inputType: m.input.type, plan: plan), reference(m, x), "trial \(trial)")
                compared += 1
            }
        }
        XCTAssertEqual(compared, 3000)
    }

    func testRoundTrip() throws {
        var r = RNG(s: 9)
        for trial in 0..<40 {
            let m = try randomModel(&r)
            let again = try ModelLoader.parse(text: ModelWriter.json(m), file: "again")
            XCTAssertEqual(again, m, "trial \(trial)")
        }
    }

    func testErrorsNameTheField() {
        func check(_ bdt: String, _ field: String, _ words: [String], file: StaticString = #filePath, line: UInt = #line) {
            let text = """
            {"format": "rtlgen-model", "version": 1, "name": "e", "input": {"size": 2, "type": "fixed<8,4>"}, "layers": [\(bdt)]}
            """
            do {
                _ = try ModelLoader.parse(text: text, file: "e.json")
                XCTFail("accepted: \(bdt)", file: file, line: line)
            } catch let e as InputError {
                XCTAssertEqual(e.file, "e.json", file: file, line: line)
                XCTAssertEqual(e.field, field, "\(e)", file: file, line: line)
                for w in words { XCTAssertTrue(e.message.contains(w), "\(e.message) lacks \(w)", file: file, line: line) }
            } catch { XCTFail("\(error)", file: file, line: line) }
        }
        func layer(_ tree: String, out: String = "fixed<8,4>", extra: String = "") -> String {
            #"{"name": "b", "op": "bdt", "n_features": 2, "n_classes": 1, "threshold_type": "fixed<8,4>", "trees": [[\#(tree)]], "output_type": "\#(out)"\#(extra)}"#
        }
        let ok = #"{"feature": [0, -2, -2], "threshold": [0.5, 0, 0], "children_left": [1, -1, -1], "children_right": [2, -1, -1], "value": [0, 1, -1]}"#
        XCTAssertNoThrow(try ModelLoader.parse(text: #"{"format": "rtlgen-model", "version": 1, "name": "e", "input": {"size": 2, "type": "fixed<8,4>"}, "layers": [\#(layer(ok))]}"#, file: "ok"))
        check(layer(ok.replacingOccurrences(of: "[0, -2, -2]", with: "[2, -2, -2]")), "layers[0].trees[0][0].feature[0]", ["not an input"])
        check(layer(ok.replacingOccurrences(of: "[1, -1, -1]", with: "[1, -1, 0]")), "layers[0].trees[0][0].children_left[2]", ["leaf"])
        check(layer(ok.replacingOccurrences(of: "\"children_right\": [2, -1, -1]", with: "\"children_right\": [1, -1, -1]")), "layers[0].trees[0][0].children_left", ["reached twice"])
        check(layer(ok.replacingOccurrences(of: "[0, 1, -1]", with: "[0, 1]")), "layers[0].trees[0][0].value", ["expected 3 entries"])
        check(layer(ok, out: "fixed<8,4,TRN,SAT>"), "layers[0].output_type", ["wrap"])
        check(layer(ok, extra: #", "split": "<>""#), "layers[0].split", ["\"<\""])
        check(layer(ok).replacingOccurrences(of: "\"n_features\": 2", with: "\"n_features\": 3"), "layers[0].n_features", ["3 features"])
        // A chain of 13 comparisons: deeper than the documented limit of 12.
        // Node 2i is a comparison, 2i+1 a leaf, 2i+2 the next comparison; the last one's children are leaves.
        var feature = [Int](repeating: -2, count: 27), left = [Int](repeating: -1, count: 27), right = [Int](repeating: -1, count: 27)
        var n = 0
        for _ in 0..<13 { feature[n] = 0; left[n] = n + 1; right[n] = n + 2; n += 2 }
        let deep = #"{"feature": \#(feature), "threshold": \#([Int](repeating: 0, count: 27)), "children_left": \#(left), "children_right": \#(right), "value": \#([Int](repeating: 0, count: 27))}"#
        check(layer(deep), "layers[0].trees[0][0]", ["deeper than 12"])
    }
}
