// The AXI4-Stream wrapper in the netlist interpreter: random TVALID gaps and TREADY backpressure,
// output stream == golden model applied to the input stream, beat for beat, sideband included;
// full rate gives one beat per clock.
import BigInt
import Foundation
@testable import Driver
import Golden
import ModelIR
@testable import Netlist
import XCTest

struct StreamBench {
    let design: StreamDesign
    static func load(_ config: String) throws -> StreamBench {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let model = try ModelLoader.load(path: root.appendingPathComponent("examples/muon_recal/model.json").path)
        let cfg = try Config.load(path: config.hasPrefix("/") ? config : root.appendingPathComponent(config).path)
        let spec = cfg.stream!
        try StreamConfig.validate(spec, model: model, file: config)
        let g = try StreamGolden(spec: spec, model: model)
        let core = DesignLowering.lower(model, topName: "muon_recal")
        for m in core.modules { m.eliminateDeadSignals() }
        return StreamBench(design: StreamLowering.lower(core: core, golden: g, name: "muon_recal", clockPeriodNs: 4))
    }

    /// A random uGMT-like record (about 1 in 8 slots empty).
    static func record(_ rng: inout TestRNG, layout: RecordLayout) -> BigInt {
        var r = BigInt(0)
        for w in 0..<layout.words { r |= BigInt(rng.next() & 0xFFFF_FFFF) << (32 * w) }
        if rng.chance(12), let e = layout.emptyField { r = layout.field(e)!.write(r, 0) }
        return r
    }

    struct Beat: Equatable { var data: BigInt; var last: Bool; var user: BigInt }

    /// Drives the wrapper: the source offers a beat with probability validPct (holds it until
    /// accepted), the sink is ready with probability readyPct. Returns (sent, received, cycles of
    /// the run, cycle of the first and last received beat).
    func run(beats: Int, seed: UInt64, validPct: UInt64, readyPct: UInt64, maxCycles: Int) -> (sent: [Beat], got: [Beat], first: Int, last: Int) {
        let m = design.top
        let sim = NetlistInterpreter(m, library: design.modules)
        var rng = TestRNG(seed: seed)
        let spec = design.golden.spec
        var sent: [Beat] = [], got: [Beat] = []
        var offer: Beat? = nil
        var first = -1, lastC = -1
        var cycle = 0
        while cycle < maxCycles && got.count < beats {
            let reset = cycle < 2
            if offer == nil && !reset && sent.count < beats && rng.chance(validPct) {
                var d = BigInt(0)
                for k in 0..<spec.muonsPerBeat { d |= Self.record(&rng, layout: spec.layout) << (k * spec.layout.bits) }
                offer = Beat(data: d, last: rng.chance(20), user: BigInt(rng.next() % (1 << UInt64(min(spec.tuserWidth, 60)))))
            }
            let ready = rng.chance(readyPct)
            sim.evaluate(inputs: ["aresetn": reset ? 0 : 1, "s_axis_tvalid": offer == nil ? 0 : 1, "s_axis_tdata": offer?.data ?? 0,
                                  "s_axis_tlast": (offer?.last ?? false) ? 1 : 0, "s_axis_tuser": offer?.user ?? 0,
                                  "m_axis_tready": ready ? 1 : 0])
            if !reset {
                if sim.output("m_axis_tvalid") == 1 && ready {
                    got.append(Beat(data: sim.output("m_axis_tdata"), last: sim.output("m_axis_tlast") == 1, user: sim.output("m_axis_tuser")))
                    if first < 0 { first = cycle }
                    lastC = cycle
                }
                if let o = offer, sim.output("s_axis_tready") == 1 { sent.append(o); offer = nil }
            }
            sim.clock()
            cycle += 1
        }
        return (sent, got, first, lastC)
    }
}

final class StreamTests: XCTestCase {
    func check(_ b: StreamBench, seed: UInt64, validPct: UInt64, readyPct: UInt64, beats: Int) {
        let (sent, got, _, _) = b.run(beats: beats, seed: seed, validPct: validPct, readyPct: readyPct, maxCycles: beats * 40 + 200)
        XCTAssertEqual(got.count, beats, "seed \(seed): beats received")
        for (i, (s, r)) in zip(sent, got).enumerated() {
            let want = StreamBench.Beat(data: b.design.golden.beat(s.data), last: s.last, user: s.user)
            if want != r { XCTFail("seed \(seed) beat \(i): got \(String(r.data, radix: 16)) \(r.last) \(r.user), golden \(String(want.data, radix: 16)) \(want.last) \(want.user)"); return }
        }
    }

    func testReplaceWrapperInInterpreter() throws {
        let b = try StreamBench.load("examples/muon_recal/stream.yaml")
        XCTAssertEqual(b.design.top.name, "muon_recal_axis")
        for (seed, v, r) in [(1, 60, 50), (2, 100, 20), (3, 30, 100), (4, 95, 95)] as [(UInt64, UInt64, UInt64)] {
            check(b, seed: seed, validPct: v, readyPct: r, beats: 40)
        }
        // Full rate: one beat per clock after the latency.
        let (sent, got, first, last) = b.run(beats: 60, seed: 9, validPct: 100, readyPct: 100, maxCycles: 200)
        XCTAssertEqual(got.count, 60)
        XCTAssertEqual(last - first, 59, "one beat per clock")
        XCTAssertEqual(sent.count, 60)
        // s_axis_tready rises one edge after reset: the first beat is accepted in cycle 3.
        XCTAssertEqual(first, 3 + b.design.latency, "latency \(b.design.latency)")
    }

    /// append mode (record + outputs + empty flag, byte-aligned) on 3 lanes.
    func testAppendWrapperInInterpreter() throws {
        let f = FileManager.default.temporaryDirectory.appendingPathComponent("append-\(UUID().uuidString).yaml")
        try """
        stream:
          muons_per_beat: 3
          tuser_width: 5
          output: append
          features:
            - {field: hwPt, offset: -1, scale: 0.0625}
            - {field: hwEta, scale: 0.010875}
            - {field: hwPhi, scale: 0.01}
            - {charge: hwCharge, scale: 0.5, offset: 1}
            - {field: hwQual, scale: 1.5}
        """.write(to: f, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: f) }
        let b = try StreamBench.load(f.path)
        XCTAssertEqual(b.design.slotWidth, 96 + 3 * 18 + 1 + 1)   // 152 bits: a multiple of 8
        check(b, seed: 11, validPct: 80, readyPct: 60, beats: 30)
    }

    func testPairsWrapperInInterpreter() throws {
        let b = try StreamBench.load("examples/muon_recal/pairs.yaml")
        XCTAssertEqual(b.design.golden.spec.units, [[0, 1], [2, 3]])
        for (seed, v, r) in [(5, 70, 40), (6, 100, 100)] as [(UInt64, UInt64, UInt64)] {
            check(b, seed: seed, validPct: v, readyPct: r, beats: 30)
        }
    }
}
