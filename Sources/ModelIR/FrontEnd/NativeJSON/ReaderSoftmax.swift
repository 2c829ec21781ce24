// Reading softmax and argmax layers of the native model file (hls4ml's defaults spelled out);
// the model core checks table sizes, widths and the plan against the layer's input.
import FixedPoint

extension ModelLoader {
    static func parseSoftmax(_ r: JSONObjectReader, name: String) throws -> Layer {
        let implText = r.has("implementation") ? try r.string("implementation") : SoftmaxImplementation.stable.rawValue
        guard let impl = SoftmaxImplementation(rawValue: implText) else {
            throw r.fail("implementation", "unknown softmax implementation '\(implText)' (supported: stable, argmax; hls4ml's latency and legacy are not supported)")
        }
        let out = try r.type("output_type")
        switch impl {
        case .argmax:
            try r.checkKeys(["name", "op", "implementation", "output_type"])
            return Layer(name: name, op: .softmax(Softmax(implementation: .argmax)), outputType: out)
        case .stable:
            try r.checkKeys(["name", "op", "implementation", "table_size", "exp_table_type", "inv_table_type",
                             "inv_inp_type", "accum_type", "output_type"])
            let size = r.has("table_size") ? try r.int("table_size") : Softmax.defaultTableSize
            func tableType(_ key: String) throws -> FixedType { r.has(key) ? try r.type(key) : Softmax.defaultTableType }
            let exp = try tableType("exp_table_type")
            let inv = try tableType("inv_table_type")
            let invIn = try tableType("inv_inp_type")
            var accum: FixedType? = nil
            if r.has("accum_type"), try r.string("accum_type") != "auto" {
                // Any modes: the sum follows hls4ml's reduction tree exactly (see hlsReduce).
                accum = try r.type("accum_type")
            }
            let s = Softmax(implementation: .stable, tableSize: size, expTableType: exp, invTableType: inv,
                            invInputType: invIn, accumType: accum)
            return Layer(name: name, op: .softmax(s), outputType: out)
        }
    }
}
