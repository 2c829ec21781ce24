// Binary and ternary dense layers through the multiplierless CMVM (the lowering of dense
// shift-add layers, DenseShiftAdd.swift): the layer's -1/0/+1 matrix (BinaryPartialSums) is
// solved once for the whole layer, so a partial sum x_a +- x_b that several neurons need is one
// adder, read by all of them; each neuron then sums its few remaining terms with the emitter's
// earliest-ready tree (registered where the delay model says). Over bipolar inputs the matrix
// acts on the raw bits and each neuron's sum is doubled (a wire shift) and offset by a constant
// that joins the tree: 2 * sum(w c) - sum(w), exactly the XNOR-popcount 2 * popcount - n.
import BigInt
import FixedPoint
import ModelIR

extension LayerLowering {
    /// Whether a binary/ternary dense layer goes through the shared shift-add CMVM under `style`
    /// (`dsp` keeps the per-neuron adder trees and popcounts of lowerBinaryDense).
    static func usesBinaryShiftAdd(_ d: BinaryDense, inputType: FixedType, style: MultiplierStyle) -> Bool {
        if style == .dsp || d.inputs == 0 || d.units == 0 { return false }
        // The solver's pair counting grows with units x inputs^2: beyond 65,536 nonzero weights
        // (a 256 x 256 layer takes about 5 s) the per-neuron lowering keeps generation fast
        // (512 x 512: 3 s instead of about 60 s).
        if d.kernel.reduce(0, { $0 + $1.filter { $0 != 0 }.count }) > maxSharedBinaryWeights { return false }
        // The exact linear forms are Int128: keep every sum below 2^100.
        func bits(_ m: UInt128) -> Int { 128 - m.leadingZeroBitCount }
        let xBits = inputType.isBipolar ? 1 : bits(max(inputType.minCode.magnitude, inputType.maxCode.magnitude))
        return xBits + bits(UInt128(d.inputs + 1)) + 1 <= 100
    }

    /// The largest binary/ternary layer (nonzero weights) whose partial sums are shared.
    static let maxSharedBinaryWeights = 65_536

    static func lowerBinaryDenseShiftAdd(_ d: BinaryDense, f: LayerFrame, outputType: FixedType) -> [SignalID] {
        let b = f.b
        let p = f.prefix
        let bits = f.inputBits
        let ps = BinaryPartialSums(d, bipolarInputs: bits != nil)
        let n = d.inputs
        // The CMVM inputs: the signed input codes, or each bipolar bit as the signed {0, c}.
        let xs: [Val]
        if let bits {
            let zero = b.bitConst(false, name: "\(p)_zero_bit")
            xs = bits.enumerated().map { i, c in
                let u = b.emit("\(p)_in_\(i)_b", width: 2, repr: .unsigned, .concat([zero, c]))
                return Val(sig: b.emit("\(p)_in_\(i)_c", width: 2, repr: .signed, .copy(u)), frac: 0, range: CodeRange(0, 1))
            }
        } else {
            xs = (0..<n).map { f.signedInput($0) }
        }
        let frac = bits == nil ? (f.inputs.first?.frac ?? 0) : 0
        let ranges = xs.map { $0.range }
        var em = ShiftAddEmitter(f: f, inputRanges: ranges)
        em.foldSignExtension = true
        let inputs = (0..<n).map { i -> LinearVal in
            var c = [Int128](repeating: 0, count: n)
            c[i] = 1
            return LinearVal(sig: xs[i].sig, coeffs: c, offset: 0)
        }
        let widths = xs.map { b.module[$0.sig].width }
        let plain = f.solve(matrix: ps.rows, inputWidths: widths, share: false)
        // Fixed-point inputs: the deepest sharing whose adder depth (shared nodes + each neuron's
        // tree) is no more than the plain per-neuron trees', so that sharing costs no pipeline
        // stage (keras_bnn's fc1: 16 inputs of 16 bits stay in one stage; full sharing took two).
        // Bipolar inputs: full sharing (the node depth capped as for dense layers); their adders
        // are a few bits wide and the deeper trees cost no stage there (measured on keras_bnn:
        // fewer LUTs and flip-flops than the depth-limited choice).
        var prog = f.solve(matrix: ps.rows, inputWidths: widths, maxDepth: ps.depthCap)
        if bits == nil {
            let target = ps.adderDepths(plain).max() ?? 0
            prog = plain
            for cap in stride(from: ps.depthCap, through: 1, by: -1) {
                let q = f.solve(matrix: ps.rows, inputWidths: widths, maxDepth: cap)
                if (ps.adderDepths(q).max() ?? 0) <= target { prog = q; break }
            }
        }
        let digits = plain.outputs.map { $0.count }.reduce(0, +)
        let over = bits == nil ? "the input codes" : "the input bits (y = 2 * sum - row sum: XNOR-popcount)"
        f.m.header.append("binary weights: shift-add over \(over), \(digits) nonzero weights, \(prog.nodes.count) partial sum(s) shared across the neurons")
        f.details.append(("shift_add_shared_nodes", prog.nodes.count))
        f.details.append(("adder_depth", ps.adderDepths(prog).max() ?? 0))
        let vals = em.emitNodes(prog, inputs: inputs, name: p)
        var ys: [SignalID] = []
        for j in 0..<d.units {
            let nn = "\(p)_n\(j)"
            let terms = prog.outputs[j].map {
                ShiftAddEmitter.Term(v: vals[$0.node], shift: $0.shift + ps.termShift, negative: $0.negative)
            }
            let k = ps.offsets[j]
            var sum: Val
            if terms.isEmpty {
                let c = b.const("\(nn)_zero", 0, width: 1, repr: .signed, comment: "no nonzero weight")
                sum = Val(sig: c, frac: frac, range: CodeRange(0, 0))
            } else {
                let comment = "minus the row sum (2 * popcount - n)"
                let v = em.sumEndingEarlier(terms, name: nn, constant: k, constName: "\(nn)_k", constComment: comment,
                                            foldedComment: comment + ", less the terms' sign-extension offsets")
                sum = Val(sig: v.sig, frac: frac, range: v.range(ranges))
            }
            sum.sig = b.emit("\(nn)_acc", width: b.module[sum.sig].width, repr: .signed, .copy(sum.sig))
            ys.append(b.cast(sum, to: outputType, name: "\(nn)_y").sig)
        }
        return ys
    }
}
