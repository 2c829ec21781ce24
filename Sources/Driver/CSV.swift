// CSV input and output: one sample per line, decimals, no header; blank and '#' lines skipped.
import Foundation
import FixedPoint
import ModelIR

public enum CSV {
    /// Reads samples and quantizes them to `type`. Throws InputError naming the line and column.
    public static func readSamples(path: String, size: Int, type: FixedType) throws -> [[Int128]] {
        let text = try readInputText(path: path)
        var out: [[Int128]] = []
        var lineNo = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == size else {
                throw InputError(file: path, field: "line \(lineNo)", message: "expected \(size) values, found \(cells.count)")
            }
            var row: [Int128] = []
            row.reserveCapacity(size)
            for (c, cell) in cells.enumerated() {
                let t = cell.trimmingCharacters(in: .whitespaces)
                do { row.append(try type.quantize(decimal: t)) } catch let e as DecimalParseError {
                    throw InputError(file: path, field: "line \(lineNo), column \(c + 1)", message: e.description)
                }
            }
            out.append(row)
        }
        return out
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
