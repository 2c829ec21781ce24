// Build progress on stderr ("layer 3 of 9: lowering fc3"): only when stderr is a terminal or
// with --progress, and only once a build has run for more than two seconds. Never on stdout,
// never into files (unless --progress sends it to a redirected stderr, one line per step).
import Foundation

public final class BuildProgress: @unchecked Sendable {
    let start = Date()
    let terminal: Bool
    let enabled: Bool
    let lock = NSLock()
    var shown = false

    /// `forced`: --progress.
    public init(forced: Bool) {
        terminal = isatty(2) == 1
        enabled = forced || terminal
    }

    public func step(_ k: Int, of n: Int, _ what: String) {
        note("layer \(k) of \(n): \(what)")
    }

    public func note(_ text: String) {
        guard enabled, Date().timeIntervalSince(start) > 2 else { return }
        lock.lock(); defer { lock.unlock() }
        shown = true
        let t = String(format: "%.0f s", Date().timeIntervalSince(start))
        let line = "rtlgen: \(text) (\(t))"
        FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    /// Clears the terminal line.
    public func done() {
        lock.lock(); defer { lock.unlock() }
        if shown && terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
