// The pieces of the AXI4-Stream wrapper, each its own module: the feature map of one unit
// (records -> the network's input bus), the output map of one unit (record or empty flag +
// network outputs -> output slot), and the output FIFO. See StreamWrapper.swift for the whole.
import BigInt
import FixedPoint
import Golden
import ModelIR

enum StreamParts {
    static func minWidth(_ lo: Int128, _ hi: Int128) -> Int { CodeRange(lo, hi).signedWidth }

    /// u * k + c at `frac` fractional bits, cast to `type` (the hardware plan of an AffineMap).
    static func affine(_ b: DatapathBuilder, u: SignalID, lo: Int128, hi: Int128, plan: (k: Int128, c: Int128, frac: Int),
                       type: FixedType, name: String) -> Val {
        let m = b.module
        let x = b.signedVal(Val(sig: u, frac: 0, range: CodeRange(lo, hi)), name: "\(name)_u")
        var p = x.sig
        var pr = CodeRange(lo, hi)
        let k = plan.k
        if k != 1 {
            let plo = min(lo * k, hi * k), phi = max(lo * k, hi * k)
            pr = CodeRange(plo, phi)
            if k > 0 && k & (k - 1) == 0 {
                let s = k.trailingZeroBitCount
                p = b.emit("\(name)_shl", width: m[p].width + s, repr: .signed, .shiftLeft(p, s))
            } else {
                let kw = minWidth(k, k)
                let kc = b.const("\(name)_k", BigInt(k), width: kw, repr: .signed, comment: "scale constant \(k) / 2^\(plan.frac)")
                let xw = m[p].width
                let w = min(max(pr.signedWidth, xw, kw), xw + kw)
                p = b.emit("\(name)_prod", width: w, repr: .signed, .mul(p, kc))
            }
        }
        if plan.c != 0 {
            let sr = CodeRange(pr.lo + plan.c, pr.hi + plan.c)
            let w = max(pr.signedWidth, minWidth(plan.c, plan.c), sr.signedWidth)
            let a = b.resize(p, to: w, name: "\(name)_pe")
            let cc = b.const("\(name)_c", BigInt(plan.c), width: w, repr: .signed, comment: "offset constant \(plan.c) / 2^\(plan.frac)")
            p = b.emit("\(name)_sum", width: w, repr: .signed, .add(a, cc))
            pr = sr
        }
        return b.cast(Val(sig: p, frac: plan.frac, range: pr), to: type, name: "\(name)_q")
    }

    /// A field of a record bus, as an unsigned or signed value.
    static func field(_ b: DatapathBuilder, _ rec: SignalID, bitOffset: Int, _ f: RecordField, name: String) -> SignalID {
        let raw = b.emit(name, width: f.width, repr: .bus, .slice(rec, lo: bitOffset + f.offset))
        return b.emit(name, width: f.width, repr: f.signed ? .signed : .unsigned, .copy(raw))
    }

    /// The feature map of one unit: in_data = the unit's records (record i in bits
    /// [(i+1)R-1 : iR]), out_data = the network's input bus, registered. Returns the module.
    static func featureMap(name: String, golden g: StreamGolden, unitSize: Int, delays: DelayModel) -> Module {
        let spec = g.spec
        let m = Module(name: name)
        let b = DatapathBuilder(module: m, delays: delays)
        let clk = b.input("clk", width: 1, repr: .bit)
        b.clock = clk
        let rin = b.input("in_data", width: unitSize * spec.layout.bits, repr: .bus)
        let t = g.golden.model.input.type
        var outs: [SignalID] = []
        for (i, (f, map)) in zip(spec.features, g.featureMaps).enumerated() {
            let fld = spec.layout.field(f.source.fieldName)!
            let base = f.muon * spec.layout.bits
            let nm = "f\(i)_\(fld.name)\(unitSize > 1 ? "_m\(f.muon)" : "")"
            var u = field(b, rin, bitOffset: base, fld, name: "\(nm)_hw")
            if case .sign = f.source {
                // bit 0 -> +1, bit 1 -> -1 (2-bit signed)
                let bit = b.emit("\(nm)_bit", width: 1, repr: .bit, .slice(rin, lo: base + fld.offset))
                u = b.emit("\(nm)_pm1", width: 2, repr: .signed,
                           .mux(bit, b.const("m1", -1, width: 2, repr: .signed), b.const("p1", 1, width: 2, repr: .signed)))
            }
            let plan = g.featurePlans[i]!
            let v = affine(b, u: u, lo: map.lo, hi: map.hi, plan: plan, type: t, name: nm)
            outs.append(b.emit("\(nm)_code", width: t.width, repr: .bus, .copy(v.sig)))
        }
        let (regs, stage) = b.registerAll(outs, names: spec.features.indices.map { "feature_\($0)" })
        m.define("out_data", width: t.width * outs.count, repr: .bus, .concat(regs.reversed()), role: .output)
        m.latency = stage
        m.header = ["Stream feature map: \(unitSize) record(s) of \(spec.layout.name) -> \(outs.count) x \(t)",
                    "latency: \(stage) clock cycle(s), no enable, no reset (runs free)"] +
            spec.features.enumerated().map { i, f in
                "input \(i): (\(f.source.fieldName)\(f.muon > 0 ? " of muon 1" : "")\(isSign(f) ? " as +-1" : "") + \(f.offsetText)) * \(f.scaleText), rounded \(t.rounding.rawValue)"
            }
        return m
    }
    static func isSign(_ f: Feature) -> Bool { if case .sign = f.source { return true }; return false }

    /// The output map of one unit. Ports: clk, in_rec (replace/append: the unit's first record;
    /// scores: its empty flag as a 1-bit bus), in_y (network outputs), out_data (the slot), registered.
    static func outputMap(name: String, golden g: StreamGolden, unitSize: Int, delays: DelayModel) -> Module {
        let spec = g.spec
        let m = Module(name: name)
        let b = DatapathBuilder(module: m, delays: delays)
        let clk = b.input("clk", width: 1, repr: .bit)
        b.clock = clk
        let recW = spec.output == .scores ? 1 : spec.layout.bits
        let rec = b.input("in_rec", width: recW, repr: .bus)
        let ot = g.golden.model.outputType
        let wo = ot.width
        let y = b.input("in_y", width: g.outputCount * wo, repr: .bus)
        let empty: SignalID
        if spec.output == .scores {
            empty = b.emit("empty", width: 1, repr: .bit, .slice(rec, lo: 0))
        } else if let e = spec.layout.emptyField, let f = spec.layout.field(e) {
            let v = b.emit("\(e)_raw", width: f.width, repr: .unsigned, .slice(rec, lo: f.offset))
            empty = b.emit("empty", width: 1, repr: .bit, .not(b.emit("\(e)_nonzero", width: 1, repr: .bit, .reduceOr(v))))
        } else {
            empty = b.const("empty", 0, width: 1, repr: .bit)
        }
        var slot: SignalID
        switch spec.output {
        case .replace:
            var newVals: [String: SignalID] = [:]
            for (ri, (r, map)) in zip(spec.replacements, g.replaceMaps).enumerated() {
                let f = spec.layout.field(r.field)!
                let yraw = b.emit("y\(r.output)_raw", width: wo, repr: .bus, .slice(y, lo: r.output * wo))
                let yv = b.emit("y\(r.output)", width: wo, repr: ot.signed ? .signed : .unsigned, .copy(yraw))
                let v = affine(b, u: yv, lo: map.lo, hi: map.hi, plan: g.replacePlans[ri]!, type: map.type, name: "\(r.field)_new")
                var q = v.sig
                let floor = StreamGolden.replaceFloor(r, layout: spec.layout)
                if floor > f.minValue {
                    let fc = b.const("\(r.field)_floor", BigInt(floor), width: f.width, repr: f.signed ? .signed : .unsigned)
                    let below = b.emit("\(r.field)_below", width: 1, repr: .bit, .compare(.lt, q, fc))
                    q = b.emit("\(r.field)_clamped", width: f.width, repr: f.signed ? .signed : .unsigned, .mux(below, fc, q))
                }
                newVals[r.field] = b.emit("\(r.field)_bits", width: f.width, repr: .bus, .copy(q))
            }
            // The record rebuilt from its bits, replaced fields substituted (most significant first).
            var parts: [SignalID] = []
            var pos = spec.layout.bits
            let repl = spec.layout.fields.filter { newVals[$0.name] != nil }.sorted { $0.offset > $1.offset }
            for f in repl {
                let top = f.offset + f.width
                if pos > top { parts.append(b.emit("keep_\(top)", width: pos - top, repr: .bus, .slice(rec, lo: top))) }
                parts.append(newVals[f.name]!)
                pos = f.offset
            }
            if pos > 0 { parts.append(b.emit("keep_0", width: pos, repr: .bus, .slice(rec, lo: 0))) }
            let replaced = b.emit("replaced", width: spec.layout.bits, repr: .bus, .concat(parts))
            slot = b.emit("slot", width: spec.layout.bits, repr: .bus, .mux(empty, rec, replaced))
        case .append, .scores:
            let zero = b.const("zero_y", 0, width: g.outputCount * wo, repr: .bus)
            let yz = b.emit("y_or_zero", width: g.outputCount * wo, repr: .bus, .mux(empty, zero, y))
            let used = (spec.output == .append ? spec.layout.bits : 0) + g.outputCount * wo + 1
            let pad = g.slotWidth - used
            var parts: [SignalID] = []
            if pad > 0 { parts.append(b.const("pad", 0, width: pad, repr: .bus)) }
            parts.append(b.emit("empty_bit", width: 1, repr: .bus, .concat([empty])))
            parts.append(yz)
            if spec.output == .append { parts.append(rec) }
            slot = b.emit("slot", width: g.slotWidth, repr: .bus, .concat(parts))
        }
        let (regs, stage) = b.registerAll([slot], names: ["slot_r"])
        m.define("out_data", width: g.slotWidth, repr: .bus, .copy(regs[0]), role: .output)
        m.latency = stage
        m.header = ["Stream output map (\(spec.output.rawValue)): \(g.outputCount) x \(ot) -> \(g.slotWidth)-bit slot",
                    "latency: \(stage) clock cycle(s), no enable, no reset (runs free)"] +
            spec.replacements.map { "\($0.field) = y\($0.output) / \($0.scale) - \($0.offset), rounded half up, saturated to the field" }
        return m
    }
}
