// An ONNX file (protobuf ModelProto, message code generated from ONNX's onnx.proto3 into
// Generated/onnx.pb.swift) read as a single-input chain: the constant tensors (initializers and
// Constant nodes), and the nodes in the order the data flows from the graph input to the graph
// output. Anything else (several inputs or outputs, a branch, a tensor stored outside the file,
// a cycle) is refused with one message naming the file and the node or tensor.
import Foundation
import ModelIR
import SwiftProtobuf

/// A constant tensor as float values (float32 tensors are exact in Double).
struct ONNXTensor {
    var shape: [Int]
    var values: [Double]
    var isFloat64 = false
    var count: Int { values.count }
    var scalar: Double? { values.count == 1 ? values[0] : nil }
}

/// One node of the chain, with its attributes and the constant inputs it reads.
struct ONNXNode {
    let name: String
    let opType: String
    let domain: String
    /// Input tensor names, in order (empty string: an omitted optional input).
    let inputs: [String]
    let outputs: [String]
    let attributes: [String: Onnx_AttributeProto]
    /// For messages: `node 'fc1' (Gemm)`.
    var label: String { "node '\(name)' (\(opType))" }

    func int(_ k: String) -> Int64? { attributes[k].map { $0.i } }
    func float(_ k: String) -> Double? { attributes[k].map { Double($0.f) } }
    func string(_ k: String) -> String? { attributes[k].map { ONNXGraph.clean(String(decoding: $0.s, as: UTF8.self)) } }
    func ints(_ k: String) -> [Int64]? { attributes[k].map { $0.ints } }
}

struct ONNXGraph {
    let file: String
    let inputName: String
    /// The input's shape as declared (batch dimension included; 0 for a symbolic dimension).
    let inputShape: [Int]
    let outputName: String
    var constants: [String: ONNXTensor]
    /// The nodes that read the data path, input to output.
    let chain: [ONNXNode]
    /// Nodes computing constants only (Quant of a weight, Identity of an initializer ...).
    let constantNodes: [ONNXNode]
    let graphName: String

    static let maxBytes = 1 << 30

    /// A name as read: control characters become '?' (every message stays one line).
    static func clean(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" }) else { return s }
        return String(String.UnicodeScalarView(s.unicodeScalars.map { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" ? "?" : $0 }))
    }

    static func load(path: String) throws -> ONNXGraph {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, field: "", message: "cannot read the file")
        }
        guard data.count <= maxBytes else { throw InputError(file: path, field: "", message: "larger than 1 GiB: not a model rtlgen can build") }
        return try parse(data: data, file: path)
    }

    static func parse(data: Data, file: String) throws -> ONNXGraph {
        var opts = BinaryDecodingOptions()
        opts.messageDepthLimit = 64
        let m: Onnx_ModelProto
        do {
            m = try Onnx_ModelProto(serializedBytes: data, options: opts)
        } catch {
            throw InputError(file: file, field: "", message: "not a valid ONNX file (the protobuf cannot be decoded: \(error)); damaged or truncated?")
        }
        guard m.hasGraph, !m.graph.node.isEmpty else {
            throw InputError(file: file, field: "graph", message: "not an ONNX model (no graph or no nodes); damaged or truncated?")
        }
        return try ONNXGraph(m.graph, file: file)
    }

    init(_ g: Onnx_GraphProto, file: String) throws {
        self.file = file
        graphName = g.name
        var consts: [String: ONNXTensor] = [:]
        for t in g.initializer {
            consts[ONNXGraph.clean(t.name)] = try ONNXGraph.tensor(t, file: file, field: "graph.initializer '\(ONNXGraph.clean(t.name))'")
        }
        if !g.sparseInitializer.isEmpty {
            throw InputError(file: file, field: "graph.sparse_initializer", message: "sparse initializers are not supported")
        }
        let inputs = g.input.filter { consts[ONNXGraph.clean($0.name)] == nil }
        guard inputs.count == 1 else {
            throw InputError(file: file, field: "graph.input", message: "expected one input (not an initializer), found \(inputs.count) (\(inputs.map { ONNXGraph.clean($0.name) }.joined(separator: ", ")))")
        }
        guard g.output.count == 1 else {
            throw InputError(file: file, field: "graph.output", message: "expected one output, found \(g.output.count)")
        }
        inputName = ONNXGraph.clean(inputs[0].name)
        outputName = ONNXGraph.clean(g.output[0].name)
        inputShape = inputs[0].type.tensorType.shape.dim.map { $0.dimValue > 0 && $0.dimValue < Int64(Int32.max) ? Int($0.dimValue) : 0 }

        var nodes: [ONNXNode] = []
        for (k, n) in g.node.enumerated() {
            var attrs: [String: Onnx_AttributeProto] = [:]
            let opType = ONNXGraph.clean(n.opType)
            let name = n.name.isEmpty ? "\(opType.lowercased())_\(k)" : ONNXGraph.clean(n.name)
            for a in n.attribute {
                if !a.f.isFinite || a.floats.contains(where: { !$0.isFinite }) {
                    throw InputError(file: file, field: "node '\(name)' (\(opType)).\(ONNXGraph.clean(a.name))", message: "is not a finite number")
                }
                attrs[ONNXGraph.clean(a.name)] = a
            }
            let node = ONNXNode(name: name, opType: opType, domain: ONNXGraph.clean(n.domain), inputs: n.input.map(ONNXGraph.clean),
                                outputs: n.output.map(ONNXGraph.clean), attributes: attrs)
            if opType == "Constant" {
                guard node.outputs.count == 1, let a = attrs["value"], a.hasT else {
                    throw InputError(file: file, field: node.label, message: "only Constant nodes with a tensor 'value' are supported")
                }
                consts[node.outputs[0]] = try ONNXGraph.tensor(a.t, file: file, field: "\(node.label).value")
                continue
            }
            nodes.append(node)
        }
        // Nodes whose inputs are all constants compute constants (folded by the importer).
        var constNodes: [ONNXNode] = []
        var known = Set(consts.keys)
        var rest = nodes
        var changed = true
        while changed {
            changed = false
            var next: [ONNXNode] = []
            for n in rest {
                if n.inputs.allSatisfy({ $0.isEmpty || known.contains($0) }) {
                    constNodes.append(n)
                    known.formUnion(n.outputs)
                    changed = true
                } else {
                    next.append(n)
                }
            }
            rest = next
        }
        // The data path: from the input, each tensor read by exactly one node.
        var chain: [ONNXNode] = []
        var current = inputName
        var remaining = rest
        while current != outputName {
            let readers = remaining.filter { $0.inputs.contains(current) }
            guard readers.count == 1 else {
                if readers.isEmpty {
                    throw InputError(file: file, field: "graph", message: "no node reads tensor '\(current)' and it is not the graph output '\(outputName)'")
                }
                throw InputError(file: file, field: "graph", message: "tensor '\(current)' is read by \(readers.count) nodes (\(readers.map { $0.label }.joined(separator: ", "))): only single-path chains are supported")
            }
            let n = readers[0]
            let dynamicInputs = n.inputs.filter { !$0.isEmpty && !known.contains($0) }
            let produced = Set(nodes.flatMap { $0.outputs }).union([inputName])
            if let missing = dynamicInputs.first(where: { !produced.contains($0) }) {
                throw InputError(file: file, field: n.label, message: "reads tensor '\(missing)', which no node computes and no initializer holds (a missing initializer?)")
            }
            guard dynamicInputs == [current] else {
                throw InputError(file: file, field: n.label, message: "reads \(dynamicInputs.count) computed tensors (\(dynamicInputs.joined(separator: ", "))): only single-path chains are supported")
            }
            guard n.outputs.count >= 1, !n.outputs[0].isEmpty else {
                throw InputError(file: file, field: n.label, message: "has no output")
            }
            chain.append(n)
            remaining.removeAll { $0.name == n.name && $0.outputs == n.outputs }
            current = n.outputs[0]
        }
        if let extra = remaining.first {
            throw InputError(file: file, field: extra.label, message: "is not on the path from the input '\(inputName)' to the output '\(outputName)' (only single-path chains are supported)")
        }
        self.chain = chain
        self.constantNodes = constNodes
        self.constants = consts
    }

    /// A TensorProto as Doubles (float, double, and integer types; data inline or raw).
    static func tensor(_ t: Onnx_TensorProto, file: String, field: String) throws -> ONNXTensor {
        if t.dataLocation == .external || !t.externalData.isEmpty {
            throw InputError(file: file, field: field, message: "tensor data stored in an external file is not supported (save the model with the data inside)")
        }
        var shape: [Int] = []
        var n = 1
        for d in t.dims {
            guard d >= 0, d <= 1 << 28 else { throw InputError(file: file, field: field, message: "invalid dimension \(d)") }
            shape.append(Int(d))
            n = n.multipliedReportingOverflow(by: Int(d)).partialValue
            guard n <= 1 << 28 else { throw InputError(file: file, field: field, message: "too many elements") }
        }
        let raw = t.rawData
        var values: [Double] = []
        var f64 = false
        func need(_ have: Int) throws {
            guard have == n else {
                throw InputError(file: file, field: field, message: "holds \(have) values, its shape (\(shape.map(String.init).joined(separator: ", "))) needs \(n)")
            }
        }
        func fromRaw<T>(_ type: T.Type, _ conv: (T) -> Double) throws -> [Double] {
            let size = MemoryLayout<T>.size
            guard raw.count % size == 0 else { throw InputError(file: file, field: field, message: "raw_data of \(raw.count) bytes is not a whole number of \(size)-byte values") }
            try need(raw.count / size)
            return raw.withUnsafeBytes { p in (0..<n).map { conv(p.loadUnaligned(fromByteOffset: $0 * size, as: T.self)) } }
        }
        switch t.dataType {
        case 1:  // FLOAT
            values = raw.isEmpty ? t.floatData.map(Double.init) : try fromRaw(UInt32.self) { Double(Float(bitPattern: UInt32(littleEndian: $0))) }
        case 11: // DOUBLE
            f64 = true
            values = raw.isEmpty ? t.doubleData : try fromRaw(UInt64.self) { Double(bitPattern: UInt64(littleEndian: $0)) }
        case 7:  // INT64
            values = raw.isEmpty ? t.int64Data.map(Double.init) : try fromRaw(Int64.self) { Double(Int64(littleEndian: $0)) }
        case 6:  // INT32
            values = raw.isEmpty ? t.int32Data.map(Double.init) : try fromRaw(Int32.self) { Double(Int32(littleEndian: $0)) }
        case 3:  // INT8
            values = raw.isEmpty ? t.int32Data.map(Double.init) : try fromRaw(Int8.self) { Double($0) }
        case 2, 9:  // UINT8, BOOL
            values = raw.isEmpty ? t.int32Data.map(Double.init) : try fromRaw(UInt8.self) { Double($0) }
        case 5:  // INT16
            values = raw.isEmpty ? t.int32Data.map(Double.init) : try fromRaw(Int16.self) { Double(Int16(littleEndian: $0)) }
        default:
            throw InputError(file: file, field: field, message: "tensor data type \(t.dataType) is not supported (float, double, int8/16/32/64, uint8, bool)")
        }
        try need(values.count)
        if let bad = values.first(where: { !$0.isFinite }) {
            throw InputError(file: file, field: field, message: "holds a value that is not a finite number (\(bad))")
        }
        return ONNXTensor(shape: shape, values: values, isFloat64: f64)
    }
}
