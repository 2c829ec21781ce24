// An hls4ml configuration file (YAML), read as hls4ml 1.3 reads it: the model files it names
// (KerasJson / KerasH5 / OnnxModel), project settings, and HLSConfig's Model / LayerType /
// LayerName sections with hls4ml's precedence for each layer's precisions:
//   LayerName[name].Precision[var] > LayerName[name].Precision (one string)
//   > LayerType[class].Precision[var] > LayerType[class].Precision
//   > Model.Precision[var] > Model.Precision.
// Keys that change nothing rtlgen computes (part, backend, trace, ...) are collected into one
// warning; keys rtlgen cannot honour (io_stream, 'auto' precisions where hls4ml infers none rtlgen
// reproduces, ...) are errors. 'auto' is read and resolved by the layers that infer it as hls4ml
// 1.3 does (`precisionOrAuto`: conv accum/result, pooling accum/result, reshape and padding
// results; see KerasConv.swift); elsewhere `precision` refuses it. ReuseFactor
// becomes rtlgen's reuse_factor of the dense layers (`reuseFactor(layer:)`); Strategy Resource is
// accepted with it (rtlgen's time-multiplexed dense layer is the same arithmetic).
import Foundation
import FixedPoint
import ModelIR
import Yams

public struct HLSConfig: Sendable {
    public var file: String
    public var kerasJSON: String?
    public var kerasH5: String?
    public var kerasModel: String?
    public var onnxModel: String?
    public var outputDir: String?
    public var projectName: String?
    public var clockPeriodNs: Double?
    /// Precision strings by variable ("default" = a single Precision string).
    var modelPrecision: [String: String] = [:]
    var typePrecision: [String: [String: String]] = [:]      // lowercased class -> var -> precision
    var namePrecision: [String: [String: String]] = [:]      // lowercased name -> var -> precision
    /// Other per-layer settings (table_size, exp_table_t, ...): by lowercased class / name.
    var typeSettings: [String: [String: String]] = [:]
    var nameSettings: [String: [String: String]] = [:]
    /// LayerName keys as written (checked against the model's layers).
    public var layerNames: [String] = []
    /// HLSConfig.Model.ReuseFactor (the default of every layer), if given.
    public var modelReuseFactor: Int?
    /// HLSConfig.Model.ParallelizationFactor, if given (hls4ml: conv layers' output positions per cycle).
    public var modelParallelizationFactor: Int?
    /// Keys read but ignored, for the one warning line.
    public var ignored: [String] = []

    /// hls4ml's default configuration (config_from_keras_model, granularity 'model').
    public static func defaults(file: String) -> HLSConfig {
        var c = HLSConfig(file: file)
        c.modelPrecision = ["default": "fixed<16,6>"]
        return c
    }

    init(file: String) { self.file = file }

    static let topIgnored: Set<String> = ["XilinxPart", "Part", "Backend", "Board", "InputData", "OutputPredictions",
                                          "Version", "Writer", "WriterConfig", "ClockUncertainty", "Stamp",
                                          "HLSProjectName", "ProjectDir", "Namespace", "WriteWeightsTxt", "WriteTar"]
    static let topKeys: Set<String> = ["KerasJson", "KerasH5", "KerasModel", "OnnxModel", "PytorchModel", "OutputDir",
                                       "ProjectName", "ClockPeriod", "IOType", "HLSConfig", "Backend"]

    /// Does this YAML text look like an hls4ml config (rather than rtlgen's own settings)?
    public static func looks(like text: String) -> Bool {
        guard let node = try? Yams.load(yaml: text), let map = node as? [String: Any] else { return false }
        return map.keys.contains { topKeys.contains($0) }
    }

    public static func load(path: String) throws -> HLSConfig {
        try load(text: try readInputText(path: path), path: path)
    }

    public static func load(text: String, path: String) throws -> HLSConfig {
        let node: Any?
        do { node = try Yams.load(yaml: text) } catch {
            let oneLine = "\(error)".split(whereSeparator: { $0.isNewline }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "; ")
            throw InputError(file: path, field: "", message: "malformed YAML: \(oneLine)")
        }
        guard let map = node as? [String: Any] else {
            throw InputError(file: path, field: "", message: "expected an hls4ml configuration (a mapping with KerasJson/KerasH5 or OnnxModel and HLSConfig)")
        }
        return try parse(map, file: path)
    }

    static func fail(_ file: String, _ field: String, _ m: String) -> InputError { InputError(file: file, field: field, message: m) }

    static func parse(_ map: [String: Any], file: String) throws -> HLSConfig {
        var c = HLSConfig(file: file)
        let dir = (file as NSString).deletingLastPathComponent
        func path(_ k: String) throws -> String? {
            guard let v = map[k] else { return nil }
            guard let s = v as? String, !s.isEmpty else { throw fail(file, k, "expected a file name") }
            // hls4ml opens it relative to the working directory; rtlgen also looks beside the
            // config and in the folders above it (hls4ml's example configs sit one level down).
            if s.hasPrefix("/") || dir.isEmpty || FileManager.default.fileExists(atPath: s) { return s }
            var d = dir
            for _ in 0..<4 {
                let cand = (d as NSString).appendingPathComponent(s)
                if FileManager.default.fileExists(atPath: cand) { return cand }
                let up = (d as NSString).deletingLastPathComponent
                if up == d || up.isEmpty { break }
                d = up
            }
            return s
        }
        c.kerasJSON = try path("KerasJson")
        c.kerasH5 = try path("KerasH5")
        c.kerasModel = try path("KerasModel")
        c.onnxModel = try path("OnnxModel")
        if map["PytorchModel"] != nil { throw fail(file, "PytorchModel", "PyTorch models are not supported (export to ONNX)") }
        if let v = map["OutputDir"] {
            guard let s = v as? String, !s.isEmpty else { throw fail(file, "OutputDir", "expected a folder name") }
            c.outputDir = s  // relative to the working directory, as hls4ml
        }
        if let v = map["ProjectName"] {
            guard let s = v as? String, ModelCore.isIdentifier(s) else {
                throw fail(file, "ProjectName", "expected an identifier (it names the HDL top), found \(v)")
            }
            c.projectName = s
        }
        if let v = map["ClockPeriod"] {
            guard let d = number(v), d >= 0.5, d <= 1000 else {
                throw fail(file, "ClockPeriod", "expected a number of nanoseconds in [0.5, 1000], found \(v)")
            }
            c.clockPeriodNs = d
        }
        if let v = map["IOType"] {
            guard let s = v as? String else { throw fail(file, "IOType", "expected io_parallel") }
            if s != "io_parallel" {
                throw fail(file, "IOType", "'\(s)' cannot be honoured: rtlgen builds io_parallel cores (all inputs in one beat, II = 1)")
            }
        }
        if let b = map["Backend"] as? String, !["Vivado", "Vitis", "VivadoAccelerator", "Quartus", "oneAPI", "Catapult"].contains(b) {
            c.ignored.append("Backend")
        }
        for k in map.keys.sorted() where !topKeys.contains(k) || k == "Backend" {
            c.ignored.append(k)
        }
        if let h = map["HLSConfig"] {
            guard let hm = h as? [String: Any] else { throw fail(file, "HLSConfig", "expected a mapping") }
            try c.parseHLS(hm)
        }
        if c.modelPrecision["default"] == nil && c.modelPrecision.isEmpty {
            // hls4ml refuses a config without a model precision; use its default and say so.
            c.modelPrecision["default"] = "fixed<16,6>"
        }
        return c
    }

    static func number(_ v: Any) -> Double? { (v as? Double) ?? (v as? Int).map(Double.init) }

    static let layerKeysHonoured: Set<String> = ["Precision", "ReuseFactor", "ParallelizationFactor", "Strategy", "table_size", "TableSize",
                                                 "exp_table_t", "inv_table_t", "inv_inp_t", "table_t", "accum_t",
                                                 "Implementation", "implementation"]
    static let layerKeysIgnored: Set<String> = ["Trace", "Compression", "BramFactor", "TargetCycles", "ConvImplementation",
                                                "PipelineStyle", "PipelineInterval", "TraceOutput",
                                                "unroll", "Skip", "skip"]

    mutating func parseHLS(_ hm: [String: Any]) throws {
        for k in hm.keys.sorted() where !["Model", "LayerType", "LayerName"].contains(k) { ignored.append("HLSConfig.\(k)") }
        if let m = hm["Model"] {
            guard let mm = m as? [String: Any] else { throw Self.fail(file, "HLSConfig.Model", "expected a mapping") }
            var (p, s) = try section(mm, path: "HLSConfig.Model")
            if let v = p.first(where: { $0.value == "auto" && $0.key != "maximum" }) {
                // hls4ml infers 'auto' only per layer (and falls back to the model default).
                throw Self.fail(file, v.key == "default" ? "HLSConfig.Model.Precision" : "HLSConfig.Model.Precision.\(v.key)",
                                "'auto' cannot be the model precision: give an explicit type (hls4ml infers 'auto' only per layer; rtlgen's own `auto` accumulator is the import option --accum auto)")
            }
            modelPrecision = p
            modelReuseFactor = s.removeValue(forKey: "ReuseFactor").flatMap { Int($0) }
            modelParallelizationFactor = s.removeValue(forKey: "ParallelizationFactor").flatMap { Int($0) }
            if !s.isEmpty {
                let k = s.keys.sorted().first!
                throw Self.fail(file, "HLSConfig.Model.\(k)", "a table or type setting belongs under LayerType or LayerName")
            }
        }
        for (kind, key) in [(true, "LayerType"), (false, "LayerName")] {
            guard let sec = hm[key] else { continue }
            guard let sm = sec as? [String: Any] else { throw Self.fail(file, "HLSConfig.\(key)", "expected a mapping of layer \(kind ? "classes" : "names")") }
            for name in sm.keys.sorted() {
                guard let lm = sm[name] as? [String: Any] else {
                    throw Self.fail(file, "HLSConfig.\(key).\(name)", "expected a mapping (Precision, ReuseFactor, ...)")
                }
                let (p, s) = try section(lm, path: "HLSConfig.\(key).\(name)")
                if kind { typePrecision[name.lowercased()] = p; typeSettings[name.lowercased()] = s }
                else { namePrecision[name.lowercased()] = p; nameSettings[name.lowercased()] = s; layerNames.append(name) }
            }
        }
    }

    /// Reads one Model / LayerType / LayerName section: its precisions and other settings.
    mutating func section(_ m: [String: Any], path: String) throws -> ([String: String], [String: String]) {
        var prec: [String: String] = [:]
        var settings: [String: String] = [:]
        for k in m.keys.sorted() {
            let v = m[k]!
            let field = "\(path).\(k)"
            switch k {
            case "Precision":
                if let s = v as? String {
                    prec["default"] = try checkPrecision(s, field: field)
                } else if let d = v as? [String: Any] {
                    for var_ in d.keys.sorted() {
                        guard let s = d[var_] as? String else { throw Self.fail(file, "\(field).\(var_)", "expected a type such as ap_fixed<16,6>") }
                        prec[var_] = try checkPrecision(s, field: "\(field).\(var_)")
                    }
                } else {
                    throw Self.fail(file, field, "expected a type such as ap_fixed<16,6>, or a mapping of result/accum/weight/bias/... to types")
                }
            case "ReuseFactor":
                guard let r = v as? Int, !(v is Bool), r >= 1, r <= 65536 else {
                    throw Self.fail(file, field, "expected a positive integer (at most 65536)")
                }
                settings["ReuseFactor"] = String(r)
            case "ParallelizationFactor":
                guard let r = v as? Int, !(v is Bool), r >= 1, r <= 1 << 20 else {
                    throw Self.fail(file, field, "expected a positive integer (output positions per cycle)")
                }
                settings["ParallelizationFactor"] = String(r)
            case "Strategy":
                guard let s = v as? String else { throw Self.fail(file, field, "expected Latency or Resource") }
                if !["latency", "resource"].contains(s.lowercased()) {
                    throw Self.fail(file, field, "Strategy \(s) cannot be honoured: rtlgen builds Latency cores, or with a ReuseFactor the Resource structure (weights in ROMs, shared multipliers)")
                }
            case "table_size", "TableSize":
                guard let n = v as? Int else { throw Self.fail(file, field, "expected an integer") }
                settings["table_size"] = String(n)
            case "exp_table_t", "inv_table_t", "inv_inp_t", "table_t", "accum_t":
                guard let s = v as? String else { throw Self.fail(file, field, "expected a type such as ap_fixed<18,8>") }
                settings[k] = try checkPrecision(s, field: field)
            case "Implementation", "implementation":
                guard let s = v as? String, ["stable", "argmax"].contains(s.lowercased()) else {
                    throw Self.fail(file, field, "softmax implementation \(v) cannot be honoured (rtlgen has stable and argmax)")
                }
                settings["implementation"] = s.lowercased()
            default:
                ignored.append(field)
            }
        }
        return (prec, settings)
    }

    func checkPrecision(_ s: String, field: String) throws -> String {
        let t = s.trimmingCharacters(in: .whitespaces)
        if t.lowercased() == "auto" { return "auto" }  // resolved by the layer (precisionOrAuto)
        _ = try Self.fixedType(t, file: file, field: field)
        return t
    }

    /// An hls4ml precision string as a FixedType (ap_/ac_-less spellings too).
    static func fixedType(_ s: String, file: String, field: String) throws -> FixedType {
        var t = s.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("ap_") { t.removeFirst(3) }
        if let lt = t.firstIndex(of: "<"), t.hasSuffix(">") {
            let args = t[t.index(after: lt)..<t.index(before: t.endIndex)].split(separator: ",")
            if args.count > 4 {
                throw fail(file, field, "'\(s)': the saturation-bits argument of ap_fixed is not supported")
            }
        }
        do { return try FixedType.parse(t) } catch let e as TypeParseError {
            throw fail(file, field, "'\(s)': \(e.description)")
        }
    }

    /// hls4ml's get_precision: the precision of `variable` for a layer; 'auto' is refused here
    /// (layers that infer it as hls4ml does call `precisionOrAuto`).
    public func precision(layer: String, className: String, variable: String) throws -> FixedType {
        if let t = try precisionOrAuto(layer: layer, className: className, variable: variable) { return t }
        throw Self.fail(file, precisionSource(layer: layer, className: className, variable: variable),
                        "'auto' precision cannot be honoured for this layer: give an explicit type (rtlgen's own `auto` accumulator is the import option --accum auto)")
    }

    /// hls4ml's get_precision, nil when it is 'auto' (hls4ml's UnspecifiedPrecisionType).
    public func precisionOrAuto(layer: String, className: String, variable: String) throws -> FixedType? {
        let n = layer.lowercased(), c = className.lowercased()
        let candidates: [(String?, String)] = [
            (namePrecision[n]?[variable], "HLSConfig.LayerName.\(layer).Precision.\(variable)"),
            (namePrecision[n]?["default"], "HLSConfig.LayerName.\(layer).Precision"),
            (typePrecision[c]?[variable], "HLSConfig.LayerType.\(className).Precision.\(variable)"),
            (typePrecision[c]?["default"], "HLSConfig.LayerType.\(className).Precision"),
            (modelPrecision[variable], "HLSConfig.Model.Precision.\(variable)"),
            (modelPrecision["default"], "HLSConfig.Model.Precision"),
        ]
        for (p, field) in candidates {
            if let p { return p == "auto" ? nil : try Self.fixedType(p, file: file, field: field) }
        }
        return try Self.fixedType("fixed<16,6>", file: file, field: "HLSConfig.Model.Precision")
    }

    /// Where `precision` found a layer's variable (for messages).
    public func precisionSource(layer: String, className: String, variable: String) -> String {
        let n = layer.lowercased(), c = className.lowercased()
        if namePrecision[n]?[variable] != nil { return "HLSConfig.LayerName.\(layer).Precision.\(variable)" }
        if namePrecision[n]?["default"] != nil { return "HLSConfig.LayerName.\(layer).Precision" }
        if typePrecision[c]?[variable] != nil { return "HLSConfig.LayerType.\(className).Precision.\(variable)" }
        if typePrecision[c]?["default"] != nil { return "HLSConfig.LayerType.\(className).Precision" }
        if modelPrecision[variable] != nil { return "HLSConfig.Model.Precision.\(variable)" }
        return "HLSConfig.Model.Precision"
    }

    /// hls4ml's model default precision (Model.Precision, or its `default`), which its type
    /// inference falls back to; nil when that is 'auto' itself.
    public func modelDefaultPrecision() throws -> FixedType? {
        guard let p = modelPrecision["default"] else { return try Self.fixedType("fixed<16,6>", file: file, field: "HLSConfig.Model.Precision") }
        return p == "auto" ? nil : try Self.fixedType(p, file: file, field: "HLSConfig.Model.Precision")
    }

    /// hls4ml's Model.Precision.maximum (caps inferred widths), if given.
    public func maximumPrecision() throws -> FixedType? {
        guard let p = modelPrecision["maximum"], p != "auto" else { return nil }
        return try Self.fixedType(p, file: file, field: "HLSConfig.Model.Precision.maximum")
    }

    /// hls4ml's ParallelizationFactor of a conv layer as its Vivado backend reads it
    /// (get_layer_config_value: the LayerName entry if the layer has one, else the LayerType entry
    /// if its class has one, else Model); nil when not given.
    public func parallelizationFactor(layer: String, className: String) -> Int? {
        if namePrecision[layer.lowercased()] != nil { return nameSettings[layer.lowercased()]?["ParallelizationFactor"].flatMap { Int($0) } }
        if typePrecision[className.lowercased()] != nil { return typeSettings[className.lowercased()]?["ParallelizationFactor"].flatMap { Int($0) } }
        return modelParallelizationFactor
    }

    /// A per-layer setting (LayerName over LayerType, as hls4ml's get_layer_config).
    public func setting(layer: String, className: String, key: String) -> String? {
        nameSettings[layer.lowercased()]?[key] ?? typeSettings[className.lowercased()]?[key]
    }

    /// hls4ml's ReuseFactor of a layer: LayerName over LayerType over Model; nil when not given.
    public func reuseFactor(layer: String, className: String) -> Int? {
        setting(layer: layer, className: className, key: "ReuseFactor").flatMap { Int($0) } ?? modelReuseFactor
    }

    public func settingType(layer: String, className: String, key: String) throws -> FixedType? {
        guard let s = setting(layer: layer, className: className, key: key) else { return nil }
        let src = nameSettings[layer.lowercased()]?[key] != nil ? "HLSConfig.LayerName.\(layer).\(key)" : "HLSConfig.LayerType.\(className).\(key)"
        return try Self.fixedType(s, file: file, field: src)
    }
}
