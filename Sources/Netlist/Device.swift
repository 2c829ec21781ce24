// The FPGA family the delay model describes (`rtlgen build --device NAME`, `device: NAME` in the
// config): LUT size, register overhead, net and LUT delays, the carry chain, and a routing
// allowance kept free in every stage. DelayModel (Builder.swift) turns one into stage timing.
// docs/hardware.md ("Device models") lists the figures and where they come from.

public struct Device: Sendable, Hashable {
    /// The name `--device` and `device:` take.
    public let name: String
    /// One line for HDL headers and the docs.
    public let title: String
    /// Inputs of one LUT: LUT-level logic packs into cones of at most this many inputs.
    public let lutInputs: Int
    /// Clock-to-out, setup and clock uncertainty, taken off every stage's budget.
    public let registerOverheadNs: Double
    /// A net between two cells.
    public let netNs: Double
    /// A LUT level (the LUT alone; a level is a net and a LUT).
    public let lutNs: Double
    /// Into the carry chain and through its first carry cell.
    public let carryEntryNs: Double
    /// Bits one carry cell covers (CARRY8: 8; ECP5 CCU2C: 2).
    public let carryBitsPerCell: Int
    /// Each further carry cell.
    public let carryPerCellNs: Double
    /// Out of the last carry cell (the sum output).
    public let carryExitNs: Double
    /// A comparison's result after its carry chain: on ECP5 the chain's carry out leaves through
    /// one more CCU2C and a LUT behind a net (0 on xcup).
    public let compareExtraNs: Double
    /// Kept free in every stage for routing the model does not see (long nets, high fanout).
    public let routingAllowanceNs: Double
    /// Whether an adder operand that is a one-input function of a signal (an inverted bit: the
    /// subtrahend of a subtraction, a CSD digit's negated term) is computed in the adder's own LUT
    /// (true on UltraScale+: the carry chain's LUT6 takes it). False on ECP5: Yosys' synth_ecp5
    /// puts a separate LUT4 between the two adders, so the operand costs its own LUT level and net
    /// (nextpnr's critical paths, docs/hardware.md "Device models").
    public let inversionSharesAdderLut: Bool
    /// Added when an adder's operand is the sum of another adder in the same stage. 0 on xcup
    /// (CARRY8 sum -> net -> the next adder's LUT6, which the adder's own figures count). On ECP5
    /// Yosys' alumacc merges an adder into the adder that takes its sum ($macc) and maccmap puts
    /// a row of LUT4 3:2 compressors in front of the final CCU2C chain: nextpnr's critical path of
    /// muon_recal at 8 ns, fc4 `s7 = s2 + (s3 - e13)`: chain, net 0.85, LUT4 0.236, net 1.15, chain.
    public let adderAfterAdderNs: Double
    /// A LUT ROM: the first level (a net and a LUT of `lutInputs` address bits) ...
    public let romBaseNs: Double
    /// ... and a 2:1 mux level per further address bit.
    public let romPerBitNs: Double
    /// A hard multiplier that fits one DSP block, and one that does not.
    public let mulSmallNs: Double
    public let mulLargeNs: Double

    /// AMD UltraScale+ (the figures DelayModel has always had; sources in Builder.swift).
    public static let xcup = Device(
        name: "xcup", title: "AMD UltraScale+: 6-input LUTs, CARRY8", lutInputs: 6,
        registerOverheadNs: 0.093 + 0.027 + 0.035, netNs: 0.25, lutNs: 0.15,
        carryEntryNs: 0.011 + 0.177, carryBitsPerCell: 8, carryPerCellNs: 0.037, carryExitNs: 0.109,
        compareExtraNs: 0, routingAllowanceNs: 0, inversionSharesAdderLut: true, adderAfterAdderNs: 0, romBaseNs: 0.4, romPerBitNs: 0.12, mulSmallNs: 2.0, mulLargeNs: 3.0)

    /// Lattice ECP5, speed grade -6, as nextpnr-ecp5 models it (its default grade), read off
    /// nextpnr's timing reports of placed-and-routed designs (docs/hardware.md, "Device models"):
    /// TRELLIS_FF clock-to-Q 0.525 (setup 0); LUT4 D -> F 0.236; CCU2C B -> FCO 0.447 (the LUT
    /// and the chain entry), FCI -> FCO 0.071 per CCU2C (2 bits), FCI -> F 0.403; PFUMX M -> OFX
    /// 0.256; nets 0.13 (within a slice) .. 1.1 in small designs and longer in large ones: the net
    /// figure and the routing allowance come from the critical paths of rtlgen designs. A compare
    /// ends in a carry-out CCU2C (0.071) and a net and LUT4 (muon_recal fc3's ovf_hi at 8 ns).
    /// A multiplier that fits one MULT18X18D: the placed path of examples/activations' selu_w at
    /// 8 ns, net 2.263 into the DSP, A/B -> P 3.927, net 1.432 to the register (DSP blocks sit in
    /// columns: long nets both ways); one that needs more DSPs adds an adder level (not measured).
    public static let ecp5 = Device(
        name: "ecp5", title: "Lattice ECP5 -6 as nextpnr models it: 4-input LUTs, CCU2C", lutInputs: 4,
        registerOverheadNs: 0.53, netNs: 1.3, lutNs: 0.24,
        carryEntryNs: 0.447 - 0.24, carryBitsPerCell: 2, carryPerCellNs: 0.071, carryExitNs: 0.403,
        compareExtraNs: 0.071 + 1.3 + 0.24, routingAllowanceNs: 1.2, inversionSharesAdderLut: false, adderAfterAdderNs: 1.3 + 0.24, romBaseNs: 1.3 + 0.24, romPerBitNs: 0.256 + 0.5, mulSmallNs: 2.263 + 3.927 + 1.432, mulLargeNs: 2.263 + 3.927 + 1.432 + 2.5)

    public static let all: [Device] = [.xcup, .ecp5]
    public static let `default` = Device.xcup

    public static func named(_ n: String) -> Device? { all.first { $0.name == n } }
    public static var names: String { all.map { $0.name }.joined(separator: ", ") }

    /// The header line every generated module carries.
    public var headerLine: String { "device: \(name) (\(title))" }
}
