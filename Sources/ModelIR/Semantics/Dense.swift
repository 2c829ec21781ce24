// A dense layer's exact semantics: the plan (grids and exact value ranges of its terms, the basis
// of "auto" accumulator widths in both the golden model and the hardware lowering) and its
// evaluation on integer codes.
import FixedPoint

/// A closed integer interval of codes.
public struct CodeRange: Sendable, Equatable {
    public var lo: Int128
    public var hi: Int128
    public init(_ lo: Int128, _ hi: Int128) {
        precondition(lo <= hi)
        self.lo = lo
        self.hi = hi
    }

    public init(of type: FixedType) { self.init(type.minCode, type.maxCode) }

    /// Minimal two's-complement width holding every value (at least 1).
    public var signedWidth: Int {
        for w in 1...127 where lo >= -(Int128(1) << (w - 1)) && hi <= (Int128(1) << (w - 1)) - 1 { return w }
        return 128
    }

    /// Minimal unsigned width (requires lo >= 0).
    public var unsignedWidth: Int {
        precondition(lo >= 0)
        var w = 1
        while w < 127 && hi > (Int128(1) << w) - 1 { w += 1 }
        return w
    }
}

/// How a dense layer accumulates, derived once from the layer and its input type.
public struct DensePlan: Sendable {
    /// Fractional bits of a full-precision product x * w.
    public let productFrac: Int
    /// Fractional bits of the accumulator.
    public let accFrac: Int
    /// Left shift that aligns a full product (auto) to the accumulator.
    public let productShift: Int
    /// Left shift that aligns the bias code (auto) to the accumulator.
    public let biasShift: Int
    /// For an explicit accumulator: bias code already cast to accum_type, per output.
    public let accumType: FixedType?
    /// Exact range of each output's accumulator (auto) before the final cast.
    public let accRanges: [CodeRange]

    public enum PlanError: Error { case tooWide(String) }

    public init(dense d: Dense, inputType x: FixedType) throws {
        productFrac = x.fracBits + d.kernelType.fracBits
        accumType = d.accumType
        let xr = CodeRange(of: x)
        // Every full product must fit in a signed 128-bit value (64 x 64-bit signed does).
        let xMag = max(x.minCode.magnitude, x.maxCode.magnitude)
        let wMag = max(d.kernelType.minCode.magnitude, d.kernelType.maxCode.magnitude)
        let (pMag, over) = xMag.multipliedReportingOverflow(by: wMag)
        if over || pMag > UInt128(Int128.max) {
            throw PlanError.tooWide("a product of a \(x)-typed input and a \(d.kernelType) weight needs more than 128 bits")
        }
        if let a = d.accumType {
            accFrac = a.fracBits
            productShift = 0
            biasShift = 0
            accRanges = Array(repeating: CodeRange(of: a), count: d.units)
            return
        }
        accFrac = max(productFrac, d.biasType.fracBits)
        productShift = accFrac - productFrac
        biasShift = accFrac - d.biasType.fracBits
        if productShift > 120 || biasShift > 120 {
            throw PlanError.tooWide("the bias and product grids are \(max(productShift, biasShift)) bits apart; the exact accumulator would exceed 128 bits")
        }
        var ranges: [CodeRange] = []
        let limit = Int128(1) << 126
        for j in 0..<d.units {
            // Bound the sum of magnitudes first so nothing below can overflow Int128.
            var mag: Int128 = 0
            let bmag = d.bias[j].magnitude
            func addMag(_ m: UInt128, _ shift: Int) throws {
                guard m < UInt128(limit) >> shift, mag < limit - Int128(m << shift) else {
                    throw PlanError.tooWide("the exact accumulator of output \(j) would exceed 128 bits")
                }
                mag += Int128(m << shift)
            }
            try addMag(bmag, biasShift)
            var lo = d.bias[j] << biasShift
            var hi = lo
            for i in 0..<d.inputs {
                let w = d.kernel[i][j]
                if w == 0 { continue }
                let m = max(xr.lo.magnitude, xr.hi.magnitude) * w.magnitude
                try addMag(m, productShift)
                let a = (xr.lo * w) << productShift
                let b = (xr.hi * w) << productShift
                lo += min(a, b)
                hi += max(a, b)
            }
            ranges.append(CodeRange(lo, hi))
        }
        accRanges = ranges
    }
}

extension Dense {
    /// The one definition of the layer on input codes: acc = bias + sum x*w; auto: exact; explicit
    /// accum: products and bias cast to it, the sum wraps. Output codes of `outputType`.
    public func evaluate(plan p: DensePlan, x: [Int128], outputType: FixedType) -> [Int128] {
        var y = [Int128](repeating: 0, count: units)
        if let a = p.accumType {
            for j in 0..<units {
                var acc = a.cast(code: bias[j], frac: biasType.fracBits)
                for i in 0..<inputs {
                    let w = kernel[i][j]
                    if w == 0 { continue }
                    acc = acc &+ a.cast(code: x[i] * w, frac: p.productFrac)
                }
                acc = a.wrapCode(acc)
                y[j] = outputType.cast(code: acc, frac: a.fracBits)
            }
        } else {
            for j in 0..<units {
                var acc = bias[j] << p.biasShift
                for i in 0..<inputs {
                    let w = kernel[i][j]
                    if w == 0 { continue }
                    acc += (x[i] * w) << p.productShift
                }
                y[j] = outputType.cast(code: acc, frac: p.accFrac)
            }
        }
        return y
    }
}
