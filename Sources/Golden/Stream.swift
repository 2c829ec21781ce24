// The golden model of the AXI4-Stream muon wrapper: a beat of records in, a beat of output slots
// out, with the exact feature maps of StreamSpec, the network's golden model, and the output mode.
//
// Output slot of one unit (a lane, or a pair), least significant bits first:
//   replace: the record with each replaced field rewritten (an empty slot passes unchanged);
//   append:  the record, then the network outputs (output j at bits R + j*Wo), then the empty flag;
//   scores:  the network outputs, then the empty flag.
// append and scores pad the slot with zeros to a multiple of 8 bits; an empty unit (its record,
// or either record of a pair, has the empty field = 0) has its outputs set to zero and its flag set.
import BigInt
import FixedPoint
import ModelIR

public struct StreamGolden: Sendable {
    public let spec: StreamSpec
    public let golden: GoldenModel
    public let featureMaps: [AffineMap]
    public let replaceMaps: [AffineMap]
    /// The hardware form of each map (nil: none exists; StreamConfig.validate reports it).
    public let featurePlans: [(k: Int128, c: Int128, frac: Int)?]
    public let replacePlans: [(k: Int128, c: Int128, frac: Int)?]

    public init(spec: StreamSpec, model: Model) throws {
        self.spec = spec
        golden = try GoldenModel(model)
        featureMaps = spec.features.map { Self.featureMap($0, layout: spec.layout, type: model.input.type) }
        replaceMaps = spec.replacements.map { Self.replaceMap($0, layout: spec.layout, outputType: model.outputType) }
        featurePlans = featureMaps.map { $0.fits && $0.hi - $0.lo <= 1 << 20 ? $0.hardwarePlan() : nil }
        replacePlans = replaceMaps.map { $0.hi - $0.lo <= 1 << 20 ? $0.hardwarePlan() : nil }
    }

    public static func featureMap(_ f: Feature, layout: RecordLayout, type: FixedType) -> AffineMap {
        let fld = layout.field(f.source.fieldName)!
        switch f.source {
        case .field: return AffineMap(scale: f.scale, offset: f.offset, type: type, lo: fld.minValue, hi: fld.maxValue)
        case .sign: return AffineMap(scale: f.scale, offset: f.offset, type: type, lo: -1, hi: 1)
        }
    }

    /// hw = y / scale - offset for y = code * 2^-F of the output type, rounded half up and
    /// saturated to the field: the affine map (code + off') * 2^-F / scale with off' = -offset * scale * 2^F.
    public static func replaceMap(_ r: Replacement, layout: RecordLayout, outputType: FixedType) -> AffineMap {
        let fld = layout.field(r.field)!
        let f = outputType.fracBits
        let unit = f >= 0 ? Rational(1, BigInt(1) << f) : Rational(BigInt(1) << -f)
        let sc = unit * Rational(r.scale.den, r.scale.num)
        let off = Rational(0) - r.offset * r.scale * Rational(unit.den, unit.num)
        let t = FixedType(signed: fld.signed, width: fld.width, intBits: fld.width, rounding: .RND, overflow: .SAT)
        return AffineMap(scale: sc, offset: off, type: t, lo: outputType.minCode, hi: outputType.maxCode)
    }

    /// The lowest value a replaced field takes (1 for the empty-slot field: a recalibrated muon
    /// never becomes an empty slot).
    public static func replaceFloor(_ r: Replacement, layout: RecordLayout) -> Int128 {
        let fld = layout.field(r.field)!
        return r.field == layout.emptyField ? max(1, fld.minValue) : fld.minValue
    }

    public var outputWidth: Int { golden.model.outputType.width }
    public var outputCount: Int { golden.model.outputSize }

    /// Bits of one output slot.
    public var slotWidth: Int {
        switch spec.output {
        case .replace: return spec.layout.bits
        case .append: return (spec.layout.bits + outputCount * outputWidth + 1 + 7) / 8 * 8
        case .scores: return (outputCount * outputWidth + 1 + 7) / 8 * 8
        }
    }
    public var outTdataWidth: Int { spec.units.count * slotWidth }

    public func isEmpty(_ record: BigInt) -> Bool {
        guard let e = spec.layout.emptyField, let f = spec.layout.field(e) else { return false }
        return f.read(record) == 0
    }

    /// The network's input codes for one unit (its records in unit order).
    public func features(_ records: [BigInt]) -> [Int128] {
        zip(spec.features, featureMaps).map { f, m in
            let fld = spec.layout.field(f.source.fieldName)!
            let raw = fld.read(records[f.muon])
            switch f.source {
            case .field: return m.exact(raw)
            case .sign: return m.exact(raw != 0 ? -1 : 1)
            }
        }
    }

    /// The output slot of one unit.
    public func slot(_ records: [BigInt]) -> BigInt {
        let empty = records.contains { isEmpty($0) }
        let y = golden.evaluate(codes: features(records))
        switch spec.output {
        case .replace:
            var rec = records[0]
            if empty { return rec }
            for (r, m) in zip(spec.replacements, replaceMaps) {
                let v = max(m.exact(y[r.output]), Self.replaceFloor(r, layout: spec.layout))
                rec = spec.layout.field(r.field)!.write(rec, v)
            }
            return rec
        case .append, .scores:
            var bits = BigInt(0)
            var pos = 0
            if spec.output == .append { bits = records[0]; pos = spec.layout.bits }
            let mask = (BigInt(1) << outputWidth) - 1
            for v in y {
                let code = empty ? BigInt(0) : (BigInt(v) + (BigInt(1) << outputWidth)) & mask
                bits |= code << pos
                pos += outputWidth
            }
            if empty { bits |= BigInt(1) << pos }
            return bits
        }
    }

    /// The records of a beat (record k in bits [(k+1)R-1 : kR]).
    public func records(ofBeat tdata: BigInt) -> [BigInt] {
        let r = spec.layout.bits
        return (0..<spec.muonsPerBeat).map { (tdata >> ($0 * r)) & ((BigInt(1) << r) - 1) }
    }

    /// The output beat's TDATA for an input beat's TDATA (slot u in bits [(u+1)S-1 : uS]).
    public func beat(_ tdata: BigInt) -> BigInt {
        let recs = records(ofBeat: tdata)
        var out = BigInt(0)
        for (u, unit) in spec.units.enumerated() {
            out |= slot(unit.map { recs[$0] }) << (u * slotWidth)
        }
        return out
    }
}
