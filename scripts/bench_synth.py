#!/usr/bin/env python3
"""make bench (synthesis part): rtlgen (shift_add, and dsp = the multiplier lowering), da4ml 0.6
and alkaid 0.8.2 on the same quantized models, every design synthesized by `rtlgen synth` (one
Yosys command), written as a table to docs/benchmarks.md.

    python3 bench_synth.py --rtlgen R --da4ml PY --alkaid PY --qkeras DIR --work DIR --doc FILE
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_NS = 4.0
# The peers' pipeline cutoffs for a 4 ns clock: alkaid's delay model is in ns; da4ml 0.6 counts
# (roughly) adder levels, 5 levels being about 4 ns at the ~0.8 ns per adder rtlgen's model uses.
CUTOFF = {"da4ml": 5.0, "alkaid": 4.0}


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit("bench_synth: %s failed:\n%s%s" % (" ".join(map(str, cmd)), r.stdout, r.stderr))
    return r.stdout


def register_ranks(top_file):
    """Clock edges from input to output of a peer's top: its register assignments (one per stage)."""
    text = Path(top_file).read_text()
    return len(re.findall(r"^\s*\w+(\[[^\]]*\])?\s*<=", text, re.M))


def synth(rtlgen, d, top=None, files=None):
    if top is None:
        run([rtlgen, "synth", str(d)])
        return json.load(open(Path(d) / "report.json"))["synthesis"]
    args = [rtlgen, "synth", str(d), "--top", top]
    for f in files:
        args += ["--file", f]
    return json.loads(run(args))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rtlgen", required=True)
    ap.add_argument("--da4ml")
    ap.add_argument("--alkaid")
    ap.add_argument("--qkeras", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--doc", required=True)
    ap.add_argument("--models", default="muon_student,jet_qkeras")
    a = ap.parse_args()
    work = Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    py_models = a.da4ml or sys.executable
    run([py_models, str(ROOT / "scripts/bench_models.py"), a.qkeras, str(work)])
    dsp_cfg = work / "dsp.yml"
    dsp_cfg.write_text("multipliers: dsp\n")
    rows = []
    for name in a.models.split(","):
        model = work / (name + ".json")
        res = {}
        for label, extra in (("rtlgen dsp (before)", ["--config", str(dsp_cfg)]), ("rtlgen shift_add", [])):
            d = work / ("rtlgen-%s-%s" % (name, "dsp" if "dsp" in label else "sa"))
            t0 = time.time()
            run([a.rtlgen, "build", str(model), "--out", str(d), "--lang", "verilog"] + extra)
            gen = time.time() - t0
            rep = json.load(open(d / "report.json"))
            print("%s %s: synthesizing..." % (name, label), flush=True)
            s = synth(a.rtlgen, d)
            res[label] = dict(s, cycles=rep["latency_cycles"], gen=gen)
            print("  %s" % json.dumps({k: res[label][k] for k in ("lut", "ff", "carry", "dsp", "cycles")}), flush=True)
        for tool in ("da4ml", "alkaid"):
            py = getattr(a, tool)
            if not py:
                continue
            d = work / ("%s-%s" % (tool, name))
            info = json.loads(run([py, str(ROOT / "scripts/bench_peers.py"), tool, str(model), str(d),
                                   "--latency-cutoff", str(CUTOFF[tool])]))
            cycles = register_ranks(d / "src" / (info["top"] + ".v"))
            print("%s %s: synthesizing..." % (name, tool), flush=True)
            s = synth(a.rtlgen, d, info["top"], info["files"])
            res[tool] = dict(s, cycles=cycles, gen=info["generation_s"])
            print("  %s" % json.dumps({k: res[tool][k] for k in ("lut", "ff", "carry", "dsp", "cycles")}), flush=True)
        rows.append((name, res))
        (work / "results.json").write_text(json.dumps(rows, indent=1))
    write_doc(rows, Path(a.doc))


def write_doc(rows, doc):
    lines = []
    lines.append("| model | design | LUT | FF | CARRY | DSP | cycles @ 4 ns | LUT vs best peer | FF vs best peer | generation |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, res in rows:
        peers = [res[t] for t in ("da4ml", "alkaid") if t in res]
        best_lut = min((p["lut"] for p in peers), default=None)
        best_ff = min((p["ff"] for p in peers), default=None)
        for label, r in res.items():
            rl = "%.2f" % (r["lut"] / best_lut) if best_lut else "-"
            rf = "%.2f" % (r["ff"] / best_ff) if best_ff else "-"
            lines.append("| %s | %s | %d | %d | %d | %d | %d | %s | %s | %.1f s |" % (
                name, label, r["lut"], r["ff"], r["carry"], r["dsp"], r["cycles"], rl, rf, r["gen"]))
    table = "\n".join(lines)
    text = doc.read_text() if doc.exists() else ""
    begin, end = "<!-- bench-synth:begin -->", "<!-- bench-synth:end -->"
    stamp = time.strftime("%Y-%m-%d")
    block = "%s\n(measured %s by `make bench-synth`)\n\n%s\n%s" % (begin, stamp, table, end)
    if begin in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text + ("\n" if text else "") + block + "\n"
    doc.write_text(text)
    print(table)


if __name__ == "__main__":
    main()
