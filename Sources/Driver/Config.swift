// The optional --config file (YAML): implementation settings that are not part of the model.
//
//   clock_period_ns: 4.0     # target clock for register placement (default 4.0 = 250 MHz)
import Foundation
import ModelIR
import Yams

public struct Config: Sendable {
    public var clockPeriodNs: Double = 4.0
    /// The AXI4-Stream wrapper (the `stream:` section, see StreamConfig.swift), and the file it came from.
    public var stream: StreamSpec?
    public var path: String = ""
    public init() {}

    public static let keys = ["clock_period_ns", "stream"]

    public static func load(path: String) throws -> Config {
        let text = try readInputText(path: path)
        let node: Any?
        do { node = try Yams.load(yaml: text) } catch {
            let oneLine = "\(error)".split(whereSeparator: { $0.isNewline }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "; ")
            throw InputError(file: path, field: "", message: "malformed YAML: \(oneLine)")
        }
        var c = Config()
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
        c.path = path
        if map["stream"] != nil, let doc = try? Yams.compose(yaml: text), let node = doc["stream"] {
            c.stream = try StreamConfig.parse(node, file: path)
        }
        return c
    }
}
