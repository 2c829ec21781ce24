import BigInt
@testable import HDL
@testable import Netlist
import XCTest

final class RomTests: XCTestCase {
    /// A module with two reads of one table and one unused table: the interpreter reads every
    /// entry, pruning keeps only the read table, and both emitters declare it once.
    func testRomReadPruneAndEmit() {
        let m = Module(name: "romtest")
        let b = DatapathBuilder(module: m, delays: DelayModel(clockPeriodNs: 4))
        b.clock = b.input("clk", width: 1, repr: .bit)
        b.enable = b.input("ce", width: 1, repr: .bit)
        let a = b.input("in_data", width: 6, repr: .bus)
        let values: [BigInt] = (0..<8).map { BigInt(($0 * 5) % 16) - 8 }
        let t = m.addTable(RomTable(name: "f_table", width: 4, repr: .signed, values: values, comment: "f"))
        let unused = m.addTable(RomTable(name: "g_table", width: 2, repr: .unsigned, values: [0, 1, 2, 3]))
        XCTAssertEqual(unused, 1)
        let a0 = b.emit("a0", width: 3, repr: .unsigned, .slice(a, lo: 0))
        let a1 = b.emit("a1", width: 3, repr: .unsigned, .slice(a, lo: 3))
        let y0 = b.emit("y0", width: 4, repr: .signed, .rom(a0, table: t))
        let y1 = b.emit("y1", width: 4, repr: .signed, .rom(a1, table: t))
        let (regs, _) = b.registerAll([y0, y1], names: ["q0", "q1"])
        m.define("out_data", width: 8, repr: .bus, .concat(regs.reversed()), role: .output)
        m.eliminateDeadSignals()
        XCTAssertEqual(m.tables.map { $0.name }, ["f_table"])
        let sim = NetlistInterpreter(m, library: [])
        for x in 0..<64 {
            sim.evaluate(inputs: ["clk": 0, "ce": 1, "in_data": BigInt(x)])
            sim.clock()
            sim.evaluate(inputs: ["clk": 0, "ce": 1, "in_data": BigInt(x)])
            let out = sim.output("out_data")
            let e0 = (values[x & 7] + 16) % 16, e1 = (values[x >> 3] + 16) % 16
            XCTAssertEqual(out, e0 | (e1 << 4), "address \(x)")
        }
        let v = VerilogEmitter.emit(m)
        XCTAssertEqual(v.components(separatedBy: "reg [3:0] f_table [0:7];").count, 2)
        XCTAssertTrue(v.contains("f_table[7] = 4'd11;"), v)
        XCTAssertTrue(v.contains("wire signed [3:0] y0 = $signed(f_table[a0]);"), v)
        let h = VHDLEmitter.emit(m)
        XCTAssertTrue(h.contains("type f_table_t is array (0 to 7) of signed(3 downto 0);"), h)
        XCTAssertTrue(h.contains("constant f_table : f_table_t := ("), h)
        XCTAssertTrue(h.contains("f_table(to_integer(a0))"), h)
        XCTAssertFalse(h.contains("g_table"))
    }
}
