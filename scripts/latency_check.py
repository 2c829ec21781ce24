#!/usr/bin/env python3
"""Register ranks from the input ports to the output ports as Yosys sees them, against
report.json's latency_cycles.

Yosys reads the build's Verilog (`proc; flatten; memory; opt_clean`, no technology mapping) and
writes the netlist as JSON; this walks it bit by bit: an input port bit has rank 0, a flip-flop's
Q is one flop after its D, any other cell's outputs none after its inputs. The
ranks (fewest flops on a path) of the output port bits fed from an input must all equal latency_cycles.

    python3 latency_check.py BUILD_DIR [BUILD_DIR...]   (exit 1 on a mismatch)
"""

import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict, deque


def ranks(build_dir):
    rep = json.load(open(os.path.join(build_dir, "report.json")))
    top = json.load(open(os.path.join(build_dir, "model.json")))["name"]
    top = rep.get("top", top)
    files = [os.path.join(build_dir, l.strip()) for l in open(os.path.join(build_dir, "files_verilog.f")) if l.strip()]
    with tempfile.TemporaryDirectory() as t:
        out = os.path.join(t, "n.json")
        script = "read_verilog %s; hierarchy -top %s; proc; flatten; memory; opt_clean; write_json %s" % (
            " ".join(files), top, out)
        r = subprocess.run(["yosys", "-q", "-p", script], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("latency_check: yosys failed on %s:\n%s" % (build_dir, r.stderr[-2000:]))
        net = json.load(open(out))
    mod = net["modules"][top]
    # Graph over bits: edges from each cell input bit to its output bits (weight 1 through a flop).
    succ = defaultdict(list)
    for cell in mod["cells"].values():
        dirs, conns = cell["port_directions"], cell["connections"]
        is_ff = "dff" in cell["type"].lower()
        outs = [b for p, bits in conns.items() if dirs.get(p) == "output" for b in bits if isinstance(b, int)]
        if is_ff:
            ins = [b for p in ("D", "AD") for b in conns.get(p, []) if isinstance(b, int)]
        else:
            ins = [b for p, bits in conns.items() if dirs.get(p) == "input" for b in bits if isinstance(b, int)]
        w = 1 if is_ff else 0
        for o in outs:
            for i in ins:
                succ[i].append((o, w))
                    # Fewest flops on a path from any input bit (0-1 breadth-first search; hold loops through a
    # flop's enable mux do not matter for the fewest).
    best = {}
    q = deque()
    for name, p in mod["ports"].items():
        if p["direction"] == "input" and name not in ("clk", "clock", "rst", "reset", "ce"):
            for b in p["bits"]:
                if isinstance(b, int):
                    best[b] = 0
                    q.append(b)
    while q:
        n = q.popleft()
        for o, w in succ[n]:
            if best[n] + w < best.get(o, 1 << 30):
                best[o] = best[n] + w
                if w == 0:
                    q.appendleft(o)
                else:
                    q.append(o)
    outs = []
    for name, p in mod["ports"].items():
        if p["direction"] == "output":
            outs += [best[b] for b in p["bits"] if isinstance(b, int) and b in best]
    return rep["latency_cycles"], (min(outs) if outs else None), (max(outs) if outs else None)


def main():
    bad = 0
    for d in sys.argv[1:]:
        lat, lo, hi = ranks(d)
        ok = lo == hi == lat
        bad += not ok
        print("%s: report latency_cycles %d, Yosys register ranks input->output %s%s" % (
            d, lat, lo if lo == hi else "%s..%s" % (lo, hi), "" if ok else "  MISMATCH"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
