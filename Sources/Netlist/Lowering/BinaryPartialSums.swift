// Partial-sum sharing for binary and ternary dense layers: the layer as an integer constant
// matrix of -1/0/+1 over the input codes, so that the CMVM solver (CMVM/CMVMSolver.swift) can
// compute x_a +- x_b once and let every neuron that needs it read it.
//
//   fixed-point inputs  y_j = sum_i w_ij x_i: the matrix is W itself (rows = neurons).
//   bipolar inputs      the stored bit c_i is 1 for +1, 0 for -1, so x_i = 2 c_i - 1 and
//                       y_j = 2 sum_i w_ij c_i - sum_i w_ij: the same matrix over the raw bits,
//                       the sum shifted left by one and a constant (minus the row sum) added.
//                       This is exactly hls4ml's 2 * popcount(xnor(x, w)) - n, with n the
//                       inputs whose weight is nonzero.
import ModelIR

/// A binary/ternary dense layer as a CMVM problem over its input codes.
struct BinaryPartialSums: Equatable {
    /// rows[j][i] = kernel[i][j] (one row per neuron, one column per input), entries -1/0/+1.
    let rows: [[Int128]]
    /// Whether the columns are the raw bits of bipolar inputs (y = 2 * row . c + offsets[j]).
    let overBits: Bool
    /// The constant each neuron adds after the shift: -(row sum) over raw bits, else 0.
    let offsets: [Int128]

    init(_ d: BinaryDense, bipolarInputs: Bool) {
        let rows = (0..<d.units).map { j in (0..<d.inputs).map { Int128(d.kernel[$0][j]) } }
        self.rows = rows
        overBits = bipolarInputs
        offsets = rows.map { bipolarInputs ? -$0.reduce(0, +) : 0 }
    }

    /// The left shift of each neuron's sum of matrix terms (2 * sum over bits).
    var termShift: Int { overBits ? 1 : 0 }

    /// The neuron's exact accumulator for input codes x (bits 0/1 when overBits): the check
    /// that the rewriting is exact (the golden model sums +-x over the decoded +-1 values).
    func accumulate(_ x: [Int128], neuron j: Int) -> Int128 {
        var s: Int128 = 0
        for (i, w) in rows[j].enumerated() { s += w * x[i] }
        return (s << termShift) + offsets[j]
    }

    /// The largest number of nonzero weights of a neuron (its terms before any sharing).
    var maxTerms: Int { rows.map { $0.filter { $0 != 0 }.count }.max() ?? 0 }

    /// The depth bound for shared nodes: a balanced tree over the widest neuron's terms.
    var depthCap: Int {
        var l = 0
        while (1 << l) < max(maxTerms, 1) { l += 1 }
        return max(l, 2)
    }

    /// Adder levels from the inputs to each neuron's accumulator for a solved program: node
    /// depths, then the neuron's terms and its constant, if any (CMVMProgram.adderDepths).
    func adderDepths(_ p: CMVMProgram) -> [Int] {
        p.adderDepths(extraTerm: { offsets[$0] != 0 })
    }
}
