// ONNX convolutional graphs as hls4ml 1.3's ONNX front end converts them. hls4ml needs the graph
// in qonnx's channels-last form (ConvertToChannelsLastAndClean): the data is held channels last
// throughout, Transposes between the layouts vanish, and a Transpose before a Flatten is removed
// (remove_transpose_before_flatten), so the flatten order is channels last too. rtlgen reads the
// original graph the same way: it tracks the ONNX (logical) layout of the current tensor while the
// values stay channels last, so a Transpose from channels last to channels first and back is
// wiring, Conv / MaxPool / AveragePool / global pools read channels-first ONNX attributes and
// weights (W: (M, C, k...)) and compute on channels-last data, and Flatten keeps the order.
//
//   Conv              -> conv1d / conv2d, hls4ml name "Conv1D_Conv_<k>" (class Conv1D / Conv2D):
//                        explicit pads, strides; group 1, dilations 1, auto_pad NOTSET / VALID
//   MaxPool / AveragePool (2D) -> max_pool2d / avg_pool2d ("MaxPool_<k>", class Pooling2D),
//                        padding cells ignored (hls4ml ignores count_include_pad: refused when
//                        it would count them), ceil_mode 0
//   GlobalMaxPool / GlobalAveragePool -> global pools (class GlobalPooling1D / 2D)
//   Transpose         -> the layout change (the two perms between channels last and first)
//   Flatten           -> flatten (channels-last order, as hls4ml)
//   BatchNormalization on a conv's output -> per channel, tiled over the positions
//
// The graph's input must be channels last (as a Keras export declares it, with a Transpose
// before the first Conv): hls4ml's predict then takes the same flat channels-last rows.
import Foundation
import FixedPoint
import ModelIR

/// The current tensor of a spatial ONNX chain: its shape held channels last (no batch), and
/// whether ONNX sees it channels first.
struct ONNXLayout {
    var shape: [Int]
    var channelsFirst = false
    var spatialRank: Int { shape.count - 1 }
}

enum ONNXConv {
    static let spatialOps: Set<String> = ["Conv", "MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool"]

    /// Does the chain hold a conv or pooling node (then shapes and layouts are tracked)?
    static func isSpatial(_ g: ONNXGraph) -> Bool { g.chain.contains { spatialOps.contains($0.opType) } }

    /// The input's shape without the batch dimension (channels last).
    static func inputShape(_ g: ONNXGraph, file: String) throws -> [Int] {
        let d = Array(g.inputShape.dropFirst())
        guard d.count >= 2, d.count <= 3, d.allSatisfy({ $0 >= 1 }) else {
            throw InputError(file: file, field: "graph.input '\(g.inputName)'",
                             message: "a convolutional graph needs a declared input shape (batch, width, channels) or (batch, height, width, channels), found (\(g.inputShape.map(String.init).joined(separator: ", ")))")
        }
        return d
    }

    static func fail(_ n: ONNXNode, _ field: String?, _ m: String, file: String) -> InputError {
        InputError(file: file, field: field.map { "\(n.label).\($0)" } ?? n.label, message: m)
    }

    /// One node of a spatial chain: the hls4ml layer it becomes (nil: a layout change or no-op),
    /// with the layout updated. `index` numbers nodes by op type as qonnx's cleanup names them.
    static func node(_ n: ONNXNode, _ g: ONNXGraph, layout: inout ONNXLayout, index: (String) -> Int, file: String) throws -> HLSLayer? {
        let r = layout.spatialRank
        func ints(_ k: String, _ count: Int, _ d: Int) throws -> [Int] {
            guard let v = n.ints(k) else { return [Int](repeating: d, count: count) }
            guard v.count == count, v.allSatisfy({ $0 >= 0 && $0 <= 65536 }) else { throw fail(n, k, "expected \(count) values", file: file) }
            return v.map { Int($0) }
        }
        func needChannelsFirst() throws {
            guard layout.channelsFirst, r >= 1 else {
                throw fail(n, nil, "reads the graph's input as channels first: rtlgen (like hls4ml's predict after qonnx's channels-last conversion) takes channels-last inputs; declare the input (batch, ..., channels) with a Transpose to channels first before the first \(n.opType), as Keras exports do", file: file)
            }
        }
        /// ONNX pads [b0, b1, ..., a0, a1, ...] as the core's explicit [b0, a0, b1, a1, ...].
        func pads() throws -> Padding {
            let ap = n.string("auto_pad") ?? "NOTSET"
            if ap == "VALID" { return .valid }
            guard ap == "NOTSET" else { throw fail(n, "auto_pad", "\(ap) is not supported (hls4ml 1.3's ONNX converter reads only explicit pads)", file: file) }
            let p = try ints("pads", 2 * r, 0)
            return .explicit((0..<r).flatMap { [p[$0], p[r + $0]] })
        }
        func outShape(_ window: [Int], _ strides: [Int], _ pad: Padding, what: String) throws -> [Int] {
            var o: [Int] = []
            for d in 0..<r {
                guard strides[d] >= 1, window[d] >= 1, let x = pad.resolve(dim: d, n: layout.shape[d], k: window[d], s: strides[d]) else {
                    throw fail(n, what, "the \(what == "kernel_shape" ? "kernel" : "pool window") (\(window.map(String.init).joined(separator: ", "))) is larger than its padded input (\(layout.shape.dropLast().map(String.init).joined(separator: ", "))) or a stride is 0", file: file)
                }
                o.append(x.out)
            }
            return o
        }
        switch n.opType {
        case "Transpose":
            let perm = (n.ints("perm") ?? []).map { Int($0) }
            let rank = layout.shape.count + 1
            let toFirst = [0, rank - 1] + Array(1..<(rank - 1))
            let toLast = [0] + Array(2..<rank) + [1]
            if perm == Array(0..<rank) { return nil }
            if !layout.channelsFirst && perm == toFirst { layout.channelsFirst = true; return nil }
            if layout.channelsFirst && perm == toLast { layout.channelsFirst = false; return nil }
            throw fail(n, "perm", "only the transposes between channels last and channels first are supported (perm \(toFirst) or \(toLast)), found \(perm)", file: file)
        case "Conv":
            try needChannelsFirst()
            guard r == 1 || r == 2 else { throw fail(n, nil, "only 1D and 2D convolutions are supported", file: file) }
            guard n.inputs.count >= 2, let w = g.constants[n.inputs[1]] else { throw fail(n, "W", "the weight must be a constant initializer", file: file) }
            if let gr = n.int("group"), gr != 1 { throw fail(n, "group", "group = \(gr) is not supported (only 1)", file: file) }
            if try ints("dilations", r, 1).contains(where: { $0 != 1 }) { throw fail(n, "dilations", "a dilation > 1 is not supported", file: file) }
            let cin = layout.shape[r]
            guard w.shape.count == r + 2, w.shape[1] == cin, w.shape[0] >= 1 else {
                throw fail(n, "W", "has shape (\(w.shape.map(String.init).joined(separator: ", "))), expected (filters, \(cin), kernel...)", file: file)
            }
            let m = w.shape[0]
            let ks = Array(w.shape[2...])
            if let k = n.ints("kernel_shape"), k.map({ Int($0) }) != ks { throw fail(n, "kernel_shape", "does not match the weight's shape", file: file) }
            let st = try ints("strides", r, 1)
            let pad = try pads()
            let os = try outShape(ks, st, pad, what: "kernel_shape")
            // (M, C, k...) -> Keras order (k..., C, M).
            let kn = ks.reduce(1, *)
            var v = [Double](repeating: 0, count: w.count)
            for f in 0..<m { for c in 0..<cin { for o in 0..<kn { v[(o * cin + c) * m + f] = w.values[(f * cin + c) * kn + o] } } }
            var bias: HDF5Array? = nil
            if n.inputs.count >= 3, !n.inputs[2].isEmpty {
                guard let b = g.constants[n.inputs[2]] else { throw fail(n, "B", "the bias must be a constant initializer", file: file) }
                guard b.count == m else { throw fail(n, "B", "expected \(m) values", file: file) }
                bias = HDF5Array(shape: [m], values: b.values, isFloat64: b.isFloat64)
            }
            let kernel = HDF5Array(shape: ks + [cin, m], values: v, isFloat64: w.isFloat64)
            let s = SpatialLayer(op: .conv(rank: r, filters: m, kernelSize: ks, strides: st, padding: pad, kernel: kernel, bias: bias,
                                           kernelQuantizer: nil, biasQuantizer: nil),
                                 inShape: layout.shape, outShape: os + [m], float64: w.isFloat64)
            layout.shape = os + [m]
            return HLSLayer(name: "Conv\(r)D_Conv_\(index("Conv"))", className: "Conv\(r)D", kind: .spatial(s), source: n.label)
        case "MaxPool", "AveragePool":
            try needChannelsFirst()
            guard r == 2 else {
                throw fail(n, nil, "\(n.opType) on 1D data is not supported: hls4ml 1.3's ONNX converter reads a channels-last 1D pooling input's width and channels swapped (converters/onnx/pooling.py), so there is no hls4ml result to match", file: file)
            }
            guard let k = n.ints("kernel_shape"), k.count == r, k.allSatisfy({ $0 >= 1 && $0 <= 65536 }) else { throw fail(n, "kernel_shape", "expected \(r) positive values", file: file) }
            if (n.int("ceil_mode") ?? 0) != 0 { throw fail(n, "ceil_mode", "ceil_mode 1 is not supported", file: file) }
            if try ints("dilations", r, 1).contains(where: { $0 != 1 }) { throw fail(n, "dilations", "a dilation > 1 is not supported", file: file) }
            if (n.int("storage_order") ?? 0) != 0 { throw fail(n, "storage_order", "only 0 is supported", file: file) }
            let ps = k.map { Int($0) }
            let st = try ints("strides", r, 1)
            let pad = try pads()
            if n.opType == "AveragePool", (n.int("count_include_pad") ?? 0) != 0, case let .explicit(p) = pad, p.contains(where: { $0 > 0 }) {
                throw fail(n, "count_include_pad", "counting padding cells is not supported (hls4ml 1.3 ignores the attribute and averages over the input cells only)", file: file)
            }
            let os = try outShape(ps, st, pad, what: "kernel_shape")
            let p = Pool(op: n.opType == "MaxPool" ? .max : .average, rank: r, poolSize: ps, strides: st, padding: pad)
            let s = SpatialLayer(op: .pool(p), inShape: layout.shape, outShape: os + [layout.shape[r]])
            layout.shape = s.outShape
            return HLSLayer(name: "\(n.opType)_\(index(n.opType))", className: "Pooling\(r)D", kind: .spatial(s), source: n.label)
        case "GlobalMaxPool", "GlobalAveragePool":
            try needChannelsFirst()
            guard r == 1 || r == 2 else { throw fail(n, nil, "only 1D and 2D pooling is supported", file: file) }
            let p = Pool(op: n.opType == "GlobalMaxPool" ? .max : .average, rank: r, global: true)
            let c = layout.shape[r]
            let s = SpatialLayer(op: .pool(p), inShape: layout.shape, outShape: [c])
            // ONNX keeps the spatial dimensions (size 1): the values are the same, flat.
            layout.shape = [Int](repeating: 1, count: r) + [c]
            return HLSLayer(name: "\(n.opType)_\(index(n.opType))", className: "GlobalPooling\(r)D", kind: .spatial(s), source: n.label)
        case "Flatten":
            let size = layout.shape.reduce(1, *)
            defer { layout = ONNXLayout(shape: [size]) }
            if layout.shape.count == 1 { return nil }
            let s = SpatialLayer(op: .reshape(nil), inShape: layout.shape, outShape: [size])
            return HLSLayer(name: "Flatten_\(index("Flatten"))", className: "Reshape", kind: .spatial(s), source: n.label)
        default:
            return nil
        }
    }
}
