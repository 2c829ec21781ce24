// `rtlgen predict`: the golden model over a whole input file. CSV input on a model that compiles
// to 64-bit codes (CompiledModel) takes the fast path: the file is mapped and cut into chunks of
// whole lines, every chunk is parsed, evaluated and formatted on its own (all cores), and each
// chunk's text is written out in order as soon as it and every chunk before it are done. Each
// line is read by FixedType.quantizeDecimal and each output written by appendDecimal, both exact (a line or value they do not take goes through the same code the
// exact path uses), so the text is byte for byte what the exact path (CSVText, GoldenModel,
// CSV.format) writes; tests compare the two on the examples and on random models.
// .npy input, non-ASCII CSV and models with types wider than 62 bits take the exact path.
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import FixedPoint
import Golden
import ModelIR

public enum PredictFile {
    /// The output CSV of the golden model on the samples of `path`; `notice` hears about a
    /// skipped CSV header. `fast: false` forces the exact path (for tests).
    public static func run(model: Model, inputPath path: String, fast: Bool = true,
                           notice: (String) -> Void) throws -> Data {
        let data = try read(path)
        return try run(model: model, data: data, path: path, fast: fast, notice: notice)
    }

    /// The same for bytes in memory (named `path` in messages).
    public static func run(model: Model, data: Data, path: String, fast: Bool = true,
                           notice: (String) -> Void) throws -> Data {
        let g = try GoldenModel(model)
        var out = Data()
        if fast, try fastPath(g, data: data, path: path, notice: notice, sink: { out.append($0) }) { return out }
        return try exact(g, data: data, path: path, notice: notice)
    }

    /// The output CSV written to `outputPath`, all or nothing: on the fast path the text of every
    /// finished chunk goes to a temporary file beside `outputPath` while later chunks are still
    /// being evaluated, and the file is renamed into place at the end (removed on an error).
    public static func write(model: Model, inputPath path: String, outputPath: String,
                             notice: (String) -> Void) throws {
        let data = try read(path)
        let g = try GoldenModel(model)
        if !NPY.isNPY(data), let sink = TemporaryFile(beside: outputPath) {
            var committed = false
            defer { if !committed { sink.remove() } }
            if try fastPath(g, data: data, path: path, notice: notice, sink: { try sink.write($0) }) {
                try sink.commit(to: outputPath)
                committed = true
                return
            }
        }
        try exact(g, data: data, path: path, notice: notice).write(to: URL(fileURLWithPath: outputPath), options: .atomic)
    }

    /// The fast path (FastCSV on the compiled model) into `sink`; false, with nothing written to
    /// `sink` or told to `notice`, when the input (.npy, non-ASCII) or the model does not take it.
    static func fastPath(_ g: GoldenModel, data: Data, path: String, notice: (String) -> Void,
                         sink: @escaping (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Bool {
        guard !NPY.isNPY(data), g.model.input.scale == nil, let c = CompiledModel(g) else { return false }
        return try data.withUnsafeBytes { raw in
            try FastCSV.predict(raw.bindMemory(to: UInt8.self), file: path, model: g.model, compiled: c, notice: notice, sink: sink)
        }
    }

    /// The exact path: every input format InputData reads, GoldenModel, CSV.format.
    static func exact(_ g: GoldenModel, data: Data, path: String, notice: (String) -> Void) throws -> Data {
        let model = g.model
        let xs = try InputData.read(data: data, path: path, size: model.input.size, type: model.input.type, scale: model.input.scale, notice: notice)
        return Data(CSV.format(xs.map { g.evaluate(codes: $0) }, type: model.outputType).utf8)
    }

    /// The input file, mapped rather than copied where the system can.
    static func read(_ path: String) throws -> Data {
        if let d = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) { return d }
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw InputError(file: path, field: "", message: "cannot read the file")
        }
        defer { try? h.close() }
        guard let data = try? h.readToEnd() ?? Data() else {
            throw InputError(file: path, field: "", message: "cannot read the file")
        }
        return data
    }
}

/// A file written in pieces and renamed into place: `rtlgen predict --output` never leaves a
/// half-written output.
final class TemporaryFile {
    let path: String
    let fd: Int32

    init?(beside target: String) {
        let url = URL(fileURLWithPath: target)
        path = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).rtlgen-\(getpid())").path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        if fd < 0 { return nil }
    }

    func write(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        var p = bytes.baseAddress
        var left = bytes.count
        while left > 0, let q = p {
            let w = Glibc.write(fd, q, left)
            if w < 0 {
                if errno == EINTR { continue }
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
            p = q + w
            left -= w
        }
    }

    func commit(to target: String) throws {
        guard close(fd) == 0, rename(path, target) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target])
        }
    }

    func remove() {
        close(fd)
        unlink(path)
    }
}

enum FastCSV {
    /// Bytes shared read-only by the workers, one result slot per chunk, and the ordered writer.
    struct Shared: @unchecked Sendable {
        let bytes: UnsafeBufferPointer<UInt8>
        let results: UnsafeMutableBufferPointer<Chunk>
        let writer: OrderedWriter
    }

    struct Chunk {
        var start = 0
        var end = 0
        var text: [UInt8] = []
        /// Byte range of the first line the exact reader rejects (the chunk stops there).
        var failedLine: Range<Int>?
    }

    /// Hands finished chunks to the sink in file order, from whichever worker finishes the chunk
    /// that is next; stops at the first chunk with a rejected line or a failed write.
    final class OrderedWriter: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        var done: [Bool]
        var writing = false
        var stopped = false
        var error: Error?
        let sink: (UnsafeBufferPointer<UInt8>) throws -> Void

        init(chunks: Int, sink: @escaping (UnsafeBufferPointer<UInt8>) throws -> Void) {
            done = [Bool](repeating: false, count: chunks)
            self.sink = sink
        }

        func finished(_ i: Int, _ results: UnsafeMutableBufferPointer<Chunk>) {
            lock.lock()
            done[i] = true
            if writing { lock.unlock(); return }
            writing = true
            while true {
                var ready: [Int] = []
                while next < done.count && done[next] && !stopped {
                    if results[next].failedLine != nil { stopped = true; break }
                    ready.append(next)
                    next += 1
                }
                if ready.isEmpty { writing = false; lock.unlock(); return }
                lock.unlock()
                for j in ready where error == nil {
                    do {
                        try results[j].text.withUnsafeBufferPointer { try sink($0) }
                    } catch {
                        self.error = error
                    }
                    results[j].text = []
                }
                lock.lock()
                if error != nil { stopped = true }
            }
        }
    }

    /// false: the file is not plain ASCII (the exact reader decides what it is); nothing was
    /// written to `sink` or told to `notice`. Otherwise every output line went to `sink` in order.
    static func predict(_ buf: UnsafeBufferPointer<UInt8>, file: String, model: Model, compiled: CompiledModel,
                        notice: (String) -> Void, sink: @escaping (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Bool {
        var start = 0
        if buf.count >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF { start = 3 }
        guard isASCII(buf) else { return false }
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
        let writer = OrderedWriter(chunks: n, sink: sink)
        let shared = Shared(bytes: buf, results: UnsafeMutableBufferPointer(rebasing: results[0..<n]), writer: writer)
        let inType = model.input.type, outType = model.outputType
        DispatchQueue.concurrentPerform(iterations: n) { i in
            run(chunk: i, shared, file: file, size: size, inType: inType, outType: outType, compiled: compiled)
        }
        for i in 0..<n {
            if let bad = results[i].failedLine {
                // The exact reader's error, with the line's number in the file.
                var number = 1
                for b in buf[0..<bad.lowerBound] where b == 0x0A { number += 1 }
                let line = CSVText.Line(number: number, cells: CSVText.cells(Array(buf[bad])[...]) ?? [])
                _ = try CSVText.row(line, file: file, size: size, type: inType)
                preconditionFailure("predict: the fast reader rejected line \(number), the exact reader took it")
            }
        }
        if let e = writer.error { throw e }
        precondition(writer.next == n, "predict: chunks left unwritten")
        return true
    }

    /// Whether every byte is below 0x80 (eight at a time).
    static func isASCII(_ buf: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = buf.baseAddress else { return true }
        let words = buf.count / 8
        var acc: UInt64 = 0
        let raw = UnsafeRawPointer(base)
        for w in 0..<words { acc |= raw.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self) }
        for i in (words * 8)..<buf.count { acc |= UInt64(buf[i]) }
        return acc & 0x8080_8080_8080_8080 == 0
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
        s.writer.finished(i, s.results)
    }
}
