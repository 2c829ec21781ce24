// The --config of a tree model (conifer JSON, XGBoost JSON): conifer's own precision keys, in
// YAML or JSON, so that the configuration given to conifer works here unchanged.
//   input_precision / InputPrecision          the model input type (conifer's input_t)
//   threshold_precision / ThresholdPrecision  the comparators' type (threshold_t; default: the input precision)
//   score_precision / ScorePrecision          leaves, base score and sums (score_t; the output type)
//   precision / Precision                     the default of all three
//   weight_precision / WeightPrecision        conifer's one-hot split weight: must hold 1 (checked, else unused)
// Keys of conifer's configuration without an effect here (backend, output_dir, project_name,
// XilinxPart, ClockPeriod, ...) are accepted and ignored. Without a config, the precisions saved
// in a conifer JSON file are used, else conifer's usual ap_fixed<18,8>.
import Foundation
import FixedPoint
import ModelIR
import Yams

public struct TreeConfig: Sendable {
    public var file: String
    public var input: FixedType
    public var threshold: FixedType
    public var score: FixedType

    static let precisionKeys: [String: String] = [
        "input_precision": "input", "InputPrecision": "input",
        "threshold_precision": "threshold", "ThresholdPrecision": "threshold",
        "score_precision": "score", "ScorePrecision": "score",
        "precision": "all", "Precision": "all",
        "weight_precision": "weight", "WeightPrecision": "weight",
    ]
    static let ignoredKeys: Set<String> = ["backend", "Backend", "output_dir", "OutputDir", "project_name", "ProjectName",
                                           "XilinxPart", "xilinx_part", "ClockPeriod", "clock_period", "Unroll", "unroll",
                                           "AcceleratorConfig", "accelerator_config", "fpga_part", "FPGAPart"]

    /// conifer's usual precision when none is given.
    public static let defaultType = FixedType(signed: true, width: 18, intBits: 8)

    /// Does this text (YAML or JSON) look like a tree configuration?
    public static func looks(like text: String) -> Bool {
        guard let node = try? Yams.load(yaml: text), let map = node as? [String: Any] else { return false }
        return map.keys.contains { precisionKeys[$0] != nil } && !map.keys.contains { ["KerasJson", "KerasH5", "KerasModel", "OnnxModel", "HLSConfig"].contains($0) }
    }

    /// Reads the precisions from a mapping (a config file or the "config" object of a conifer JSON).
    static func parse(_ map: [String: Any], file: String, fieldPrefix: String = "", strict: Bool) throws -> TreeConfig {
        var given: [String: (FixedType, String)] = [:]
        for k in map.keys.sorted() {
            let field = fieldPrefix + k
            guard let role = precisionKeys[k] else {
                if strict && !ignoredKeys.contains(k) {
                    throw InputError(file: file, field: field, message: "unknown key (expected input_precision, threshold_precision, score_precision, precision, or conifer's other configuration keys)")
                }
                continue
            }
            guard let s = map[k] as? String else { throw InputError(file: file, field: field, message: "expected a type such as ap_fixed<18,8>") }
            if s == "float" || s == "double" {
                throw InputError(file: file, field: field, message: "'\(s)' is not a fixed-point type: rtlgen builds the ap_fixed emulation (give e.g. ap_fixed<18,8>)")
            }
            let t: FixedType
            do { t = try FixedType.parse(s) } catch let e as TypeParseError { throw InputError(file: file, field: field, message: e.description) }
            guard t.encoding == .plain else { throw InputError(file: file, field: field, message: "expected a fixed-point type") }
            given[role] = (t, field)
        }
        let all = given["all"]?.0
        let input = given["input"]?.0 ?? all ?? defaultType
        let threshold = given["threshold"]?.0 ?? given["input"]?.0 ?? all ?? defaultType
        let score = given["score"]?.0 ?? all ?? defaultType
        // conifer multiplies the input by a one-hot weight of weight_precision (default: the
        // threshold precision); a type that cannot hold 1 turns the weight into -1 or 0.
        let weight = given["weight"] ?? given["threshold"] ?? given["input"] ?? given["all"]
        if let (w, field) = weight, w.fracBits < 0 || w.fracBits > 120 || w.maxCode < (Int128(1) << w.fracBits) {
            throw InputError(file: file, field: field, message: "\(w) cannot hold 1, conifer's one-hot split weight (give at least 2 integer bits for a signed type)")
        }
        if score.overflow != .WRAP {
            throw InputError(file: file, field: given["score"]?.1 ?? given["all"]?.1 ?? "score_precision",
                             message: "\(score): the score sum must wrap (conifer's ap_fixed default); saturation of each partial sum depends on the order and is not supported")
        }
        return TreeConfig(file: file, input: input, threshold: threshold, score: score)
    }

    public static func load(path: String) throws -> TreeConfig {
        let text = try readInputText(path: path)
        let node: Any?
        do { node = try Yams.load(yaml: text) } catch {
            throw InputError(file: path, field: "", message: "malformed YAML/JSON")
        }
        guard let map = node as? [String: Any] else { throw InputError(file: path, field: "", message: "expected a mapping of precisions (input_precision, threshold_precision, score_precision)") }
        return try parse(map, file: path, strict: true)
    }
}

extension TreeConfig {
    /// A tree --config travels to the model loader as the file of an otherwise empty hls4ml
    /// configuration (the commands' one config slot); `isTreeConfig` recognises it there.
    public static func carrier(path: String) -> HLSConfig {
        HLSConfig.defaults(file: path)
    }
    /// The tree config's path, when `c` carries one.
    static func isTreeConfig(_ c: HLSConfig) -> String? {
        guard let text = try? readInputText(path: c.file), looks(like: text) else { return nil }
        return c.file
    }
}
