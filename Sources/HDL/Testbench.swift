// Generated testbenches: a Verilator C++ harness and a VHDL testbench for GHDL. Both read the
// input bus values (one binary string per line, MSB first), stream them through the core at
// one sample per enabled cycle with a deterministic clock-enable stall pattern, and write each
// output bus value (binary, MSB first) when out_valid is high on an enabled edge.
import Netlist

public struct TestbenchPorts {
    public let top: String
    public let inWidth: Int
    public let outWidth: Int
    public let latency: Int
    /// Cycles between samples; above 1 the core has an `in_ready` output (a reuse factor).
    public let initiationInterval: Int
    public init(top: String, inWidth: Int, outWidth: Int, latency: Int, initiationInterval: Int = 1) {
        self.top = top
        self.inWidth = inWidth
        self.outWidth = outWidth
        self.latency = latency
        self.initiationInterval = initiationInterval
    }
}

public enum TestbenchEmitter {
    /// ce is low on cycles where (cycle % 7) == 3, exercising the stall path.
    public static let stallComment = "ce is held low one cycle in seven ((cycle % 7) == 3) to exercise stalls"

    /// C++ helpers of the Verilator harnesses: a port from / to a binary string (MSB first),
    /// for ports of up to 64 bits and for wide (VlWide) ports.
    static let verilatorBitHelpers = """
template <typename T> static void setBits(T& port, const std::string& s) {
    port = 0;
    for (char c : s) port = (T)((port << 1) | (c == '1' ? 1 : 0));
}
template <std::size_t N> static void setBits(VlWide<N>& port, const std::string& s) {
    for (std::size_t i = 0; i < N; ++i) port[i] = 0;
    const std::size_t n = s.size();
    for (std::size_t k = 0; k < n; ++k)
        if (s[n - 1 - k] == '1') port[k / 32] |= (EData)1 << (k % 32);
}
template <typename T> static std::string getBits(const T& port, int width) {
    std::string s(width, '0');
    for (int k = 0; k < width; ++k)
        if ((port >> k) & 1) s[width - 1 - k] = '1';
    return s;
}
template <std::size_t N> static std::string getBits(const VlWide<N>& port, int width) {
    std::string s(width, '0');
    for (int k = 0; k < width; ++k)
        if ((port[k / 32] >> (k % 32)) & 1) s[width - 1 - k] = '1';
    return s;
}
"""

    /// Replaces each (old, new) pair exactly once (a generator error otherwise).
    static func edit(_ text: String, _ pairs: [(String, String)]) -> String {
        var t = text
        for (a, b) in pairs {
            precondition(t.components(separatedBy: a).count == 2, "testbench template: '\(a)' not found exactly once")
            t = t.replacingOccurrences(of: a, with: b)
        }
        return t
    }

    public static func verilator(_ p: TestbenchPorts) -> String {
        let ii = p.initiationInterval
        let text = verilatorII1(p)
        guard ii > 1 else { return text }
        // II > 1 (a reuse factor): in_valid stays high with the next sample, which is taken on an
        // enabled edge with in_ready high; in_valid on the other cycles is ignored by the core.
        return edit(text, [
            ("    // Inputs are presented on every enabled cycle, so output k must appear right before\n    // enabled edge k + LATENCY + 1: this checks the reported latency too.\n",
             "    // II = \(ii): in_valid stays high with the next sample, which the core takes on an enabled\n    // edge with in_ready high (one every \(ii) enabled edges; in_valid on the other cycles is\n    // ignored), so output k must appear right before enabled edge k * \(ii) + LATENCY + 1:\n    // this checks the reported latency and II too.\n"),
            ("const long limit = 2 * n + ", "const long limit = \(2 * ii) * n + "),
            ("        top->clk = 0; top->eval();\n", "        top->clk = 0; top->eval();\n        const bool taken = ce && next < n && top->in_ready;\n"),
            ("if (edges != received + ", "if (edges != received * \(ii) + "),
            ("received, edges - received, (long)", "received, edges - received * \(ii), (long)"),
            ("        if (ce && next < n) ++next;\n", "        if (taken) ++next;\n"),
        ])
    }

    static func verilatorII1(_ p: TestbenchPorts) -> String {
        return """
        // \(VerilogEmitter.generatedBy)
        // Verilator harness for \(p.top): tb IN_FILE OUT_FILE N_SAMPLES
        // \(stallComment).
        #include "V\(p.top).h"
        #include "verilated.h"
        #include <cstdio>
        #include <cstdlib>
        #include <fstream>
        #include <string>
        #include <vector>

        \(verilatorBitHelpers)

        int main(int argc, char** argv) {
            if (argc < 4) { std::fprintf(stderr, "usage: %s IN_FILE OUT_FILE N_SAMPLES\\n", argv[0]); return 2; }
            Verilated::commandArgs(1, argv);
            std::ifstream fin(argv[1]);
            std::ofstream fout(argv[2]);
            const long n = std::atol(argv[3]);
            std::vector<std::string> inputs;
            std::string line;
            while (std::getline(fin, line)) if (!line.empty()) inputs.push_back(line);
            if ((long)inputs.size() != n) { std::fprintf(stderr, "expected %ld input lines, read %zu\\n", n, inputs.size()); return 2; }
            V\(p.top)* top = new V\(p.top);
            top->clk = 0; top->rst = 1; top->ce = 1; top->in_valid = 0;
            for (int i = 0; i < 2; ++i) { top->clk = 0; top->eval(); top->clk = 1; top->eval(); }
            top->rst = 0;
            // Inputs are presented on every enabled cycle, so output k must appear right before
            // enabled edge k + LATENCY + 1: this checks the reported latency too.
            long next = 0, received = 0, cycle = 0, edges = 0;
            const long limit = 2 * n + \(p.latency) + 100;
            while (received < n && cycle < limit) {
                const bool ce = (cycle % 7) != 3;
                top->ce = ce ? 1 : 0;
                top->in_valid = next < n ? 1 : 0;
                if (next < n) setBits(top->in_data, inputs[next]);
                top->clk = 0; top->eval();
                if (ce && top->out_valid) {
                    if (edges != received + \(p.latency)) {
                        std::fprintf(stderr, "LATENCY: output %ld after %ld enabled edges, expected %ld\\n", received, edges - received, (long)\(p.latency));
                        return 1;
                    }
                    fout << getBits(top->out_data, \(p.outWidth)) << "\\n"; ++received;
                }
                top->clk = 1; top->eval();
                if (ce) ++edges;
                if (ce && next < n) ++next;
                ++cycle;
            }
            top->final();
            delete top;
            if (received != n) { std::fprintf(stderr, "timeout: %ld of %ld outputs after %ld cycles\\n", received, n, cycle); return 1; }
            return 0;
        }

        """
    }

    public static func vhdl(_ p: TestbenchPorts) -> String {
        let ii = p.initiationInterval
        let text = vhdlII1(p)
        guard ii > 1 else { return text }
        return edit(text, [
            ("  signal out_valid : std_logic;\n", "  signal in_ready  : std_logic;\n  signal out_valid : std_logic;\n"),
            ("in_data => in_data,\n", "in_data => in_data, in_ready => in_ready,\n"),
            ("cycle < 2 * N_SAMPLES + ", "cycle < \(2 * ii) * N_SAMPLES + "),
            ("        -- Inputs are presented every enabled cycle: output k must come after exactly\n        -- k + LATENCY enabled edges (checks the reported latency).\n        assert edges = received + ",
             "        -- II = \(ii): in_valid stays high with the next sample, which the core takes on an\n        -- enabled edge with in_ready high (in_valid on the other cycles is ignored): output k\n        -- must come after exactly k * \(ii) + LATENCY enabled edges (checks the latency and II).\n        assert edges = received * \(ii) + "),
            ("    variable ce_v : std_logic;\n", "    variable ce_v : std_logic;\n    variable taken : boolean;\n"),
            ("      wait for 1 ns;\n", "      wait for 1 ns;\n      taken := ce_v = '1' and pending and in_ready = '1';\n"),
            ("      if ce_v = '1' and pending then pending := false; end if;\n", "      if taken then pending := false; end if;\n"),
        ])
    }

    static func vhdlII1(_ p: TestbenchPorts) -> String {
        return """
        -- \(VerilogEmitter.generatedBy)
        -- GHDL testbench for \(p.top). Generics: IN_FILE, OUT_FILE, N_SAMPLES.
        -- \(stallComment).
        library ieee;
        use ieee.std_logic_1164.all;
        use std.textio.all;

        entity tb_\(p.top) is
          generic (
            IN_FILE   : string := "inputs.txt";
            OUT_FILE  : string := "outputs.txt";
            N_SAMPLES : natural := 1
          );
        end entity tb_\(p.top);

        architecture sim of tb_\(p.top) is
          constant IN_W  : natural := \(p.inWidth);
          constant OUT_W : natural := \(p.outWidth);
          signal clk       : std_logic := '0';
          signal rst       : std_logic := '1';
          signal ce        : std_logic := '1';
          signal in_valid  : std_logic := '0';
          signal in_data   : std_logic_vector(IN_W - 1 downto 0) := (others => '0');
          signal out_valid : std_logic;
          signal out_data  : std_logic_vector(OUT_W - 1 downto 0);
          signal done      : boolean := false;
        begin
          dut : entity work.\(p.top)
            port map (clk => clk, rst => rst, ce => ce, in_valid => in_valid, in_data => in_data,
                      out_valid => out_valid, out_data => out_data);

          clk <= not clk after 5 ns when not done else clk;

          stimulus : process
            file fin  : text open read_mode is IN_FILE;
            file fout : text open write_mode is OUT_FILE;
            variable lin, lout : line;
            variable s_in  : string(1 to IN_W);
            variable s_out : string(1 to OUT_W);
            variable pending : boolean := false;
            variable ce_v : std_logic;
            variable cycle, received, edges : natural := 0;
          begin
            rst <= '1';
            wait until rising_edge(clk);
            wait until rising_edge(clk);
            rst <= '0';
            while received < N_SAMPLES and cycle < 2 * N_SAMPLES + \(p.latency) + 100 loop
              if cycle mod 7 = 3 then ce_v := '0'; else ce_v := '1'; end if;
              ce <= ce_v;
              if not pending and not endfile(fin) then
                readline(fin, lin);
                read(lin, s_in);
                for k in 1 to IN_W loop
                  if s_in(k) = '1' then in_data(IN_W - k) <= '1'; else in_data(IN_W - k) <= '0'; end if;
                end loop;
                pending := true;
              end if;
              if pending then in_valid <= '1'; else in_valid <= '0'; end if;
              wait for 1 ns;
              if ce_v = '1' and out_valid = '1' then
                -- Inputs are presented every enabled cycle: output k must come after exactly
                -- k + LATENCY enabled edges (checks the reported latency).
                assert edges = received + \(p.latency)
                  report "LATENCY: an output arrived after the wrong number of enabled edges" severity failure;
                for k in 1 to OUT_W loop
                  if out_data(OUT_W - k) = '1' then s_out(k) := '1'; else s_out(k) := '0'; end if;
                end loop;
                write(lout, s_out);
                writeline(fout, lout);
                received := received + 1;
              end if;
              wait until rising_edge(clk);
              if ce_v = '1' then edges := edges + 1; end if;
              if ce_v = '1' and pending then pending := false; end if;
              cycle := cycle + 1;
            end loop;
            if received /= N_SAMPLES then
              report "timeout: not every output arrived" severity failure;
            end if;
            done <= true;
            wait;
          end process;
        end architecture sim;

        """
    }
}
