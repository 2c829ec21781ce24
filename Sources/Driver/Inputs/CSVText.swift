// Reading CSV input text as common tools write it: `\n` or `\r\n` line ends, an optional UTF-8
// byte-order mark, blank and `#` lines skipped, and an optional first line of column names (a
// header, as pandas' `to_csv` writes it), detected because every cell is a name, not a number.
// Cells may be wrapped in double quotes. Each number is read exactly as decimal text.
import Foundation
import FixedPoint
import ModelIR

enum CSVText {
    /// One non-skipped line: its 1-based line number and its cells (trimmed, quotes removed).
    struct Line {
        let number: Int
        let cells: [String]
    }

    /// Splits UTF-8 bytes into lines (on `\n`, dropping a trailing `\r`), skipping blank and
    /// `#` lines. A byte-order mark at the very start is ignored.
    static func lines(_ data: Data, file: String) throws -> [Line] {
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw InputError(file: file, field: "", message: "not UTF-8 text (a NumPy array must be a .npy file written by numpy.save)")
        }
        var out: [Line] = []
        var lineNo = 0
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            lineNo += 1
            if let cells = cells(bytes[start..<end]) { out.append(Line(number: lineNo, cells: cells)) }
            if end == bytes.count { break }
            start = end + 1
        }
        return out
    }

    /// The cells of one line's bytes (without its `\n`; a trailing `\r` is dropped), or nil for
    /// a skipped (blank or `#`) line.
    static func cells(_ line: ArraySlice<UInt8>) -> [String]? {
        var stop = line.endIndex
        if stop > line.startIndex && line[stop - 1] == 0x0D { stop -= 1 }
        let text = String(decoding: line[line.startIndex..<stop], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        if text.isEmpty || text.hasPrefix("#") { return nil }
        return text.split(separator: ",", omittingEmptySubsequences: false).map { unquote($0) }
    }

    static func unquote(_ cell: Substring) -> String {
        let t = cell.trimmingCharacters(in: .whitespaces)
        if t.count >= 2 && t.hasPrefix("\"") && t.hasSuffix("\"") {
            return String(t.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
        }
        return t
    }

    /// A first line is a header when none of its cells is a number and none is empty (names
    /// only: pandas writes its column names so); a line mixing numbers and other text is data,
    /// and its bad cell is reported.
    static func isHeader(_ line: Line) -> Bool {
        line.cells.allSatisfy { !$0.isEmpty && (try? ExactDecimal(parsing: $0)) == nil }
    }

    /// Samples quantized to `type`; `notice` hears about a skipped header (once).
    static func samples(_ data: Data, file: String, size: Int, type: FixedType, scale: InputScale? = nil,
                        notice: (String) -> Void) throws -> [[Int128]] {
        var ls = try lines(data, file: file)
        if let first = ls.first, try skipHeader(first, file: file, size: size, notice: notice) { ls.removeFirst() }
        var out: [[Int128]] = []
        out.reserveCapacity(ls.count)
        for l in ls { out.append(try row(l, file: file, size: size, type: type, scale: scale)) }
        return out
    }

    /// Whether the first non-skipped line is a header (checked against `size`, told to `notice`).
    static func skipHeader(_ first: Line, file: String, size: Int, notice: (String) -> Void) throws -> Bool {
        guard isHeader(first) else { return false }
        guard first.cells.count == size else {
            throw InputError(file: file, field: "line \(first.number)", message: "a header of \(first.cells.count) names, but the model takes \(size) inputs per sample")
        }
        let shown = first.cells.prefix(4).joined(separator: ",") + (first.cells.count > 4 ? ",..." : "")
        notice("\(file): line \(first.number) is a header of column names (\(shown)); skipped")
        return true
    }

    /// One data line's codes: `size` cells, each quantized exactly.
    static func row(_ l: Line, file: String, size: Int, type: FixedType, scale: InputScale? = nil) throws -> [Int128] {
        guard l.cells.count == size else {
            throw InputError(file: file, field: "line \(l.number)", message: "expected \(size) values, found \(l.cells.count)")
        }
        var row: [Int128] = []
        row.reserveCapacity(size)
        for (c, cell) in l.cells.enumerated() {
            do {
                if let s = scale {
                    let e = try ExactDecimal(parsing: cell)
                    row.append(s.quantize(numerator: e.numerator, denominator: e.denominator, to: type))
                } else {
                    row.append(try type.quantize(decimal: cell))
                }
            } catch let e as DecimalParseError {
                throw InputError(file: file, field: "line \(l.number), column \(c + 1)", message: e.description)
            }
        }
        return row
    }
}
