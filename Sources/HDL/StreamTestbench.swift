// Testbenches of the AXI4-Stream wrapper (Verilator C++ and VHDL), identical in behaviour:
// a source that presents beats from `beats.txt` (one per line: TDATA bits, TLAST, TUSER bits,
// MSB first) and holds each until accepted, and a sink whose TREADY follows a pattern; every
// accepted output beat is written to the output file (same format), and the last line is
// `cycles N`. Patterns (a 16-bit LCG x = (75x + 74) mod 65537, seeded by SEED) in phases of 512
// cycles: full rate; random TVALID / TREADY (50% / 50%); long stalls (TREADY low for 300 cycles
// of 512, TVALID 90%); bursts (TVALID in runs of 16 every 32, TREADY 80%). MODE 1: TVALID and
// TREADY always high (throughput measurement).
import Netlist

public struct StreamPorts: Sendable {
    public let top: String
    public let tdataIn: Int
    public let tdataOut: Int
    public let tuser: Int
    public init(top: String, tdataIn: Int, tdataOut: Int, tuser: Int) {
        self.top = top; self.tdataIn = tdataIn; self.tdataOut = tdataOut; self.tuser = tuser
    }
}

public enum StreamTestbench {
    public static func verilator(_ p: StreamPorts) -> String {
        let inW = p.tdataIn + 1 + p.tuser
        return """
        // \(VerilogEmitter.generatedBy)
        // AXI4-Stream testbench for \(p.top): tb BEATS OUT SEED MODE
        #include "V\(p.top).h"
        #include "verilated.h"
        #include <fstream>
        #include <string>
        #include <vector>
        #include <cstdlib>

        \(TestbenchEmitter.verilatorBitHelpers)

        static unsigned lcg = 1;
        static int draw() { lcg = (75u * lcg + 74u) % 65537u; return (int)(lcg % 100u); }

        int main(int argc, char** argv) {
            if (argc < 5) return 2;
            Verilated::commandArgs(1, argv);
            std::ifstream fin(argv[1]);
            std::ofstream fout(argv[2]);
            lcg = (unsigned)std::atoi(argv[3]) % 65537u;
            int mode = std::atoi(argv[4]);
            std::vector<std::string> beats;
            std::string line;
            while (std::getline(fin, line)) if ((long)line.size() >= \(inW)) beats.push_back(line);
            V\(p.top)* top = new V\(p.top);
            size_t next = 0, got = 0;
            bool holding = false;
            long cycle = 0, limit = (long)beats.size() * 60 + 2000;
            while (got < beats.size() && cycle < limit) {
                bool reset = cycle < 4;
                int phase = (int)((cycle / 512) % 4), t = (int)(cycle % 512);
                bool v, r;
                if (mode == 1 || phase == 0) { v = true; r = true; }
                else if (phase == 1) { v = draw() < 50; r = draw() < 50; }
                else if (phase == 2) { v = draw() < 90; r = t < 212; draw(); }
                else { v = (t % 32) < 16; r = draw() < 80; draw(); }
                if (!holding && v && !reset && next < beats.size()) holding = true;
                top->aresetn = reset ? 0 : 1;
                top->s_axis_tvalid = holding ? 1 : 0;
                const std::string& b = beats[next < beats.size() ? next : 0];
                setBits(top->s_axis_tdata, b.substr(0, \(p.tdataIn)));
                top->s_axis_tlast = b[\(p.tdataIn)] == '1';
                setBits(top->s_axis_tuser, b.substr(\(p.tdataIn + 1), \(p.tuser)));
                top->m_axis_tready = r ? 1 : 0;
                top->aclk = 0; top->eval();
                if (!reset && top->m_axis_tvalid && r) {
                    fout << getBits(top->m_axis_tdata, \(p.tdataOut)) << (top->m_axis_tlast ? "1" : "0")
                         << getBits(top->m_axis_tuser, \(p.tuser)) << "\\n";
                    got++;
                }
                if (!reset && holding && top->s_axis_tready) { holding = false; next++; }
                top->aclk = 1; top->eval();
                cycle++;
            }
            fout << "cycles " << cycle << "\\n";
            top->final();
            delete top;
            return 0;
        }

        """
    }

    public static func vhdl(_ p: StreamPorts) -> String {
        let inW = p.tdataIn + 1 + p.tuser
        let outW = p.tdataOut + 1 + p.tuser
        return """
        -- \(VerilogEmitter.generatedBy)
        -- AXI4-Stream testbench for \(p.top). Generics: BEATS, OUTPUT, SEED, MODE.
        library ieee;
        use ieee.std_logic_1164.all;
        use std.textio.all;

        entity tb_\(p.top) is
          generic (BEATS : string := "beats.txt"; OUTPUT : string := "out.txt"; SEED : natural := 1; MODE : natural := 0);
        end entity tb_\(p.top);

        architecture sim of tb_\(p.top) is
          signal aclk : std_logic := '0';
          signal aresetn, s_axis_tvalid, s_axis_tready, s_axis_tlast, m_axis_tvalid, m_axis_tready, m_axis_tlast : std_logic := '0';
          signal s_axis_tdata : std_logic_vector(\(p.tdataIn - 1) downto 0) := (others => '0');
          signal s_axis_tuser, m_axis_tuser : std_logic_vector(\(p.tuser - 1) downto 0) := (others => '0');
          signal m_axis_tdata : std_logic_vector(\(p.tdataOut - 1) downto 0);
          type beat_array is array (natural range <>) of string(1 to \(inW));
        begin
          dut : entity work.\(p.top) port map (aclk => aclk, aresetn => aresetn, s_axis_tdata => s_axis_tdata,
            s_axis_tvalid => s_axis_tvalid, s_axis_tlast => s_axis_tlast, s_axis_tuser => s_axis_tuser,
            m_axis_tready => m_axis_tready, s_axis_tready => s_axis_tready, m_axis_tdata => m_axis_tdata,
            m_axis_tvalid => m_axis_tvalid, m_axis_tlast => m_axis_tlast, m_axis_tuser => m_axis_tuser);

          process
            file fin  : text open read_mode is BEATS;
            file fout : text open write_mode is OUTPUT;
            variable lin, lout : line;
            variable count : natural := 0;
            variable s : string(1 to \(inW));
            variable o : string(1 to \(outW));
            variable lcg : natural := SEED mod 65537;
            variable nxt, got, phase, t : natural := 0;
            variable cycle : natural := 0;
            variable holding, rst, v, r : boolean := false;
            variable d : natural;
            impure function draw return natural is
            begin
              lcg := (75 * lcg + 74) mod 65537;
              return lcg mod 100;
            end function;
            procedure to_bits(str : string; first : natural; signal x : out std_logic_vector) is
            begin
              for k in 0 to x'length - 1 loop
                if str(first + k) = '1' then x(x'length - 1 - k) <= '1'; else x(x'length - 1 - k) <= '0'; end if;
              end loop;
            end procedure;
            type beat_ptr is access beat_array;
            variable store : beat_ptr;
          begin
            -- Count, then read the beats.
            while not endfile(fin) loop readline(fin, lin); if lin'length >= \(inW) then count := count + 1; end if; deallocate(lin); end loop;
            file_close(fin);
            file_open(fin, BEATS, read_mode);
            store := new beat_array(0 to count);
            for i in 0 to count - 1 loop
              loop readline(fin, lin); exit when lin'length >= \(inW); deallocate(lin); end loop;
              read(lin, s); store(i) := s; deallocate(lin);
            end loop;
            store(count) := store(0);
            while got < count and cycle < count * 60 + 2000 loop
              rst := cycle < 4;
              phase := (cycle / 512) mod 4; t := cycle mod 512;
              if MODE = 1 or phase = 0 then v := true; r := true;
              elsif phase = 1 then v := draw < 50; r := draw < 50;
              elsif phase = 2 then v := draw < 90; r := t < 212; d := draw;
              else v := (t mod 32) < 16; r := draw < 80; d := draw;
              end if;
              if not holding and v and not rst and nxt < count then holding := true; end if;
              if rst then aresetn <= '0'; else aresetn <= '1'; end if;
              if holding then s_axis_tvalid <= '1'; else s_axis_tvalid <= '0'; end if;
              to_bits(store(nxt), 1, s_axis_tdata);
              if store(nxt)(\(p.tdataIn + 1)) = '1' then s_axis_tlast <= '1'; else s_axis_tlast <= '0'; end if;
              to_bits(store(nxt), \(p.tdataIn + 2), s_axis_tuser);
              if r then m_axis_tready <= '1'; else m_axis_tready <= '0'; end if;
              aclk <= '0';
              wait for 1 ns;
              if not rst and m_axis_tvalid = '1' and r then
                for k in 0 to \(p.tdataOut - 1) loop
                  if m_axis_tdata(\(p.tdataOut - 1) - k) = '1' then o(1 + k) := '1'; else o(1 + k) := '0'; end if;
                end loop;
                if m_axis_tlast = '1' then o(\(p.tdataOut + 1)) := '1'; else o(\(p.tdataOut + 1)) := '0'; end if;
                for k in 0 to \(p.tuser - 1) loop
                  if m_axis_tuser(\(p.tuser - 1) - k) = '1' then o(\(p.tdataOut + 2) + k) := '1'; else o(\(p.tdataOut + 2) + k) := '0'; end if;
                end loop;
                write(lout, o); writeline(fout, lout);
                got := got + 1;
              end if;
              if not rst and holding and s_axis_tready = '1' then holding := false; nxt := nxt + 1; end if;
              aclk <= '1';
              wait for 1 ns;
              cycle := cycle + 1;
            end loop;
            write(lout, string'("cycles ")); write(lout, cycle); writeline(fout, lout);
            wait;
          end process;
        end architecture sim;

        """
    }
}
