// The hardware of a tree ensemble (ModelIR/Kinds/Trees.swift), fully parallel, II = 1:
//   1. every input cast to the threshold type (wiring when the types are equal);
//   2. one comparator per distinct (feature, threshold) of the whole ensemble: trees that test
//      the same feature against the same threshold code share it (common after quantization);
//   3. per tree and class, the leaf value chosen by the comparison bits: a mux tree following the
//      tree's own shape over the leaf constants, i.e. per output bit a small AND/OR function of
//      the comparison bits on the paths (synthesis maps it to LUTs);
//   4. per class, the base score and the tree values summed by a balanced adder tree that wraps
//      in the score type (the output type), pipelined by the delay model like the dense layers.
import FixedPoint
import ModelIR

extension TreeEnsemble: KindLowering {
    func lower(f: LayerFrame, input: TensorInfo, layer: Layer, options: LoweringOptions) -> [SignalID] {
        let b = f.b
        let t = thresholdType
        let out = layer.outputType
        let tRepr: Repr = t.signed ? .signed : .unsigned
        let sRepr: Repr = out.signed ? .signed : .unsigned
        let distinct = distinctComparisons
        let nodes = internalNodes
        f.m.header.append("bdt: \(trees.count) tree(s) x \(nClasses) class(es), max depth \(maxTreeDepth); node goes left when x \(split.rawValue) threshold (\(t))")
        f.m.header.append("\(distinct.count) comparator(s) for \(nodes) internal node(s) (\(nodes - distinct.count) shared); leaf values chosen by mux trees on the comparison bits; scores summed in \(out) (wraps)")

        // 1. Inputs as the comparators see them.
        var xt: [Int: SignalID] = [:]
        func comparable(_ i: Int) -> SignalID {
            if let s = xt[i] { return s }
            let s = b.cast(f.inputs[i], to: t, name: "\(f.prefix)_x\(i)").sig
            xt[i] = s
            return s
        }
        // 2. Shared comparators.
        var bit: [[Int128]: SignalID] = [:]
        for (k, c) in distinct.enumerated() {
            let th = b.const("\(f.prefix)_th\(k)", bigInt(c.threshold), width: t.width, repr: tRepr,
                             comment: "x\(c.feature) \(split.rawValue) \(t.decimalString(c.threshold))")
            let op: CompareOp = split == .lt ? .lt : .le
            bit[[Int128(c.feature), c.threshold]] = b.emit("\(f.prefix)_c\(k)", width: 1, repr: .bit, .compare(op, comparable(c.feature), th))
        }
        // 3. Leaf selection per tree and class.
        var consts: [Int128: SignalID] = [:]
        func leafConst(_ v: Int128) -> SignalID {
            if let s = consts[v] { return s }
            let s = b.const("\(f.prefix)_v\(consts.count)", bigInt(v), width: out.width, repr: sRepr, comment: "leaf \(out.decimalString(v))")
            consts[v] = s
            return s
        }
        var ys: [SignalID] = []
        var muxes = 0
        for k in 0..<nClasses {
            var terms: [Val] = []
            if baseScore[k] != 0 {
                terms.append(Val(sig: leafConst(baseScore[k]), frac: out.fracBits, range: CodeRange(baseScore[k], baseScore[k])))
            }
            for (i, perClass) in trees.enumerated() {
                let tr = perClass[k]
                let name = "\(f.prefix)_t\(i)_k\(k)"
                func value(_ n: Int) -> (SignalID, CodeRange) {
                    if tr.feature[n] == -2 { return (leafConst(tr.value[n]), CodeRange(tr.value[n], tr.value[n])) }
                    let (l, lr) = value(tr.left[n]), (r, rr) = value(tr.right[n])
                    if l == r { return (l, lr) }
                    muxes += 1
                    let sel = bit[[Int128(tr.feature[n]), tr.threshold[n]]]!
                    let m = b.emit("\(name)_n\(n)", width: out.width, repr: sRepr, .mux(sel, l, r))
                    return (m, CodeRange(min(lr.lo, rr.lo), max(lr.hi, rr.hi)))
                }
                let (v, r) = value(0)
                terms.append(Val(sig: v, frac: out.fracBits, range: r))
            }
            if terms.isEmpty { terms.append(Val(sig: leafConst(0), frac: out.fracBits, range: CodeRange(0, 0))) }
            // 4. The score: a wrapping adder tree in the score type.
            let s = LayerLowering.adderTree(terms, f: f, name: "\(f.prefix)_s\(k)", modularWidth: out.width)
            ys.append(s.sig)
        }
        f.details.append(("comparators", distinct.count))
        f.details.append(("shared_comparisons", nodes - distinct.count))
        f.details.append(("leaf_muxes", muxes))
        f.details.append(("trees", trees.count * nClasses))
        return ys
    }
}
