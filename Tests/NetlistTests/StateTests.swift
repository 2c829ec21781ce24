// Registers that feed back (state): a counter and a two-entry skid buffer built directly in the
// netlist, checked in the interpreter against a model of their behaviour, then emitted in both
// languages and simulated in Verilator and GHDL, cycle by cycle against the interpreter.
import BigInt
import Foundation
@testable import HDL
@testable import Netlist
import XCTest

/// An 8-bit counter with enable and synchronous active-high reset; `q` is its value.
func makeCounter() -> Module {
    let m = Module(name: "state_counter")
    m.header = ["An 8-bit counter (netlist state test)"]
    let clk = m.define("clk", width: 1, repr: .bit, .input)
    let rst = m.define("rst", width: 1, repr: .bit, .input)
    let en = m.define("en", width: 1, repr: .bit, .input)
    let count = m.declareRegister("count", width: 8, repr: .unsigned)
    let one = m.define("one", width: 8, repr: .unsigned, .const(1))
    let next = m.define("count_next", width: 8, repr: .unsigned, .add(count, one))
    m.drive(count, RegisterDef(d: next, clock: clk, enable: en, reset: RegisterReset(rst, value: 0)))
    m.define("q", width: 8, repr: .bus, .copy(count), role: .output)
    return m
}

/// A two-entry skid buffer (a ready/valid register slice that breaks the ready path): up to
/// two beats held, `s_ready` comes from a register, no beat lost, duplicated or reordered.
/// Synchronous active-low reset of the valid flags; the data registers have no reset.
func makeSkidBuffer(width w: Int = 8) -> Module {
    let m = Module(name: "state_skid")
    m.header = ["A two-entry skid buffer (netlist state test)"]
    let clk = m.define("clk", width: 1, repr: .bit, .input)
    let rstN = m.define("rst_n", width: 1, repr: .bit, .input)
    let sValid = m.define("s_valid", width: 1, repr: .bit, .input)
    let sData = m.define("s_data", width: w, repr: .bus, .input)
    let mReady = m.define("m_ready", width: 1, repr: .bit, .input)
    let mValidR = m.declareRegister("m_valid_r", width: 1, repr: .bit)
    let mDataR = m.declareRegister("m_data_r", width: w, repr: .unsigned)
    let skidValidR = m.declareRegister("skid_valid_r", width: 1, repr: .bit)
    let skidDataR = m.declareRegister("skid_data_r", width: w, repr: .unsigned)
    let data = m.define("s_data_u", width: w, repr: .unsigned, .copy(sData))
    let sReady = m.define("s_ready_i", width: 1, repr: .bit, .not(skidValidR))
    let outFree = m.define("out_free", width: 1, repr: .bit,
                           .bitwise(.or, m.define("m_empty", width: 1, repr: .bit, .not(mValidR)), mReady))
    let sFire = m.define("s_fire", width: 1, repr: .bit, .bitwise(.and, sValid, sReady))
    let one = m.define("one", width: 1, repr: .bit, .const(1))
    let zero = m.define("zero", width: 1, repr: .bit, .const(0))
    let mValidNext = m.define("m_valid_next", width: 1, repr: .bit,
                              .mux(outFree, m.define("any_valid", width: 1, repr: .bit, .bitwise(.or, skidValidR, sValid)), one))
    let fromSkid = m.define("next_beat", width: w, repr: .unsigned, .mux(skidValidR, skidDataR, data))
    let mDataNext = m.define("m_data_next", width: w, repr: .unsigned, .mux(outFree, fromSkid, mDataR))
    let skidValidNext = m.define("skid_valid_next", width: 1, repr: .bit,
                                 .mux(outFree, zero, m.define("skid_keep", width: 1, repr: .bit, .bitwise(.or, skidValidR, sFire))))
    let stall = m.define("stall_in", width: 1, repr: .bit,
                         .bitwise(.and, m.define("out_busy", width: 1, repr: .bit, .not(outFree)), sFire))
    let skidDataNext = m.define("skid_data_next", width: w, repr: .unsigned, .mux(stall, data, skidDataR))
    let reset = RegisterReset(rstN, value: 0, activeLow: true)
    m.drive(mValidR, RegisterDef(d: mValidNext, clock: clk, reset: reset))
    m.drive(skidValidR, RegisterDef(d: skidValidNext, clock: clk, reset: reset))
    m.drive(mDataR, RegisterDef(d: mDataNext, clock: clk))
    m.drive(skidDataR, RegisterDef(d: skidDataNext, clock: clk))
    m.define("s_ready", width: 1, repr: .bit, .copy(sReady), role: .output)
    m.define("m_valid", width: 1, repr: .bit, .copy(mValidR), role: .output)
    m.define("m_data", width: w, repr: .bus, .copy(mDataR), role: .output)
    return m
}

extension TestRNG {
    /// True with the given probability in percent.
    mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
}

final class StateTests: XCTestCase {
    func testFeedbackIsAllowedOnlyThroughRegisters() {
        let m = makeCounter()
        m.verify()
        // The register reads a later signal; every combinational node reads earlier ones.
        for (i, op) in m.defs.enumerated() where !op.isRegister {
            XCTAssertTrue(op.operands.allSatisfy { $0.index < i }, m.signals[i].name)
        }
        guard case let .register(r) = m.op(m.signal(named: "count")!) else { return XCTFail("count is not a register") }
        XCTAssertGreaterThan(r.d.index, m.signal(named: "count")!.index)
        XCTAssertEqual(m.registers.count, 1)
        XCTAssertEqual(m.registerBits, 8)
    }

    func testCounterInInterpreter() {
        let m = makeCounter()
        let sim = NetlistInterpreter(m, library: [])
        var rng = TestRNG(seed: 1)
        var expected = 0
        for cycle in 0..<2000 {
            let rst = cycle == 0 || rng.chance(2)
            let en = rng.chance(70)
            sim.evaluate(inputs: ["rst": rst ? 1 : 0, "en": en ? 1 : 0])
            if cycle > 0 { XCTAssertEqual(sim.output("q"), BigInt(expected), "cycle \(cycle)") }
            sim.clock()
            if rst { expected = 0 } else if en { expected = (expected + 1) % 256 }
        }
    }

    /// Drives the skid buffer like an AXI4-Stream source and sink: the source holds a beat until
    /// it is accepted. Returns (beats sent, beats received in order, cycles).
    func runSkid(_ m: Module, seed: UInt64, validPercent: UInt64, readyPercent: UInt64, cycles: Int) -> ([BigInt], [BigInt]) {
        let sim = NetlistInterpreter(m, library: [])
        var rng = TestRNG(seed: seed)
        var sent: [BigInt] = [], received: [BigInt] = []
        var offering: BigInt? = nil
        for cycle in 0..<cycles {
            let reset = cycle < 2
            if offering == nil && !reset && rng.chance(validPercent) { offering = BigInt(rng.next() % 256) }
            let ready = reset || rng.chance(readyPercent)
            sim.evaluate(inputs: ["rst_n": reset ? 0 : 1, "s_valid": offering == nil ? 0 : 1, "s_data": offering ?? 0,
                                  "m_ready": ready ? 1 : 0])
            if !reset {
                if sim.output("m_valid") == 1 && ready { received.append(sim.output("m_data")) }
                if let o = offering, sim.output("s_ready") == 1 { sent.append(o); offering = nil }
            }
            sim.clock()
        }
        return (sent, received)
    }

    func testSkidBufferInInterpreter() {
        let m = makeSkidBuffer()
        for (seed, v, r) in [(1, 50, 50), (2, 100, 30), (3, 30, 100), (4, 90, 90)] as [(UInt64, UInt64, UInt64)] {
            let (sent, received) = runSkid(m, seed: seed, validPercent: v, readyPercent: r, cycles: 3000)
            XCTAssertGreaterThan(received.count, 300, "seed \(seed)")
            // In order, nothing lost or duplicated: what came out is what went in (at most two
            // beats still inside).
            XCTAssertEqual(Array(sent.prefix(received.count)), received, "seed \(seed)")
            XCTAssertLessThanOrEqual(sent.count - received.count, 2, "seed \(seed)")
        }
        // Full rate: always valid, always ready -> one beat per clock after reset.
        let (sent, received) = runSkid(m, seed: 9, validPercent: 100, readyPercent: 100, cycles: 1002)
        XCTAssertEqual(received.count, 999)
        XCTAssertEqual(Array(sent.prefix(999)), received)
    }

    // MARK: both languages in both simulators, cycle by cycle against the interpreter

    func run(_ args: [String], in dir: URL) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.currentDirectoryURL = dir
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        if p.terminationStatus != 0 { XCTFail("\(args.joined(separator: " ")) failed:\n\(text)") }
        return text
    }

    func tool(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
        }
    }

    /// Random stimulus (inputs other than clk as one bit string per cycle), the interpreter's
    /// trace, and the traces of both simulators, compared from `skip` cycles on.
    func crossCheck(_ m: Module, stimulus: [[String: BigInt]], skip: Int) throws {
        guard tool("verilator"), tool("ghdl") else { throw XCTSkip("verilator and ghdl are needed") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rtlgen-state-\(m.name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ins = m.ports.map { m[$0] }.filter { $0.role == .input && $0.name != "clk" }
        let outs = m.ports.map { m[$0] }.filter { $0.role == .output }
        func bits(_ v: BigInt, _ w: Int) -> String {
            let s = String(v, radix: 2)
            return String(repeating: "0", count: w - s.count) + s
        }
        let sim = NetlistInterpreter(m, library: [])
        var expected: [String] = []
        for step in stimulus {
            sim.evaluate(inputs: step)
            expected.append(outs.map { bits(sim.output($0.name), $0.width) }.joined())
            sim.clock()
        }
        let stim = stimulus.map { step in ins.map { bits(step[$0.name] ?? 0, $0.width) }.joined() }.joined(separator: "\n") + "\n"
        try stim.write(to: dir.appendingPathComponent("stimulus.txt"), atomically: true, encoding: .utf8)
        try VerilogEmitter.emit(m).write(to: dir.appendingPathComponent("\(m.name).v"), atomically: true, encoding: .utf8)
        try VHDLEmitter.emit(m).write(to: dir.appendingPathComponent("\(m.name).vhd"), atomically: true, encoding: .utf8)
        try TraceTestbench.verilator(m, clock: "clk").write(to: dir.appendingPathComponent("tb.cpp"), atomically: true, encoding: .utf8)
        try TraceTestbench.vhdl(m, clock: "clk").write(to: dir.appendingPathComponent("tb_trace.vhd"), atomically: true, encoding: .utf8)
        // Lint-clean in both languages.
        _ = try run(["verilator", "--lint-only", "-Wall", "\(m.name).v"], in: dir)
        for std in ["93c", "08"] { _ = try run(["ghdl", "-a", "--std=\(std)", "--workdir=.", "\(m.name).vhd"], in: dir) }
        _ = try run(["verilator", "--cc", "--exe", "--build", "-j", "2", "-Wno-fatal", "--top-module", m.name,
                     "-o", "Vtb", "\(m.name).v", "tb.cpp"], in: dir)
        _ = try run(["obj_dir/Vtb", "stimulus.txt", "trace_verilator.txt"], in: dir)
        _ = try run(["ghdl", "-a", "--std=08", "--workdir=.", "\(m.name).vhd", "tb_trace.vhd"], in: dir)
        _ = try run(["ghdl", "--elab-run", "--std=08", "--workdir=.", "tb_trace_\(m.name)", "-gSTIMULUS=stimulus.txt", "-gTRACE=trace_ghdl.txt"], in: dir)
        for which in ["verilator", "ghdl"] {
            let got = try String(contentsOf: dir.appendingPathComponent("trace_\(which).txt"), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            XCTAssertGreaterThanOrEqual(got.count, expected.count, which)
            for c in skip..<expected.count where got[c] != expected[c] {
                XCTFail("\(m.name) in \(which), cycle \(c): \(got[c]) != interpreter \(expected[c])")
                break
            }
        }
    }

    func testCounterInBothSimulators() throws {
        var rng = TestRNG(seed: 5)
        let stim: [[String: BigInt]] = (0..<600).map { c in
            ["rst": c == 0 || rng.chance(2) ? 1 : 0, "en": rng.chance(70) ? 1 : 0]
        }
        try crossCheck(makeCounter(), stimulus: stim, skip: 1)
    }

    func testSkidBufferInBothSimulators() throws {
        var rng = TestRNG(seed: 6)
        var stim: [[String: BigInt]] = []
        for c in 0..<1500 {
            let reset = c < 2
            // Bursts, long stalls and full rate in turn; random data.
            let phase = (c / 100) % 3
            let valid = !reset && (phase == 2 || rng.chance(phase == 0 ? 60 : 95))
            let ready = reset || phase == 2 || rng.chance(phase == 0 ? 50 : 10)
            stim.append(["rst_n": reset ? 0 : 1, "s_valid": valid ? 1 : 0, "s_data": BigInt(rng.next() % 256), "m_ready": ready ? 1 : 0])
        }
        try crossCheck(makeSkidBuffer(), stimulus: stim, skip: 2)
    }
}
