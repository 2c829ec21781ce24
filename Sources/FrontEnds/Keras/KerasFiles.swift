// The three ways Keras models arrive, reduced to one thing: an architecture (the JSON of
// `model.to_json()`, kept with exact number text) and a weight store.
//   - JSON architecture + HDF5 weights (`model.to_json()` + `save_weights`, what hls4ml reads);
//   - a full-model `.h5` (`model.save`): the architecture in the root attribute `model_config`,
//     the weights under the group `model_weights`;
//   - a Keras 3 `.keras` archive: a zip of `config.json` and `model.weights.h5`.
import Foundation
import ModelIR
import ZIPFoundation

public struct KerasSource {
    /// The model's JSON: {"class_name": ..., "config": ...}.
    public let architecture: JSONValue
    /// The file the architecture was read from (for messages).
    public let architectureFile: String
    public let weights: KerasWeights
    /// Keras 3 (a .keras archive, or an architecture with a top-level "module" key): hls4ml's
    /// Keras 3 converter adds no "<dense>_linear" layers.
    public var keras3: Bool { architecture["module"] != nil }
}

/// Weight arrays by layer, in either layout: Keras 2 (`<root>/<layer>` with a `weight_names`
/// attribute naming the datasets) or Keras 3 (`layers/<layer>/vars/0, 1, ...` in build order).
public final class KerasWeights {
    enum Layout { case keras2(root: String), keras3 }
    let file: HDF5File
    let layout: Layout

    /// Keras 3 names each layer's group after its Python object path ("dense", "dense_1", ...)
    /// and records the layer's name in the `name` attribute of its `vars` group.
    private var keras3Names: [String: String]? = nil

    func keras3Group(_ layer: String) throws -> String? {
        if keras3Names == nil {
            var m: [String: String] = [:]
            for root in ["layers", "_layer_checkpoint_dependencies"] where file.kind(root) == .group {
                for member in try file.members(root) {
                    let v = "\(root)/\(member)/vars"
                    guard file.kind(v) == .group else { continue }
                    let n = (try file.stringAttribute(v, "name"))?.first ?? member
                    if m[n] == nil { m[n] = v }
                }
            }
            keras3Names = m
        }
        return keras3Names![layer]
    }

    init(file: HDF5File, layout: Layout) {
        self.file = file
        self.layout = layout
    }

    /// The arrays of `layer`, by short name (kernel, bias, gamma, ...). `names` lists the
    /// expected arrays in Keras' build order (the Keras 3 layout is positional).
    public func arrays(layer: String, names: [String]) throws -> [String: HDF5Array] {
        switch layout {
        case let .keras2(root):
            let g = root.isEmpty ? layer : "\(root)/\(layer)"
            guard file.kind(g) == .group else {
                throw InputError(file: file.path, field: g, message: "no weights for layer '\(layer)' (missing group)")
            }
            guard let wn = try file.stringAttribute(g, "weight_names") else {
                throw InputError(file: file.path, field: "\(g) attribute weight_names", message: "missing (not a Keras weights file?)")
            }
            var out: [String: HDF5Array] = [:]
            for w in wn {
                var short = String(w.split(separator: "/").last ?? Substring(w))
                if let c = short.firstIndex(of: ":") { short = String(short[..<c]) }
                out[short] = try file.array("\(g)/\(w)")
            }
            return out
        case .keras3:
            let g = try keras3Group(layer)
            guard let g else {
                if names.isEmpty { return [:] }
                throw InputError(file: file.path, field: "layers/\(layer)/vars", message: "no weights for layer '\(layer)' (missing group)")
            }
            let members = try file.members(g).compactMap { Int($0) }.sorted()
            guard members == Array(0..<members.count) else {
                throw InputError(file: file.path, field: g, message: "expected datasets 0, 1, ... (Keras 3 layout)")
            }
            guard members.count == names.count else {
                throw InputError(file: file.path, field: g, message: "expected \(names.count) arrays (\(names.joined(separator: ", "))), found \(members.count)")
            }
            var out: [String: HDF5Array] = [:]
            for (i, n) in names.enumerated() { out[n] = try file.array("\(g)/\(i)") }
            return out
        }
    }
}

public enum KerasFiles {
    /// JSON architecture + HDF5 weights (save_weights, Keras 2 layout; a Keras 3 .weights.h5 too).
    public static func load(json: String, weights: String) throws -> KerasSource {
        let text = try readInputText(path: json)
        let arch = try parseJSON(text, file: json)
        let f = try HDF5File(path: weights)
        return KerasSource(architecture: arch, architectureFile: json, weights: try store(f))
    }

    /// A full-model .h5 written by `model.save` (Keras 2).
    public static func load(h5 path: String) throws -> KerasSource {
        let f = try HDF5File(path: path)
        guard let cfg = try f.stringAttribute(".", "model_config"), let text = cfg.first else {
            throw InputError(file: path, field: "attribute model_config", message: "missing: this HDF5 file holds weights only; give the JSON architecture too (an hls4ml config with KerasJson and KerasH5, or --weights)")
        }
        let arch = try parseJSON(text, file: "\(path) (model_config)")
        guard f.kind("model_weights") == .group else {
            throw InputError(file: path, field: "model_weights", message: "missing group: the file has an architecture but no weights")
        }
        return KerasSource(architecture: arch, architectureFile: path, weights: KerasWeights(file: f, layout: .keras2(root: "model_weights")))
    }

    /// JSON architecture text + an in-memory HDF5 weights image (the fuzzer's entry point).
    public static func load(jsonText: String, jsonName: String, weightsImage: Data, weightsName: String) throws -> KerasSource {
        let arch = try parseJSON(jsonText, file: jsonName)
        let f = try HDF5File(image: weightsImage, name: weightsName)
        return KerasSource(architecture: arch, architectureFile: jsonName, weights: try store(f))
    }

    /// JSON architecture text + weights already read (the fuzzer mutates the text only).
    public static func load(jsonText: String, jsonName: String, weights: KerasWeights) throws -> KerasSource {
        KerasSource(architecture: try parseJSON(jsonText, file: jsonName), architectureFile: jsonName, weights: weights)
    }

    /// The weights of an in-memory HDF5 image, read once.
    public static func weights(image: Data, name: String) throws -> KerasWeights {
        try store(try HDF5File(image: image, name: name))
    }

    /// A Keras 3 .keras archive (zip: config.json + model.weights.h5).
    public static func load(keras path: String) throws -> KerasSource {
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw InputError(file: path, field: "", message: "not a readable .keras archive (a zip file)")
        }
        return try load(archive: archive, path: path)
    }

    /// A .keras archive held in memory (named `path` in messages).
    public static func load(kerasData data: Data, path: String) throws -> KerasSource {
        let archive: Archive
        do { archive = try Archive(data: data, accessMode: .read) } catch {
            throw InputError(file: path, field: "", message: "not a readable .keras archive (a zip file)")
        }
        return try load(archive: archive, path: path)
    }

    static func load(archive: Archive, path: String) throws -> KerasSource {
        let (text, weights) = try entries(archive: archive, path: path)
        let arch = try parseJSON(text, file: "\(path) (config.json)")
        let f = try HDF5File(image: weights, name: "\(path) (model.weights.h5)")
        return KerasSource(architecture: arch, architectureFile: path, weights: KerasWeights(file: f, layout: .keras3))
    }

    /// The two parts of a .keras archive on disk: config.json's text and model.weights.h5's bytes
    /// (the fuzzer mutates each alone; tests edit the configuration).
    public static func archiveEntries(path: String) throws -> (config: String, weights: Data) {
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw InputError(file: path, field: "", message: "not a readable .keras archive (a zip file)")
        }
        return try entries(archive: archive, path: path)
    }

    static func entries(archive: Archive, path: String) throws -> (config: String, weights: Data) {
        func entry(_ name: String) throws -> Data {
            guard let e = archive[name] else {
                throw InputError(file: path, field: name, message: "missing from the .keras archive")
            }
            guard e.uncompressedSize < 1 << 30 else { throw InputError(file: path, field: name, message: "too large") }
            var d = Data()
            do { _ = try archive.extract(e, skipCRC32: false) { d.append($0) } } catch {
                throw InputError(file: path, field: name, message: "cannot be extracted (damaged archive)")
            }
            return d
        }
        let cfgData = try entry("config.json")
        guard let text = String(data: cfgData, encoding: .utf8) else {
            throw InputError(file: path, field: "config.json", message: "not UTF-8 text")
        }
        return (text, try entry("model.weights.h5"))
    }

    static func store(_ f: HDF5File) throws -> KerasWeights {
        if f.kind("layers") == .group || f.kind("_layer_checkpoint_dependencies") == .group {
            return KerasWeights(file: f, layout: .keras3)
        }
        if try f.stringAttribute(".", "layer_names") != nil { return KerasWeights(file: f, layout: .keras2(root: "")) }
        if f.kind("model_weights") == .group { return KerasWeights(file: f, layout: .keras2(root: "model_weights")) }
        throw InputError(file: f.path, field: "attribute layer_names", message: "missing: not a Keras weights file (save_weights / model.save)")
    }

    static func parseJSON(_ text: String, file: String) throws -> JSONValue {
        do { return try JSONParser.parse(text, nonFiniteTokens: true) } catch let e as JSONSyntaxError {
            throw InputError(file: file, field: "", message: "malformed JSON at line \(e.line), column \(e.column): \(e.message)")
        }
    }
}
