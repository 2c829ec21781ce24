// Reading a NumPy `.npy` array (as numpy.save writes it): format versions 1.0, 2.0 and 3.0, a
// 2-D array in C order (or 1-D for a model with one input), of float32 / float64 or 8..64-bit
// signed or unsigned integers, either byte order. Every value is taken exactly as the binary
// number it is and quantized to the input type with its rounding and overflow modes (the same
// conversion as ap_fixed's constructor from double). NaN and infinities are rejected.
import Foundation
import BigInt
import FixedPoint
import ModelIR

enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    static func isNPY(_ data: Data) -> Bool { data.starts(with: magic) }

    enum Kind { case float, signed, unsigned }

    struct Header {
        var kind: Kind
        var itemSize: Int
        var bigEndian: Bool
        var fortran: Bool
        var shape: [Int]
        var dataOffset: Int
    }

    static func header(_ b: [UInt8], file: String) throws -> Header {
        func fail(_ field: String, _ m: String) -> InputError { InputError(file: file, field: field, message: m) }
        guard b.count >= 10 else { throw fail("header", "truncated .npy file (no header)") }
        let major = b[6]
        let lenBytes: Int
        switch major {
        case 1: lenBytes = 2
        case 2, 3: lenBytes = 4
        default: throw fail("header", ".npy format version \(major).\(b[7]) is not supported (1.0, 2.0, 3.0)")
        }
        guard b.count >= 8 + lenBytes else { throw fail("header", "truncated .npy file (no header)") }
        var hlen = 0
        for k in 0..<lenBytes { hlen |= Int(b[8 + k]) << (8 * k) }
        let start = 8 + lenBytes
        guard hlen <= b.count - start else { throw fail("header", "truncated .npy file (header of \(hlen) bytes)") }
        let text = String(decoding: b[start..<(start + hlen)], as: UTF8.self)
        // For messages: printable ASCII only, at most 100 characters.
        let shown = String(String(text.unicodeScalars.map { $0.isASCII && $0.value >= 32 && $0.value < 127 ? Character($0) : "?" })
            .trimmingCharacters(in: .whitespaces).prefix(100))
        guard let descr = dictValue(text, key: "descr"), let fortranText = dictValue(text, key: "fortran_order"),
              let shapeText = dictValue(text, key: "shape") else {
            throw fail("header", "malformed .npy header (expected 'descr', 'fortran_order' and 'shape'): \(shown)")
        }
        let d = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        guard d.count >= 3, d.count < 16, let size = Int(d.dropFirst(2)) else { throw fail("descr", "unsupported dtype in \(shown)") }
        let order = d.first!
        let code = d[d.index(after: d.startIndex)]
        let kind: Kind
        switch (code, size) {
        case ("f", 4), ("f", 8): kind = .float
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .signed
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8): kind = .unsigned
        default:
            throw fail("descr", "unsupported dtype in \(shown) (supported: float32, float64, int8..int64, uint8..uint64)")
        }
        guard order == "<" || order == ">" || order == "|" || order == "=" else { throw fail("descr", "unsupported dtype in \(shown)") }
        let fortran = fortranText == "True"
        guard fortranText == "True" || fortranText == "False" else { throw fail("fortran_order", "expected True or False") }
        let inner = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else { throw fail("shape", "malformed shape in \(shown)") }
            shape.append(v)
        }
        return Header(kind: kind, itemSize: size, bigEndian: order == ">", fortran: fortran, shape: shape, dataOffset: start + hlen)
    }

    /// The text of `'key': value` in numpy's header dict (value: a quoted string, a word, or a tuple).
    static func dictValue(_ text: String, key: String) -> String? {
        guard let r = text.range(of: "'\(key)':") ?? text.range(of: "\"\(key)\":") else { return nil }
        let rest = text[r.upperBound...].drop { $0 == " " }
        guard let c = rest.first else { return nil }
        if c == "(" {
            guard let e = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...e])
        }
        if c == "'" || c == "\"" {
            guard let e = rest.dropFirst().firstIndex(of: c) else { return nil }
            return String(rest[...e])
        }
        let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
        return rest[..<end].trimmingCharacters(in: .whitespaces)
    }

    static func samples(_ data: Data, file: String, size: Int, type: FixedType, scale: InputScale? = nil) throws -> [[Int128]] {
        let b = [UInt8](data)
        let h = try header(b, file: file)
        let rows: Int
        let cols: Int
        switch h.shape.count {
        case 2: (rows, cols) = (h.shape[0], h.shape[1])
        case 1 where size == 1: (rows, cols) = (h.shape[0], 1)
        default:
            throw InputError(file: file, field: "shape", message: "expected a 2-D array (samples x \(size) inputs), found shape (\(h.shape.map(String.init).joined(separator: ", ")))")
        }
        guard cols == size else {
            throw InputError(file: file, field: "shape", message: "expected \(size) columns (the model's inputs), found \(cols)")
        }
        if h.fortran && rows > 1 && cols > 1 {
            throw InputError(file: file, field: "fortran_order", message: "a Fortran-order array is not supported; save np.ascontiguousarray(x)")
        }
        let (count, o1) = rows.multipliedReportingOverflow(by: cols)
        let (bytes, o2) = count.multipliedReportingOverflow(by: h.itemSize)
        guard !o1, !o2, bytes <= b.count - h.dataOffset else {
            throw InputError(file: file, field: "data", message: "truncated .npy file: \(rows) x \(cols) values of \(h.itemSize) bytes need \(rows &* cols &* h.itemSize) bytes, found \(b.count - h.dataOffset)")
        }
        var out: [[Int128]] = []
        out.reserveCapacity(rows)
        var p = h.dataOffset
        for r in 0..<rows {
            var row: [Int128] = []
            row.reserveCapacity(cols)
            for c in 0..<cols {
                var u: UInt64 = 0
                for k in 0..<h.itemSize {
                    let byte = UInt64(b[p + (h.bigEndian ? h.itemSize - 1 - k : k)])
                    u |= byte << (8 * UInt64(k))
                }
                p += h.itemSize
                switch h.kind {
                case .float:
                    let d = h.itemSize == 4 ? Double(Float(bitPattern: UInt32(truncatingIfNeeded: u))) : Double(bitPattern: u)
                    guard d.isFinite else {
                        throw InputError(file: file, field: "sample \(r + 1), column \(c + 1)", message: "\(d) is not a finite number")
                    }
                    row.append(scale.map { $0.quantize(double: d, to: type) } ?? type.quantize(double: d))
                case .signed:
                    let shift = UInt64(64 - 8 * h.itemSize)
                    let v = Int64(bitPattern: u << shift) >> shift
                    row.append(scale.map { $0.quantize(numerator: BigInt(v), denominator: 1, to: type) } ?? type.quantize(numerator: BigInt(v), denominator: 1))
                case .unsigned:
                    row.append(scale.map { $0.quantize(numerator: BigInt(u), denominator: 1, to: type) } ?? type.quantize(numerator: BigInt(u), denominator: 1))
                }
            }
            out.append(row)
        }
        return out
    }
}
