// A read-only HDF5 file through the HDF5 C library (CHDF5): group members, string attributes
// and numeric datasets read as Double (float32/float64 convert exactly). Every failure is an
// InputError naming the file and the object path; HDF5's own error printing is silenced.
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
    /// Seconds one HDF5 library call may take before the file is declared damaged (exit 2).
    nonisolated(unsafe) public static var guardSeconds: UInt32 = 30

    /// Runs `body` (HDF5 library calls on this file) under the fault/timeout guard (CHDF5 shim.h).
    func guarded<T>(_ body: () -> T) -> T {
        rtlgen_h5_guard_begin(path, Self.guardSeconds)
        defer { rtlgen_h5_guard_end() }
        return body()
    }

    public let path: String
    let id: hid_t
    /// Keeps an in-memory image alive while the file is open.
    private var image: UnsafeMutableRawBufferPointer?

    /// Opens a file on disk.
    public init(path: String) throws {
        rtlgen_h5_quiet()
        self.path = path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw InputError(file: path, field: "", message: "cannot read the file")
        }
        rtlgen_h5_guard_begin(path, Self.guardSeconds)
        let f = rtlgen_h5_open(path)
        rtlgen_h5_guard_end()
        guard f >= 0 else { throw InputError(file: path, field: "", message: "not a readable HDF5 file (truncated or damaged?)") }
        id = f
    }

    /// Opens an HDF5 file image held in memory (named `name` in messages).
    public init(image data: Data, name: String) throws {
        rtlgen_h5_quiet()
        path = name
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 16)
        data.copyBytes(to: buf)
        rtlgen_h5_guard_begin(name, Self.guardSeconds)
        let f = rtlgen_h5_open_image(buf.baseAddress, data.count)
        rtlgen_h5_guard_end()
        guard f >= 0 else {
            buf.deallocate()
            throw InputError(file: name, field: "", message: "not a readable HDF5 file (truncated or damaged?)")
        }
        image = buf
        id = f
    }

    deinit {
        guarded { rtlgen_h5_close_file(id) }
        image?.deallocate()
    }

    public enum Kind { case group, dataset, other, missing }

    public func kind(_ p: String) -> Kind {
        switch guarded({ rtlgen_h5_kind(id, p) }) {
        case 2: return .group
        case 1: return .dataset
        case 0: return .other
        default: return .missing
        }
    }

    private static func strings(_ buf: UnsafeMutablePointer<CChar>?, _ len: Int, _ n: Int) -> [String] {
        guard let buf, n > 0 else { return [] }
        let raw = UnsafeRawBufferPointer(start: buf, count: len)
        return raw.split(separator: 0, omittingEmptySubsequences: false).prefix(n).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Names of the members of the group at `p` (sorted by name, as HDF5 indexes them).
    public func members(_ p: String) throws -> [String] {
        var buf: UnsafeMutablePointer<CChar>?
        var len = 0
        let n = guarded { rtlgen_h5_members(id, p, &buf, &len) }
        defer { free(buf) }
        guard n >= 0 else { throw InputError(file: path, field: p, message: "missing group") }
        return Self.strings(buf, len, n)
    }

    /// A string attribute (scalar or array); nil when absent. An empty attribute of any type is [].
    public func stringAttribute(_ p: String, _ name: String) throws -> [String]? {
        var buf: UnsafeMutablePointer<CChar>?
        var len = 0
        let n = guarded { rtlgen_h5_string_attr(id, p, name, &buf, &len) }
        defer { free(buf) }
        if n == -1 { return nil }
        guard n >= 0 else {
            throw InputError(file: path, field: "\(p == "." ? "" : p + " ")attribute \(name)", message: "not a string attribute (damaged file?)")
        }
        return Self.strings(buf, len, n)
    }

    /// The numeric dataset at `p`.
    public func array(_ p: String) throws -> HDF5Array {
        var dims = [UInt64](repeating: 0, count: 8)
        let rank = guarded { dims.withUnsafeMutableBufferPointer { rtlgen_h5_shape(id, p, $0.baseAddress) } }
        if rank == -1 { throw InputError(file: path, field: p, message: "missing dataset") }
        guard rank >= 0 else { throw InputError(file: path, field: p, message: "not a numeric dataset") }
        let shape = dims.prefix(Int(rank)).map { Int(clamping: $0) }
        var count = 1
        for d in shape {
            let (c, o) = count.multipliedReportingOverflow(by: d)
            guard !o, c <= 1 << 24 else { throw InputError(file: path, field: p, message: "dataset too large (shape \(shape))") }
            count = c
        }
        var values = [Double](repeating: 0, count: count)
        let r = guarded { values.withUnsafeMutableBufferPointer { rtlgen_h5_read_doubles(id, p, $0.baseAddress, count) } }
        guard r == 0 else { throw InputError(file: path, field: p, message: "cannot read the dataset (truncated or damaged file?)") }
        guard values.allSatisfy({ $0.isFinite }) else {
            throw InputError(file: path, field: p, message: "holds a value that is not a finite number")
        }
        return HDF5Array(shape: shape, values: values, isFloat64: elementKind(p) == 8)
    }

    /// 4: float32, 8: float64, -N: an N-byte integer, 0: other.
    public func elementKind(_ p: String) -> Int { Int(guarded { rtlgen_h5_element_kind(id, p) }) }
}
