// Draws shared by the random layer generators (softmax, activations): integers below n and
// fixed-point types with random rounding and overflow modes.
import FixedPoint

struct RandomDraw {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// A number in 0..<n.
    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

    /// fixed<W,I,Q,O> or ufixed<W,I,Q,O> with W in `w`, I in `i`, random modes; signed two times
    /// in three unless `signed` is given.
    mutating func fixedType(w: ClosedRange<Int>, i: ClosedRange<Int>, signed: Bool? = nil) -> FixedType {
        let s = signed ?? (int(3) != 0)
        let width = w.lowerBound + int(w.count)
        let integer = i.lowerBound + int(i.count)
        let q = RoundingMode.allCases[int(RoundingMode.allCases.count)]
        let o = OverflowMode.allCases[int(OverflowMode.allCases.count)]
        return FixedType(signed: s, width: width, intBits: integer, rounding: q, overflow: o)
    }
}
