// `rtlgen predict`: the golden model over a whole input file. CSV input on a model that compiles
// to 64-bit codes (CompiledModel) takes the fast path: the file is cut into chunks of whole
// lines, every chunk is parsed, evaluated and formatted on its own (all cores), and the outputs
// are joined in order. Each line is read by FixedType.quantizeDecimal and each output written by
// appendDecimal, both exact (a line or value they do not take goes through the same code the
// exact path uses), so the text is byte for byte what the exact path (CSVText, GoldenModel,
// CSV.format) writes; tests compare the two on the examples and on random models.
// .npy input, non-ASCII CSV and models with types wider than 62 bits take the exact path.
import Dispatch
import Foundation
import FixedPoint
import Golden
import ModelIR

public enum PredictFile {
    /// The output CSV of the golden model on the samples of `path`; `notice` hears about a
    /// skipped CSV header. `fast: false` forces the exact path (for tests).
    public static func run(model: Model, inputPath path: String, fast: Bool = true,
                           notice: (String) -> Void) throws -> Data {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw InputError(file: path, field: "", message: "cannot read the file")
        }
        defer { try? h.close() }
        guard let data = try? h.readToEnd() ?? Data() else {
            throw InputError(file: path, field: "", message: "cannot read the file")
        }
        return try run(model: model, data: data, path: path, fast: fast, notice: notice)
    }

    /// The same for bytes in memory (named `path` in messages).
    public static func run(model: Model, data: Data, path: String, fast: Bool = true,
                           notice: (String) -> Void) throws -> Data {
        let g = try GoldenModel(model)
        if fast, !NPY.isNPY(data), let c = CompiledModel(g),
           let out = try FastCSV.predict(data, file: path, model: model, compiled: c, notice: notice) {
            return out
        }
        let xs = try InputData.read(data: data, path: path, size: model.input.size, type: model.input.type, notice: notice)
        return Data(CSV.format(xs.map { g.evaluate(codes: $0) }, type: model.outputType).utf8)
    }
}

enum FastCSV {
    /// Bytes shared read-only by the workers, and one result slot per chunk.
    struct Shared: @unchecked Sendable {
        let bytes: UnsafeBufferPointer<UInt8>
        let results: UnsafeMutableBufferPointer<Chunk>
    }

    struct Chunk {
        var start = 0
        var end = 0
        var text: [UInt8] = []
        /// Byte range of the first line the exact reader rejects (the chunk stops there).
        var failedLine: Range<Int>?
    }

    /// nil: the file is not plain ASCII (the exact reader decides what it is).
    static func predict(_ data: Data, file: String, model: Model, compiled: CompiledModel,
                        notice: (String) -> Void) throws -> Data? {
        let bytes = [UInt8](data)
        return try bytes.withUnsafeBufferPointer { buf -> Data? in
            var start = 0
            if buf.count >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF { start = 3 }
            for b in buf where b >= 0x80 { return nil }
            let size = model.input.size
            // The first non-skipped line: a header is checked and skipped exactly as CSVText does.
            var pos = start
            var lineNo = 0
            var dataStart = buf.count
            while pos <= buf.count {
                let end = lineEnd(buf, from: pos)
                lineNo += 1
                if let cells = CSVText.cells(Array(buf[pos..<end])[...]) {
                    let header = try CSVText.skipHeader(CSVText.Line(number: lineNo, cells: cells), file: file, size: size, notice: notice)
                    dataStart = header ? min(end + 1, buf.count) : pos
                    break
                }
                if end == buf.count { break }
                pos = end + 1
            }
            // Chunks of whole lines, about 64 KB each.
            var bounds: [Int] = [dataStart]
            var cut = dataStart
            while cut < buf.count {
                cut = min(cut + 65536, buf.count)
                if cut < buf.count { cut = min(lineEnd(buf, from: cut) + 1, buf.count) }
                bounds.append(cut)
            }
            let n = bounds.count - 1
            let results = UnsafeMutableBufferPointer<Chunk>.allocate(capacity: max(n, 1))
            results.initialize(repeating: Chunk())
            defer { results.deinitialize(); results.deallocate() }
            for i in 0..<n { results[i].start = bounds[i]; results[i].end = bounds[i + 1] }
            let shared = Shared(bytes: buf, results: results)
            let inType = model.input.type, outType = model.outputType
            DispatchQueue.concurrentPerform(iterations: n) { i in
                run(chunk: i, shared, file: file, size: size, inType: inType, outType: outType, compiled: compiled)
            }
            var total = 0
            for i in 0..<n {
                if let bad = results[i].failedLine {
                    // The exact reader's error, with the line's number in the file.
                    var number = 1
                    for b in buf[0..<bad.lowerBound] where b == 0x0A { number += 1 }
                    let line = CSVText.Line(number: number, cells: CSVText.cells(Array(buf[bad])[...]) ?? [])
                    _ = try CSVText.row(line, file: file, size: size, type: inType)
                    preconditionFailure("predict: the fast reader rejected line \(number), the exact reader took it")
                }
                total += results[i].text.count
            }
            var out = Data(capacity: total)
            for i in 0..<n { out.append(contentsOf: results[i].text) }
            return out
        }
    }

    /// Index of the `\n` ending the line that starts at `pos` (or the end of the bytes).
    static func lineEnd(_ buf: UnsafeBufferPointer<UInt8>, from pos: Int) -> Int {
        var e = pos
        while e < buf.count && buf[e] != 0x0A { e += 1 }
        return e
    }

    static func run(chunk i: Int, _ s: Shared, file: String, size: Int, inType: FixedType, outType: FixedType,
                    compiled: CompiledModel) {
        let buf = s.bytes
        var c = s.results[i]
        var scratch = CompiledModel.Scratch(compiled)
        var x = [Int64](repeating: 0, count: size)
        var y = [Int64](repeating: 0, count: compiled.outputSize)
        var text: [UInt8] = []
        text.reserveCapacity((c.end - c.start) / 2)
        let outFrac = outType.fracBits
        var pos = c.start
        while pos < c.end {
            let end = lineEnd(buf, from: pos)
            defer { pos = end + 1 }
            var stop = end
            if stop > pos && buf[stop - 1] == 0x0D { stop -= 1 }
            if stop == pos || buf[pos] == 0x23 { continue }   // blank or '#'
            // Fast: plain cells between commas.
            var ok = true
            var count = 0
            var cellStart = pos
            var k = pos
            while true {
                if k == stop || buf[k] == 0x2C {
                    if count == size { ok = false; break }
                    guard let code = inType.quantizeDecimal(UnsafeBufferPointer(rebasing: buf[cellStart..<k])) else { ok = false; break }
                    x[count] = Int64(code)
                    count += 1
                    if k == stop { break }
                    cellStart = k + 1
                }
                k += 1
            }
            if !ok || count != size {
                // The exact reader on this line: skipped, read, or rejected.
                guard let cells = CSVText.cells(Array(buf[pos..<end])[...]) else { continue }
                guard let row = try? CSVText.row(CSVText.Line(number: 0, cells: cells), file: file, size: size, type: inType) else {
                    c.failedLine = pos..<end
                    break
                }
                for (j, v) in row.enumerated() { x[j] = Int64(v) }
            }
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    compiled.evaluate(xp.baseAddress!, yp.baseAddress!, scratch: &scratch)
                }
            }
            for j in 0..<y.count {
                if j > 0 { text.append(0x2C) }
                if !appendDecimal(code: y[j], frac: outFrac, to: &text) {
                    text.append(contentsOf: Array(outType.decimalString(Int128(y[j])).utf8))
                }
            }
            text.append(0x0A)
        }
        c.text = text
        s.results[i] = c
    }
}
