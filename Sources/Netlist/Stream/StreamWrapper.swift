// The AXI4-Stream wrapper around a core: `<top>_axis` with Vivado / verilog-axis port names.
//
// Datapath (runs free: every core's ce is tied high, so no enable fans out to the datapath):
//   accept (s_axis_tvalid & s_axis_tready) -> input registers -> feature map per unit (Lf) ->
//   core per unit (L) -> output map per unit (Lo) -> output FIFO (write, then its output register)
//   -> m_axis_*.  TLAST and TUSER travel beside the beat in a delay line of the same length.
// Backpressure is absorbed by the FIFO: s_axis_tready is a register, high while the credit count
// (beats accepted and not yet sent) is below the FIFO's capacity (depth + its output register),
// so no beat can ever arrive at a full FIFO and there is no combinational path from
// m_axis_tready to s_axis_tready. All outputs come from registers.
import BigInt
import FixedPoint
import Golden
import ModelIR

public struct StreamDesign {
    public let top: Module
    /// Wrapper modules (feature map, output map, FIFO), then the core's modules.
    public let modules: [Module]
    public let core: Design
    /// Clock edges from the accepting edge of an input beat to its output beat on m_axis (TREADY high).
    public let latency: Int
    public let fifoDepth: Int
    public let slotWidth: Int
    public let golden: StreamGolden
}

public enum StreamLowering {
    public static let ports = (clock: "aclk", resetN: "aresetn")

    public static func lower(core: Design, golden g: StreamGolden, name: String, clockPeriodNs: Double, device: Device = .default) -> StreamDesign {
        let spec = g.spec
        let delays = DelayModel(clockPeriodNs: clockPeriodNs, device: device)
        let unitSize = spec.arrangement == .lanes ? 1 : 2
        let fmap = StreamParts.featureMap(name: "\(name)_fmap", golden: g, unitSize: unitSize, delays: delays)
        let omap = StreamParts.outputMap(name: "\(name)_omap", golden: g, unitSize: unitSize, delays: delays)
        let lf = fmap.latency, lc = core.latency, lo = omap.latency
        let pipe = 1 + lf + lc + lo                  // accept edge .. slot register
        // Full rate needs room for every beat between its accepting edge and the edge that sends
        // it (latency + 1 beats): FIFO entries = latency, plus its output register.
        let depth = pipe + 2
        
        let capacity = depth + 1
        let units = spec.units
        let sw = g.slotWidth
        let outW = units.count * sw
        let fifoW = outW + 1 + spec.tuserWidth
        let fifo = StreamFifo.make(name: "\(name)_fifo", width: fifoW, depth: depth)

        let m = Module(name: "\(name)_axis")
        let latency = pipe + 2
        m.latency = latency
        m.header = [
            "AXI4-Stream wrapper of \(core.top.name): \(spec.muonsPerBeat) x \(spec.layout.name) record(s) of \(spec.layout.bits) bits per beat",
            "\(units.count) network instance(s) (\(spec.arrangement == .lanes ? "one per lane" : "one per pair, \(spec.arrangement.rawValue)")), output \(spec.output.rawValue): \(units.count) x \(sw)-bit slot(s)",
            "latency: \(latency) clock cycles from the accepting edge to the output beat (TREADY high), one beat per clock",
            "core runs free (ce = 1); backpressure goes into a \(depth)-entry output FIFO; s_axis_tready from a credit count (capacity \(capacity))",
            "aresetn: synchronous, active low; TLAST and TUSER travel with their beat",
        ]
        let clk = m.define(ports.clock, width: 1, repr: .bit, .input)
        let rstN = m.define(ports.resetN, width: 1, repr: .bit, .input)
        let sData = m.define("s_axis_tdata", width: spec.tdataWidth, repr: .bus, .input)
        let sValid = m.define("s_axis_tvalid", width: 1, repr: .bit, .input)
        let sLast = m.define("s_axis_tlast", width: 1, repr: .bit, .input)
        let sUser = m.define("s_axis_tuser", width: spec.tuserWidth, repr: .bus, .input)
        let mReady = m.define("m_axis_tready", width: 1, repr: .bit, .input)
        let rst = m.define("rst", width: 1, repr: .bit, .not(rstN))
        let reset = RegisterReset(rstN, value: 0, activeLow: true)
        let one = m.define("ce_core", width: 1, repr: .bit, .const(1))
        let cw = StreamFifo.bits(capacity)
        let credits = m.declareRegister("credits", width: cw, repr: .unsigned, comment: "beats accepted and not yet sent")
        let sReadyR = m.declareRegister("s_ready_r", width: 1, repr: .bit)
        let sFire = m.define("s_fire", width: 1, repr: .bit, .bitwise(.and, sValid, sReadyR))
        // Input registers (data without reset, valid with reset).
        let inData = m.register("in_data_r", RegisterDef(d: sData, clock: clk))
        let inValid = m.register("in_valid_r", RegisterDef(d: sFire, clock: clk, reset: reset))
        let inSide = m.register("in_side_r", RegisterDef(d: m.define("s_side", width: 1 + spec.tuserWidth, repr: .bus, .concat([sUser, m.define("s_last_bus", width: 1, repr: .bus, .concat([sLast]))])), clock: clk))
        func delay(_ s: SignalID, _ n: Int, _ base: String) -> SignalID {
            var x = s
            for i in 0..<n { x = m.register("\(base)_d\(i + 1)", RegisterDef(d: x, clock: clk)) }
            return x
        }
        // Sideband delay line: input register .. slot register.
        let side = delay(inSide, lf + lc + lo, "side")
        let R = spec.layout.bits
        func record(_ src: SignalID, _ k: Int) -> SignalID { m.define("rec\(k)", width: R, repr: .bus, .slice(src, lo: k * R)) }
        var slots: [SignalID] = []
        var coreValid: SignalID? = nil
        // Records for the output maps, delayed to the cores' outputs (only the empty flags in scores mode).
        let recDelayed: [SignalID]
        if spec.output == .scores {
            recDelayed = units.enumerated().map { u, unit in
                var e = m.define("unit\(u)_empty", width: 1, repr: .bit, .const(0))
                if let ef = spec.layout.emptyField, let f = spec.layout.field(ef) {
                    let flags = unit.map { k -> SignalID in
                        let v = m.define("rec\(k)_\(ef)", width: f.width, repr: .unsigned, .slice(inData, lo: k * R + f.offset))
                        return m.define("rec\(k)_empty", width: 1, repr: .bit, .not(m.define("rec\(k)_\(ef)_nz", width: 1, repr: .bit, .reduceOr(v))))
                    }
                    e = flags.count == 1 ? flags[0] : m.define("unit\(u)_empty", width: 1, repr: .bit, .bitwise(.or, flags[0], flags[1]))
                }
                return delay(m.define("unit\(u)_empty_bus", width: 1, repr: .bus, .concat([e])), lf + lc, "unit\(u)_empty")
            }
        } else {
            let d = delay(inData, lf + lc, "rec")
            recDelayed = units.map { unit in m.define("rec\(unit[0])_at_out", width: R, repr: .bus, .slice(d, lo: unit[0] * R)) }
        }
        for (u, unit) in units.enumerated() {
            let recs = unit.map { record(inData, $0) }
            let fin = recs.count == 1 ? recs[0] : m.define("unit\(u)_records", width: R * recs.count, repr: .bus, .concat(recs.reversed()))
            let kf = m.addInstance(Instance(name: "u_fmap\(u)", module: fmap.name, connections: [("clk", clk), ("in_data", fin)]))
            let feats = m.define("unit\(u)_features", width: fmap[fmap.signal(named: "out_data")!].width, repr: .bus, .instanceOutput(instance: kf, port: "out_data"))
            let vIn = delay(inValid, lf, "valid_f")
            let kc = m.addInstance(Instance(name: "u_core\(u)", module: core.top.name, connections: [
                (CorePorts.clock, clk), (CorePorts.reset, rst), (CorePorts.enable, one), (CorePorts.inValid, vIn), (CorePorts.inData, feats)]))
            let cv = m.define("unit\(u)_out_valid", width: 1, repr: .bit, .instanceOutput(instance: kc, port: CorePorts.outValid))
            if coreValid == nil { coreValid = cv }
            let y = m.define("unit\(u)_y", width: g.outputCount * g.outputWidth, repr: .bus, .instanceOutput(instance: kc, port: CorePorts.outData))
            let ko = m.addInstance(Instance(name: "u_omap\(u)", module: omap.name, connections: [("clk", clk), ("in_rec", recDelayed[u]), ("in_y", y)]))
            slots.append(m.define("unit\(u)_slot", width: sw, repr: .bus, .instanceOutput(instance: ko, port: "out_data")))
        }
        var slotValid = coreValid!
        for i in 0..<lo { slotValid = m.register("valid_o_d\(i + 1)", RegisterDef(d: slotValid, clock: clk, reset: reset)) }
        let wr = m.define("fifo_wr_data", width: fifoW, repr: .bus, .concat([side] + slots.reversed()))
        let kq = m.addInstance(Instance(name: "u_fifo", module: fifo.name, connections: [
            ("clk", clk), ("rst", rst), ("wr_valid", slotValid), ("wr_data", wr), ("rd_ready", mReady)]))
        let rdValid = m.define("fifo_rd_valid", width: 1, repr: .bit, .instanceOutput(instance: kq, port: "rd_valid"))
        let rd = m.define("fifo_rd_data", width: fifoW, repr: .bus, .instanceOutput(instance: kq, port: "rd_data"))
        // Credits: +1 per accepted beat, -1 per sent beat; s_axis_tready = credits_next < capacity, registered.
        let mFire = m.define("m_fire", width: 1, repr: .bit, .bitwise(.and, rdValid, mReady))
        let inc = m.define("credit_in", width: cw, repr: .unsigned, .extend(sFire))
        let dec = m.define("credit_out", width: cw, repr: .unsigned, .extend(mFire))
        let next = m.define("credits_next", width: cw, repr: .unsigned,
                            .sub(m.define("credits_plus", width: cw, repr: .unsigned, .add(credits, inc)), dec))
        m.drive(credits, RegisterDef(d: next, clock: clk, reset: reset))
        let cap = m.define("capacity", width: cw, repr: .unsigned, .const(BigInt(capacity)))
        m.drive(sReadyR, RegisterDef(d: m.define("s_ready_next", width: 1, repr: .bit, .compare(.lt, next, cap)), clock: clk, reset: reset))
        m.define("s_axis_tready", width: 1, repr: .bit, .copy(sReadyR), role: .output)
        m.define("m_axis_tdata", width: outW, repr: .bus, .slice(rd, lo: 0), role: .output)
        m.define("m_axis_tvalid", width: 1, repr: .bit, .copy(rdValid), role: .output)
        m.define("m_axis_tlast", width: 1, repr: .bit, .slice(rd, lo: outW), role: .output)
        m.define("m_axis_tuser", width: spec.tuserWidth, repr: .bus, .slice(rd, lo: outW + 1), role: .output)
        for x in [fmap, omap, fifo, m] { x.eliminateDeadSignals(); x.prepareForEmission() }
        return StreamDesign(top: m, modules: [fmap, omap, fifo] + core.modules, core: core, latency: latency,
                            fifoDepth: depth, slotWidth: sw, golden: g)
    }
}
