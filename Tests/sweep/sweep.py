#!/usr/bin/env python3
"""rtlgen sweep on the muon student (examples/muon_recal/model.json) over 3 clocks x 3 reuse
factors:

- the local run (parallel child processes) gives sweep.csv / sweep.md / sweep.html with one row
  per point, and every row equals `rtlgen build` of that point made here by hand (latency, II,
  multipliers, adders, register and ROM bits);
- --emit slurm / condor write batch files that parse (Slurm: bash -n, every #SBATCH directive
  before the first command, a known option, the array 0-8; HTCondor: every line a comment,
  `key = value` or `queue`, one queue per point, arguments in the new quoted syntax); running the
  emitted per-point commands here (the Slurm script itself with SLURM_ARRAY_TASK_ID set, the
  HTCondor executable with each job's arguments) and `rtlgen sweep --collect` reproduce the
  local run's sweep.csv byte for byte;
- a point that cannot be built (a stream wrapper at reuse factor 2) is a failed row with the
  binary's message and the sweep exits 1; collect on a half-finished folder lists what is missing;
- bad --set values exit 2 with one message and write nothing.

Slurm and HTCondor cannot run here (no controller; htcondor is not packaged for Debian 12), hence
the parser checks.

    python3 Tests/sweep/sweep.py --rtlgen .build/release/rtlgen [--work .sim/sweep]
"""
import argparse
import csv
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "examples", "muon_recal", "model.json")
CLOCKS, RFS = ["3", "4", "5"], ["1", "2", "4"]


def fail(msg):
    print(f"sweep: FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def run(cmd, code=0, env=None):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    if p.returncode != code:
        fail(f"{' '.join(map(str, cmd))}: exit {p.returncode} (expected {code})\n{p.stdout[-1500:]}\n{p.stderr[-1500:]}")
    return p


def rows(path):
    return list(csv.DictReader(io.StringIO(open(path).read())))


SBATCH_OPTIONS = {"job-name", "array", "ntasks", "cpus-per-task", "output", "error", "time", "mem", "partition", "account"}


def check_slurm(path, n):
    text = open(path).read()
    lines = text.splitlines()
    if lines[0] != "#!/bin/bash":
        fail(f"{path}: first line {lines[0]!r}, expected #!/bin/bash")
    run(["bash", "-n", path])
    seen_command = False
    directives = {}
    for l in lines[1:]:
        s = l.strip()
        if s.startswith("#SBATCH"):
            if seen_command:
                fail(f"{path}: #SBATCH after the first command (sbatch ignores it): {l}")
            m = re.fullmatch(r"#SBATCH --([a-z-]+)=(\S+)", s)
            if not m or m.group(1) not in SBATCH_OPTIONS:
                fail(f"{path}: not a known #SBATCH --option=value: {l}")
            directives[m.group(1)] = m.group(2)
        elif s and not s.startswith("#"):
            seen_command = True
    if directives.get("array") != f"0-{n - 1}":
        fail(f"{path}: --array={directives.get('array')}, expected 0-{n - 1}")
    out_dir = os.path.dirname(directives["output"])
    if not os.path.isdir(out_dir):
        fail(f"{path}: the --output folder {out_dir} does not exist (Slurm would not create it)")
    return directives


def condor_args(value):
    """HTCondor's new argument syntax: the value in double quotes, arguments split on spaces,
    single quotes group, '' and \"\" escape."""
    if not (value.startswith('"') and value.endswith('"')):
        fail(f"arguments not in the new (double-quoted) syntax: {value}")
    s = value[1:-1].replace('""', '"')
    args, cur, quoted, i, has = [], "", False, 0, False
    while i < len(s):
        c = s[i]
        if c == "'":
            if quoted and i + 1 < len(s) and s[i + 1] == "'":
                cur += "'"; i += 1
            else:
                quoted = not quoted; has = True
        elif c == " " and not quoted:
            if cur or has:
                args.append(cur)
            cur, has = "", False
        else:
            cur += c
        i += 1
    if quoted:
        fail(f"unbalanced quote in arguments: {value}")
    if cur or has:
        args.append(cur)
    return args


def check_condor(path, n):
    jobs, current = [], {}
    for k, l in enumerate(open(path).read().splitlines(), 1):
        s = l.strip()
        if not s or s.startswith("#"):
            continue
        if s == "queue":
            jobs.append(dict(current))
            continue
        m = re.fullmatch(r"([A-Za-z_+.][A-Za-z0-9_+.]*)\s*=\s*(.*)", s)
        if not m:
            fail(f"{path}:{k}: neither 'key = value' nor 'queue': {l}")
        current[m.group(1).lower()] = m.group(2)
    if len(jobs) != n:
        fail(f"{path}: {len(jobs)} queue statements, expected {n}")
    for key in ("universe", "executable", "log", "output", "error", "initialdir"):
        if key not in jobs[0]:
            fail(f"{path}: no {key}")
    if not os.access(jobs[0]["executable"], os.X_OK):
        fail(f"{path}: executable {jobs[0]['executable']} is not executable")
    if not os.path.isdir(os.path.join(jobs[0]["initialdir"], os.path.dirname(jobs[0]["output"]))):
        fail(f"{path}: the output folder does not exist")
    commands = [[j["executable"], *condor_args(j["arguments"])] for j in jobs]
    if len({tuple(c) for c in commands}) != n:
        fail(f"{path}: jobs do not each run their own point")
    return commands


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rtlgen", required=True)
    ap.add_argument("--work", default=os.path.join(ROOT, ".sim", "sweep"))
    a = ap.parse_args()
    R = os.path.abspath(a.rtlgen)
    W = os.path.abspath(a.work)
    shutil.rmtree(W, ignore_errors=True)
    os.makedirs(W)
    sets = ["--set", "clock_period_ns=" + ",".join(CLOCKS), "--set", "reuse_factor=" + ",".join(RFS)]

    # 1. Local run, checked point by point against rtlgen build.
    local = os.path.join(W, "local")
    p = run([R, "sweep", MODEL, *sets, "--out", local, "--jobs", "2"])
    table = rows(os.path.join(local, "sweep.csv"))
    if [(r["clock_period_ns"], r["reuse_factor"]) for r in table] != [(c, f) for c in CLOCKS for f in RFS]:
        fail(f"sweep.csv points: {[(r['clock_period_ns'], r['reuse_factor']) for r in table]}")
    for r in table:
        cfg = os.path.join(W, f"by-hand-{r['clock_period_ns']}-{r['reuse_factor']}.yaml")
        open(cfg, "w").write(f"clock_period_ns: {r['clock_period_ns']}\nreuse_factor: {r['reuse_factor']}\n")
        out = cfg[:-5]
        run([R, "build", MODEL, "--config", cfg, "--out", out])
        rep = json.load(open(os.path.join(out, "report.json")))
        want = {"latency_cycles": rep["latency_cycles"], "initiation_interval": rep["initiation_interval"],
                **{k: rep["resources"][k] for k in ("multipliers", "adders", "register_bits", "table_bits")}}
        got = {k: int(r[k]) for k in want}
        if got != want or r["status"] != "ok" or float(r["latency_ns"]) != rep["latency_ns"]:
            fail(f"point {r['clock_period_ns']} ns / RF {r['reuse_factor']}: sweep.csv {got}, rtlgen build {want}")
    if len({r["latency_cycles"] for r in table}) < 4 or len({r["initiation_interval"] for r in table}) != 3:
        fail("the sweep does not vary latency and II as the settings do")
    front = [r for r in table if r["pareto"] == "1"]
    for r in front:
        for q in table:
            if (float(q["latency_ns"]) <= float(r["latency_ns"]) and int(q["adders"]) <= int(r["adders"])
                    and (float(q["latency_ns"]) < float(r["latency_ns"]) or int(q["adders"]) < int(r["adders"]))):
                fail(f"point {r} marked Pareto-optimal but dominated by {q}")
    if not front:
        fail("no Pareto-optimal point")
    html = open(os.path.join(local, "sweep.html")).read()
    if '<svg id="pareto-plot"' not in html or html.count("<circle") != 9 or "<script" in html:
        fail("sweep.html: expected an inline SVG Pareto plot with 9 points and no script")
    md = open(os.path.join(local, "sweep.md")).read()
    if md.count("\n| ") != 10:
        fail("sweep.md: expected a header and 9 rows")

    # 2. Emitted batch files: parse, run their per-point commands here, collect.
    emitted = os.path.join(W, "emitted")
    run([R, "sweep", MODEL, *sets, "--out", emitted, "--emit", "slurm", "--emit", "condor"])
    if os.path.exists(os.path.join(emitted, "sweep.csv")) or os.path.exists(os.path.join(emitted, "points", "000", "build")):
        fail("--emit ran points")
    check_slurm(os.path.join(emitted, "sweep.slurm"), 9)
    commands = check_condor(os.path.join(emitted, "sweep.sub"), 9)
    p = run([R, "sweep", "--collect", emitted])
    if "0 of 9 points built, 9 not finished" not in p.stdout:
        fail(f"collect before any job: {p.stdout}")
    for i in range(0, 9, 2):          # even points through the Slurm script itself
        run(["bash", os.path.join(emitted, "sweep.slurm")], env={**os.environ, "SLURM_ARRAY_TASK_ID": str(i)})
    p = run([R, "sweep", "--collect", emitted])
    if "5 of 9 points built, 4 not finished" not in p.stdout or len(rows(os.path.join(emitted, "sweep.csv"))) != 5:
        fail(f"collect with the odd points missing: {p.stdout}")
    for i in range(1, 9, 2):          # odd points as the HTCondor jobs run them
        run(commands[i])
    run([R, "sweep", "--collect", emitted])
    if open(os.path.join(emitted, "sweep.csv")).read() != open(os.path.join(local, "sweep.csv")).read():
        fail("the emitted jobs' sweep.csv differs from the local run's")
    lines = open(os.path.join(emitted, "commands.txt")).read().splitlines()
    if len(lines) != 9 or shlex.split(lines[3])[1:4] != ["sweep", "--run-point", "3"]:
        fail("commands.txt: expected one command per point")

    # 3. A point that cannot be built is a row with the binary's message; the sweep exits 1.
    bad = os.path.join(W, "stream")
    p = run([R, "sweep", MODEL, "--config", os.path.join(ROOT, "examples", "muon_recal", "stream.yaml"),
             "--set", "reuse_factor=1,2", "--out", bad], code=1)
    t = rows(os.path.join(bad, "sweep.csv"))
    if [r["status"] for r in t] != ["ok", "failed"] or "II = 1" not in t[1]["message"]:
        fail(f"stream sweep rows: {t}")
    if not os.path.isfile(os.path.join(bad, "points", "000", "build", "stream.json")):
        fail("the stream point's build lacks stream.json (the base config's stream section was lost)")

    # 4. Bad usage: exit 2, one message, nothing written.
    for args, needle in ((["--set", "clock_period_ns=3,x"], "--set: clock_period_ns: 'x'"),
                         (["--set", "depth=1,2"], "--set: depth: cannot be swept"),
                         (["--set", "reuse_factor=0"], "reuse_factor: '0'"),
                         (["--set", "reuse_factor=1", "--emit", "pbs"], "--emit: 'pbs'")):
        out = os.path.join(W, "bad")
        p = run([R, "sweep", MODEL, *args, "--out", out], code=2)
        if needle not in p.stderr or len(p.stderr.strip().splitlines()) != 1 or os.path.exists(out):
            fail(f"{args}: stderr {p.stderr!r}, folder written: {os.path.exists(out)}")
    print(f"sweep: muon student, 3 clocks x 3 reuse factors: 9 rows equal to rtlgen build of each point; "
          f"{len(front)} Pareto-optimal; Slurm and HTCondor files parse and their per-point commands reproduce "
          f"sweep.csv byte for byte; a failing point is a row (exit 1); bad --set exits 2")


if __name__ == "__main__":
    main()
