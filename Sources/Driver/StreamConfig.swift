// The `stream:` section of the build config: the AXI4-Stream muon wrapper (see docs/stream.md).
//
//   stream:
//     layout: ugmt-scouting-run3     # built-in, or {words: N, empty_field: NAME, fields: [{name, word, lsb, width, signed}]}
//     muons_per_beat: 2              # 1..8 records per TDATA beat
//     tuser_width: 16
//     mode: lanes                    # lanes | pairs
//     pairs: adjacent                # adjacent | all (pairs mode)
//     output: replace                # append | replace | scores
//     features:                      # network input i, in order: (hw + offset) * scale
//       - {field: hwPt, offset: -1, scale: 0.0625}
//       - {charge: hwCharge}         # a 1-bit field read as +1 (0) / -1 (1)
//       - {field: hwEta, muon: 1, scale: 0.010875}   # pairs: which muon of the pair
//     replace:                       # replace mode: output j -> field (scale/offset default to the field's feature)
//       - {field: hwPt, output: 0}
//
// Numbers are read from the YAML text exactly (decimal constants, never binary floating point).
import FixedPoint
import Foundation
import Golden
import ModelIR
import Yams

public enum StreamConfig {
    static let keys = ["layout", "muons_per_beat", "tuser_width", "mode", "pairs", "output", "features", "replace"]

    /// Parses the `stream` node of the config file `file` (layout checks only; the model is
    /// checked by `validate`).
    public static func parse(_ node: Node, file: String) throws -> StreamSpec {
        func fail(_ field: String, _ msg: String) -> InputError { InputError(file: file, field: "stream" + field, message: msg) }
        guard let map = node.mapping else { throw fail("", "expected a mapping (\(keys.joined(separator: ", ")))") }
        var seen: [String: Node] = [:]
        for (k, v) in map {
            guard let ks = k.string, keys.contains(ks) else {
                throw fail(".\(k.string ?? "?")", "unknown setting (expected one of: \(keys.joined(separator: ", ")))")
            }
            seen[ks] = v
        }
        func text(_ n: Node, _ field: String) throws -> String {
            guard let s = n.scalar?.string else { throw fail(field, "expected a value") }
            return s
        }
        func int(_ n: Node?, _ field: String, _ range: ClosedRange<Int>, default d: Int) throws -> Int {
            guard let n else { return d }
            guard let v = Int(try text(n, field)), range.contains(v) else {
                throw fail(field, "expected an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return v
        }
        func choice(_ n: Node?, _ field: String, _ options: [String], default d: String) throws -> String {
            guard let n else { return d }
            let v = try text(n, field)
            guard options.contains(v) else { throw fail(field, "'\(v)' is not one of: \(options.joined(separator: ", "))") }
            return v
        }
        func decimal(_ n: Node?, _ field: String, default d: String) throws -> (Rational, String) {
            guard let n else { return (try Rational(decimal: d), d) }
            let t = try text(n, field)
            guard let r = try? Rational(decimal: t) else { throw fail(field, "'\(t)' is not a decimal number") }
            return (r, t)
        }
        // Layout.
        var layout = RecordLayout.ugmtScoutingRun3
        if let l = seen["layout"] {
            if let name = l.scalar?.string {
                guard let b = RecordLayout.builtIn[name] else {
                    throw fail(".layout", "unknown built-in layout '\(name)' (built in: \(RecordLayout.builtIn.keys.sorted().joined(separator: ", ")))")
                }
                layout = b
            } else if let lm = l.mapping {
                layout = try parseLayout(lm, fail: fail, int: int, text: text)
            } else { throw fail(".layout", "expected a built-in name or a mapping") }
        }
        var spec = StreamSpec(layout: layout)
        spec.muonsPerBeat = try int(seen["muons_per_beat"], ".muons_per_beat", 1...8, default: 2)
        spec.tuserWidth = try int(seen["tuser_width"], ".tuser_width", 1...1024, default: 16)
        let mode = try choice(seen["mode"], ".mode", ["lanes", "pairs"], default: "lanes")
        if mode == "pairs" {
            spec.arrangement = StreamArrangement(rawValue: try choice(seen["pairs"], ".pairs", ["adjacent", "all"], default: "adjacent"))!
            if spec.arrangement == .pairsAdjacent && spec.muonsPerBeat % 2 != 0 {
                throw fail(".muons_per_beat", "pairs: adjacent needs an even number of muons per beat")
            }
            if spec.muonsPerBeat < 2 { throw fail(".muons_per_beat", "pairs mode needs at least 2 muons per beat") }
        } else if seen["pairs"] != nil {
            throw fail(".pairs", "only meaningful with mode: pairs")
        }
        spec.output = StreamOutputMode(rawValue: try choice(seen["output"], ".output", StreamOutputMode.allCases.map { $0.rawValue },
                                                            default: mode == "pairs" ? "scores" : "replace"))!
        if mode == "pairs" && spec.output != .scores {
            throw fail(".output", "pairs mode writes scores only (output: scores)")
        }
        guard let fs = seen["features"]?.sequence else { throw fail(".features", "expected a list of network inputs") }
        for (i, f) in fs.enumerated() {
            let p = ".features[\(i)]"
            guard let fm = f.mapping else { throw fail(p, "expected a mapping {field: NAME, offset, scale} or {charge: NAME}") }
            var g: [String: Node] = [:]
            for (k, v) in fm {
                guard let ks = k.string, ["field", "charge", "muon", "offset", "scale"].contains(ks) else {
                    throw fail("\(p).\(k.string ?? "?")", "unknown key (expected field or charge, muon, offset, scale)")
                }
                g[ks] = v
            }
            let source: FeatureSource
            switch (g["field"], g["charge"]) {
            case let (f?, nil): source = .field(try text(f, "\(p).field"))
            case let (nil, c?): source = .sign(try text(c, "\(p).charge"))
            default: throw fail(p, "give exactly one of field or charge")
            }
            let key = g["field"] != nil ? "field" : "charge"
            guard let fld = layout.field(source.fieldName) else {
                throw fail("\(p).\(key)", "no field '\(source.fieldName)' in layout \(layout.name)")
            }
            if case .sign = source, fld.width != 1 { throw fail("\(p).charge", "'\(fld.name)' is \(fld.width) bits; a charge is one bit") }
            let muon = try int(g["muon"], "\(p).muon", 0...(mode == "pairs" ? 1 : 0), default: 0)
            let (scale, st) = try decimal(g["scale"], "\(p).scale", default: "1")
            let (offset, ot) = try decimal(g["offset"], "\(p).offset", default: "0")
            if scale.sign == 0 { throw fail("\(p).scale", "the scale must not be zero") }
            spec.features.append(Feature(source: source, muon: muon, scale: scale, offset: offset, scaleText: st, offsetText: ot))
        }
        if let rs = seen["replace"] {
            guard spec.output == .replace else { throw fail(".replace", "only meaningful with output: replace") }
            guard let seq = rs.sequence else { throw fail(".replace", "expected a list of {field, output}") }
            for (i, r) in seq.enumerated() {
                let p = ".replace[\(i)]"
                guard let rm = r.mapping else { throw fail(p, "expected a mapping {field, output[, scale, offset]}") }
                var g: [String: Node] = [:]
                for (k, v) in rm {
                    guard let ks = k.string, ["field", "output", "scale", "offset"].contains(ks) else {
                        throw fail("\(p).\(k.string ?? "?")", "unknown key (expected field, output, scale, offset)")
                    }
                    g[ks] = v
                }
                guard let fn = g["field"] else { throw fail("\(p).field", "missing") }
                let name = try text(fn, "\(p).field")
                guard layout.field(name) != nil else { throw fail("\(p).field", "no field '\(name)' in layout \(layout.name)") }
                if spec.replacements.contains(where: { $0.field == name }) { throw fail("\(p).field", "'\(name)' is replaced twice") }
                let out = try int(g["output"], "\(p).output", 0...1_000_000, default: -1)
                if out < 0 { throw fail("\(p).output", "missing") }
                let feat = spec.features.first { $0.source == .field(name) }
                let (scale, _) = try decimal(g["scale"], "\(p).scale", default: feat?.scaleText ?? "1")
                let (offset, _) = try decimal(g["offset"], "\(p).offset", default: feat?.offsetText ?? "0")
                if scale.sign == 0 { throw fail("\(p).scale", "the scale must not be zero") }
                spec.replacements.append(Replacement(field: name, output: out, scale: scale, offset: offset))
            }
        }
        if spec.output == .replace && spec.replacements.isEmpty { throw fail(".replace", "output: replace needs a replace list") }
        return spec
    }

    static func parseLayout(_ lm: Node.Mapping, fail: (String, String) -> InputError,
                            int: (Node?, String, ClosedRange<Int>, Int) throws -> Int,
                            text: (Node, String) throws -> String) throws -> RecordLayout {
        var g: [String: Node] = [:]
        for (k, v) in lm {
            guard let ks = k.string, ["name", "words", "fields", "empty_field"].contains(ks) else {
                throw fail(".layout.\(k.string ?? "?")", "unknown key (expected name, words, fields, empty_field)")
            }
            g[ks] = v
        }
        let words = try int(g["words"], ".layout.words", 1...64, 0)
        if words == 0 { throw fail(".layout.words", "missing: the record width in 32-bit words") }
        guard let fs = g["fields"]?.sequence, fs.count > 0 else { throw fail(".layout.fields", "expected a list of fields") }
        var fields: [RecordField] = []
        for (i, f) in fs.enumerated() {
            let p = ".layout.fields[\(i)]"
            guard let fm = f.mapping else { throw fail(p, "expected {name, word, lsb, width, signed}") }
            var h: [String: Node] = [:]
            for (k, v) in fm {
                guard let ks = k.string, ["name", "word", "lsb", "width", "signed"].contains(ks) else {
                    throw fail("\(p).\(k.string ?? "?")", "unknown key (expected name, word, lsb, width, signed)")
                }
                h[ks] = v
            }
            guard let nn = h["name"] else { throw fail("\(p).name", "missing") }
            let name = try text(nn, "\(p).name")
            guard ModelCore.isIdentifier(name) else { throw fail("\(p).name", "'\(name)' is not an identifier") }
            if fields.contains(where: { $0.name.lowercased() == name.lowercased() }) { throw fail("\(p).name", "'\(name)' is defined twice") }
            let word = try int(h["word"], "\(p).word", 0...(words - 1), 0)
            let lsb = try int(h["lsb"], "\(p).lsb", 0...31, 0)
            let width = try int(h["width"], "\(p).width", 1...64, 0)
            if width == 0 { throw fail("\(p).width", "missing") }
            var signed = false
            if let s = h["signed"] {
                let t = try text(s, "\(p).signed")
                guard let b = Bool(t) else { throw fail("\(p).signed", "expected true or false") }
                signed = b
            }
            let fld = RecordField(name: name, word: word, lsb: lsb, width: width, signed: signed)
            if fld.offset + width > words * 32 {
                throw fail("\(p)", "field '\(name)' (bits \(fld.offset + width - 1)..\(fld.offset)) runs past the \(words * 32)-bit record")
            }
            if let o = fields.first(where: { $0.offset < fld.offset + width && fld.offset < $0.offset + $0.width }) {
                throw fail("\(p)", "field '\(name)' overlaps field '\(o.name)'")
            }
            fields.append(fld)
        }
        var empty: String? = nil
        if let e = g["empty_field"] {
            let n = try text(e, ".layout.empty_field")
            guard fields.contains(where: { $0.name == n }) else { throw fail(".layout.empty_field", "no field '\(n)'") }
            empty = n
        }
        let name = try g["name"].map { try text($0, ".layout.name") } ?? "custom"
        return RecordLayout(name: name, words: words, fields: fields, emptyField: empty)
    }

    /// Checks the stream spec against the model: one feature per input, every map inside the
    /// input type's range and realizable exactly, every replaced output inside the model's outputs.
    public static func validate(_ spec: StreamSpec, model: Model, file: String) throws {
        func fail(_ field: String, _ msg: String) -> InputError { InputError(file: file, field: "stream" + field, message: msg) }
        if spec.features.count != model.input.size {
            throw fail(".features", "\(spec.features.count) features for a network with \(model.input.size) inputs")
        }
        let t = model.input.type
        let g = try StreamGolden(spec: spec, model: model)
        if t.encoding != .plain { throw fail(".features", "the network's input type \(t) is not a fixed-point type") }
        for (i, f) in spec.features.enumerated() {
            let m = StreamGolden.featureMap(f, layout: spec.layout, type: t)
            if !m.fits {
                throw fail(".features[\(i)].scale", "(\(f.source.fieldName) + \(f.offsetText)) * \(f.scaleText) over the field's range [\(m.lo), \(m.hi)] overflows the input type \(t)")
            }
            if m.hi - m.lo > 1 << 20 { throw fail(".features[\(i)].field", "fields wider than 20 bits are not supported") }
            if g.featurePlans[i] == nil { throw fail(".features[\(i)].scale", "no exact constant multiplication within 48 guard bits") }
        }
        for (i, r) in spec.replacements.enumerated() {
            if r.output >= model.outputSize { throw fail(".replace[\(i)].output", "the network has \(model.outputSize) outputs") }
            if model.outputType.encoding != .plain || model.outputType.width > 20 {
                throw fail(".replace[\(i)].output", "replace needs a fixed-point output of at most 20 bits (the map is checked on every code)")
            }
            if g.replacePlans[i] == nil { throw fail(".replace[\(i)].scale", "no exact constant multiplication within 48 guard bits") }
        }
    }
}
