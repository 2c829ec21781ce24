// Lowering of softmax layers. Stable (hls4ml's): a max tree, the wrapped differences max - x_i,
// one exp-table ROM read per element addressed by the top bits of its difference, a sum tree of
// hls4ml's shape (each node cast to the accumulator), the cast to the inverse table's input type,
// one inverse-table ROM read, and one multiplier per element. Argmax: a balanced compare tree
// carrying (value, index) that keeps the lower index on ties.
// Every step mirrors SoftmaxPlan.evaluate, the golden model's definition.
import BigInt
import FixedPoint
import ModelIR

extension LayerLowering {
    static func lowerSoftmax(_ s: Softmax, f: LayerFrame, inputType x: FixedType, outputType out: FixedType) -> [SignalID] {
        switch s.implementation {
        case .argmax:
            f.m.header.append("softmax implementation: argmax (index of the largest input, lowest index on ties)")
            return [lowerArgmax(f: f, outputType: out)]
        case .stable:
            // The plan was validated when the model was loaded.
            // A bipolar input arrives decoded (f.inputs are int<2> values -1/+1).
            let plan = try! SoftmaxPlan(s, inputType: x.arithmeticView, n: f.inputs.count)
            return lowerStableSoftmax(plan, f: f, outputType: out)
        }
    }

    /// Bits of a nonnegative integer (0 for 0).
    static func bitLength(_ v: Int128) -> Int {
        var k = 0
        while k < 127 && (Int128(1) << k) <= v { k += 1 }
        return k
    }

    /// A value cast to `t`, or the value itself when the cast provably changes nothing (same
    /// grid, range inside t's): keeps datapaths as narrow as their ranges.
    static func castIfNeeded(_ v: Val, to t: FixedType, f: LayerFrame, name: String) -> Val {
        let low = (t.overflow == .SAT_SYM && t.signed) ? t.symmetricMinCode : t.minCode
        if v.frac == t.fracBits && v.range.lo >= low && v.range.hi <= t.maxCode { return v }
        return f.b.cast(v, to: t, name: name)
    }

    /// Reads `values` (codes of `type`) at an address of `k` bits (`addr`, nil when k = 0):
    /// only the first 2^k entries can be reached, so only they become the ROM. The ROM stores
    /// each entry in the fewest bits that hold every reachable entry. Returns the read value
    /// with its exact range. Tables are shared between reads of the same contents.
    static func romRead(_ addr: SignalID?, bits k: Int, values: [Int128], type: FixedType, f: LayerFrame,
                        name: String, tableName: String, comment: String, tables: inout [String: Int]) -> Val {
        let b = f.b
        let reach = Array(values.prefix(1 << k))
        let r = CodeRange(reach.min()!, reach.max()!)
        let repr: Repr = r.lo >= 0 ? .unsigned : .signed
        let w = r.lo >= 0 ? r.unsignedWidth : r.signedWidth
        guard let a = addr, k > 0 else {
            let c = b.const(name, bigInt(reach[0]), width: w, repr: repr, comment: "\(tableName)[0]")
            return Val(sig: c, frac: type.fracBits, range: r)
        }
        let key = "\(tableName)/\(k)"
        let t: Int
        if let known = tables[key] {
            t = known
        } else {
            t = f.m.addTable(RomTable(name: tableName, width: w, repr: repr, values: reach.map { bigInt($0) },
                                      comment: "\(comment); \(reach.count) entries x \(w) bits (codes of \(type))"))
            tables[key] = t
        }
        let s = b.emit(name, width: w, repr: repr, .rom(a, table: t))
        return Val(sig: s, frac: type.fracBits, range: r)
    }

    static func lowerStableSoftmax(_ plan: SoftmaxPlan, f: LayerFrame, outputType out: FixedType) -> [SignalID] {
        let b = f.b
        let p = f.prefix
        let n = f.inputs.count
        let x = plan.inputType
        var tables: [String: Int] = [:]
        f.m.header.append("softmax implementation: stable (hls4ml 1.3 softmax_stable, bit-exact)")
        f.m.header.append("max - x_i in \(plan.normType) (wraps); exp table \(plan.expTableSize) x \(plan.expTableType) addressed by its top \(plan.expAddressBits) bits")
        f.m.header.append("sum in \(plan.accumType)\(plan.accumIsAuto ? " (auto: exact)" : ""), cast to \(plan.invInputType); inverse table \(plan.invTableSize) x \(plan.invTableType) addressed by its top \(plan.invAddressBits) bits")

        // 1. The maximum, by hls4ml's reduction tree (a >= b ? a : b).
        var nodes = 0
        let xmax = hlsReduce(f.inputs.map { $0.sig }[...]) { a, c in
            let k = nodes
            nodes += 1
            let ge = b.emit("\(p)_max\(k)_ge", width: 1, repr: .bit, .compare(.ge, a, c))
            return b.emit("\(p)_max\(k)", width: x.width, repr: b.module[a].repr, .mux(ge, a, c))
        }

        // 2. d_i = max - x_i, modulo 2^Wn (the unsigned normalized type, one bit narrower for a
        //    signed input); 3. its top bits address the exp table.
        let wn = plan.normType.width
        func low(_ s: SignalID, _ name: String) -> SignalID {
            b.emit(name, width: wn, repr: .unsigned, wn == x.width ? .copy(s) : .slice(s, lo: 0))
        }
        let mlow = low(xmax, "\(p)_max_n")
        let ne = plan.expAddressBits
        var a: [Val] = []
        for i in 0..<n {
            let d = b.emit("\(p)_d\(i)", width: wn, repr: .unsigned, .sub(mlow, low(f.inputs[i].sig, "\(p)_in_\(i)_n")))
            let addr = ne == wn ? d : b.emit("\(p)_exp_addr\(i)", width: ne, repr: .unsigned, .slice(d, lo: wn - ne))
            let e = romRead(addr, bits: ne, values: plan.expTable, type: plan.expTableType, f: f, name: "\(p)_exp\(i)",
                            tableName: "\(p)_exp_table", comment: "exp(-d) for the top \(ne) bits of d = max - x_i",
                            tables: &tables)
            a.append(castIfNeeded(e, to: plan.accumType, f: f, name: "\(p)_a\(i)"))
        }

        // 4. The sum, by hls4ml's reduction tree; every node is cast to the accumulator.
        nodes = 0
        let sum = hlsReduce(a[...]) { u, v in
            let k = nodes
            nodes += 1
            let r = CodeRange(u.range.lo + v.range.lo, u.range.hi + v.range.hi)
            let w = r.signedWidth
            let us = b.resize(b.signedVal(u, name: "\(p)_sum\(k)_a").sig, to: w, name: "\(p)_sum\(k)_ae")
            let vs = b.resize(b.signedVal(v, name: "\(p)_sum\(k)_b").sig, to: w, name: "\(p)_sum\(k)_be")
            let s = b.emit("\(p)_sum\(k)", width: w, repr: .signed, .add(us, vs))
            f.adders += 1
            return castIfNeeded(Val(sig: s, frac: u.frac, range: r), to: plan.accumType, f: f, name: "\(p)_sum\(k)_c")
        }

        // 5. The sum in the inverse table's input type; its top bits address the inverse table
        //    (only the bits that can vary: a sum that stays small reads a small ROM).
        let si = castIfNeeded(sum, to: plan.invInputType, f: f, name: "\(p)_inv_in")
        let ni = plan.invAddressBits
        let wi = plan.invInputType.width
        let shift = wi - ni
        var addr: SignalID? = nil
        var k = ni
        if si.range.lo >= 0 {
            k = bitLength(si.range.hi >> shift)
            if k > 0 {
                addr = b.emit("\(p)_inv_addr", width: k, repr: .unsigned, .slice(b.signedVal(si, name: "\(p)_inv_in_s").sig, lo: shift))
            }
        } else {
            let full = b.resize(b.signedVal(si, name: "\(p)_inv_in_s").sig, to: wi, name: "\(p)_inv_in_w")
            addr = b.emit("\(p)_inv_addr", width: ni, repr: .unsigned, .slice(full, lo: shift))
        }
        let inv = romRead(addr, bits: k, values: plan.invTable, type: plan.invTableType, f: f, name: "\(p)_inv",
                          tableName: "\(p)_inv_table", comment: "1/s for the top \(ni) bits of the sum s in \(plan.invInputType)",
                          tables: &tables)
        if k < ni {
            f.m.header.append("the sum never exceeds \(plan.invInputType.decimalString(si.range.hi)): only the first \(1 << k) inverse-table entries can be read")
        }

        // 6. y_i = cast(a_i * inv, output_type): one multiplier per element.
        let invS = b.signedVal(inv, name: "\(p)_inv_s")
        let frac = plan.accumType.fracBits + plan.invTableType.fracBits
        return a.enumerated().map { i, ai in
            let as_ = b.signedVal(ai, name: "\(p)_n\(i)_a")
            let w = b.module[as_.sig].width + b.module[invS.sig].width
            let m = b.emit("\(p)_n\(i)_p", width: w, repr: .signed, .mul(as_.sig, invS.sig))
            f.multipliers += 1
            let c = [ai.range.lo * inv.range.lo, ai.range.lo * inv.range.hi, ai.range.hi * inv.range.lo, ai.range.hi * inv.range.hi]
            return b.cast(Val(sig: m, frac: frac, range: CodeRange(c.min()!, c.max()!)), to: out, name: "\(p)_n\(i)_y").sig
        }
    }

    /// argmax: (value, index) pairs reduced by hls4ml's tree shape; the right (higher-index)
    /// side wins only when strictly greater, so ties keep the lowest index.
    static func lowerArgmax(f: LayerFrame, outputType out: FixedType) -> SignalID {
        let b = f.b
        let p = f.prefix
        let n = f.inputs.count
        let kw = max(1, bitLength(Int128(n - 1)))
        let leaves: [(v: SignalID, i: SignalID)] = f.inputs.enumerated().map { i, x in
            (x.sig, b.const("\(p)_idx\(i)", BigInt(i), width: kw, repr: .unsigned))
        }
        var nodes = 0
        let best = hlsReduce(leaves[...]) { l, r in
            let k = nodes
            nodes += 1
            let gt = b.emit("\(p)_cmp\(k)_gt", width: 1, repr: .bit, .compare(.gt, r.v, l.v))
            let v = b.emit("\(p)_cmp\(k)_max", width: b.module[l.v].width, repr: b.module[l.v].repr, .mux(gt, r.v, l.v))
            let i = b.emit("\(p)_cmp\(k)_idx", width: kw, repr: .unsigned, .mux(gt, r.i, l.i))
            return (v, i)
        }
        return b.resize(best.i, to: out.width, name: "\(p)_index")
    }
}
