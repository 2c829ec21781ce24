// Seeded mutation fuzzing of the importers and input readers (`rtlgen fuzz-importers`): every
// mutated file must import (and then evaluate) or fail with one InputError; any other error is
// reported and a crash ends the process (the make target fails). Formats:
//   h5     the muon student's weights file (HDF5 image in memory) with its JSON architecture
//   keras  a Keras 3 .keras archive (zip) held in memory
//   json   the Keras architecture JSON text (with the original weights)
//   yaml   an hls4ml configuration (with the original Keras files)
//   csv    CSV input text;   npy  a NumPy .npy array
//   onnx   an ONNX / QONNX model's protobuf bytes (examples/qonnx_mlp by default)
//   bnn    binary / ternary / power-of-two QKeras networks (qkeras_binary, small_bnn with its
//          TernaryDense layers, qkeras_po2, qkeras_relu_po2, in turn): the architecture JSON (its weights
//          unmutated) and, alternately, the HDF5 weights
//   hgq2   HGQ2 .keras models (Tests/FrontEndsTests/Fixtures/hgq2, in turn): config.json's text
//          (with Infinity tokens; weights unmutated) and, alternately, model.weights.h5
import Foundation
import FixedPoint
import FrontEnds
import Golden
import ModelIR

public struct FuzzCorpus {
    public var kerasJSON: String
    public var weightsH5: Data
    public var kerasArchive: Data
    public var hlsConfig: String
    /// An ONNX model's bytes (the onnx format).
    public var onnx = Data()
        /// A binary / ternary QKeras network (architecture JSON + weights).
    public var binaryJSON: String
    public var binaryH5: Data
    /// More binary / ternary / po2 networks for the bnn format (used in turn with the one above).
    public var binarySeeds: [(json: String, h5: Data)] = []
    /// HGQ2 models (config.json text, model.weights.h5 bytes) for the hgq2 format.
    public var hgq2Seeds: [(config: String, weights: Data)] = []
    public init(kerasJSON: String, weightsH5: Data, kerasArchive: Data, hlsConfig: String, binaryJSON: String = "", binaryH5: Data = Data()) {
        self.kerasJSON = kerasJSON
        self.weightsH5 = weightsH5
        self.kerasArchive = kerasArchive
        self.hlsConfig = hlsConfig
        self.binaryJSON = binaryJSON
        self.binaryH5 = binaryH5
    }
}

public enum ImporterFuzz {
    public static let formats = ["h5", "keras", "json", "yaml", "csv", "npy", "bnn", "onnx", "hgq2"]

    public struct Outcome {
        public var imported = 0
        public var rejected = 0
        /// Rejected because the HDF5 library failed on the file (its reading child died or stalled).
        public var damagedHDF5 = 0
        public var unexpected: [String] = []
    }

    struct RNG {
        var s: UInt64
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    }

    /// Byte-level mutations: bit flips, interesting bytes, truncation, insertion, deletion, duplication.
    static func mutateBytes(_ d: [UInt8], _ r: inout RNG) -> [UInt8] {
        var b = d
        for _ in 0..<(1 + r.below(4)) {
            if b.isEmpty { b = [UInt8(r.below(256))]; continue }
            let i = r.below(b.count)
            switch r.below(7) {
            case 0: b[i] ^= UInt8(1 << r.below(8))
            case 1: b[i] = [0, 0xFF, 0x7F, 0x80, 0x01, 0x20][r.below(6)]
            case 2: b.removeSubrange(i...)
            case 3: b.insert(contentsOf: (0..<(1 + r.below(16))).map { _ in UInt8(r.below(256)) }, at: i)
            case 4: b.removeSubrange(i..<min(b.count, i + 1 + r.below(64)))
            case 5: let n = min(b.count - i, 1 + r.below(64)); b.insert(contentsOf: b[i..<(i + n)], at: r.below(b.count))
            default:
                // a little-endian 8-byte field set to an extreme (HDF5 sizes, offsets and lengths)
                let v: UInt64 = [0, UInt64.max, 1 << 40, 0x7FFF_FFFF, 0xFFFF_FFFF][r.below(5)]
                for k in 0..<8 where i + k < b.count { b[i + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
            }
        }
        return b
    }

    /// Text mutations: numbers replaced by extremes, tokens and lines deleted or duplicated, plus bytes.
    static func mutateText(_ t: String, _ r: inout RNG) -> [UInt8] {
        var s = Array(t.utf8)
        switch r.below(4) {
        case 0, 1:
            // replace a run of digits with an extreme number
            let starts = s.indices.filter { i in s[i] >= 48 && s[i] <= 57 && (i == 0 || !(s[i - 1] >= 48 && s[i - 1] <= 57)) }
            if let i = starts.isEmpty ? nil : starts[r.below(starts.count)] {
                var j = i
                while j < s.count && ((s[j] >= 48 && s[j] <= 57) || s[j] == 46 || s[j] == 101 || s[j] == 45) { j += 1 }
                let v = ["0", "-1", "1e308", "-1e-320", "99999999999999999999", "1000000", "65", "-0", "NaN", "2147483648", "1.5", "\"x\"", "null", "[]", "{}"][r.below(15)]
                s.replaceSubrange(i..<j, with: Array(v.utf8))
            }
        case 2:
            // delete or duplicate a line
            var lines = s.split(separator: 10, omittingEmptySubsequences: false).map(Array.init)
            if !lines.isEmpty {
                let i = r.below(lines.count)
                if r.below(2) == 0 { lines.remove(at: i) } else { lines.insert(lines[i], at: r.below(lines.count)) }
            }
            s = Array(lines.joined(separator: [10]))
        default:
            s = mutateBytes(s, &r)
        }
        return s
    }

    static let sample = FixedType(signed: true, width: 16, intBits: 6)

    static func exercise(_ m: Model) throws {
        let g = try GoldenModel(m)
        let t = m.input.type
        for x in [t.minCode, 0, t.maxCode] { _ = g.evaluate(codes: Array(repeating: x, count: m.input.size)) }
    }

    /// Runs `count` mutations of `format` from `seed`.
    /// Mutations `start ..< start + count`; each one's randomness depends only on (seed, format,
    /// index), so a run can resume after any mutation.
    public static func run(format: String, start: Int = 0, count: Int, seed: UInt64, corpus c: FuzzCorpus, progress: (Int, Outcome) -> Void) -> Outcome {
        var o = Outcome()
        let csv = "pt,eta,phi,q,x\r\n1.5,-2,0.25,3,-31.5\r\n# c\r\n\r\n0,0,0,0,0\r\n"
        var npy: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        var h = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 5), }"
        while (10 + h.utf8.count + 1) % 64 != 0 { h += " " }
        h += "\n"
        npy += [UInt8(h.utf8.count), 0] + Array(h.utf8)
        for v in [1.5, -2, 0.25, 3, -31.5, 0, 1e-3, -7, 33, 0.1] { npy += withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        // The unmutated weights, read once (json, yaml and half of bnn mutate the text only).
        let muonWeights = try? KerasFiles.weights(image: c.weightsH5, name: "w.h5")
        let bnnSeeds = [(json: c.binaryJSON, h5: c.binaryH5)] + c.binarySeeds
        let bnnWeights = bnnSeeds.map { try? KerasFiles.weights(image: $0.h5, name: "bnn.h5") }
        let hgqWeights = c.hgq2Seeds.map { try? KerasFiles.weights(image: $0.weights, name: "hgq2.h5") }
        for i in start..<(start + count) {
            var r = RNG(s: seed &* 0x2545_F491_4F6C_DD1D ^ (UInt64(formats.firstIndex(of: format) ?? 0) << 56) ^ UInt64(i))
            _ = r.next()
            progress(i, o)
            do {
                switch format {
                case "h5":
                    let img = Data(mutateBytes(Array(c.weightsH5), &r))
                    let src = try KerasFiles.load(jsonText: c.kerasJSON, jsonName: "fuzz.json", weightsImage: img, weightsName: "fuzz.h5")
                    try exercise(try KerasImporter.model(src, config: .defaults(file: "fuzz.json"), options: ImportOptions()))
                case "keras":
                    // Through a file, as users' archives are read (ZIPFoundation's in-memory
                    // archive traps on some damaged zips; its file reader checks its reads).
                    let z = Data(mutateBytes(Array(c.kerasArchive), &r))
                    let p = FileManager.default.temporaryDirectory.appendingPathComponent("rtlgen-fuzz-\(ProcessInfo.processInfo.processIdentifier).keras")
                    try? z.write(to: p)
                    defer { try? FileManager.default.removeItem(at: p) }
                    let src = try KerasFiles.load(keras: p.path)
                    try exercise(try KerasImporter.model(src, config: .defaults(file: "fuzz.keras"), options: ImportOptions()))
                case "json":
                    let t = String(decoding: mutateText(c.kerasJSON, &r), as: UTF8.self)
                    let src = try KerasFiles.load(jsonText: t, jsonName: "fuzz.json", weights: try muonWeights ?? KerasFiles.weights(image: c.weightsH5, name: "w.h5"))
                    try exercise(try KerasImporter.model(src, config: .defaults(file: "fuzz.json"), options: ImportOptions()))
                case "yaml":
                    let t = String(decoding: mutateText(c.hlsConfig, &r), as: UTF8.self)
                    let cfg = try HLSConfig.load(text: t, path: "fuzz.yml")
                    let src = try KerasFiles.load(jsonText: c.kerasJSON, jsonName: "m.json", weights: try muonWeights ?? KerasFiles.weights(image: c.weightsH5, name: "w.h5"))
                    try exercise(try KerasImporter.model(src, config: cfg, options: ImportOptions()))
                case "bnn":
                    let src: KerasSource
                    let k = (i / 2) % bnnSeeds.count, seed = bnnSeeds[k]
                    if i % 2 == 0 {
                        let t = String(decoding: mutateText(seed.json, &r), as: UTF8.self)
                        src = try KerasFiles.load(jsonText: t, jsonName: "fuzz_bnn.json", weights: try bnnWeights[k] ?? KerasFiles.weights(image: seed.h5, name: "bnn.h5"))
                    } else {
                        let img = Data(mutateBytes(Array(seed.h5), &r))
                        src = try KerasFiles.load(jsonText: seed.json, jsonName: "bnn.json", weightsImage: img, weightsName: "fuzz_bnn.h5")
                    }
                    try exercise(try KerasImporter.model(src, config: .defaults(file: "fuzz_bnn.json"), options: ImportOptions()))
                case "hgq2":
                    guard !c.hgq2Seeds.isEmpty else { o.unexpected.append("no HGQ2 seeds"); return o }
                    let src: KerasSource
                    let k = (i / 2) % c.hgq2Seeds.count, seed = c.hgq2Seeds[k]
                    if i % 2 == 0 {
                        let t = String(decoding: mutateText(seed.config, &r), as: UTF8.self)
                        src = try KerasFiles.load(jsonText: t, jsonName: "fuzz_hgq2.keras", weights: try hgqWeights[k] ?? KerasFiles.weights(image: seed.weights, name: "hgq2.h5"))
                    } else {
                        let img = Data(mutateBytes(Array(seed.weights), &r))
                        src = try KerasFiles.load(jsonText: seed.config, jsonName: "hgq2.keras", weightsImage: img, weightsName: "fuzz_hgq2.h5")
                    }
                    try exercise(try KerasImporter.model(src, config: .defaults(file: "fuzz_hgq2.keras"), options: ImportOptions()))
                case "csv":
                    _ = try InputData.read(data: Data(mutateText(csv, &r)), path: "fuzz.csv", size: 5, type: sample) { _ in }
                case "npy":
                    _ = try InputData.read(data: Data(mutateBytes(npy, &r)), path: "fuzz.npy", size: 5, type: sample) { _ in }
                case "onnx":
                    let d = Data(mutateBytes(Array(c.onnx), &r))
                    try exercise(try ONNXImporter.model(data: d, file: "fuzz.onnx", config: .defaults(file: "fuzz.onnx"), options: ImportOptions()))
                default:
                    o.unexpected.append("unknown format \(format)")
                    return o
                }
                o.imported += 1
            } catch let e as InputError {
                if "\(e)".contains("\n") { o.unexpected.append("#\(i): a message of several lines: \(e)") }
                o.rejected += 1
                if e.message.hasPrefix("damaged HDF5 file") { o.damagedHDF5 += 1 }
            } catch {
                o.unexpected.append("#\(i): \(type(of: error)): \(error)")
            }
        }
        return o
    }
}
