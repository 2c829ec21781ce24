// The Keras importer's self-check against hls4ml's graph rewrites (docs/importers.md, "The
// importer's self-check").
//
// hls4ml 1.3 does not compute a Keras layer list as written: its optimizer passes rewrite the
// graph (merge a batchnorm into the binary / ternary activation after it, retype the dense layer
// after such a merge, extract a ternary threshold into a scaling). The importer reproduces each
// rewrite with its own pattern code, keyed on its own representation of the layers; a slip there
// (a ternary_tanh without a threshold attribute taken for one with another threshold) imports a
// model that predicts without complaint and matches hls4ml on no row. This check restates each
// rewrite's `match()` as hls4ml's source writes it (class names and attribute strings as hls4ml's
// Keras parser sets them, `get_attr('threshold', ...)` defaults included), runs it over the
// layer list, and requires the validated model to show the rewrite's consequence (the merged
// layer's op and output type, the retyped dense's output type). A model that fails is refused
// (exit 2, naming the layer) instead of being imported wrong: it is an importer bug.
import FixedPoint
import ModelIR

extension KerasImporter {
    /// What the model loop emitted for each entry of hls4ml's layer list: the layer's name in
    /// the model (nil: folded into a neighbour or removed) and its input size.
    struct Provenance {
        var name: [String?]
        var inputSize: [Int]
    }

    /// The layer as hls4ml's Keras parser describes it: class_name, the `activation` attribute,
    /// the `threshold` attribute (nil: not set), and whether its weight quantizer is hls4ml's
    /// BinaryQuantizer / TernaryQuantizer (BinaryDense / TernaryDense).
    private struct HLSView {
        var className: String
        var activation: String?
        var threshold: Double?
        var isBatchNorm: Bool
        var bnnQuantizer: Bool
    }

    private static func view(_ l: HLSLayer) -> HLSView {
        var v = HLSView(className: l.className, activation: nil, threshold: l.ternaryThreshold, isBatchNorm: false, bnnQuantizer: false)
        switch l.kind {
        case let .activation(a): v.activation = a
        case .batchnorm: v.isBatchNorm = true
        case let .binaryDense(_, _, _, _, _, qkeras): v.bnnQuantizer = !qkeras
        default: break
        }
        return v
    }

    static func selfCheck(_ layers: [HLSLayer], _ prov: Provenance, model: Model, file: String) throws {
        let byName = Dictionary(model.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let views = layers.map(view)
        func fail(_ i: Int, _ m: String) -> InputError {
            InputError(file: file, field: layers[i].source,
                       message: "importer self-check failed: \(m); rtlgen refuses the model rather than import it unlike hls4ml (an rtlgen bug: please report it)")
        }
        // ExtractTernaryThreshold (convert flow): class_name == 'TernaryTanh' and
        // get_attr('threshold', None) != 0.5 -> a scaling (ApplyAlpha, a BatchNormalization) is
        // inserted before it and its threshold becomes 0.5.
        var alphaBefore = Array(repeating: false, count: layers.count)
        for (i, v) in views.enumerated() where v.className == "TernaryTanh" && v.threshold != 0.5 { alphaBefore[i] = true }
        // MergeBatchNormAndQuantizedTanh (vivado quantization flow): (class_name == 'Activation'
        // and activation in [binary, binary_tanh, ternary, ternary_tanh]) or class_name ==
        // 'TernaryTanh', whose input node is a BatchNormalization.
        var bnqtAt = Array(repeating: false, count: layers.count)
        for (i, v) in views.enumerated() {
            let isQuantTanh = (v.className == "Activation" && ["binary", "binary_tanh", "ternary", "ternary_tanh"].contains(v.activation ?? ""))
                || v.className == "TernaryTanh"
            guard isQuantTanh else { continue }
            let ternary = (v.activation ?? "").contains("ternary")
            if alphaBefore[i] {
                // Merged with the inserted scaling: the activation's own layer is the threshold.
                bnqtAt[i] = true
                guard let n = prov.name[i], let l = byName[n], case .binary(.multiThreshold) = l.op, l.outputType == .integer(signed: true, width: 2) else {
                    throw fail(i, "hls4ml scales '\(layers[i].name)' to threshold 0.5 and merges it into a ternary BatchNormalizationQuantizedTanh (int<2>); the imported model has no int<2> multi_threshold for it")
                }
                continue
            }
            guard i >= 1, views[i - 1].isBatchNorm else { continue }
            bnqtAt[i] = true
            let bn = layers[i - 1].name
            let want = ternary ? "a ternary multi_threshold with an int<2> output" : "a threshold with a bipolar output"
            guard let n = prov.name[i - 1], let l = byName[n] else {
                throw fail(i, "hls4ml merges '\(bn)' and '\(layers[i].name)' into one BatchNormalizationQuantizedTanh; the imported model has no layer for '\(bn)'")
            }
            let ok: Bool
            switch l.op {
            case .binary(.multiThreshold): ok = ternary && l.outputType == .integer(signed: true, width: 2)
            case .binary(.threshold): ok = !ternary && l.outputType == .bipolar
            default: ok = false
            }
            if !ok || (prov.name[i].map { byName[$0] != nil } ?? false) {
                throw fail(i, "hls4ml merges '\(bn)' and '\(layers[i].name)' into one BatchNormalizationQuantizedTanh, \(want); the imported model computes '\(l.name)' as \(l.opName) with output \(l.outputType)\(prov.name[i].map { byName[$0] != nil ? " and '\($0)' on its own" : "" } ?? "")")
            }
        }
        // QuantizeDenseOutput: class_name == 'Dense', input node a BatchNormalizationQuantizedTanh,
        // weight quantizer BinaryQuantizer or TernaryQuantizer -> output and accumulator
        // int<ceil(log2 n_in) + 2>.
        for (i, v) in views.enumerated() where v.className == "Dense" && v.bnnQuantizer && i >= 1 && bnqtAt[i - 1] {
            let nIn = prov.inputSize[i]
            var w = 2, m = 1
            while m < nIn { m *= 2; w += 1 }
            let want = FixedType.integer(signed: true, width: w)
            guard let n = prov.name[i], let l = byName[n], l.outputType == want else {
                let got = prov.name[i].flatMap { byName[$0] }.map { "\($0.outputType)" } ?? "no layer"
                throw fail(i, "hls4ml's QuantizeDenseOutput makes '\(layers[i].name)' (after a BatchNormalizationQuantizedTanh) output \(want); the imported model has \(got)")
            }
        }
    }
}
