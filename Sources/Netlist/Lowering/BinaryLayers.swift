// Lowering of the binary/ternary ops: XNOR + popcount trees, sign bits, threshold comparators,
// multi-threshold tables and standalone batchnorm. No multiplier anywhere except a standalone
// batchnorm's scale (a constant that is not a power of two).
import BigInt
import FixedPoint
import ModelIR

extension DatapathBuilder {
    /// The value of a bipolar bit c as a 2-bit signed code: {~c, 1} is +1 for c = 1, -1 for c = 0.
    func decodeBipolar(_ c: SignalID, one: SignalID, name: String) -> Val {
        let n = emit("\(name)_n", width: 1, repr: .bit, .not(c))
        let u = emit("\(name)_u", width: 2, repr: .unsigned, .concat([n, one]))
        let s = emit(name, width: 2, repr: .signed, .copy(u))
        return Val(sig: s, frac: 0, range: CodeRange(-1, 1))
    }

    /// The cast into `bipolar`: the stored bit of sign(x), i.e. 1 when x >= 0 (the inverted sign
    /// bit). The returned Val's signal is that one bit (its range describes the codes -1..+1).
    func castToBipolar(_ v: Val, name: String) -> Val {
        let r = CodeRange(-1, 1)
        if v.range.lo >= 0 { return Val(sig: bitConst(true, name: "\(name)_pos"), frac: 0, range: r) }
        if v.range.hi < 0 { return Val(sig: bitConst(false, name: "\(name)_neg"), frac: 0, range: r) }
        let xs = signedVal(v, name: "\(name)_sx")
        let w = module[xs.sig].width
        let msb = emit("\(name)_msb", width: 1, repr: .bit, .slice(xs.sig, lo: w - 1))
        return Val(sig: emit(name, width: 1, repr: .bit, .not(msb)), frac: 0, range: r)
    }
}

/// A condition known at generation time or computed by a signal.
enum Cond {
    case never, always, sig(SignalID)
}

extension LayerLowering {
    static func lowerBinary(_ op: BinaryLayerOp, f: LayerFrame, inputType: FixedType, outputType: FixedType,
                            style: MultiplierStyle = .auto) -> [SignalID] {
        let b = f.b
        let p = f.prefix
        switch op {
        case let .binaryDense(d), let .ternaryDense(d):
            if usesBinaryShiftAdd(d, inputType: inputType, style: style) {
                return lowerBinaryDenseShiftAdd(d, f: f, outputType: outputType)
            }
            return lowerBinaryDense(d, f: f, outputType: outputType)
        case .sign:
            if let bits = f.inputBits { return bits }
            return f.inputs.enumerated().map { i, x in b.castToBipolar(x, name: "\(p)_n\(i)_y").sig }
        case .ternaryTanh:
            return lowerTernaryTanh(f: f, inputType: inputType)
        case let .threshold(t):
            return t.rules.enumerated().map { j, rule in
                condBit(fires(rule, f.inputs[j], f: f, name: "\(p)_n\(j)_cmp"), f: f, name: "\(p)_n\(j)_y")
            }
        case let .multiThreshold(m):
            return lowerMultiThreshold(m, f: f, outputType: outputType)
        case let .batchnorm(bn):
            return lowerBatchNorm(bn, f: f, inputType: inputType, outputType: outputType)
        }
    }

    static func condBit(_ c: Cond, f: LayerFrame, name: String) -> SignalID {
        switch c {
        case .never: return f.b.bitConst(false, name: name)
        case .always: return f.b.bitConst(true, name: name)
        case let .sig(s): return s
        }
    }

    /// Whether x satisfies the rule, as logic (a constant when x's range decides it).
    static func fires(_ rule: ThresholdRule, _ x: Val, f: LayerFrame, name: String) -> Cond {
        let b = f.b
        if rule.geq {
            if rule.code <= x.range.lo { return .always }
            if rule.code > x.range.hi { return .never }
        } else {
            if rule.code >= x.range.hi { return .always }
            if rule.code < x.range.lo { return .never }
        }
        let xs = b.signedVal(x, name: "\(name)_x")
        let w = b.module[xs.sig].width
        let c = b.const("\(name)_t", bigInt(rule.code), width: w, repr: .signed, comment: "threshold code \(rule.code)")
        return .sig(b.emit(name, width: 1, repr: .bit, .compare(rule.geq ? .ge : .le, xs.sig, c)))
    }

    /// Number of set bits: full adders (3-bit counters) at the leaves, then a balanced tree of
    /// adders, each as wide as its count. Returns the count (unsigned) and the number of levels.
    static func popcount(_ bits: [SignalID], f: LayerFrame, name: String) -> (Val, Int) {
        let b = f.b
        precondition(!bits.isEmpty)
        var level: [Val] = []
        var k = 0
        while k < bits.count {
            let g = Array(bits[k..<min(k + 3, bits.count)])
            let nm = "\(name)_c\(level.count)"
            switch g.count {
            case 3:
                let x = b.emit("\(nm)_x", width: 1, repr: .bit, .bitwise(.xor, g[0], g[1]))
                let s = b.emit("\(nm)_s", width: 1, repr: .bit, .bitwise(.xor, x, g[2]))
                let c = b.or(b.and(g[0], g[1], "\(nm)_g"), b.and(x, g[2], "\(nm)_p"), "\(nm)_cy")
                level.append(Val(sig: b.emit(nm, width: 2, repr: .unsigned, .concat([c, s])), frac: 0, range: CodeRange(0, 3)))
                f.adders += 1
            case 2:
                let s = b.emit("\(nm)_s", width: 1, repr: .bit, .bitwise(.xor, g[0], g[1]))
                let c = b.and(g[0], g[1], "\(nm)_cy")
                level.append(Val(sig: b.emit(nm, width: 2, repr: .unsigned, .concat([c, s])), frac: 0, range: CodeRange(0, 2)))
                f.adders += 1
            default:
                level.append(Val(sig: b.emit(nm, width: 1, repr: .unsigned, .extend(g[0])), frac: 0, range: CodeRange(0, 1)))
            }
            k += 3
        }
        var depth = bits.count > 1 ? 1 : 0
        while level.count > 1 {
            var next: [Val] = []
            var i = 0
            while i < level.count {
                if i + 1 == level.count { next.append(level[i]); break }
                let x = level[i], y = level[i + 1]
                let nm = "\(name)_t\(depth)_\(next.count)"
                let r = CodeRange(0, x.range.hi + y.range.hi)
                let w = r.unsignedWidth
                let s = b.emit(nm, width: w, repr: .unsigned, .add(b.resize(x.sig, to: w, name: "\(nm)_a"), b.resize(y.sig, to: w, name: "\(nm)_b")))
                next.append(Val(sig: s, frac: 0, range: r))
                f.adders += 1
                i += 2
            }
            level = next
            depth += 1
        }
        let top = level[0]
        let out = b.emit(name, width: b.module[top.sig].width, repr: .unsigned, .copy(top.sig))
        return (Val(sig: out, frac: 0, range: top.range), depth)
    }

    static func lowerBinaryDense(_ d: BinaryDense, f: LayerFrame, outputType: FixedType) -> [SignalID] {
        let b = f.b
        let p = f.prefix
        var maxDepth = 0
        func xs(_ i: Int) -> Val { f.signedInput(i) }
        let frac = f.inputs.first?.frac ?? 0
        var ys: [SignalID] = []
        for j in 0..<d.units {
            let nn = "\(p)_n\(j)"
            let pos = (0..<d.inputs).filter { d.kernel[$0][j] == 1 }
            let neg = (0..<d.inputs).filter { d.kernel[$0][j] == -1 }
            var acc: Val
            if pos.isEmpty && neg.isEmpty {
                acc = Val(sig: b.const("\(nn)_zero", 0, width: 1, repr: .signed), frac: frac, range: CodeRange(0, 0))
            } else if let bits = f.inputBits {
                // XNOR with a constant weight: the bit itself (w = +1) or its inverse (w = -1).
                var lits: [SignalID] = []
                for i in (pos + neg).sorted() {
                    lits.append(d.kernel[i][j] == 1 ? bits[i] : b.emit("\(nn)_xnor_\(i)", width: 1, repr: .bit, .not(bits[i])))
                }
                let (pop, depth) = popcount(lits, f: f, name: "\(nn)_pop")
                maxDepth = max(maxDepth, depth)
                // y = 2 * popcount - n
                let n = Int128(lits.count)
                let ps = b.signedVal(pop, name: "\(nn)_pop_s")
                let w = b.module[ps.sig].width + 1
                let two = b.emit("\(nn)_pop2", width: w, repr: .signed, .shiftLeft(ps.sig, 1))
                let c = b.const("\(nn)_n", bigInt(n), width: w, repr: .signed, comment: "inputs with a nonzero weight")
                let s = b.emit("\(nn)_acc", width: w, repr: .signed, .sub(two, c))
                f.adders += 1
                acc = Val(sig: s, frac: 0, range: CodeRange(-n, n))
            } else {
                // Fixed-point inputs: (sum of inputs with w = +1) - (sum of inputs with w = -1).
                let sp = pos.isEmpty ? nil : adderTree(pos.map(xs), f: f, name: "\(nn)_pos", modularWidth: nil)
                let sn = neg.isEmpty ? nil : adderTree(neg.map(xs), f: f, name: "\(nn)_neg", modularWidth: nil)
                switch (sp, sn) {
                case let (x?, nil):
                    acc = x
                case let (nil, y?):
                    let r = CodeRange(-y.range.hi, -y.range.lo)
                    let ye = b.resize(y.sig, to: max(r.signedWidth, b.module[y.sig].width), name: "\(nn)_neg_e")
                    let s = b.emit("\(nn)_acc", width: b.module[ye].width, repr: .signed, .neg(ye))
                    acc = Val(sig: s, frac: y.frac, range: r)
                case let (x?, y?):
                    let r = CodeRange(x.range.lo - y.range.hi, x.range.hi - y.range.lo)
                    let w = max(r.signedWidth, b.module[x.sig].width, b.module[y.sig].width)
                    let s = b.emit("\(nn)_acc", width: w, repr: .signed,
                                   .sub(b.resize(x.sig, to: w, name: "\(nn)_pos_e"), b.resize(y.sig, to: w, name: "\(nn)_neg_e")))
                    f.adders += 1
                    acc = Val(sig: s, frac: x.frac, range: r)
                default:
                    preconditionFailure()
                }
            }
            ys.append(b.cast(acc, to: outputType, name: "\(nn)_y").sig)
        }
        if f.inputBits != nil { f.details.append(("popcount_depth", maxDepth)) }
        return ys
    }

    static func lowerTernaryTanh(f: LayerFrame, inputType: FixedType) -> [SignalID] {
        let b = f.b
        let p = f.prefix
        let (hi, lo) = ternaryTanhBounds(frac: inputType.fracBits)
        let one = b.const("\(p)_plus1", 1, width: 2, repr: .signed)
        let minus = b.const("\(p)_minus1", -1, width: 2, repr: .signed)
        let zero = b.const("\(p)_zero", 0, width: 2, repr: .signed)
        return f.inputs.enumerated().map { i, x in
            let nn = "\(p)_n\(i)"
            let d: Val
            if inputType.isBipolar {
                d = x   // sign(2x) = x
            } else {
                let s = b.signedVal(x, name: "\(nn)_sx")
                let sh = b.emit("\(nn)_x2", width: b.module[s.sig].width + 1, repr: .signed, .shiftLeft(s.sig, 1))
                d = b.cast(Val(sig: sh, frac: x.frac, range: CodeRange(x.range.lo << 1, x.range.hi << 1)), to: inputType, name: "\(nn)_d")
            }
            let gt: Cond = hi.map { fires(ThresholdRule(geq: true, code: $0 + 1), d, f: f, name: "\(nn)_gt") } ?? .never
            let le: Cond = lo.map { fires(ThresholdRule(geq: false, code: $0), d, f: f, name: "\(nn)_le") } ?? .never
            var y: SignalID
            switch le {
            case .never: y = zero
            case .always: y = minus
            case let .sig(s): y = b.emit("\(nn)_lo", width: 2, repr: .signed, .mux(s, minus, zero))
            }
            switch gt {
            case .never: break
            case .always: y = one
            case let .sig(s): y = b.emit("\(nn)_t", width: 2, repr: .signed, .mux(s, one, y))
            }
            return y
        }
    }

    static func lowerMultiThreshold(_ m: MultiThreshold, f: LayerFrame, outputType t: FixedType) -> [SignalID] {
        let b = f.b
        let p = f.prefix
        let repr: Repr = t.isBipolar ? .bit : (t.signed ? .signed : .unsigned)
        var consts: [Int128: SignalID] = [:]
        func constant(_ code: Int128) -> SignalID {
            if let c = consts[code] { return c }
            let name = "\(p)_v\(code < 0 ? "m" : "")\(code.magnitude)"
            let c = b.const(name, t.isBipolar ? BigInt(t.encode(code)) : bigInt(code), width: t.width, repr: repr, comment: "output \(t.decimalString(code))")
            consts[code] = c
            return c
        }
        var maxDepth = 0
        let ys = m.thresholds.enumerated().map { j, ts -> SignalID in
            let nn = "\(p)_n\(j)"
            var offset = 0
            var bits: [SignalID] = []
            for (i, code) in ts.enumerated() {
                switch fires(ThresholdRule(geq: true, code: code), f.inputs[j], f: f, name: "\(nn)_ge\(i)") {
                case .never: break
                case .always: offset += 1
                case let .sig(s): bits.append(s)
                }
            }
            if bits.isEmpty { return constant(m.table[offset]) }
            let (pop, depth) = popcount(bits, f: f, name: "\(nn)_cnt")
            maxDepth = max(maxDepth, depth)
            // A mux tree indexed by the count's bits (entries beyond the largest count repeat it).
            let w = b.module[pop.sig].width
            var level = (0..<(1 << w)).map { constant(m.table[offset + min($0, bits.count)]) }
            for k in 0..<w {
                let sel = b.emit("\(nn)_cnt_b\(k)", width: 1, repr: .bit, .slice(pop.sig, lo: k))
                level = stride(from: 0, to: level.count, by: 2).map { i in
                    level[i] == level[i + 1] ? level[i]
                        : b.emit("\(nn)_m\(k)_\(i / 2)", width: t.width, repr: repr, .mux(sel, level[i + 1], level[i]))
                }
            }
            return level[0]
        }
        f.details.append(("popcount_depth", maxDepth))
        return ys
    }

    static func lowerBatchNorm(_ bn: BatchNorm, f: LayerFrame, inputType: FixedType, outputType: FixedType) -> [SignalID] {
        let b = f.b
        let p = f.prefix
        return f.inputs.enumerated().map { j, x in
            let nn = "\(p)_n\(j)"
            let d = bn.channelDense(j)
            let plan = try! DensePlan(dense: d, inputType: inputType)
            var terms: [Val] = []
            let w = d.kernel[0][0]
            if w != 0 {
                let xs = b.signedVal(x, name: "\(p)_in_\(j)_s")
                let a = xs.range.lo * w, c = xs.range.hi * w
                let pr = CodeRange(min(a, c), max(a, c))
                var prod = product(xs, weight: w, range: pr, f: f, name: "\(nn)_p", wname: "\(p)_s\(j)", kernelType: d.kernelType)
                var r = pr
                if plan.productShift > 0 {
                    prod = b.emit("\(nn)_p_al", width: b.module[prod].width + plan.productShift, repr: .signed, .shiftLeft(prod, plan.productShift))
                    r = CodeRange(pr.lo << plan.productShift, pr.hi << plan.productShift)
                }
                terms.append(Val(sig: prod, frac: plan.accFrac, range: r))
            }
            let bias = d.bias[0] << plan.biasShift
            if bias != 0 || terms.isEmpty {
                let c = b.const("\(nn)_bias", bigInt(bias), width: CodeRange(bias, bias).signedWidth, repr: .signed,
                                comment: "bias \(d.biasType.decimalString(d.bias[0]))")
                terms.append(Val(sig: c, frac: plan.accFrac, range: CodeRange(bias, bias)))
            }
            let acc = adderTree(terms, f: f, name: nn, modularWidth: nil)
            return b.cast(acc, to: outputType, name: "\(nn)_y").sig
        }
    }
}
