// The command-line side of the importers: options shared by every command that takes a MODEL
// (build, predict, vectors, import), and `rtlgen import`.
import ArgumentParser
import Driver
import Foundation
import FrontEnds
import ModelIR

struct ModelOptions: ParsableArguments {
    @Option(help: "Keras weights (HDF5) for a Keras architecture JSON given as MODEL (default: <stem>_weights.h5 beside it).")
    var weights: String?
    @Option(name: .customLong("weight-rounding"), help: "How float weights become fixed point: hls4ml (decimal text, then the type's rounding: truncation by default) or exact (nearest, ties to even).")
    var weightRounding: String = "hls4ml"
    @Option(help: "Dense accumulators of imported models: hls4ml (its accum precision: each product cast to it) or auto (rtlgen's exact sums).")
    var accum: String = "hls4ml"

    func importOptions() throws -> ImportOptions {
        var o = ImportOptions()
        guard let r = WeightRounding(rawValue: weightRounding) else {
            throw InputError(file: "--weight-rounding", field: "", message: "'\(weightRounding)' is not one of hls4ml, exact")
        }
        o.weightRounding = r
        switch accum {
        case "hls4ml": o.exactAccumulators = false
        case "auto": o.exactAccumulators = true
        default: throw InputError(file: "--accum", field: "", message: "'\(accum)' is not one of hls4ml, auto")
        }
        return o
    }

    /// --config is either rtlgen's own settings file or an hls4ml configuration (told apart by its keys).
    static func splitConfig(_ path: String?) throws -> (settings: Config?, hls: HLSConfig?) {
        guard let path else { return (nil, nil) }
        let text = try readInputText(path: path)
        if TreeConfig.looks(like: text) { return (nil, TreeConfig.carrier(path: path)) }   // tree precisions (FrontEnds/Trees)
        if HLSConfig.looks(like: text) { return (nil, try HLSConfig.load(path: path)) }
        return (try Config.load(path: path), nil)
    }

    func request(model: String, hlsConfig: HLSConfig?) throws -> ModelRequest {
        var r = ModelRequest(path: model, hlsConfig: hlsConfig, weights: weights)
        r.options = try importOptions()
        return r
    }

    /// Loads MODEL and says once which configuration keys were ignored.
    func load(model: String, config: String?) throws -> Model {
        let (_, hls) = try Self.splitConfig(config)
        let loaded = try ModelSource.load(try request(model: model, hlsConfig: hls))
        Self.warnIgnored(loaded.hlsConfig)
        return loaded.model
    }

    static func warnIgnored(_ c: HLSConfig?) {
        guard let c, !c.ignored.isEmpty else { return }
        // One line: per-layer keys are grouped ("Trace (9 layers)").
        var order: [String] = []
        var count: [String: Int] = [:]
        for k in c.ignored {
            let short = k.hasPrefix("HLSConfig.LayerName.") || k.hasPrefix("HLSConfig.LayerType.") ? String(k.split(separator: ".").last!) : k
            if count[short] == nil { order.append(short) }
            count[short, default: 0] += 1
        }
        let list = order.map { count[$0]! > 1 ? "\($0) (\(count[$0]!) layers)" : $0 }.joined(separator: ", ")
        FileHandle.standardError.write(Data("rtlgen: warning: \(c.file): ignored (no effect on what rtlgen computes): \(list)\n".utf8))
    }
}

struct ImportCmd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert a Keras / QKeras model (or an hls4ml configuration naming one) to rtlgen's native model JSON.",
        discussion: """
        MODEL: a Keras architecture JSON (weights from --weights or <stem>_weights.h5), a full-model
        .h5, a Keras 3 .keras archive, or an hls4ml configuration (.yml) naming one. Types follow
        hls4ml 1.3: the configuration given with --config (or hls4ml's default, fixed<16,6>
        everywhere). The written model shows every quantized weight exactly; it reads back as the
        same model.
        """)

    @Argument(help: "The model file.")
    var model: String
    @Option(help: "An hls4ml configuration file (YAML) for a Keras MODEL.")
    var config: String?
    @Option(name: [.short, .customLong("output")], help: "Write the native model here (default: standard output).")
    var output: String?
    @OptionGroup var modelOptions: ModelOptions

    func run() throws {
        let hls = try config.map { TreeConfig.looks(like: (try? readInputText(path: $0)) ?? "") ? TreeConfig.carrier(path: $0) : try HLSConfig.load(path: $0) }
        let req = try modelOptions.request(model: model, hlsConfig: hls)
        let text = try ModelSource.nativeJSON(req)
        // Validate before writing: what is written must read back.
        let m = try ModelLoader.parse(text: text, file: "\(model) (as imported)")
        if let hls { ModelOptions.warnIgnored(hls) } else if (try? ModelSource.kind(path: model)) == .hlsConfig {
            ModelOptions.warnIgnored(try? HLSConfig.load(path: model))
        }
        let out = ModelWriter.json(m)
        if let o = output {
            try out.write(toFile: o, atomically: true, encoding: .utf8)
            FileHandle.standardError.write(Data("rtlgen: wrote \(o): \(m.layers.count) layers, \(m.input.size) inputs -> \(m.outputSize) outputs\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(out.utf8))
        }
    }
}

struct FuzzImportersCmd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz-importers",
        abstract: "Seeded mutation fuzzing of the importers and input readers (development; make fuzz / fuzz-long).",
        discussion: "Each mutated file must import or fail with one message (exit status 2 in real use); anything else is reported and exits 1.")

    @Option(help: "h5, keras, json, yaml, csv, npy, bnn, onnx, hgq2 or all.")
    var format: String = "all"
    @Option(help: "Mutations per format.")
    var count: Int = 1000
    @Option(help: "Index of the first mutation (to reproduce one).")
    var start: Int = 0
    @Option(help: "Write the index of the mutation being tried to this file (scripts/fuzz-importers.sh reads it).")
    var progressFile: String?
    @Option(help: "Seconds the HDF5 reading process may take before the file counts as damaged (exit 2).")
    var hdf5Timeout: UInt32 = 30
    @Option(help: "Random seed.")
    var seed: UInt64 = 1
    @Option(help: "Folder of the Keras corpus (muon_student.json, muon_student_weights.h5, muon_student_config.yml).")
    var corpus: String = "examples/muon_student_keras"
    @Flag(help: "Print each mutation's number before running it (to find the one that crashes).")
    var verbose = false
    @Option(help: "Folder of the binary corpus for the bnn format (qkeras_binary, and when present small_bnn, qkeras_po2 and qkeras_relu_po2: NAME.json + NAME_weights.h5).")
    var binaryCorpus: String = "Tests/FrontEndsTests/Fixtures"
    @Option(help: "Folder of HGQ2 .keras models for the hgq2 format.")
    var hgq2Corpus: String = "Tests/FrontEndsTests/Fixtures/hgq2"
    @Option(help: "A Keras 3 .keras archive for the keras format.")
    var keras: String = "Tests/FrontEndsTests/Fixtures/small_keras3.keras"
    @Option(help: "An ONNX model for the onnx format.")
    var onnx: String = "examples/qonnx_mlp/qonnx_mlp.onnx"

    func run() throws {
        func data(_ p: String) throws -> Data {
            guard let d = FileManager.default.contents(atPath: p) else { throw InputError(file: p, field: "", message: "cannot read the file") }
            return d
        }
        let dir = corpus as NSString
        var c = FuzzCorpus(kerasJSON: try readInputText(path: dir.appendingPathComponent("muon_student.json")),
                           weightsH5: try data(dir.appendingPathComponent("muon_student_weights.h5")),
                           kerasArchive: try data(keras),
                           hlsConfig: try readInputText(path: dir.appendingPathComponent("muon_student_config.yml")),
                           binaryJSON: try readInputText(path: (binaryCorpus as NSString).appendingPathComponent("qkeras_binary.json")),
                           binaryH5: try data((binaryCorpus as NSString).appendingPathComponent("qkeras_binary_weights.h5")))
        if format == "all" || format == "onnx" { c.onnx = try data(onnx) }
        let bdir = binaryCorpus as NSString
        for n in ["small_bnn", "qkeras_po2", "qkeras_relu_po2"] {
            let j = bdir.appendingPathComponent("\(n).json"), w = bdir.appendingPathComponent("\(n)_weights.h5")
            if FileManager.default.fileExists(atPath: j), FileManager.default.fileExists(atPath: w) {
                c.binarySeeds.append((json: try readInputText(path: j), h5: try data(w)))
            }
        }
        if format == "all" || format == "hgq2" {
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: hgq2Corpus)) ?? []).filter { $0.hasSuffix(".keras") }.sorted()
            guard !files.isEmpty else { throw InputError(file: hgq2Corpus, field: "", message: "no .keras files for the hgq2 format") }
            for f in files { c.hgq2Seeds.append(try KerasFiles.archiveEntries(path: (hgq2Corpus as NSString).appendingPathComponent(f))) }
        }
        let formats = format == "all" ? ImporterFuzz.formats : [format]
        HDF5File.guardSeconds = hdf5Timeout
        let pf: FileHandle? = progressFile.flatMap { p in
            FileManager.default.createFile(atPath: p, contents: nil)
            return FileHandle(forWritingAtPath: p)
        }
        var bad = 0
        for f in formats {
            guard ImporterFuzz.formats.contains(f) else {
                throw InputError(file: "--format", field: "", message: "'\(f)' is not one of \(ImporterFuzz.formats.joined(separator: ", ")), all")
            }
            let t0 = Date()
            let o = ImporterFuzz.run(format: f, start: start, count: count, seed: seed, corpus: c) { i, sofar in
                if verbose { FileHandle.standardError.write(Data("\(f) #\(i)\n".utf8)) }
                if let pf {
                    try? pf.seek(toOffset: 0)
                    pf.write(Data(String(format: "%@ %12d %12d %12d\n", f as NSString, i, sofar.imported, sofar.rejected).utf8))
                }
            }
            print(String(format: "fuzz-importers %-5@ seed %llu from %d: %d mutated files, %d imported, %d rejected with one message (%d of them damaged HDF5 files the library failed on), %d unexpected (%.0f s)",
                         f as NSString, seed, start, count, o.imported, o.rejected, o.damagedHDF5, o.unexpected.count, Date().timeIntervalSince(t0)))
            for u in o.unexpected.prefix(5) { print("  " + u) }
            bad += o.unexpected.count
        }
        if bad > 0 { Exit.fail("fuzz-importers: \(bad) unexpected outcomes", code: 1) }
    }
}
