// Firmware drop-in files for a stream build: an IP-XACT component (IEEE 1685-2014) declaring the
// two AXI4-Stream interfaces and the clock / reset, a Quartus .qsf fragment, an ipbb .dep file
// (CMS Level-1 firmware: one `src` line per HDL file) and a FuseSoC CAPI2 .core file.
public struct FirmwarePorts: Sendable {
    public let top: String
    public let tdataIn: Int
    public let tdataOut: Int
    public let tuser: Int
    public let vhdl: [String]
    public let verilog: [String]
    public init(top: String, tdataIn: Int, tdataOut: Int, tuser: Int, vhdl: [String], verilog: [String]) {
        self.top = top; self.tdataIn = tdataIn; self.tdataOut = tdataOut; self.tuser = tuser; self.vhdl = vhdl; self.verilog = verilog
    }
}

public enum Firmware {
    static func port(_ name: String, _ dir: String, _ width: Int) -> String {
        let vec = width > 1 ? "\n          <ipxact:vectors><ipxact:vector><ipxact:left>\(width - 1)</ipxact:left><ipxact:right>0</ipxact:right></ipxact:vector></ipxact:vectors>" : ""
        return """
              <ipxact:port>
                <ipxact:name>\(name)</ipxact:name>
                <ipxact:wire>
                  <ipxact:direction>\(dir)</ipxact:direction>\(vec)
                </ipxact:wire>
              </ipxact:port>

        """
    }

    static func bus(_ name: String, mode: String, library: String, busName: String, abstraction: String, maps: [(String, String)], params: [(String, String)] = []) -> String {
        var s = "    <ipxact:busInterface>\n      <ipxact:name>\(name)</ipxact:name>\n"
        s += "      <ipxact:busType vendor=\"\(library == "interface" ? "xilinx.com" : "xilinx.com")\" library=\"\(library)\" name=\"\(busName)\" version=\"1.0\"/>\n"
        s += "      <ipxact:abstractionTypes><ipxact:abstractionType>\n"
        s += "        <ipxact:abstractionRef vendor=\"xilinx.com\" library=\"\(library)\" name=\"\(abstraction)\" version=\"1.0\"/>\n"
        s += "        <ipxact:portMaps>\n"
        for (logical, physical) in maps {
            s += "          <ipxact:portMap><ipxact:logicalPort><ipxact:name>\(logical)</ipxact:name></ipxact:logicalPort>"
            s += "<ipxact:physicalPort><ipxact:name>\(physical)</ipxact:name></ipxact:physicalPort></ipxact:portMap>\n"
        }
        s += "        </ipxact:portMaps>\n      </ipxact:abstractionType></ipxact:abstractionTypes>\n"
        s += "      <ipxact:\(mode)/>\n"
        if !params.isEmpty {
            s += "      <ipxact:parameters>\n"
            for (k, v) in params {
                s += "        <ipxact:parameter parameterId=\"\(k)\" resolve=\"immediate\"><ipxact:name>\(k)</ipxact:name><ipxact:value>\(v)</ipxact:value></ipxact:parameter>\n"
            }
            s += "      </ipxact:parameters>\n"
        }
        return s + "    </ipxact:busInterface>\n"
    }

    public static func componentXML(_ p: FirmwarePorts) -> String {
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- \(VerilogEmitter.generatedBy) -->\n"
        s += "<ipxact:component xmlns:ipxact=\"http://www.accellera.org/XMLSchema/IPXACT/1685-2014\">\n"
        s += "  <ipxact:vendor>rtlgen</ipxact:vendor>\n  <ipxact:library>rtlgen</ipxact:library>\n"
        s += "  <ipxact:name>\(p.top)</ipxact:name>\n  <ipxact:version>1.0</ipxact:version>\n"
        s += "  <ipxact:busInterfaces>\n"
        s += bus("S_AXIS", mode: "slave", library: "interface", busName: "axis", abstraction: "axis_rtl",
                 maps: [("TDATA", "s_axis_tdata"), ("TVALID", "s_axis_tvalid"), ("TREADY", "s_axis_tready"), ("TLAST", "s_axis_tlast"), ("TUSER", "s_axis_tuser")])
        s += bus("M_AXIS", mode: "master", library: "interface", busName: "axis", abstraction: "axis_rtl",
                 maps: [("TDATA", "m_axis_tdata"), ("TVALID", "m_axis_tvalid"), ("TREADY", "m_axis_tready"), ("TLAST", "m_axis_tlast"), ("TUSER", "m_axis_tuser")])
        s += bus("aclk", mode: "slave", library: "signal", busName: "clock", abstraction: "clock_rtl", maps: [("CLK", "aclk")],
                 params: [("ASSOCIATED_BUSIF", "S_AXIS:M_AXIS"), ("ASSOCIATED_RESET", "aresetn")])
        s += bus("aresetn", mode: "slave", library: "signal", busName: "reset", abstraction: "reset_rtl", maps: [("RST", "aresetn")],
                 params: [("POLARITY", "ACTIVE_LOW")])
        s += "  </ipxact:busInterfaces>\n  <ipxact:model>\n    <ipxact:views>\n"
        s += "      <ipxact:view><ipxact:name>synthesis</ipxact:name><ipxact:envIdentifier>:vivado.xilinx.com:synthesis</ipxact:envIdentifier>"
        s += "<ipxact:componentInstantiationRef>vhdl_implementation</ipxact:componentInstantiationRef></ipxact:view>\n"
        s += "    </ipxact:views>\n    <ipxact:instantiations>\n"
        s += "      <ipxact:componentInstantiation><ipxact:name>vhdl_implementation</ipxact:name><ipxact:language>vhdl</ipxact:language>"
        s += "<ipxact:moduleName>\(p.top)</ipxact:moduleName><ipxact:fileSetRef><ipxact:localName>sources</ipxact:localName></ipxact:fileSetRef></ipxact:componentInstantiation>\n"
        s += "    </ipxact:instantiations>\n    <ipxact:ports>\n"
        for (n, d, w) in [("aclk", "in", 1), ("aresetn", "in", 1), ("s_axis_tdata", "in", p.tdataIn), ("s_axis_tvalid", "in", 1),
                          ("s_axis_tready", "out", 1), ("s_axis_tlast", "in", 1), ("s_axis_tuser", "in", p.tuser),
                          ("m_axis_tdata", "out", p.tdataOut), ("m_axis_tvalid", "out", 1), ("m_axis_tready", "in", 1),
                          ("m_axis_tlast", "out", 1), ("m_axis_tuser", "out", p.tuser)] {
            s += port(n, d, w)
        }
        s += "    </ipxact:ports>\n  </ipxact:model>\n  <ipxact:fileSets>\n    <ipxact:fileSet>\n      <ipxact:name>sources</ipxact:name>\n"
        for f in p.vhdl { s += "      <ipxact:file><ipxact:name>\(f)</ipxact:name><ipxact:fileType>vhdlSource</ipxact:fileType></ipxact:file>\n" }
        s += "    </ipxact:fileSet>\n  </ipxact:fileSets>\n</ipxact:component>\n"
        return s
    }

    public static func qsf(_ p: FirmwarePorts) -> String {
        var s = "# \(VerilogEmitter.generatedBy)\n# Quartus settings fragment: add to the project's .qsf (paths relative to this folder).\n"
        for f in p.vhdl { s += "set_global_assignment -name VHDL_FILE \(f)\n" }
        if p.vhdl.isEmpty { for f in p.verilog { s += "set_global_assignment -name VERILOG_FILE \(f)\n" } }
        return s
    }

    public static func ipbbDep(_ p: FirmwarePorts) -> String {
        var s = "# \(VerilogEmitter.generatedBy)\n# ipbb dependency file of \(p.top): one src line per HDL file.\n"
        for f in p.vhdl.isEmpty ? p.verilog : p.vhdl { s += "src \(f)\n" }
        return s
    }

    public static func fusesocCore(_ p: FirmwarePorts, tbVHDL: String?, tbCpp: String?) -> String {
        var s = "CAPI=2:\n# \(VerilogEmitter.generatedBy)\nname: rtlgen:nn:\(p.top):1.0.0\ndescription: AXI4-Stream muon wrapper generated by rtlgen\n\nfilesets:\n"
        if !p.vhdl.isEmpty {
            s += "  rtl_vhdl:\n    file_type: vhdlSource-2008\n    files:\n" + p.vhdl.map { "      - \($0)\n" }.joined()
        }
        if !p.verilog.isEmpty {
            s += "  rtl_verilog:\n    file_type: verilogSource\n    files:\n" + p.verilog.map { "      - \($0)\n" }.joined()
        }
        if let tb = tbVHDL { s += "  tb_vhdl:\n    file_type: vhdlSource-2008\n    files:\n      - \(tb)\n" }
        s += "\ntargets:\n  default:\n    filesets: [\(p.vhdl.isEmpty ? "rtl_verilog" : "rtl_vhdl")]\n    toplevel: \(p.top)\n"
        if tbVHDL != nil && !p.vhdl.isEmpty {
            s += "  sim:\n    default_tool: ghdl\n    filesets: [rtl_vhdl, tb_vhdl]\n    toplevel: tb_\(p.top)\n"
            s += "    parameters: [BEATS, OUTPUT, SEED, MODE]\n    tools:\n      ghdl:\n        analyze_options: [--std=08]\n"
        }
        s += "\nparameters:\n  BEATS:\n    datatype: str\n    paramtype: generic\n    default: beats.txt\n"
        s += "  OUTPUT:\n    datatype: str\n    paramtype: generic\n    default: out.txt\n"
        s += "  SEED:\n    datatype: int\n    paramtype: generic\n    default: 1\n"
        s += "  MODE:\n    datatype: int\n    paramtype: generic\n    default: 1\n"
        _ = tbCpp
        return s
    }
}
