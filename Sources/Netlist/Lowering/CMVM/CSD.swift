// Canonical signed digits: the recoding of a constant with the fewest nonzero digits in {-1, 0, +1}
// (no two adjacent nonzero digits), the starting point of multiplierless constant arithmetic.

public enum CSD {
    /// The nonzero digits of `v`, least significant first: (position, negative).
    /// Sum of (negative ? -1 : 1) << position over the digits equals v.
    public static func digits(_ v: Int128) -> [(shift: Int, negative: Bool)] {
        var out: [(Int, Bool)] = []
        // Work on the magnitude and flip the signs for a negative v (CSD(-v) = -CSD(v)).
        var x = v.magnitude
        let flip = v < 0
        var k = 0
        while x != 0 {
            if x & 1 == 1 {
                // x mod 4 == 3: digit -1 (x becomes x + 1); == 1: digit +1 (x becomes x - 1).
                if x & 3 == 3 {
                    out.append((k, !flip))
                    x += 1
                } else {
                    out.append((k, flip))
                    x -= 1
                }
            }
            x >>= 1
            k += 1
        }
        return out
    }

    /// The digits a CMVM starts from: plain binary (all digits of v's sign) when it has no more
    /// nonzero digits than CSD, CSD otherwise. Of two forms with equally many digits, binary's
    /// top digit is lower (3 = 2 + 1, not 4 - 1), so its terms are narrower and never negative
    /// inside a positive weight; measured in docs/benchmarks.md ("LUT reduction steps").
    public static func minimalDigits(_ v: Int128) -> [(shift: Int, negative: Bool)] {
        let c = digits(v)
        let m = v.magnitude
        guard m.nonzeroBitCount <= c.count else { return c }
        var out: [(Int, Bool)] = []
        for k in 0..<(128 - m.leadingZeroBitCount) where (m >> k) & 1 == 1 { out.append((k, v < 0)) }
        return out
    }
}
