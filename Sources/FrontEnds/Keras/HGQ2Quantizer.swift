// One HGQ2 fixed-point quantizer (hgq2 0.2: `hgq.quantizer.Quantizer` wrapping a
// FixedPointQuantizerKBI / KIF): its configuration (QuantizerConfig in config.json) and its
// per-element bit widths (variables in model.weights.h5), and what it does at inference.
//
// HGQ2's inference pass (training False), element-wise with keep_negative k, integer bits i
// (without the sign), fractional bits f (KBI: bits b without the sign, f = b - i; b, i, f are
// float variables rounded half to even):
//   - overflow SAT / SAT_SYM: clip to [min, max] (max = 2^i - 2^-f; min = -2^i k, SAT_SYM
//     -max k), then round at f; WRAP: round at f, then wrap in k + i + f bits;
//   - an element with k + i + f <= 0 is 0;
//   - a trainable WRAP quantizer with is_weight set (KIF, or KBI with RND rounding) only rounds.
// That is ap_fixed's cast to fixed<k+i+f, i+1> (k = 1) or ufixed<i+f, i> (k = 0) with the same
// rounding and overflow mode (HGQ2's clip-then-round equals ap_fixed's round-then-clip, the
// bounds being on the grid). On data (activations) rtlgen computes exactly that cast; on weights
// and biases it repeats HGQ2's float32 steps (`weightValue`), which equal the cast except where
// float32 cannot hold x * 2^f + 0.5.
import FixedPoint
import Foundation
import ModelIR

struct HGQ2Quantizer {
    enum Parameters: String { case kbi, kif }
    let parameters: Parameters
    /// HGQ2's rounding mode (stochastic S_RND / S_RND_CONV round as RND / RND_CONV at inference).
    let rounding: RoundingMode
    let overflow: OverflowMode
    let trainable: Bool
    let isWeight: Bool
    /// Per element of the quantized tensor (broadcast): keep_negative, integer bits, fractional bits.
    let k: [Int]
    let i: [Int]
    let f: [Int]

    /// Where it came from, for messages: the config field and the weights group.
    let field: String

    /// The ap_fixed type of element j at inference (nil: no bit, the value 0).
    func type(_ j: Int) -> FixedType? {
        let w = k[j] + i[j] + f[j]
        guard w > 0 else { return nil }
        return FixedType(signed: k[j] == 1, width: w, intBits: i[j] + k[j], rounding: rounding, overflow: overflow)
    }

    var types: [FixedType?] { (0..<k.count).map(type) }

    /// Only rounds (no overflow handling, no zeroing): HGQ2's path for a trainable WRAP weight
    /// quantizer (`_is_weight`: KIF always, KBI with RND rounding).
    var roundsOnly: Bool {
        overflow == .WRAP && trainable && isWeight && (parameters == .kif || rounding == .RND)
    }

    // MARK: HGQ2's float32 steps on a weight

    private func pow2(_ e: Int) -> Float { Float(sign: .plus, exponent: e, significand: 1) }

    private func round(_ x: Float) -> Float {
        switch rounding {
        case .TRN: return x.rounded(.down)
        case .RND: return (x + 0.5).rounded(.down)
        case .RND_CONV: return x.rounded(.toNearestOrEven)
        case .TRN_ZERO: return abs(x).rounded(.down) * sign(x)
        case .RND_ZERO: return -((-abs(x) + 0.5).rounded(.down)) * sign(x)
        case .RND_MIN_INF: return -((-x + 0.5).rounded(.down))
        case .RND_INF: return (abs(x) + 0.5).rounded(.down) * sign(x)
        }
    }

    private func sign(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }

    /// Element j of a weight tensor as HGQ2's inference pass computes it (float32 throughout).
    func weightValue(_ x: Float, _ j: Int) -> Float {
        let kf = Float(k[j]), fi = f[j]
        func rnd(_ v: Float) -> Float { round(v * pow2(fi)) / pow2(fi) }
        if roundsOnly { return rnd(x) }
        guard k[j] + i[j] + f[j] > 0 else { return 0 }
        let ii = max(i[j], -fi)
        var v = x
        if overflow != .WRAP {
            let mx = pow2(ii) - pow2(-fi)
            let mn = overflow == .SAT_SYM ? -mx * kf : -pow2(ii) * kf
            v = v > mx ? mx : (v < mn ? mn : v)
        }
        v = rnd(v)
        if overflow == .WRAP {
            let bk = ii + k[j]
            let bias = kf * pow2(bk - 1)
            let m = pow2(bk)
            var r = (v + bias).truncatingRemainder(dividingBy: m)
            if r != 0 && r < 0 { r += m }
            v = r - bias
        }
        return v
    }

    // MARK: reading

    /// The quantizer of `conf` (a serialized QuantizerConfig) with its variables in the Keras 3
    /// weights group `group` (".../iq/quantizer/vars"), broadcast to `shape`.
    static func read(conf: JSONValue?, confField: String, group: String, shape: [Int], weights: KerasWeights, file: String) throws -> HGQ2Quantizer {
        func fail(_ f: String, _ m: String) -> InputError { InputError(file: file, field: f.isEmpty ? confField : "\(confField).\(f)", message: m) }
        guard let conf, conf != .null else { throw fail("", "missing quantizer configuration") }
        guard case let .string(cls)? = conf["class_name"] else { throw fail("class_name", "expected a serialized QuantizerConfig") }
        guard cls == "QuantizerConfig" else {
            throw fail("class_name", "'\(cls)' is not supported (HardTanhConfig, HardSigmoidConfig: the stored config does not say their overflow mode and affine map; use QuantizerConfig)")
        }
        let c = conf["config"] ?? .null
        func str(_ k: String) -> String? { if case let .string(s)? = c[k] { return s }; return nil }
        func isNull(_ k: String) -> Bool { c[k] == nil || c[k] == .null }
        let qt = (str("q_type") ?? "").lowercased()
        guard let p = Parameters(rawValue: qt) else {
            throw fail("config.q_type", "'\(str("q_type") ?? "?")' is not supported: only the fixed-point quantizers kbi and kif (a float or dummy quantizer leaves values in floating point)")
        }
        for key in ["scaler", "affine"] where !isNull(key) {
            throw fail("config.\(key)", "\(JSONWriter.compact(c[key]!)) is not supported (only null: the quantizer's output must be its fixed-point value)")
        }
        if !isNull("bw_mapper") { throw fail("config.bw_mapper", "a custom bit-width mapper is not supported (only HGQ2's default broadcasting)") }
        var rm = (str("round_mode") ?? "").uppercased()
        if rm.hasPrefix("S_") { rm.removeFirst(2) }   // stochastic rounding only in training
        guard let rounding = RoundingMode(rawValue: rm) else {
            throw fail("config.round_mode", "'\(str("round_mode") ?? "?")' is not supported (TRN, RND, RND_CONV, TRN_ZERO, RND_ZERO, RND_MIN_INF, RND_INF, S_RND, S_RND_CONV)")
        }
        let om = (str("overflow_mode") ?? "").uppercased()
        guard let overflow = OverflowMode(rawValue: om), overflow != .SAT_ZERO else {
            throw fail("config.overflow_mode", "'\(str("overflow_mode") ?? "?")' is not supported (WRAP, SAT, SAT_SYM; HGQ2's WRAP_SM has no ap_fixed equivalent)")
        }
        func bool(_ k: String, _ d: Bool) throws -> Bool {
            switch c[k] {
            case nil, .null?: return d
            case let .bool(b)?: return b
            default: throw fail("config.\(k)", "expected true or false")
            }
        }
        let trainable = try bool("trainable", true), isWeight = try bool("is_weight", false)
        // Variables: trainable ones first, then the others, each in the order HGQ2 adds them.
        // KBI: k (fixed), b (trained), i (trained unless WRAP), i_decay_speed (WRAP);
        // KIF: k, i (trained unless WRAP), f (trained), i_decay_speed (WRAP).
        let wrap = overflow == .WRAP
        let order: [String]
        switch p {
        case .kbi: order = wrap ? ["b", "k", "i", "i_decay_speed"] : ["b", "i", "k"]
        case .kif: order = wrap ? ["f", "k", "i", "i_decay_speed"] : ["i", "f", "k"]
        }
        let f5 = weights.file
        guard f5.kind(group) == .group else {
            throw InputError(file: f5.path, field: group, message: "missing: the quantizer's bit widths (HGQ2 0.2's .keras layout)")
        }
        let members = try f5.members(group).compactMap { Int($0) }.sorted()
        guard members == Array(0..<order.count) else {
            throw InputError(file: f5.path, field: group, message: "expected \(order.count) variables (\(order.joined(separator: ", "))) for a \(p.rawValue) quantizer with overflow \(om), found \(members.count)")
        }
        var vals: [String: [Int]] = [:]
        let n = shape.reduce(1, *)
        for (idx, name) in order.enumerated() where name != "i_decay_speed" {
            let path = "\(group)/\(idx)"
            let a = try f5.array(path)
            if name == "k" && f5.elementKind(path) >= 0 {
                throw InputError(file: f5.path, field: path, message: "expected the integer keep_negative variable k here (HGQ2 0.2's variable order)")
            }
            guard let flat = broadcast(a, to: shape) else {
                throw InputError(file: f5.path, field: path, message: "shape (\(a.shape.map(String.init).joined(separator: ", "))) does not broadcast to the quantized tensor's (\(shape.map(String.init).joined(separator: ", ")))")
            }
            var ints: [Int] = []
            ints.reserveCapacity(n)
            for v in flat {
                // b, i, f are float32 variables rounded half to even (HGQ2's round_conv).
                let r = Double(Float(v)).rounded(.toNearestOrEven)
                guard r.isFinite, abs(r) <= 64 else {
                    throw InputError(file: f5.path, field: path, message: "\(name) = \(v) is out of the supported range [-64, 64]")
                }
                if name == "k", r != 0, r != 1 { throw InputError(file: f5.path, field: path, message: "keep_negative k = \(v): expected 0 or 1") }
                ints.append(Int(r))
            }
            vals[name] = ints
        }
        let kk = vals["k"]!, ii = vals["i"]!
        let ff = p == .kif ? vals["f"]! : zip(vals["b"]!, ii).map { $0 - $1 }
        for j in 0..<n where kk[j] + ii[j] + ff[j] > 64 {
            throw InputError(file: f5.path, field: group, message: "element \(j) has \(kk[j] + ii[j] + ff[j]) bits; at most 64 are supported")
        }
        return HGQ2Quantizer(parameters: p, rounding: rounding, overflow: overflow, trainable: trainable, isWeight: isWeight,
                             k: kk, i: ii, f: ff, field: confField)
    }

    /// numpy broadcasting of `a` to `shape` (flat, C order); nil when the shapes do not broadcast.
    static func broadcast(_ a: HDF5Array, to shape: [Int]) -> [Double]? {
        let s = a.shape
        guard s.count <= shape.count else {
            // Leading dimensions of 1 beyond the target's rank (e.g. (1, n) for a vector).
            let extra = s.count - shape.count
            guard s.prefix(extra).allSatisfy({ $0 == 1 }) else { return nil }
            return broadcast(HDF5Array(shape: Array(s.dropFirst(extra)), values: a.values), to: shape)
        }
        let src = Array(repeating: 1, count: shape.count - s.count) + s
        for (d, t) in zip(src, shape) where d != 1 && d != t { return nil }
        let n = shape.reduce(1, *)
        var out = [Double](repeating: 0, count: n)
        var srcStride = [Int](repeating: 0, count: shape.count)
        var acc = 1
        for d in (0..<shape.count).reversed() { srcStride[d] = src[d] == 1 ? 0 : acc; acc *= src[d] }
        guard a.values.count == acc else { return nil }
        for flat in 0..<n {
            var rest = flat, off = 0
            for d in (0..<shape.count).reversed() { off += (rest % shape[d]) * srcStride[d]; rest /= shape[d] }
            out[flat] = a.values[off]
        }
        return out
    }
}
