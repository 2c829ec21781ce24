// A read-only HDF5 file, read through the HDF5 C library in a child process (CHDF5/shim.h):
// the child walks the whole file (groups, numeric datasets read as Double, string attributes)
// and sends it over a pipe; this process decodes that stream and answers every question from
// it. A damaged file that makes libhdf5 fault, abort or loop kills or stalls only the child:
// the answer is one InputError ("damaged HDF5 file"), exit status 2 in the CLI.
import CHDF5
import Foundation
import ModelIR

/// One numeric dataset: its shape and values in C order.
public struct HDF5Array: Sendable {
    public let shape: [Int]
    public let values: [Double]
    /// Stored as float64 (numpy then computes in float64; float32 data in float32).
    public var isFloat64 = false
}

public final class HDF5File {
    /// Seconds the child may take to read a file before the file counts as damaged (exit 2).
    nonisolated(unsafe) public static var guardSeconds: UInt32 = 30

    public let path: String

    enum Dataset {
        /// elementKind: 4 float32, 8 float64, -N an N-byte integer, 0 other.
        case numeric(shape: [Int], values: [Double], elementKind: Int)
        case tooLarge(shape: [Int], elementKind: Int)
        case unreadable(elementKind: Int)
        case notNumeric(elementKind: Int)
    }
    enum Attribute { case strings([String]), notStrings }

    private var groups: [String: [String]] = [:]
    private var datasets: [String: Dataset] = [:]
    private var others = Set<String>()
    private var attributes: [String: [String: Attribute]] = [:]

    /// Reads a file on disk.
    public init(path: String) throws {
        self.path = path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw InputError(file: path, field: "", message: "cannot read the file")
        }
        try read { rtlgen_h5_snapshot(path, nil, 0, Self.guardSeconds, &$0, &$1) }
    }

    /// Reads an HDF5 file image held in memory (named `name` in messages).
    public init(image data: Data, name: String) throws {
        path = name
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 16)
        defer { buf.deallocate() }
        data.copyBytes(to: buf)
        try read { rtlgen_h5_snapshot(nil, buf.baseAddress, data.count, Self.guardSeconds, &$0, &$1) }
    }

    private func read(_ snapshot: (inout UnsafeMutablePointer<UInt8>?, inout Int) -> Int32) throws {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var len = 0
        let r = snapshot(&out, &len)
        defer { free(out) }
        switch r {
        case 0:
            guard let out, decode(UnsafeBufferPointer(start: out, count: len)) else { fallthrough }
        case -1:
            throw InputError(file: path, field: "", message: "damaged HDF5 file (the HDF5 library failed or did not finish reading it)")
        case 1:
            throw InputError(file: path, field: "", message: "not a readable HDF5 file (truncated or damaged?)")
        case 3:
            throw InputError(file: path, field: "", message: "too large or too deeply nested for a Keras weights file (more than \(1 << 28) bytes or 100,000 objects)")
        default:
            throw InputError(file: path, field: "", message: "cannot start a process to read the HDF5 file")
        }
    }

    /// Decodes the child's record stream; false when it is malformed.
    private func decode(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        func u64() -> UInt64? {
            guard b.count - i >= 8 else { return nil }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(b[i + k]) << (8 * UInt64(k)) }
            i += 8
            return v
        }
        func i64() -> Int? { u64().map { Int(Int64(bitPattern: $0)) } }
        func bytes() -> UnsafeBufferPointer<UInt8>? {
            guard let n = u64(), n <= UInt64(b.count - i) else { return nil }
            defer { i += Int(n) }
            return UnsafeBufferPointer(rebasing: b[i..<(i + Int(n))])
        }
        func str() -> String? { bytes().map { String(decoding: $0, as: UTF8.self) } }
        while i < b.count {
            let tag = b[i]
            i += 1
            guard let p = str() else { return false }
            switch tag {
            case UInt8(ascii: "G"):
                guard let n = u64(), n <= UInt64(b.count) else { return false }
                var m: [String] = []
                for _ in 0..<n { guard let s = str() else { return false }; m.append(s) }
                groups[p] = m
            case UInt8(ascii: "O"):
                others.insert(p)
            case UInt8(ascii: "D"):
                guard let kind = i64(), let rank = i64(), rank >= -2, rank <= 8 else { return false }
                var shape: [Int] = []
                for _ in 0..<max(rank, 0) { guard let d = u64() else { return false }; shape.append(Int(clamping: d)) }
                guard let status = i64() else { return false }
                if rank < 0 { datasets[p] = .notNumeric(elementKind: kind); continue }
                switch status {
                case 0:
                    var count = 1
                    for d in shape {
                        let (c, o) = count.multipliedReportingOverflow(by: d)
                        guard !o, c <= 1 << 24 else { return false }
                        count = c
                    }
                    guard b.count - i >= count * 8 else { return false }
                    let values = (0..<count).map { k -> Double in
                        var v: UInt64 = 0
                        for j in 0..<8 { v |= UInt64(b[i + 8 * k + j]) << (8 * UInt64(j)) }
                        return Double(bitPattern: v)
                    }
                    i += count * 8
                    datasets[p] = .numeric(shape: shape, values: values, elementKind: kind)
                case 1: datasets[p] = .tooLarge(shape: shape, elementKind: kind)
                default: datasets[p] = .unreadable(elementKind: kind)
                }
            case UInt8(ascii: "A"):
                guard let name = str(), let n = i64(), let raw = bytes() else { return false }
                let a: Attribute
                if n < 0 { a = .notStrings } else {
                    a = .strings(Array(raw.split(separator: 0, omittingEmptySubsequences: false).prefix(n).map { String(decoding: $0, as: UTF8.self) }))
                }
                attributes[p, default: [:]][name] = a
            default:
                return false
            }
        }
        return groups["."] != nil
    }

    /// "a//b/", "/a/b", "./a/b" -> "a/b"; "" and "/" -> ".".
    static func normalize(_ p: String) -> String {
        let parts = p.split(separator: "/").filter { $0 != "." }
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    public enum Kind { case group, dataset, other, missing }

    public func kind(_ p: String) -> Kind {
        let k = Self.normalize(p)
        if groups[k] != nil { return .group }
        if datasets[k] != nil { return .dataset }
        return others.contains(k) ? .other : .missing
    }

    /// Names of the members of the group at `p` (sorted by name, as HDF5 indexes them).
    public func members(_ p: String) throws -> [String] {
        guard let m = groups[Self.normalize(p)] else { throw InputError(file: path, field: p, message: "missing group") }
        return m
    }

    /// A string attribute (scalar or array); nil when absent. An empty attribute of any type is [].
    public func stringAttribute(_ p: String, _ name: String) throws -> [String]? {
        guard let a = attributes[Self.normalize(p)]?[name] else { return nil }
        switch a {
        case let .strings(s): return s
        case .notStrings:
            throw InputError(file: path, field: "\(p == "." ? "" : p + " ")attribute \(name)", message: "not a string attribute (damaged file?)")
        }
    }

    /// The numeric dataset at `p`.
    public func array(_ p: String) throws -> HDF5Array {
        guard let d = datasets[Self.normalize(p)] else { throw InputError(file: path, field: p, message: "missing dataset") }
        switch d {
        case .notNumeric: throw InputError(file: path, field: p, message: "not a numeric dataset")
        case let .tooLarge(shape, _): throw InputError(file: path, field: p, message: "dataset too large (shape \(shape))")
        case .unreadable: throw InputError(file: path, field: p, message: "cannot read the dataset (truncated or damaged file?)")
        case let .numeric(shape, values, kind):
            guard values.allSatisfy({ $0.isFinite }) else {
                throw InputError(file: path, field: p, message: "holds a value that is not a finite number")
            }
            return HDF5Array(shape: shape, values: values, isFloat64: kind == 8)
        }
    }

    /// 4: float32, 8: float64, -N: an N-byte integer, 0: other (or not a dataset).
    public func elementKind(_ p: String) -> Int {
        switch datasets[Self.normalize(p)] {
        case let .numeric(_, _, k)?, let .tooLarge(_, k)?, let .unreadable(k)?, let .notNumeric(k)?: return k
        case nil: return 0
        }
    }
}
