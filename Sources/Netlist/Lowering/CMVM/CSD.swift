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
}
