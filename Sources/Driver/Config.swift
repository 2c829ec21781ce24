// The optional --config file (YAML): implementation settings that are not part of the model.
//
//   clock_period_ns: 4.0     # target clock for register placement (default 4.0 = 250 MHz)
//   device: xcup             # the delay model's FPGA family: xcup (default) or ecp5
//   multipliers: auto        # dense layers' constant products: shift_add | dsp | auto (default)
//   reuse_factor: 1          # dense layers: II = RF, weights in ROMs, shared multipliers (default 1)
//   parallelization_factor: 8  # conv layers: output positions per cycle, II = ceil(positions / PF)
//                            #   (default: every position in parallel, II = 1)
//   layers:                  # per-layer settings, by layer name
//     fc1: {multipliers: dsp, reuse_factor: 64}
//     conv1: {parallelization_factor: 4}
import Foundation
import ModelIR
import Netlist
import Yams

public struct Config: Sendable {
    public var clockPeriodNs: Double = 4.0
    /// The device the delay model describes (Device.swift): `device: xcup | ecp5` (default xcup).
    public var device: Device = .default
    /// The AXI4-Stream wrapper (the `stream:` section, see StreamConfig.swift).
    public var stream: StreamSpec?
    /// Constant multiplication in dense layers (see MultiplierStyle): default and per layer.
    public var multipliers: MultiplierStyle = .auto
    public var layerMultipliers: [String: MultiplierStyle] = [:]
    /// hls4ml's ReuseFactor for dense layers (see DenseReuse.swift): default and per layer.
    public var reuseFactor: Int = 1
    public var layerReuseFactors: [String: Int] = [:]
    /// hls4ml's ParallelizationFactor for conv layers (see ConvParallel.swift): default and per layer.
    public var parallelizationFactor: Int? = nil
    public var layerParallelizationFactors: [String: Int] = [:]
    /// The largest reuse factor accepted (a ROM of that many entries per layer).
    public static let maxReuseFactor = 65536
    /// The file the settings came from (for messages), nil for the defaults.
    public var path: String?
    public init() {}

    public static let keys = ["clock_period_ns", "device", "multipliers", "reuse_factor", "parallelization_factor", "layers", "stream"]
    /// The device `--device NAME` names (Netlist/Device.swift), or the one message an unknown
    /// name gets (exit 2); `build --device` and `synth --device` both take it from here.
    public static func device(flag n: String) throws -> Device {
        guard let d = Device.named(n) else {
            throw InputError(file: "--device", field: "", message: "unknown device '\(n)' (expected one of: \(Device.names))")
        }
        return d
    }
    public static let layerKeys = ["multipliers", "reuse_factor", "parallelization_factor"]

    /// The parallelization factor of a layer (nil: every position in parallel).
    public func parallelizationFactor(layer: String) -> Int? { layerParallelizationFactors[layer] ?? parallelizationFactor }

    static func reuse(_ v: Any, file: String, field: String) throws -> Int {
        guard let r = v as? Int, !(v is Bool), r >= 1, r <= maxReuseFactor else {
            throw InputError(file: file, field: field, message: "expected an integer reuse factor in [1, \(maxReuseFactor)]")
        }
        return r
    }

    static func parallel(_ v: Any, file: String, field: String) throws -> Int {
        guard let r = v as? Int, !(v is Bool), r >= 1, r <= 1_000_000 else {
            throw InputError(file: file, field: field, message: "expected an integer parallelization factor (output positions per cycle) in [1, 1000000]")
        }
        return r
    }

    static func style(_ v: Any, file: String, field: String) throws -> MultiplierStyle {
        guard let s = v as? String, let m = MultiplierStyle(rawValue: s) else {
            throw InputError(file: file, field: field, message: "expected one of \(MultiplierStyle.allCases.map { $0.rawValue }.joined(separator: ", "))")
        }
        return m
    }

    /// Every per-layer setting names a layer of the model (checked when the model is known).
    public func check(model: Model) throws {
        let names = Set(model.layers.map { $0.name })
        for n in Set(layerMultipliers.keys).union(layerReuseFactors.keys).union(layerParallelizationFactors.keys).sorted() where !names.contains(n) {
            throw InputError(file: path ?? "config", field: "layers.\(n)",
                             message: "no layer named '\(n)' in model \(model.name) (layers: \(model.layers.map { $0.name }.joined(separator: ", ")))")
        }
        for l in model.layers where (layerReuseFactors[l.name] ?? 1) > 1 {
            if case .dense = l.op { continue }
            throw InputError(file: path ?? "config", field: "layers.\(l.name).reuse_factor",
                             message: "a reuse factor applies to dense layers only; '\(l.name)' is a \(l.opName) layer")
        }
        for l in model.layers where layerParallelizationFactors[l.name] != nil {
            if case let .kind(k) = l.op, k.base is Conv { continue }
            throw InputError(file: path ?? "config", field: "layers.\(l.name).parallelization_factor",
                             message: "a parallelization factor applies to conv1d / conv2d layers only; '\(l.name)' is a \(l.opName) layer")
        }
        if stream != nil, let conv = model.layers.first(where: { $0.outputShape.count > 1 || model.input.shape.count > 1 }) {
            throw InputError(file: path ?? "config", field: "stream",
                             message: "the AXI4-Stream muon wrapper takes vector models only; '\(conv.name)' works on an image or sequence (shape \(model.input.shape)), whose frames it cannot stream")
        }
        if stream != nil, reuseFactor > 1 || layerReuseFactors.values.contains(where: { $0 > 1 }) {
            throw InputError(file: path ?? "config", field: "stream",
                             message: "the AXI4-Stream wrapper needs a core with II = 1; remove reuse_factor (or set it to 1) to use stream")
        }
    }

    public static func load(path: String) throws -> Config {
        let text = try readInputText(path: path)
        let node: Any?
        do { node = try Yams.load(yaml: text) } catch {
            let oneLine = "\(error)".split(whereSeparator: { $0.isNewline }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "; ")
            throw InputError(file: path, field: "", message: "malformed YAML: \(oneLine)")
        }
        var c = Config()
        c.path = path
        guard let node else { return c }
        guard let map = node as? [String: Any] else {
            throw InputError(file: path, field: "", message: "expected a mapping of settings (\(keys.joined(separator: ", ")))")
        }
        for key in map.keys.sorted() where !keys.contains(key) {
            throw InputError(file: path, field: key, message: "unknown setting (expected one of: \(keys.joined(separator: ", ")))")
        }
        if let v = map["clock_period_ns"] {
            let d: Double? = (v as? Double) ?? (v as? Int).map(Double.init)
            guard let d, d >= 0.5, d <= 1000 else {
                throw InputError(file: path, field: "clock_period_ns", message: "expected a number of nanoseconds in [0.5, 1000]")
            }
            c.clockPeriodNs = d
        }
        if let v = map["device"] {
            guard let n = v as? String, let d = Device.named(n) else {
                throw InputError(file: path, field: "device", message: "unknown device '\(v)' (expected one of: \(Device.names))")
            }
            c.device = d
        }
        if let v = map["multipliers"] { c.multipliers = try style(v, file: path, field: "multipliers") }
        if let v = map["reuse_factor"] { c.reuseFactor = try reuse(v, file: path, field: "reuse_factor") }
        if let v = map["parallelization_factor"] { c.parallelizationFactor = try parallel(v, file: path, field: "parallelization_factor") }
        if let v = map["layers"] {
            guard let layers = v as? [String: Any] else {
                throw InputError(file: path, field: "layers", message: "expected a mapping of layer names to settings")
            }
            for name in layers.keys.sorted() {
                guard let l = layers[name] as? [String: Any] else {
                    throw InputError(file: path, field: "layers.\(name)", message: "expected a mapping of settings (\(layerKeys.joined(separator: ", ")))")
                }
                for key in l.keys.sorted() where !layerKeys.contains(key) {
                    throw InputError(file: path, field: "layers.\(name).\(key)", message: "unknown layer setting (expected one of: \(layerKeys.joined(separator: ", ")))")
                }
                if let m = l["multipliers"] { c.layerMultipliers[name] = try style(m, file: path, field: "layers.\(name).multipliers") }
                if let r = l["reuse_factor"] { c.layerReuseFactors[name] = try reuse(r, file: path, field: "layers.\(name).reuse_factor") }
                if let r = l["parallelization_factor"] { c.layerParallelizationFactors[name] = try parallel(r, file: path, field: "layers.\(name).parallelization_factor") }
            }
        }
        c.path = path
        if map["stream"] != nil, let doc = try? Yams.compose(yaml: text), let node = doc["stream"] {
            c.stream = try StreamConfig.parse(node, file: path)
        }
        return c
    }
}
