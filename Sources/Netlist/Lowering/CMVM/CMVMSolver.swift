// Constant matrix-vector multiplication without multipliers: y_j = sum_i W[j][i] * x_i as shifts
// and adders, with common subexpressions shared across the whole matrix.
//
// Method (written for rtlgen; the idea of greedy pair extraction is the classic one also used by
// da4ml/alkaid):
//  1. Every weight is recoded to signed digits with the fewest nonzero digits (CSD, or plain
//     binary where it has as few: CSD.minimalDigits), so output j starts as a list of terms
//     +-(x_i << k).
//  2. A pair of terms of one output, +-(a << s) and +-(b << s + d), is an instance of the pattern
//     a +- (b << d). Patterns are counted over all outputs at once; the pattern with the best score
//     becomes a new node e = a +- (b << d), and every non-overlapping instance of it is replaced by
//     one term +-(e << s). This repeats while some pattern occurs at least twice.
//  3. The score is carry-aware: (instances - 1) x the carry-chain bits of the adder that the node
//     needs. The node's low d bits are wires (they are a's low bits), so only the overlap of the
//     two operands costs an adder bit; a pattern of wide, overlapping operands is worth more than
//     one of narrow ones.
//  4. A node deeper than `maxDepth` adders is never created, so the shared expressions cannot turn
//     a short adder tree into a long chain.
//
// What is left in each output (a short list of shifted, signed node references) is summed by
// the lowering with a tree that combines the earliest-arriving terms first. Counting, replacing
// and picking are incremental (only pairs that involve a changed term are recounted) and every
// choice is deterministic (ties broken by the pattern itself, no dictionary order).

/// A signed, shifted reference to a node: (negative ? -1 : 1) * (node << shift).
public struct CMVMTerm: Hashable, Sendable {
    public var node: Int
    public var shift: Int
    public var negative: Bool
}

/// The solved program: nodes 0..<inputCount are the inputs; node inputCount + k is nodes[k].
public struct CMVMProgram: Sendable {
    /// value = value(a) + (subtract ? -1 : 1) * (value(b) << shift).
    public struct Node: Sendable {
        public let a: Int
        public let b: Int
        public let shift: Int
        public let subtract: Bool
    }
    public let inputCount: Int
    public var nodes: [Node]
    public var outputs: [[CMVMTerm]]

    /// Adders of the shared nodes plus those the output sums will need (terms - 1 per output).
    public var adderCount: Int { nodes.count + outputs.map { max($0.count - 1, 0) }.reduce(0, +) }

    /// Adder levels of the deepest output: each shared node is one level above its deeper operand,
    /// and each output's terms are summed by a tree that joins the two shallowest first (as the
    /// lowering's tree joins the earliest-arriving terms). `extraTerm`: one more term of depth 0
    /// per nonempty output (the bias the lowering adds). A cheap predictor of the layer's latency.
    public func adderDepth(extraTerm: Bool = false) -> Int {
        adderDepths(extraTerm: { _ in extraTerm }).max() ?? 0
    }

    /// The adder levels of each output (0 for an empty one), as `adderDepth`; `extraTerm(j)`:
    /// whether nonempty output j adds one more term of depth 0 (a constant).
    public func adderDepths(extraTerm: (Int) -> Bool) -> [Int] {
        var depth = [Int](repeating: 0, count: inputCount)
        for n in nodes { depth.append(max(depth[n.a], depth[n.b]) + 1) }
        return outputs.enumerated().map { j, terms in
            if terms.isEmpty { return 0 }
            var ds = terms.map { depth[$0.node] }
            if extraTerm(j) { ds.append(0) }
            ds.sort()
            while ds.count > 1 {
                let x = ds.removeFirst(), y = ds.removeFirst()
                let z = max(x, y) + 1
                let at = ds.firstIndex(where: { $0 > z }) ?? ds.count
                ds.insert(z, at: at)
            }
            return ds[0]
        }
    }

    /// The integer coefficient of every input in node k (for checks).
    public func coefficients(ofNode k: Int) -> [Int128] {
        var memo: [Int: [Int128]] = [:]
        func go(_ k: Int) -> [Int128] {
            if let c = memo[k] { return c }
            var c = [Int128](repeating: 0, count: inputCount)
            if k < inputCount { c[k] = 1 } else {
                let n = nodes[k - inputCount]
                let ca = go(n.a), cb = go(n.b)
                for i in 0..<inputCount { c[i] = ca[i] + (n.subtract ? -1 : 1) * (cb[i] << n.shift) }
            }
            memo[k] = c
            return c
        }
        return go(k)
    }

    /// The matrix the program computes, W[j][i] (for checks).
    public func matrix() -> [[Int128]] {
        outputs.map { terms in
            var row = [Int128](repeating: 0, count: inputCount)
            for t in terms {
                let c = coefficients(ofNode: t.node)
                for i in 0..<inputCount { row[i] += (t.negative ? -1 : 1) * (c[i] << t.shift) }
            }
            return row
        }
    }
}

/// The signed digits each weight starts from.
public enum CMVMDigits: Sendable, Hashable {
    /// CSD, or plain binary where it has as few nonzero digits (`CSD.minimalDigits`).
    case minimal
    /// Canonical signed digits always (`CSD.digits`).
    case csd
}

public enum CMVMSolver {
    /// Solves y = W x for W given as rows (one row per output, one column per input).
    /// `inputWidths`: the signed width of each input (used by the carry-aware score).
    /// `share`: false gives the plain digit program (no shared nodes).
    /// `digits`: the recoding each weight starts from.
    public static func solve(matrix w: [[Int128]], inputWidths: [Int], share: Bool = true, maxDepth: Int = 64,
                             digits: CMVMDigits = .minimal) -> CMVMProgram {
        let n = inputWidths.count
        var outputs: [[CMVMTerm]] = w.map { row in
            precondition(row.count == n)
            var terms: [CMVMTerm] = []
            for (i, c) in row.enumerated() where c != 0 {
                for d in (digits == .csd ? CSD.digits(c) : CSD.minimalDigits(c)) { terms.append(CMVMTerm(node: i, shift: d.shift, negative: d.negative)) }
            }
            return terms
        }
        var program = CMVMProgram(inputCount: n, nodes: [], outputs: [])
        if !share {
            program.outputs = outputs
            return program
        }
        var state = SharingState(outputs: outputs, inputWidths: inputWidths, maxDepth: maxDepth)
        state.run()
        outputs = state.outputs
        program.nodes = state.nodes
        program.outputs = outputs
        return program
    }
}

/// The pattern a +- (b << d), normalized (d > 0, or d == 0 and a < b). Packed into one word
/// (a: 20 bits, b: 20 bits, d: 23 bits, subtract: 1 bit) so that hashing and ordering are cheap;
/// the order of the word is the order of (a, b, d, subtract).
struct Pattern: Hashable, Comparable {
    let key: UInt64
    init(a: Int, b: Int, d: Int, subtract: Bool) {
        precondition(a < 1 << 20 && b < 1 << 20 && d < 1 << 23, "CMVM: more than 2^20 nodes")
        key = UInt64(a) << 44 | UInt64(b) << 24 | UInt64(d) << 1 | (subtract ? 1 : 0)
    }
    var a: Int { Int(key >> 44) }
    var b: Int { Int((key >> 24) & 0xFFFFF) }
    var d: Int { Int((key >> 1) & 0x7FFFFF) }
    var subtract: Bool { key & 1 == 1 }
    static func < (x: Pattern, y: Pattern) -> Bool { x.key < y.key }
    func hash(into h: inout Hasher) { h.combine(key) }

    /// The pattern two terms form, with the term that keeps its place (the lower one) first.
    static func of(_ p: CMVMTerm, _ q: CMVMTerm) -> (Pattern, low: CMVMTerm)? {
        let (lo, hi) = (p.shift < q.shift || (p.shift == q.shift && p.node <= q.node)) ? (p, q) : (q, p)
        let d = hi.shift - lo.shift
        if d == 0 && lo.node == hi.node { return nil }
        return (Pattern(a: lo.node, b: hi.node, d: d, subtract: lo.negative != hi.negative), lo)
    }
}

/// A max-heap of (score, pattern) with lazy deletion: an entry is checked against the current
/// score when it reaches the top.
struct PatternHeap {
    private var items: [(score: Int, p: Pattern)] = []
    private static func above(_ x: (score: Int, p: Pattern), _ y: (score: Int, p: Pattern)) -> Bool {
        x.score != y.score ? x.score > y.score : x.p < y.p
    }
    var isEmpty: Bool { items.isEmpty }
    mutating func push(_ score: Int, _ p: Pattern) {
        items.append((score, p))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if !Self.above(items[i], items[parent]) { break }
            items.swapAt(i, parent)
            i = parent
        }
    }
    mutating func pop() -> (score: Int, p: Pattern)? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < items.count && Self.above(items[l], items[best]) { best = l }
                if r < items.count && Self.above(items[r], items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best)
                i = best
            }
        }
        return top
    }
}

struct SharingState {
    var outputs: [[CMVMTerm]]
    var nodes: [CMVMProgram.Node] = []
    let inputCount: Int
    let maxDepth: Int
    /// Per node: bit width estimate (interval arithmetic), adder depth.
    var width: [Int]
    var depth: [Int]
    var counts: [Pattern: Int] = [:]
    var banned: Set<Pattern> = []
    var heap = PatternHeap()
    /// Outputs that hold at least one term of a node (a superset: pruned lazily).
    var outputsOf: [Set<Int>]

    init(outputs: [[CMVMTerm]], inputWidths: [Int], maxDepth: Int) {
        self.outputs = outputs
        inputCount = inputWidths.count
        self.maxDepth = maxDepth
        width = inputWidths
        depth = Array(repeating: 0, count: inputWidths.count)
        outputsOf = Array(repeating: [], count: inputWidths.count)
        for (j, ts) in outputs.enumerated() { for t in ts { outputsOf[t.node].insert(j) } }
    }

    /// Width of a +- (b << d) (interval estimate: the operands' widths, one carry bit).
    func nodeWidth(_ p: Pattern) -> Int { max(width[p.a], width[p.b] + p.d) + 1 }
    /// Carry-chain bits: the low d bits of the result are a's bits, not an adder's.
    func adderBits(_ p: Pattern) -> Int { max(nodeWidth(p) - p.d, 1) }
    func score(_ p: Pattern, count c: Int) -> Int { (c - 1) * adderBits(p) }

    /// While the initial counts are taken nothing is pushed (each pattern goes in once, after);
    /// while a node replaces its instances, grown patterns are collected and pushed once, after.
    var counting = false
    var grown: Set<Pattern> = []

    mutating func bump(_ p: Pattern, by k: Int) {
        let c = (counts[p] ?? 0) + k
        if c <= 0 { counts.removeValue(forKey: p) } else { counts[p] = c }
        if !counting && k > 0 && c >= 2 { grown.insert(p) }
    }

    /// Counts (k = +1) or uncounts (k = -1) every pair between term t and the other terms of output j.
    mutating func countPairs(of t: CMVMTerm, at idx: Int, in j: Int, _ k: Int) {
        let ts = outputs[j]
        for (m, u) in ts.enumerated() where m != idx {
            if let (p, _) = Pattern.of(t, u) { bump(p, by: k) }
        }
    }

    mutating func run() {
        counting = true
        for j in outputs.indices {
            let ts = outputs[j]
            for x in 0..<ts.count {
                for y in (x + 1)..<max(ts.count, x + 1) {
                    if let (p, _) = Pattern.of(ts[x], ts[y]) { bump(p, by: 1) }
                }
            }
        }
        counting = false
        // The pop order is the total order (score, pattern), whatever the push order.
        for (p, c) in counts where c >= 2 { heap.push(score(p, count: c), p) }
        while let (s, p) = heap.pop() {
            if banned.contains(p) { continue }
            let c = counts[p] ?? 0
            if c < 2 { continue }
            let current = score(p, count: c)
            if current != s { heap.push(current, p); continue }
            let dep = max(depth[p.a], depth[p.b]) + 1
            if dep > maxDepth { banned.insert(p); continue }
            apply(p, depth: dep)
        }
    }

    /// Creates node e = a +- (b << d) and replaces every non-overlapping instance.
    mutating func apply(_ p: Pattern, depth dep: Int) {
        let e = inputCount + nodes.count
        nodes.append(CMVMProgram.Node(a: p.a, b: p.b, shift: p.d, subtract: p.subtract))
        width.append(nodeWidth(p))
        depth.append(dep)
        outputsOf.append([])
        banned.insert(p)   // the pattern is gone once replaced; never re-create it
        let candidates = outputsOf[p.a].intersection(outputsOf[p.b]).sorted()
        var used = 0
        for j in candidates {
            while let (x, y) = findInstance(p, in: j) {
                used += 1
                let lo = outputs[j][x]
                // Remove the higher index first so the lower stays valid.
                removeTerm(at: max(x, y), in: j)
                removeTerm(at: min(x, y), in: j)
                addTerm(CMVMTerm(node: e, shift: lo.shift, negative: lo.negative), in: j)
            }
        }
        precondition(used >= 1, "CMVM: pattern \(p) counted but not found")
        // Push order does not matter: pops follow the total order (score, pattern).
        for q in grown where !banned.contains(q) {
            if let c = counts[q], c >= 2 { heap.push(score(q, count: c), q) }
        }
        grown.removeAll(keepingCapacity: true)
    }

    /// Indices (low term, high term) of one instance of p in output j.
    func findInstance(_ p: Pattern, in j: Int) -> (Int, Int)? {
        let ts = outputs[j]
        for (x, t) in ts.enumerated() where t.node == p.a {
            for (y, u) in ts.enumerated() where y != x && u.node == p.b && u.shift == t.shift + p.d
                && (t.negative != u.negative) == p.subtract {
                if p.d == 0 && p.a == p.b { continue }
                return (x, y)
            }
        }
        return nil
    }

    mutating func removeTerm(at idx: Int, in j: Int) {
        countPairs(of: outputs[j][idx], at: idx, in: j, -1)
        outputs[j].remove(at: idx)
    }

    /// Adds a term, merging it with an equal reference (x + x = x << 1, x - x = 0).
    mutating func addTerm(_ t: CMVMTerm, in j: Int) {
        if let k = outputs[j].firstIndex(where: { $0.node == t.node && $0.shift == t.shift }) {
            let other = outputs[j][k]
            removeTerm(at: k, in: j)
            if other.negative == t.negative {
                addTerm(CMVMTerm(node: t.node, shift: t.shift + 1, negative: t.negative), in: j)
            }
            return
        }
        outputs[j].append(t)
        outputsOf[t.node].insert(j)
        countPairs(of: t, at: outputs[j].count - 1, in: j, 1)
    }
}
