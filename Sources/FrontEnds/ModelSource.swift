// Every command that takes a MODEL reads it here, by what the file is (not by its name alone):
//   native model JSON ("format": "rtlgen-model")      -> the model loader;
//   Keras architecture JSON ("class_name": ...)        -> with its weights beside it
//                                                          (<stem>_weights.h5, <stem>.h5) or --weights;
//   HDF5 (full-model .h5 from model.save)              -> the Keras importer;
//   zip (Keras 3 .keras)                               -> the Keras importer;
//   an hls4ml configuration (.yml/.yaml)               -> the model files it names, with its settings;
//   .onnx                                              -> the ONNX / QONNX importer (ONNX/);
//   conifer JSON / XGBoost JSON (tree ensembles)       -> Trees/TreeImport.swift (precisions: --config).
import Foundation
import ModelIR

public struct ModelRequest: Sendable {
    public var path: String
    /// An hls4ml configuration given beside the model (--config, or the MODEL itself).
    public var hlsConfig: HLSConfig?
    /// Keras weights for an architecture JSON (--weights).
    public var weights: String?
    public var options = ImportOptions()
    public init(path: String, hlsConfig: HLSConfig? = nil, weights: String? = nil) {
        self.path = path
        self.hlsConfig = hlsConfig
        self.weights = weights
    }
}

/// A model as read, with the hls4ml configuration that came with it (if any).
public struct LoadedModel {
    public let model: Model
    public let hlsConfig: HLSConfig?
    /// The ignored configuration keys, for the one warning line.
    public var ignoredKeys: [String] { hlsConfig?.ignored ?? [] }
}

public enum ModelSource {
    public enum Kind: Equatable { case native, kerasJSON, hdf5, keras3, hlsConfig, onnx }

    static let hdf5Magic: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func kind(path: String) throws -> Kind {
        guard let h = FileHandle(forReadingAtPath: path) else { throw InputError(file: path, field: "", message: "cannot read the file") }
        defer { try? h.close() }
        let head = [UInt8]((try? h.read(upToCount: 4096)) ?? Data())
        if head.starts(with: hdf5Magic) { return .hdf5 }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return .keras3 }
        let ext = (path as NSString).pathExtension.lowercased()
        if ext == "onnx" { return .onnx }
        if ext == "yml" || ext == "yaml" { return .hlsConfig }
        if ext == "h5" || ext == "hdf5" || ext == "keras" {
            throw InputError(file: path, field: "", message: "not an HDF5 file or .keras archive (damaged or truncated?)")
        }
        let text = String(decoding: head, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        // JSON: native or a Keras architecture, decided on the whole document by load(); any
        // other text is an hls4ml configuration only when it has hls4ml's keys.
        if ext == "json" || text.hasPrefix("{") || text.hasPrefix("[") || text.isEmpty { return .native }
        let full = (try? readInputText(path: path)) ?? ""
        return HLSConfig.looks(like: full) ? .hlsConfig : .native
    }

    /// Reads any MODEL file.
    public static func load(_ r: ModelRequest) throws -> LoadedModel {
        var k = try kind(path: r.path)
        var nativeText: String? = nil
        if k == .native {
            let text = try readInputText(path: r.path)
            // Tree ensembles (conifer JSON, XGBoost JSON): Trees/TreeImport.swift; a tree
            // --config arrives as the file of an empty hls4ml configuration (splitConfig).
            if let m = try TreeImport.model(text: text, file: r.path, configPath: r.hlsConfig.flatMap { TreeConfig.isTreeConfig($0) }) {
                return LoadedModel(model: m, hlsConfig: nil)
            }
            if isKerasArchitecture(text) { k = .kerasJSON } else { nativeText = text }
        }
        if k == .native {
            if let c = r.hlsConfig {
                throw InputError(file: c.file, field: "", message: "an hls4ml configuration applies to a Keras model; \(r.path) is a native rtlgen model (its types are in the file)")
            }
            return LoadedModel(model: try ModelLoader.parse(text: nativeText!, file: r.path), hlsConfig: nil)
        }
        if k == .hlsConfig {
            let c = try HLSConfig.load(path: r.path)
            return try load(config: c, options: r.options)
        }
        let config = r.hlsConfig ?? HLSConfig.defaults(file: r.path)
        if k == .onnx {
            return LoadedModel(model: try ONNXImporter.model(path: r.path, config: config, options: r.options), hlsConfig: r.hlsConfig)
        }
        let src = try kerasSource(kind: k, path: r.path, weights: r.weights)
        return LoadedModel(model: try KerasImporter.model(src, config: config, options: r.options), hlsConfig: r.hlsConfig)
    }

    /// The native model JSON text of an imported model (`rtlgen import`).
    public static func nativeJSON(_ r: ModelRequest) throws -> String {
        var k = try kind(path: r.path)
        if k == .native {
            let text = try readInputText(path: r.path)
            if isKerasArchitecture(text) { k = .kerasJSON } else {
                return ModelWriter.json(try load(r).model)   // also tree files (TreeImport)
            }
        }
        if k == .hlsConfig {
            let c = try HLSConfig.load(path: r.path)
            if let o = c.onnxModel { return try ONNXImporter.nativeJSON(path: o, config: c, options: r.options) }
            let src = try source(of: c)
            return try KerasImporter.nativeJSON(src, config: c, options: r.options)
        }
        let config = r.hlsConfig ?? HLSConfig.defaults(file: r.path)
        if k == .onnx { return try ONNXImporter.nativeJSON(path: r.path, config: config, options: r.options) }
        let src = try kerasSource(kind: k, path: r.path, weights: r.weights)
        return try KerasImporter.nativeJSON(src, config: config, options: r.options)
    }

    static func load(config c: HLSConfig, options: ImportOptions) throws -> LoadedModel {
        if let o = c.onnxModel { return LoadedModel(model: try ONNXImporter.model(path: o, config: c, options: options), hlsConfig: c) }
        let src = try source(of: c)
        return LoadedModel(model: try KerasImporter.model(src, config: c, options: options), hlsConfig: c)
    }

    /// The Keras files an hls4ml configuration names.
    static func source(of c: HLSConfig) throws -> KerasSource {
        if c.onnxModel != nil {
            throw InputError(file: c.file, field: "OnnxModel", message: "ONNX import not yet supported")
        }
        if let j = c.kerasJSON {
            guard let h = c.kerasH5 else { throw InputError(file: c.file, field: "KerasH5", message: "missing: KerasJson needs the weights file KerasH5") }
            return try KerasFiles.load(json: j, weights: h)
        }
        if let h = c.kerasH5 ?? c.kerasModel {
            let k = try kind(path: h)
            return try kerasSource(kind: k, path: h, weights: nil)
        }
        throw InputError(file: c.file, field: "KerasJson", message: "missing: the configuration names no model (KerasJson + KerasH5, KerasH5 alone for a full-model file, or OnnxModel)")
    }

    static func kerasSource(kind k: Kind, path: String, weights: String?) throws -> KerasSource {
        switch k {
        case .hdf5: return try KerasFiles.load(h5: path)
        case .keras3: return try KerasFiles.load(keras: path)
        case .onnx: throw InputError(file: path, field: "", message: "ONNX import not yet supported")
        case .kerasJSON:
            if let w = weights { return try KerasFiles.load(json: path, weights: w) }
            let stem = (path as NSString).deletingPathExtension
            for cand in [stem + "_weights.h5", stem + ".h5", stem + ".weights.h5"] where FileManager.default.fileExists(atPath: cand) {
                return try KerasFiles.load(json: path, weights: cand)
            }
            throw InputError(file: path, field: "", message: "a Keras architecture needs its weights: pass --weights FILE.h5, put \((stem as NSString).lastPathComponent)_weights.h5 beside it, or use an hls4ml config (KerasJson + KerasH5)")
        default:
            throw InputError(file: path, field: "", message: "not a Keras model file")
        }
    }

    /// A Keras architecture (model.to_json()) rather than a native model.
    static func isKerasArchitecture(_ text: String) -> Bool {
        guard let v = try? JSONParser.parse(text) else { return false }
        if v["format"] != nil { return false }
        return v["class_name"] != nil && v["config"] != nil
    }
}
