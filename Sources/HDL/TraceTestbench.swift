// Cycle-trace testbenches for any module: the same stimulus drives the module in Verilator and
// in GHDL, and each prints its outputs every cycle, so both can be compared with the netlist
// interpreter cycle by cycle (used by the tests of stateful modules: counters, skid buffers,
// FIFOs, stream wrappers).
//
// Stimulus file: one line per cycle, the bits of every input port except the clock,
// concatenated in port order (MSB first). Each cycle: inputs applied with the clock low,
// logic settles, the outputs are written (one line, every output port concatenated in port
// order), then the clock rises.
import Netlist

public enum TraceTestbench {
    static func inputs(_ m: Module, clock: String) -> [Signal] {
        m.ports.map { m[$0] }.filter { $0.role == .input && $0.name != clock }
    }
    static func outputs(_ m: Module) -> [Signal] { m.ports.map { m[$0] }.filter { $0.role == .output } }

    /// The Verilator harness: `tb STIMULUS TRACE`.
    public static func verilator(_ m: Module, clock: String) -> String {
        let ins = inputs(m, clock: clock), outs = outputs(m)
        var set = "", get = ""
        var pos = 0
        for s in ins {
            set += "        setBits(top->\(s.name), line.substr(\(pos), \(s.width)));\n"
            pos += s.width
        }
        for s in outs { get += "        fout << getBits(top->\(s.name), \(s.width));\n" }
        return """
        // \(VerilogEmitter.generatedBy)
        // Cycle-trace harness for \(m.name): tb STIMULUS TRACE
        #include "V\(m.name).h"
        #include "verilated.h"
        #include <fstream>
        #include <string>

        \(TestbenchEmitter.verilatorBitHelpers)

        int main(int argc, char** argv) {
            if (argc < 3) return 2;
            Verilated::commandArgs(1, argv);
            std::ifstream fin(argv[1]);
            std::ofstream fout(argv[2]);
            V\(m.name)* top = new V\(m.name);
            std::string line;
            while (std::getline(fin, line)) {
                if ((long)line.size() < \(pos)) return 2;
        \(set)        top->\(clock) = 0; top->eval();
        \(get)        fout << "\\n";
                top->\(clock) = 1; top->eval();
            }
            top->final();
            delete top;
            return 0;
        }

        """
    }

    /// The GHDL testbench `tb_trace_NAME`, generics STIMULUS and TRACE (VHDL-93 textio).
    public static func vhdl(_ m: Module, clock: String) -> String {
        let ins = inputs(m, clock: clock), outs = outputs(m)
        let inW = max(1, ins.map { $0.width }.reduce(0, +)), outW = max(1, outs.map { $0.width }.reduce(0, +))
        func decl(_ s: Signal) -> String {
            "  signal \(s.name) : \(s.repr == .bit ? "std_logic" : "std_logic_vector(\(s.width - 1) downto 0)");\n"
        }
        var signals = "  signal \(clock) : std_logic := '0';\n"
        for s in ins + outs { signals += decl(s) }
        let map = ([clock] + (ins + outs).map { $0.name }).map { "\($0) => \($0)" }.joined(separator: ", ")
        var apply = "", sample = ""
        var pos = 1
        for s in ins {
            if s.repr == .bit {
                apply += "      if s_in(\(pos)) = '1' then \(s.name) <= '1'; else \(s.name) <= '0'; end if;\n"
            } else {
                apply += "      for k in 0 to \(s.width - 1) loop\n"
                apply += "        if s_in(\(pos) + k) = '1' then \(s.name)(\(s.width - 1) - k) <= '1'; else \(s.name)(\(s.width - 1) - k) <= '0'; end if;\n"
                apply += "      end loop;\n"
            }
            pos += s.width
        }
        pos = 1
        for s in outs {
            if s.repr == .bit {
                sample += "      if \(s.name) = '1' then s_out(\(pos)) := '1'; else s_out(\(pos)) := '0'; end if;\n"
            } else {
                sample += "      for k in 0 to \(s.width - 1) loop\n"
                sample += "        if \(s.name)(\(s.width - 1) - k) = '1' then s_out(\(pos) + k) := '1'; else s_out(\(pos) + k) := '0'; end if;\n"
                sample += "      end loop;\n"
            }
            pos += s.width
        }
        return """
        -- \(VerilogEmitter.generatedBy)
        -- Cycle-trace testbench for \(m.name). Generics: STIMULUS, TRACE.
        library ieee;
        use ieee.std_logic_1164.all;
        use std.textio.all;

        entity tb_trace_\(m.name) is
          generic (STIMULUS : string := "stimulus.txt"; TRACE : string := "trace.txt");
        end entity tb_trace_\(m.name);

        architecture sim of tb_trace_\(m.name) is
        \(signals)begin
          dut : entity work.\(m.name) port map (\(map));

          process
            file fin  : text open read_mode is STIMULUS;
            file fout : text open write_mode is TRACE;
            variable lin, lout : line;
            variable s_in  : string(1 to \(inW));
            variable s_out : string(1 to \(outW));
          begin
            while not endfile(fin) loop
              readline(fin, lin);
              read(lin, s_in);
        \(apply)      \(clock) <= '0';
              wait for 1 ns;
        \(sample)      write(lout, s_out);
              writeline(fout, lout);
              \(clock) <= '1';
              wait for 1 ns;
            end loop;
            wait;
          end process;
        end architecture sim;

        """
    }
}
