// The output FIFO of the stream wrapper: `depth` entries of registers, a registered output stage
// (rd_valid / rd_data come from registers), write and read in the same cycle. It never refuses a
// write: the wrapper's credit counter guarantees at most depth + 1 beats are inside (depth in the
// entries, one in the output register).
import BigInt

enum StreamFifo {
    static func bits(_ n: Int) -> Int { var w = 1; while (1 << w) < n + 1 { w += 1 }; return w }  // holds 0...n

    static func make(name: String, width: Int, depth: Int) -> Module {
        let m = Module(name: name)
        m.header = ["Stream output FIFO: \(depth) entries of \(width) bits and a registered output stage",
                    "clk rising edge; rst synchronous active high (clears pointers and valid flags only)",
                    "wr_valid must not be raised when the FIFO holds depth + 1 beats (the wrapper's credit count ensures it)"]
        let clk = m.define("clk", width: 1, repr: .bit, .input)
        let rst = m.define("rst", width: 1, repr: .bit, .input)
        let wrValid = m.define("wr_valid", width: 1, repr: .bit, .input)
        let wrData = m.define("wr_data", width: width, repr: .bus, .input)
        let rdReady = m.define("rd_ready", width: 1, repr: .bit, .input)
        let pw = max(1, bits(depth - 1))
        let cw = bits(depth)
        let wrPtr = m.declareRegister("wr_ptr", width: pw, repr: .unsigned)
        let rdPtr = m.declareRegister("rd_ptr", width: pw, repr: .unsigned)
        let used = m.declareRegister("used", width: cw, repr: .unsigned, comment: "entries held (not counting the output register)")
        let outValid = m.declareRegister("out_valid_r", width: 1, repr: .bit)
        let outData = m.declareRegister("out_data_r", width: width, repr: .bus)
        let reset = RegisterReset(rst, value: 0)
        // Storage: entry k loads wr_data when written at wr_ptr = k.
        var mem: [SignalID] = []
        for k in 0..<depth {
            let hit = m.define("wr_at_\(k)", width: 1, repr: .bit,
                               .compare(.eq, wrPtr, m.define("k\(k)", width: pw, repr: .unsigned, .const(BigInt(k)))))
            let we = m.define("we_\(k)", width: 1, repr: .bit, .bitwise(.and, wrValid, hit))
            mem.append(m.register("mem_\(k)", RegisterDef(d: wrData, clock: clk, enable: we)))
        }
        // Read selection: a mux tree on the bits of rd_ptr (missing leaves repeat entry 0).
        var level = (0..<(1 << pw)).map { $0 < depth ? mem[$0] : mem[0] }
        var lv = 0
        while level.count > 1 {
            let sel = m.define("rd_ptr_b\(lv)", width: 1, repr: .bit, .slice(rdPtr, lo: lv))
            level = stride(from: 0, to: level.count, by: 2).map { i in
                level[i] == level[i + 1] ? level[i] : m.define("rd_sel\(lv)_\(i / 2)", width: width, repr: .bus, .mux(sel, level[i + 1], level[i]))
            }
            lv += 1
        }
        let head = level[0]
        let one = m.define("one", width: 1, repr: .bit, .const(1))
        let zeroC = m.define("zero_c", width: cw, repr: .unsigned, .const(0))
        let nonEmpty = m.define("mem_nonempty", width: 1, repr: .bit, .compare(.ne, used, zeroC))
        let outFree = m.define("out_free", width: 1, repr: .bit,
                               .bitwise(.or, m.define("out_empty", width: 1, repr: .bit, .not(outValid)), rdReady))
        let load = m.define("load", width: 1, repr: .bit, .bitwise(.and, outFree, nonEmpty))
        func inc(_ p: SignalID, _ n: String) -> SignalID {
            let last = m.define("\(n)_last", width: 1, repr: .bit, .compare(.eq, p, m.define("kmax", width: pw, repr: .unsigned, .const(BigInt(depth - 1)))))
            let plus = m.define("\(n)_plus1", width: pw, repr: .unsigned, .add(p, m.define("p1", width: pw, repr: .unsigned, .const(1))))
            return m.define("\(n)_next", width: pw, repr: .unsigned, .mux(last, m.define("p0", width: pw, repr: .unsigned, .const(0)), plus))
        }
        m.drive(wrPtr, RegisterDef(d: inc(wrPtr, "wr_ptr"), clock: clk, enable: wrValid, reset: reset))
        m.drive(rdPtr, RegisterDef(d: inc(rdPtr, "rd_ptr"), clock: clk, enable: load, reset: reset))
        let wrC = m.define("wr_count", width: cw, repr: .unsigned, .extend(wrValid))
        let ldC = m.define("load_count", width: cw, repr: .unsigned, .extend(load))
        let usedNext = m.define("used_next", width: cw, repr: .unsigned,
                                .sub(m.define("used_plus", width: cw, repr: .unsigned, .add(used, wrC)), ldC))
        m.drive(used, RegisterDef(d: usedNext, clock: clk, reset: reset))
        let keep = m.define("out_keep", width: 1, repr: .bit,
                            .bitwise(.and, outValid, m.define("rd_stall", width: 1, repr: .bit, .not(rdReady))))
        m.drive(outValid, RegisterDef(d: m.define("out_valid_next", width: 1, repr: .bit, .mux(load, one, keep)), clock: clk, reset: reset))
        m.drive(outData, RegisterDef(d: head, clock: clk, enable: load))
        m.define("rd_valid", width: 1, repr: .bit, .copy(outValid), role: .output)
        m.define("rd_data", width: width, repr: .bus, .copy(outData), role: .output)
        return m
    }
}
