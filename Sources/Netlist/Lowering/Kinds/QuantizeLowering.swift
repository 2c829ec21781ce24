// The hardware of a per-element quantize layer (ModelIR/Kinds/Quantize.swift): each value is cast
// to its own type (dropped low bits with that type's rounding increment, then its overflow mode
// on the kept bits), then to the layer's output type; an element without bits is a constant 0.
import FixedPoint
import ModelIR

extension Quantize: KindLowering {
    func lower(f: LayerFrame, input: TensorInfo, layer: Layer, options: LoweringOptions) -> [SignalID] {
        let t = layer.outputType
        let distinct = Set(types.map { $0?.description ?? "0" }).count
        f.m.header.append("quantize: each of \(types.count) value(s) cast to its own type (\(distinct) distinct), then to \(t)")
        var zero: SignalID? = nil
        return f.inputs.enumerated().map { j, x in
            guard let tj = types[j] else {
                if zero == nil { zero = f.b.const("\(f.prefix)_zero", 0, width: t.width, repr: t.signed ? .signed : .unsigned) }
                return zero!
            }
            let q = f.b.cast(x, to: tj, name: "\(f.prefix)_q\(j)")
            return f.b.cast(q, to: t, name: "\(f.prefix)_n\(j)").sig
        }
    }
}
