// The `--input` file of predict and sim: CSV text (CSVText.swift) or a NumPy .npy array
// (NPY.swift), told apart by the .npy magic bytes, not by the file name.
import Foundation
import FixedPoint
import ModelIR

public enum InputData {
    public static func read(path: String, size: Int, type: FixedType, scale: InputScale? = nil, notice: (String) -> Void) throws -> [[Int128]] {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw InputError(file: path, field: "", message: "cannot read the file")
        }
        defer { try? h.close() }
        guard let data = try? h.readToEnd() ?? Data() else {
            throw InputError(file: path, field: "", message: "cannot read the file")
        }
        return try read(data: data, path: path, size: size, type: type, scale: scale, notice: notice)
    }

    /// The same for bytes in memory (named `path` in messages).
    public static func read(data: Data, path: String, size: Int, type: FixedType, scale: InputScale? = nil, notice: (String) -> Void) throws -> [[Int128]] {
        if NPY.isNPY(data) { return try NPY.samples(data, file: path, size: size, type: type, scale: scale) }
        return try CSVText.samples(data, file: path, size: size, type: type, scale: scale, notice: notice)
    }
}
