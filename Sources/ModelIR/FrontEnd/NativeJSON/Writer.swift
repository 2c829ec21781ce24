// The native JSON writer: writes any validated model "as it was understood": canonical type
// spellings, every default spelled out and the exact decimal value of every quantized parameter,
// so that reading it again gives the same model (ModelLoader.parse(ModelWriter.json(m)) == m).
import FixedPoint

public enum ModelWriter {
    public static func json(_ m: Model) -> String {
        var top: [(String, JSONValue)] = [
            ("format", .string("rtlgen-model")),
            ("version", .number("1")),
            ("name", .string(m.name)),
        ]
        if let d = m.description { top.append(("description", .string(d))) }
        top.append(("input", .object([
            ("name", .string(m.input.name)),
            ("size", .number(String(m.input.size))),
        ] + (m.input.shape.count > 1 ? [("shape", Shapes.json(m.input.shape))] : []) + [
            ("type", .string(m.input.type.description)),
        ] + (m.input.scale.map { [("scale", .number($0.scaleText)), ("zero_point", .number(String($0.zeroPoint)))] } ?? []))))
        top.append(("layers", .array(m.layers.map(layerJSON))))
        return JSONWriter.pretty(.object(top)) + "\n"
    }

    /// One layer as the writer spells it (importers that assemble native JSON layer by layer).
    public static func layerJSON(_ l: Layer) -> JSONValue {
        var f: [(String, JSONValue)] = [("name", .string(l.name)), ("op", .string(l.opName))]
        switch l.op {
        case let .dense(d):
            f.append(("units", .number(String(d.units))))
            f.append(("kernel", .array(d.kernel.map { row in .array(row.map { .number(d.kernelType.decimalString($0)) }) })))
            f.append(("bias", .array(d.bias.map { .number(d.biasType.decimalString($0)) })))
            f.append(("kernel_type", .string(d.kernelType.description)))
            f.append(("bias_type", .string(d.biasType.description)))
            f.append(("accum_type", .string(d.accumType?.description ?? "auto")))
        case .relu:
            break
        case let .binary(b):
            f.append(contentsOf: binaryFields(b))
        case let .activation(a):
            f.append(contentsOf: activationFields(a))
        case let .softmax(s):
            f.append(contentsOf: softmaxFields(s))
        case let .kind(k):
            f.append(contentsOf: k.base.jsonFields())
        }
        f.append(("output_type", .string(l.outputType.description)))
        return .object(f)
    }

    /// The fields after name and op, before output_type, as `ModelWriter` prints them.
    static func binaryFields(_ op: BinaryLayerOp) -> [(String, JSONValue)] {
        func num(_ s: String) -> JSONValue { .number(s) }
        switch op {
        case let .binaryDense(d), let .ternaryDense(d):
            return [("units", num(String(d.units))),
                    ("kernel", .array(d.kernel.map { row in .array(row.map { num(String($0)) }) }))]
        case .sign, .ternaryTanh:
            return []
        case let .threshold(t):
            var f: [(String, JSONValue)] = [("thresholds", .array(t.rules.map { num(decimalString(code: $0.code, frac: t.frac)) }))]
            if t.rules.contains(where: { !$0.geq }) {
                f.append(("directions", .array(t.rules.map { .string($0.geq ? "ge" : "le") })))
            }
            return f
        case let .multiThreshold(m):
            return [("thresholds", .array(m.thresholds.map { row in .array(row.map { num(decimalString(code: $0, frac: m.frac)) }) })),
                    ("out_scale", num(m.outScaleText)), ("out_bias", num(m.outBiasText))]
        case let .batchnorm(b):
            guard let st = b.scaleType, let bt = b.biasType else { return [] }
            return [("scale", .array(b.scale.map { num(st.decimalString($0)) })),
                    ("bias", .array(b.bias.map { num(bt.decimalString($0)) })),
                    ("scale_type", .string(st.description)), ("bias_type", .string(bt.description))]
        }
    }

    /// The layer's parameters as written back to a model file ("as understood").
    static func activationFields(_ a: Activation) -> [(String, JSONValue)] {
        func num(_ i: Int) -> JSONValue { .number(String(i)) }
        switch a {
        case let .sigmoid(t), let .tanh(t):
            return [("table_size", num(t.size)), ("table_type", .string(t.tableType.description)),
                    ("table", .string(t.mode.rawValue))]
        case let .lut(u):
            return [("index_bits", num(u.indexBits)), ("table_type", .string(u.tableType.description)),
                    ("table", .array(u.entries.map { .number(u.tableType.decimalString($0)) }))]
        case let .leakyRelu(l):
            return [("alpha", .number(l.alphaType.decimalString(l.alpha))), ("alpha_type", .string(l.alphaType.description))]
        case let .reluMax(r):
            return r.spelledRelu6 ? [] : [("max", .number(r.maxText))]
        case let .hardSigmoid(h), let .hardTanh(h):
            return [("slope", .number(h.slopeType.decimalString(h.slope))), ("slope_type", .string(h.slopeType.description)),
                    ("shift", .number(h.shiftType.decimalString(h.shift))), ("shift_type", .string(h.shiftType.description))]
        case .linear:
            return []
        case let .elu(e):
            return [("alpha", .number(e.alphaType!.decimalString(e.alpha!))), ("alpha_type", .string(e.alphaType!.description)),
                    ("table_size", num(e.size)), ("table_type", .string(e.tableType.description))]
        case let .selu(e):
            return [("table_size", num(e.size)), ("table_type", .string(e.tableType.description))]
        }
    }

    /// The softmax fields as understood (every default spelled out).
    static func softmaxFields(_ s: Softmax) -> [(String, JSONValue)] {
        var f: [(String, JSONValue)] = [("implementation", .string(s.implementation.rawValue))]
        if s.implementation == .stable {
            f.append(("table_size", .number(String(s.tableSize))))
            f.append(("exp_table_type", .string(s.expTableType.description)))
            f.append(("inv_table_type", .string(s.invTableType.description)))
            f.append(("inv_inp_type", .string(s.invInputType.description)))
            f.append(("accum_type", .string(s.accumType?.description ?? "auto")))
        }
        return f
    }
}
