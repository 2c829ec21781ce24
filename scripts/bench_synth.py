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


# The peers take no binary layers (batchnorm + sign, binary_dense) and no reuse factor: rtlgen only.
NO_PEERS = {"keras_bnn", "muon_teacher"}
# Published figures quoted beside a model's measured rows (not measured here, not Yosys): the
# ATLAS RPC student with 4-bit weights as deployed with hls4ml and Vivado HLS (issue 18).
PUBLISHED = {
    "atlas_student": ("hls4ml + Vivado (published)",
                      dict(lut=29500, ff=14300, dsp=6, cycles=183, cycles_text="183 @ 2 ns (366 ns)")),
}
# Vectors for the golden-model and Verilator speeds (the teacher: II 64 and 200K weights).
PREDICT_N = 200000
VERILATOR_N = 20000
TEACHER_N = (20000, 1000)
# Yosys on the whole teacher (1.4 Mbit of ROM, 3,340 multipliers) takes hours on this machine:
# its row gives DSP = report.json's multipliers (one DSP48E2 each, as Yosys maps them on the
# student and on the teacher's first layer) unless BENCH_TEACHER_SYNTH=1.
TEACHER_SYNTH = os.environ.get("BENCH_TEACHER_SYNTH", "0") == "1"


def timed(cmd, work):
    """Wall seconds and peak resident MB of a command (/usr/bin/time)."""
    tf = Path(work) / "time.txt"
    run(["/usr/bin/time", "-f", "%e %M", "-o", str(tf)] + [str(c) for c in cmd])
    t, m = tf.read_text().split()[-2:]
    return float(t), int(m) // 1024


def speeds(rtlgen, model, d, work, n=(PREDICT_N, VERILATOR_N)):
    """Golden-model inferences/s (rtlgen predict, CSV in and out, all cores) and Verilator
    inferences/s (the compiled model alone, on n[1] vectors, after `rtlgen sim` built it
    and checked every output against the golden model)."""
    x = Path(work) / "speed-x.csv"
    x.write_text(run([rtlgen, "vectors", str(model), "--count", str(n[0]), "--seed", "11"]))
    t, _ = timed([rtlgen, "predict", str(model), "--input", x, "--output", Path(work) / "speed-y.csv"], work)
    xs = Path(work) / "speed-xs.csv"
    xs.write_text("".join(x.read_text().splitlines(True)[:n[1]]))
    sim = Path(work) / "speed-sim"
    if sim.exists():
        subprocess.run(["rm", "-rf", str(sim)])
    run([rtlgen, "sim", str(d), "--input", str(xs), "--simulator", "verilator", "--work-dir", str(sim)])
    vt, _ = timed([sim / "verilator" / "Vtb", sim / "inputs.txt", sim / "out.txt", str(n[1])], work)
    return dict(predict=n[0] / t, verilator=n[1] / vt)


def latency_ranks(d):
    """Yosys's register ranks from the inputs to the outputs (scripts/latency_check.py)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import latency_check
    _, lo, hi = latency_check.ranks(str(d))
    return lo, hi


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
    ap.add_argument("--models", default="muon_student,muon_baseline,keras_bnn,jet_qkeras,jet_hls,atlas_student")
    ap.add_argument("--dsp-models", default="muon_student,jet_qkeras",
                    help="models that also get the rtlgen dsp (before) row")
    ap.add_argument("--reuse-peers", action="store_true",
                    help="with --keep: take the peers' rows from WORK/results.json instead of re-running them "
                         "(their output does not depend on rtlgen)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the rows of models not run now from WORK/results.json (re-measure a few)")
    a = ap.parse_args()
    work = Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    kept = json.loads((work / "results.json").read_text()) if a.keep and (work / "results.json").exists() else []
    py_models = a.da4ml or sys.executable
    run([py_models, str(ROOT / "scripts/bench_models.py"), a.qkeras, str(work)])
    # make sim checks these designs from committed copies: they must be what the script writes.
    for name in ("muon_student", "muon_baseline", "jet_qkeras", "jet_hls"):
        committed = ROOT / "Tests/models/bench" / (name + ".json")
        if json.loads((work / (name + ".json")).read_text()) != json.loads(committed.read_text()):
            sys.exit("bench_synth: %s differs from scripts/bench_models.py's %s: run `make bench-models` "
                     "(make sim simulates the committed copy)" % (committed, name))
    dsp_cfg = work / "dsp.yml"
    dsp_cfg.write_text("multipliers: dsp\n")
    rows = []
    models = [m for m in a.models.split(",") if m and m != "muon_teacher"]
    # The muon teacher (204K parameters) at reuse factor 64 (examples/muon_teacher/reuse.yaml).
    teacher = ROOT / "scripts/make_muon_teacher.py"
    teacher_cfg = ROOT / "examples/muon_teacher/reuse.yaml"
    want_teacher = "muon_teacher" in a.models.split(",") or (not a.keep and os.environ.get("BENCH_TEACHER", "1") != "0")
    if teacher.exists() and teacher_cfg.exists() and want_teacher:
        run([sys.executable, str(teacher), "--out", str(work / "muon_teacher.json")])
        models.append("muon_teacher")
    else:
        print("bench_synth: muon teacher row skipped (BENCH_TEACHER=0 or its generator is missing)", flush=True)
    for name in models:
        model = work / (name + ".json")
        earlier = dict(kept).get(name, {})
        # With --keep, a design not measured now keeps its earlier row (e.g. --dsp-models "").
        res = dict(earlier) if a.keep else {}
        labels = [("rtlgen dsp (before)", ["--config", str(dsp_cfg)])] if name in a.dsp_models.split(",") else []
        labels.append(("rtlgen shift_add", ["--config", str(teacher_cfg)] if name == "muon_teacher" else []))
        for label, extra in labels:
            d = work / ("rtlgen-%s-%s" % (name, "dsp" if "dsp" in label else "sa"))
            gen, mem = timed([a.rtlgen, "build", str(model), "--out", str(d), "--lang", "verilog"] + extra, work)
            rep = json.load(open(d / "report.json"))
            row = dict(cycles=rep["latency_cycles"], ii=rep.get("initiation_interval", 1), gen=gen, mem_mb=mem)
            if "dsp" not in label:
                row.update(speeds(a.rtlgen, model, d, work, TEACHER_N if name == "muon_teacher" else (PREDICT_N, VERILATOR_N)))
            if name == "muon_teacher":
                # latency_check's bit graph of the unmapped teacher (its 64 x 7,168-bit ROM reads
                # become muxes from every ROM bit to every read bit) takes over 13 GB: not counted.
                row["ranks"] = "-"
            else:
                lo, hi = latency_ranks(d)
                row["ranks"] = str(lo) if lo == hi else "%s..%s" % (lo, hi)
            if name == "muon_teacher" and not TEACHER_SYNTH:
                mults = rep["resources"]["multipliers"]
                s = dict(lut=None, ff=None, carry=None, dsp=mults, dsp_from="report.json multipliers")
                print("%s %s: not synthesized (BENCH_TEACHER_SYNTH=1 runs Yosys: hours)" % (name, label), flush=True)
            else:
                print("%s %s: synthesizing..." % (name, label), flush=True)
                s = synth(a.rtlgen, d)
            res[label] = dict(s, **row)
            print("  %s" % json.dumps({k: res[label].get(k) for k in ("lut", "ff", "carry", "dsp", "cycles", "ranks", "predict", "verilator")}), flush=True)
        for tool in ("da4ml", "alkaid"):
            py = getattr(a, tool)
            if a.reuse_peers and tool in earlier:
                res[tool] = earlier[tool]
                print("%s %s: kept from the earlier run %s" % (name, tool, json.dumps({k: res[tool][k] for k in ("lut", "ff", "carry", "dsp", "cycles")})), flush=True)
                continue
            if not py or name in NO_PEERS:
                continue
            d = work / ("%s-%s" % (tool, name))
            info = json.loads(run([py, str(ROOT / "scripts/bench_peers.py"), tool, str(model), str(d),
                                   "--latency-cutoff", str(CUTOFF[tool])]))
            cycles = register_ranks(d / "src" / (info["top"] + ".v"))
            print("%s %s: synthesizing..." % (name, tool), flush=True)
            s = synth(a.rtlgen, d, info["top"], info["files"])
            res[tool] = dict(s, cycles=cycles, gen=info["generation_s"])
            print("  %s" % json.dumps({k: res[tool][k] for k in ("lut", "ff", "carry", "dsp", "cycles")}), flush=True)
        if name in PUBLISHED:
            label, fig = PUBLISHED[name]
            res[label] = dict(fig, published=True)
        rows.append((name, res))
        (work / "results.json").write_text(json.dumps(rows, indent=1))
    if a.keep and kept:
        # The rows measured now replace their earlier ones; the order of the earlier run stays.
        fresh = dict(rows)
        rows = [(n, fresh.pop(n, r)) for n, r in kept] + list(fresh.items())
        (work / "results.json").write_text(json.dumps(rows, indent=1))
    write_doc(rows, Path(a.doc))


def write_doc(rows, doc):
    lines = []
    lines.append("| model | design | LUT | FF | CARRY | DSP | cycles @ 4 ns | Yosys ranks | LUT vs best peer | FF vs best peer "
                 "| generation | peak memory | predict inf/s | Verilator inf/s |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, res in rows:
        peers = [res[t] for t in ("da4ml", "alkaid") if t in res and res[t].get("lut") is not None]
        res = {k: v for k, v in res.items() if not v.get("published")} | {k: v for k, v in res.items() if v.get("published")}
        best_lut = min((p["lut"] for p in peers), default=None)
        best_ff = min((p["ff"] for p in peers), default=None)
        for label, r in res.items():
            rl = "%.2f" % (r["lut"] / best_lut) if best_lut and r.get("lut") is not None else "-"
            rf = "%.2f" % (r["ff"] / best_ff) if best_ff and r.get("ff") is not None else "-"
            cell = lambda k: "-" if r.get(k) is None else "%d" % r[k]
            dsp = cell("dsp") + (" (est.)" if r.get("dsp_from") else "")
            mem = "%d MB" % r["mem_mb"] if "mem_mb" in r else "-"
            pr = "{:,.0f}".format(r["predict"]) if "predict" in r else "-"
            vr = "{:,.0f}".format(r["verilator"]) if "verilator" in r else "-"
            cyc = r.get("cycles_text") or "%d" % r["cycles"] + (" (II %d)" % r["ii"] if r.get("ii", 1) > 1 else "")
            gen = "%.1f s" % r["gen"] if "gen" in r else "-"
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                name, label, cell("lut"), cell("ff"), cell("carry"), dsp, cyc, r.get("ranks", "-"), rl, rf,
                gen, mem, pr, vr))
        if name in NO_PEERS:
            lines.append("| %s | da4ml, alkaid | - | - | - | - | - | - | - | - | - | - | - | - |" % name)
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
