// Writes a model back as native JSON "as it was understood": canonical type spellings and the
// exact decimal value of every quantized parameter (reading it again gives the same model).
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
            ("type", .string(m.input.type.description)),
        ])))
        top.append(("layers", .array(m.layers.map(layerJSON))))
        return JSONWriter.pretty(.object(top)) + "\n"
    }

    static func layerJSON(_ l: Layer) -> JSONValue {
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
            f.append(contentsOf: b.jsonFields())
        case let .activation(a):
            f.append(contentsOf: a.jsonFields)
        case let .softmax(s):
            f.append(contentsOf: softmaxFields(s))
        }
        f.append(("output_type", .string(l.outputType.description)))
        return .object(f)
    }
}
