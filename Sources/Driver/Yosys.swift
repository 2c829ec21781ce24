// Optional yosys statistics for `rtlgen build --yosys-stats`: each layer module is read by yosys
// on its own (`read_verilog; hierarchy -top M; proc; opt; stat`) and its cell counts go into
// report.json (e.g. `$mul`, which a binary_dense layer must not have). yosys is not needed otherwise.
import Foundation
import FixedPoint
import HDL
import ModelIR
import Netlist

public enum YosysStats {
    /// Module name -> {"cells": N, "mul_cells": K, "cell_types": {"$add": ..., ...}}.
    public static func collect(design: Design) throws -> [String: JSONValue] {
        guard Simulation.which("yosys") else {
            throw SimulationFailure(description: "--yosys-stats: yosys not found (Debian: apt-get install yosys)")
        }
        let fm = FileManager.default
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("rtlgen-yosys-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: dir) }
        var out: [String: JSONValue] = [:]
        for hw in design.layers {
            let m = hw.module
            let path = (dir as NSString).appendingPathComponent("\(m.name).v")
            try VerilogEmitter.emit(m).write(toFile: path, atomically: true, encoding: .utf8)
            let log = try Simulation.run(["yosys", "-p", "read_verilog \(path); hierarchy -top \(m.name); proc; opt; stat"],
                                         cwd: dir, what: "yosys on \(m.name)")
            let (cells, types) = parseStat(log)
            out[m.name] = .object([
                ("cells", .number(String(cells))),
                ("mul_cells", .number(String(types["$mul"] ?? 0))),
                ("cell_types", .object(types.keys.sorted().map { ($0, .number(String(types[$0]!))) })),
            ])
        }
        return out
    }

    /// The last `stat` block of a yosys log: total cells and cells per type.
    static func parseStat(_ log: String) -> (Int, [String: Int]) {
        let lines = log.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let start = lines.lastIndex(where: { $0.hasPrefix("Number of cells:") }) else { return (0, [:]) }
        let total = Int(lines[start].split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) ?? 0
        var types: [String: Int] = [:]
        for l in lines[(start + 1)...] {
            let parts = l.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].hasPrefix("$"), let n = Int(parts[1]) else {
                if types.isEmpty { continue } else { break }
            }
            types[String(parts[0])] = n
        }
        return (total, types)
    }
}
