// Device models (Netlist/Device.swift): selection by name, xcup's figures unchanged, and the
// ecp5 model's timing is sane (slower than xcup, monotonic in width and depth, 4-input LUT cones).
import Netlist
import XCTest

final class DeviceTests: XCTestCase {
    func testNamesSelectDevicesAndUnknownNamesAreRefused() {
        XCTAssertEqual(Device.named("xcup")?.name, "xcup")
        XCTAssertEqual(Device.named("ecp5")?.name, "ecp5")
        XCTAssertNil(Device.named("ECP5"))
        XCTAssertNil(Device.named("virtex7"))
        XCTAssertEqual(Device.default, Device.xcup)
        XCTAssertEqual(Device.xcup.lutInputs, 6)
        XCTAssertEqual(Device.ecp5.lutInputs, 4)
        XCTAssertEqual(Device.ecp5.carryBitsPerCell, 2, "a CCU2C covers 2 bits")
        XCTAssertTrue(Device.ecp5.headerLine.hasPrefix("device: ecp5"))
    }

    /// The default delay model is the xcup device with the figures the model always had
    /// (register overhead 0.155, net 0.25, LUT 0.15, CARRY8 0.188 / 0.037 / 0.109, no allowance).
    func testXcupIsTheDefaultWithItsFigures() {
        let d = DelayModel(clockPeriodNs: 4)
        XCTAssertEqual(d.device, .xcup)
        XCTAssertEqual(d.budget, 4 - 0.155, accuracy: 1e-12)
        XCTAssertEqual(d.lutLevelNs, 0.40, accuracy: 1e-12)
        XCTAssertEqual(d.carryChainNs(8), 0.25 + 0.15 + 0.188, accuracy: 1e-12)
        XCTAssertEqual(d.carryChainNs(17), 0.25 + 0.15 + 0.188 + 0.037 + 0.109, accuracy: 1e-12)
        XCTAssertEqual(d.delay(of: .rom(SignalID(index: 0), table: 0), width: 8, operandWidths: [8]), 0.4 + 0.24, accuracy: 1e-12)
        XCTAssertEqual(d.delay(of: .reduceOr(SignalID(index: 0)), width: 1, operandWidths: [36]), 0.8, accuracy: 1e-12)
        XCTAssertEqual(d.delay(of: .reduceOr(SignalID(index: 0)), width: 1, operandWidths: [37]), 1.2, accuracy: 1e-12)
    }

    /// ECP5 is slower than UltraScale+ everywhere, an adder gets slower with its width (a CCU2C
    /// per 2 bits), a reduction gets a level per 4x inputs, and the stage budget leaves the
    /// routing allowance free.
    func testEcp5TimingIsMonotonicAndSlowerThanXcup() {
        let e = DelayModel(clockPeriodNs: 8, device: .ecp5), x = DelayModel(clockPeriodNs: 8)
        XCTAssertLessThan(e.budget, x.budget)
        XCTAssertEqual(e.budget, 8 - Device.ecp5.registerOverheadNs - Device.ecp5.routingAllowanceNs, accuracy: 1e-12)
        XCTAssertGreaterThan(e.lutLevelNs, x.lutLevelNs)
        var last = 0.0
        for w in 1...64 {
            let c = e.carryChainNs(w)
            XCTAssertGreaterThanOrEqual(c, last, "width \(w)")
            XCTAssertGreaterThan(c, x.carryChainNs(w), "width \(w)")
            last = c
        }
        XCTAssertGreaterThan(e.carryChainNs(32), e.carryChainNs(4), "the carry ripples through CCU2Cs")
        let or = { (n: Int) in e.delay(of: .reduceOr(SignalID(index: 0)), width: 1, operandWidths: [n]) }
        XCTAssertEqual(or(4), e.lutLevelNs, accuracy: 1e-12)
        XCTAssertEqual(or(5), 2 * e.lutLevelNs, accuracy: 1e-12)
        XCTAssertEqual(or(16), 2 * e.lutLevelNs, accuracy: 1e-12)
        XCTAssertEqual(or(17), 3 * e.lutLevelNs, accuracy: 1e-12)
    }

    /// A comparison is its carry chain on xcup; on ecp5 its result leaves the chain through one
    /// more CCU2C and a LUT level (seen on nextpnr's critical path of muon_recal at 8 ns).
    func testCompareEndsInALutLevelOnEcp5() {
        let (a, b) = (SignalID(index: 0), SignalID(index: 1))
        let x = DelayModel(clockPeriodNs: 4), e = DelayModel(clockPeriodNs: 8, device: .ecp5)
        XCTAssertEqual(x.delay(of: .compare(.ge, a, b), width: 1, operandWidths: [19, 19]), x.carryChainNs(19), accuracy: 1e-12)
        XCTAssertEqual(e.delay(of: .compare(.ge, a, b), width: 1, operandWidths: [19, 19]),
                       e.carryChainNs(19) + 0.071 + e.lutLevelNs, accuracy: 1e-9)
    }

    /// LUT-level logic packs into cones of the device's LUT size: 5 inputs are one level on
    /// xcup and two on ecp5.
    func testLutConesFollowTheDeviceLutSize() {
        let (s0, s1, s2) = (SignalID(index: 0), SignalID(index: 1), SignalID(index: 2))
        let mux = Op.mux(s0, s1, s2)
        for (dev, joins) in [(Device.xcup, true), (Device.ecp5, false)] {
            let d = DelayModel(clockPeriodNs: 8, device: dev)
            let a = d.timing(of: mux, width: 8, operandWidths: [1, 8, 8], operands: [Timing(ns: 1), Timing(ns: 1), Timing(ns: 1)])
            XCTAssertEqual(a.cone?.inputs, 3)
            // Two more inputs: 5 per bit.
            let b = d.timing(of: mux, width: 8, operandWidths: [1, 8, 8], operands: [Timing(ns: 1), a, Timing(ns: 1)])
            XCTAssertEqual(b.ns, 1 + (joins ? 1 : 2) * d.lutLevelNs, accuracy: 1e-12, dev.name)
        }
    }

    /// The same model needs at least as many stages at the same clock on ecp5 as on xcup.
    func testEcp5PipelinesDeeperThanXcup() {
        let x = DelayModel(clockPeriodNs: 4), e = DelayModel(clockPeriodNs: 4, device: .ecp5)
        // Levels of 16-bit adders per stage.
        let fit = { (d: DelayModel) -> Int in Int(d.budget / d.carryChainNs(16)) }
        XCTAssertGreaterThan(fit(x), fit(e))
        XCTAssertGreaterThanOrEqual(fit(DelayModel(clockPeriodNs: 8, device: .ecp5)), 1)
    }

    /// An inverted operand of a subtraction (a one-input LUT cone) is computed in the adder's own
    /// LUT on xcup (ready when its input is) but is a LUT level and a net of its own on ecp5.
    func testInvertedAdderOperandCostsALutLevelOnEcp5Only() {
        XCTAssertTrue(Device.xcup.inversionSharesAdderLut)
        XCTAssertFalse(Device.ecp5.inversionSharesAdderLut)
        let (a, b) = (SignalID(index: 0), SignalID(index: 1))
        for dev in [Device.xcup, .ecp5] {
            let d = DelayModel(clockPeriodNs: 8, device: dev)
            let inverted = d.timing(of: .not(b), width: 16, operandWidths: [16], operands: [Timing(ns: 1)])
            XCTAssertEqual(inverted.cone?.inputs, 1)
            let sum = d.timing(of: .add(a, b), width: 16, operandWidths: [16, 16], operands: [Timing(ns: 1), inverted])
            let expected = 1 + (dev.inversionSharesAdderLut ? 0 : d.lutLevelNs) + d.carryChainNs(16)
            XCTAssertEqual(sum.ns, expected, accuracy: 1e-12, dev.name)
        }
    }

    /// A builder that cannot fit one operation into a stage (operands from registers) records it
    /// with its delay and the limit (the period less the register overhead); one whose operations fit records nothing.
    func testOverrunsAreRecordedWhenOneOperationExceedsTheBudget() {
        func build(_ d: DelayModel, width: Int) -> DatapathBuilder {
            let b = DatapathBuilder(module: Module(name: "t"), delays: d)
            b.clock = b.input("clk", width: 1, repr: .bit)
            let x = b.input("x", width: width, repr: .signed), y = b.input("y", width: width, repr: .signed)
            let s = b.emit("s", width: width, repr: .signed, .add(x, y))
            b.emit("t", width: width, repr: .signed, .add(s, y))
            return b
        }
        let tight = DelayModel(clockPeriodNs: 3, device: .ecp5)
        XCTAssertGreaterThan(tight.carryChainNs(32), tight.logicLimit)
        XCTAssertEqual(tight.logicLimit, 3 - Device.ecp5.registerOverheadNs, accuracy: 1e-12)
        let b = build(tight, width: 32)
        XCTAssertEqual(b.overruns.map { $0.signal }, ["s", "t"])
        XCTAssertEqual(b.overruns.first?.delayNs ?? 0, tight.carryChainNs(32), accuracy: 1e-12)
        XCTAssertEqual(b.overruns.first?.limitNs ?? 0, tight.logicLimit, accuracy: 1e-12)
        XCTAssertEqual(build(DelayModel(clockPeriodNs: 8, device: .ecp5), width: 32).overruns, [])
        XCTAssertEqual(build(DelayModel(clockPeriodNs: 4), width: 32).overruns, [])
    }

    /// An adder whose operand is another adder's sum in the same stage pays adderAfterAdderNs
    /// (ecp5: the LUT4 row of Yosys' $macc, a net and a LUT; xcup: 0), also through a
    /// concatenation or a slice of that sum; a registered operand does not.
    func testAdderAfterAdderCostsALutLevelOnEcp5Only() {
        XCTAssertEqual(Device.xcup.adderAfterAdderNs, 0)
        let (a, b, c) = (SignalID(index: 0), SignalID(index: 1), SignalID(index: 2))
        for dev in [Device.xcup, .ecp5] {
            let d = DelayModel(clockPeriodNs: 8, device: dev)
            if dev == .ecp5 { XCTAssertEqual(dev.adderAfterAdderNs, d.lutLevelNs, accuracy: 1e-12) }
            let first = d.timing(of: .add(a, b), width: 16, operandWidths: [16, 16], operands: [.registered, .registered])
            XCTAssertTrue(first.fromCarryChain)
            XCTAssertEqual(first.ns, d.carryChainNs(16), accuracy: 1e-12)
            let joined = d.timing(of: .concat([a, b]), width: 20, operandWidths: [16, 4], operands: [first, .registered])
            XCTAssertTrue(joined.fromCarryChain)
            let second = d.timing(of: .sub(c, a), width: 20, operandWidths: [20, 20], operands: [.registered, joined])
            XCTAssertEqual(second.ns, d.carryChainNs(16) + dev.adderAfterAdderNs + d.carryChainNs(20), accuracy: 1e-12, dev.name)
            let fromRegs = d.timing(of: .add(a, c), width: 20, operandWidths: [20, 20], operands: [.registered, .registered])
            XCTAssertEqual(fromRegs.ns, d.carryChainNs(20), accuracy: 1e-12)
        }
    }
}
