// The Keras architecture JSON as a chain of layers: Sequential (Keras 2 list or dict form,
// Keras 3) and functional Model / Functional graphs whose layers form a single chain.
import Foundation
import ModelIR

public struct KerasLayer {
    public let className: String
    public let name: String
    public let config: JSONValue
    /// Where in the architecture JSON (for messages): "layers[3] (fc1)".
    public let path: String
    /// Keras 3's "module" and "registered_name" of the layer entry ("hgq.layers.core.dense",
    /// "hgq>QDense"): tell an HGQ2 QDense from a QKeras one.
    public var module: String? = nil
    public var registeredName: String? = nil

    func string(_ k: String) -> String? { if case let .string(s)? = config[k] { return s }; return nil }
    func bool(_ k: String) -> Bool? { if case let .bool(b)? = config[k] { return b }; return nil }
    func number(_ k: String) -> String? { if case let .number(n)? = config[k] { return n }; return nil }
    func int(_ k: String) -> Int? { number(k).flatMap { Int($0) } }
}

public struct KerasGraph {
    public let modelName: String
    public let inputName: String?
    public let inputSize: Int
    public let layers: [KerasLayer]
    /// The input's shape without the batch dimension, channels last ([10, 4], [8, 8, 1]).
    public var inputShape: [Int] = []

    public static func parse(_ arch: JSONValue, file: String) throws -> KerasGraph {
        func fail(_ f: String, _ m: String) -> InputError { InputError(file: file, field: f, message: m) }
        guard case let .string(cls)? = arch["class_name"] else {
            throw fail("class_name", "missing: not a Keras model architecture (model.to_json())")
        }
        guard ["Sequential", "Model", "Functional"].contains(cls) else {
            throw fail("class_name", "'\(cls)' is not a Keras model class (Sequential, Model or Functional)")
        }
        let cfg = arch["config"] ?? .null
        var entries: [JSONValue] = []
        if case let .array(a) = cfg { entries = a }
        else if case let .array(a)? = cfg["layers"] { entries = a }
        else { throw fail("config.layers", "missing list of layers") }
        var modelName = "keras_model"
        if case let .string(n)? = cfg["name"] { modelName = n }
        var layers: [KerasLayer] = []
        for (i, e) in entries.enumerated() {
            guard case let .string(c)? = e["class_name"], let lc = e["config"] else {
                throw fail("config.layers[\(i)]", "expected a layer with class_name and config")
            }
            var name = "layer\(i)"
            if case let .string(n)? = lc["name"] { name = n } else if case let .string(n)? = e["name"] { name = n }
            var layer = KerasLayer(className: c, name: name, config: lc, path: "config.layers[\(i)] (\(name))")
            if case let .string(m)? = e["module"] { layer.module = m }
            if case let .string(r)? = e["registered_name"] { layer.registeredName = r }
            layers.append(layer)
        }
        guard !layers.isEmpty else { throw fail("config.layers", "the model has no layers") }
        if cls != "Sequential" { try checkChain(entries, layers, file: file) }
        // The input size: an InputLayer's shape, or the first layer's batch_input_shape.
        var inputName: String? = nil
        var size: Int? = nil
        var dims: [Int] = []
        let first = layers[0]
        for key in ["batch_input_shape", "batch_shape"] {
            if case let .array(shape)? = first.config[key] {
                size = try flatSize(shape, file: file, field: "\(first.path).\(key)")
                dims = shape.dropFirst().compactMap { if case let .number(t) = $0 { return Int(t) }; return nil }
                break
            }
        }
        if first.className == "InputLayer" || first.className == "Input" {
            inputName = first.name
            guard size != nil else { throw fail("\(first.path).batch_input_shape", "missing input shape") }
        }
        guard let n = size else {
            throw fail("\(first.path).batch_input_shape", "missing: the model has no InputLayer and its first layer does not give the input shape")
        }
        var g = KerasGraph(modelName: modelName, inputName: inputName, inputSize: n, layers: layers)
        g.inputShape = dims.isEmpty ? [n] : dims
        return g
    }

    /// [null, n] -> n; [null, a, b, ...] -> a*b*... (the flattened size, for a following Flatten).
    static func flatSize(_ shape: [JSONValue], file: String, field: String) throws -> Int {
        var n = 1
        for (i, d) in shape.enumerated() where i > 0 {
            guard case let .number(t) = d, let v = Int(t), v >= 1, v <= 1_000_000 else {
                throw InputError(file: file, field: field, message: "unsupported input shape (every dimension but the batch must be a positive integer)")
            }
            n *= v
            guard n <= 1_000_000 else { throw InputError(file: file, field: field, message: "input too large") }
        }
        guard shape.count >= 2 else { throw InputError(file: file, field: field, message: "expected [null, n]") }
        return n
    }

    /// A functional model is accepted when every layer reads exactly the layer before it.
    static func checkChain(_ entries: [JSONValue], _ layers: [KerasLayer], file: String) throws {
        for i in 1..<layers.count {
            let names = inboundNames(entries[i]["inbound_nodes"] ?? .null)
            if names != [layers[i - 1].name] {
                throw InputError(file: file, field: "\(layers[i].path).inbound_nodes",
                                 message: "reads \(names.isEmpty ? "nothing" : names.joined(separator: ", ")), not the layer before it ('\(layers[i - 1].name)'): only a chain of layers is supported")
            }
        }
    }

    /// Layer names in a Keras 2 ([[["name", 0, 0, {}]]]) or Keras 3 (keras_history) inbound_nodes.
    static func inboundNames(_ v: JSONValue) -> [String] {
        var out: [String] = []
        func walk(_ v: JSONValue) {
            switch v {
            case let .array(a):
                if case let .string(s)? = a.first, a.count >= 3, case .number = a[1] { out.append(s); return }
                a.forEach(walk)
            case let .object(m):
                if case let .array(h)? = v["keras_history"], case let .string(s)? = h.first { out.append(s); return }
                m.forEach { walk($0.1) }
            default: break
            }
        }
        walk(v)
        return out
    }
}
