#!/usr/bin/env python3
"""Mutated tree files (conifer JSON, XGBoost JSON, tree --config): every `rtlgen predict` either
succeeds or exits 2 with one `rtlgen: error:` line; a crash or another status fails.

  python3 Tests/bdt/fuzz_trees.py RTLGEN COUNT SEED
"""
import os, random, re, subprocess, sys, tempfile

rtlgen, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
srcs = [os.path.join(root, "examples/muon_pt_bdt/muon_pt_bdt.conifer.json"),
        os.path.join(root, "examples/track_quality_bdt/track_quality_bdt.xgb.json")]
cfgs = [os.path.join(root, "examples/muon_pt_bdt/config.yml"), os.path.join(root, "examples/track_quality_bdt/config.yml")]
rng = random.Random(seed)
work = tempfile.mkdtemp(prefix="fuzz-trees-")
inps = []
for n in (6, 7):   # the examples' feature counts
    inps.append(os.path.join(work, f"x{n}.csv"))
    with open(inps[-1], "w") as f:
        for _ in range(4):
            f.write(",".join(str(round(rng.uniform(-20, 20), 3)) for _ in range(n)) + "\n")
nums = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
bad = 0
status = {}
for i in range(count):
    k = rng.randrange(2)
    text = open(srcs[k]).read()
    cfg = open(cfgs[k]).read()
    for _ in range(rng.randint(1, 4)):
        how = rng.randrange(5)
        if how == 0:   # a number replaced
            ms = list(nums.finditer(text)); m = rng.choice(ms)
            text = text[:m.start()] + rng.choice(["-1", "-2", "-3", "0", "99999", "1e30", "2.5", "\"7\"", "null", "[]"]) + text[m.end():]
        elif how == 1:  # bytes cut
            a = rng.randrange(len(text)); text = text[:a] + text[a + rng.randint(1, 40):]
        elif how == 2:  # a key renamed
            ks = list(re.finditer(r'"[a-z_]+"', text)); m = rng.choice(ks)
            text = text[:m.start()] + '"' + rng.choice(["x", "split_type", "weight", "categories", "objective"]) + '"' + text[m.end():]
        elif how == 3:  # the config
            cfg = rng.choice(["precision: ap_fixed<4,1>\n", "input_precision: ap_fixed<40,20>\n", "score_precision: ap_ufixed<3,3>\n",
                              "threshold_precision: float\n", "weight_precision: ap_fixed<2,2>\n", "precision: [1]\n", ": :\n"])
        else:           # an array shortened
            ms = list(re.finditer(r",[^,\[\]{}]*\]", text))
            if ms:
                m = rng.choice(ms); text = text[:m.start()] + "]" + text[m.end():]
    mf = os.path.join(work, "m.json" if k else "m.conifer.json"); cf = os.path.join(work, "c.yml")
    open(mf, "w").write(text); open(cf, "w").write(cfg)
    p = subprocess.run([rtlgen, "predict", mf, "--config", cf, "--input", inps[k]], capture_output=True, text=True, timeout=60)
    ok = p.returncode == 0 or (p.returncode == 2 and p.stderr.startswith("rtlgen: error:") and p.stderr.count("\n") <= 2)
    status[p.returncode] = status.get(p.returncode, 0) + 1
    if not ok:
        bad += 1
        keep = os.path.join(work, f"bad{i}")
        os.rename(mf, keep); os.rename(cf, keep + ".yml")
        print(f"mutation {i}: exit {p.returncode}: {p.stderr.strip()[:300]} (kept {keep})")
print(f"fuzz_trees: {count} mutated tree files (exit status: count {status}), {bad} failures")
sys.exit(1 if bad else 0)
