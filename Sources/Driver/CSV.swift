// CSV input and output: one sample per line, decimals; the input reader (Inputs/) also takes
// \r\n line ends, a byte-order mark, a header row, and NumPy .npy arrays.
import Foundation
import FixedPoint
import ModelIR

public enum CSV {
    /// Reads samples (CSV text or a NumPy .npy array, told apart by the .npy magic bytes) and
    /// quantizes them to `type`. Throws InputError naming the line and column (CSV) or the
    /// sample and column (.npy). A skipped CSV header is said once on stderr.
    public static func readSamples(path: String, size: Int, type: FixedType, scale: InputScale? = nil) throws -> [[Int128]] {
        try InputData.read(path: path, size: size, type: type, scale: scale) { note in
            FileHandle.standardError.write(Data(("rtlgen: " + note + "\n").utf8))
        }
    }

    /// Exact decimals of output codes, one sample per line.
    public static func format(_ rows: [[Int128]], type: FixedType) -> String {
        var s = ""
        for r in rows {
            s += r.map { type.decimalString($0) }.joined(separator: ",")
            s += "\n"
        }
        return s
    }
}
