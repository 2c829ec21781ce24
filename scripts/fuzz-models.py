#!/usr/bin/env python3
"""Mutates the example and edge-case model files at random (types, numbers, table sizes, inserted
and deleted layers) and runs `rtlgen build` on each: every run must exit 0 or 2 (one message line),
never crash; a model that builds must also `rtlgen predict` 32 of its `rtlgen vectors` (edge,
off-grid, out-of-range) with exit 0. `make fuzz` runs it; a crash prints CRASH with the model file kept for replay.
With SIM_VECTORS > 0, every mutated model that builds is also simulated in Verilator and GHDL
on that many `rtlgen vectors` and must be bit-exact (`make sim-fuzz`, part of `make sim-long`).

    scripts/fuzz-models.py RTLGEN COUNT SEED [WORKDIR [SIM_VECTORS]]
"""
import json, random, subprocess, sys, os, glob
R = sys.argv[1]; n = int(sys.argv[2]); seed = int(sys.argv[3])
W = sys.argv[4] if len(sys.argv) > 4 else "/tmp/rtlgen-fuzz"
SIM = int(sys.argv[5]) if len(sys.argv) > 5 else 0
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.makedirs(W, exist_ok=True)
rng = random.Random(seed)
bases = [json.load(open(p)) for p in sorted(glob.glob(ROOT + '/examples/*/model.json')) + sorted(glob.glob(ROOT + '/Tests/reference/models/*.json')) + [ROOT + '/Tests/models/bipolar_mix.json'] + sorted(glob.glob(ROOT + '/Tests/models/conv/*.json')) if 'jet_tagger' not in p]
types = ["bipolar","ternary","int<1>","uint<1>","fixed<1,1>","ufixed<1,0>","fixed<2,-3>","fixed<40,30>","ufixed<3,8>","fixed<64,10,RND_CONV,SAT>","int<2>","fixed<8,3,RND,SAT_SYM>","ufixed<6,0,TRN,SAT_ZERO>","fixed<18,8>"]
ops = ["sign","sigmoid","tanh","softmax","relu","relu6","leaky_relu","hard_tanh","elu","selu","linear","ternary_tanh","lut","threshold","batchnorm","binary_dense","argmax"]
nums = [0, -1, 1, 0.5, -0.5, 1e-9, 1e9, 3, 1024, 1023, 7, 2.5, -1e-3, 65536, 131072]
def mutate(m):
    m = json.loads(json.dumps(m))
    for _ in range(rng.randint(1, 3)):
        L = m["layers"]
        k = rng.randrange(len(L) + 1)
        if k == len(L):
            m["input"]["type"] = rng.choice(types); continue
        l = L[k]
        c = rng.randrange(6)
        if c == 0:
            l["output_type"] = rng.choice(types)
        elif c == 1:
            keys = [x for x in l if x.endswith("_type")]
            if keys: l[rng.choice(keys)] = rng.choice(types)
        elif c == 2:
            keys = [x for x in l if isinstance(l[x], (int, float)) and x not in ("units",)]
            if keys: l[rng.choice(keys)] = rng.choice(nums)
        elif c == 3:
            # insert a simple activation layer copied from elsewhere or a minimal one
            op = rng.choice(["sign","sigmoid","tanh","relu","relu6","linear","ternary_tanh","hard_sigmoid","softmax","elu"])
            new = {"name": "z%d" % rng.randrange(10**6), "op": op}
            if op not in ("sign","ternary_tanh"): new["output_type"] = rng.choice(types)
            if op == "softmax" and rng.random() < 0.5: new["implementation"] = "argmax"; new["output_type"] = rng.choice(["uint<3>","uint<1>","int<4>","uint<8>"])
            L.insert(k, new)
        elif c == 4:
            for key in ("table_size", "index_bits", "units", "filters"):
                if key in l: l[key] = rng.choice([1, 2, 3, 0, 64, 1024, 4096])
            # Shapes and window geometry of the conv / pooling / padding layers and the input.
            for key in ("kernel_size", "strides", "pool_size", "padding", "shape"):
                if key in l and rng.random() < 0.6:
                    l[key] = rng.choice([[1], [2, 2], [3, 1], [0, 1], [9, 9], [1, 2, 3], 2, "same", "valid", "full", [1, 0, 0, 1], [-1, 2], [], None])
            if "shape" in m["input"] and rng.random() < 0.3:
                m["input"]["shape"] = rng.choice([[6, 7, 3], [42, 3], [126], [0, 5], [5, 7, 2, 1], [10, 4]])
        else:
            if len(L) > 1: del L[k]
    return m
crashes = 0
simulated = 0
for i in range(n):
    m = mutate(rng.choice(bases))
    p = os.path.join(W, "m%d_%d.json" % (seed, i))
    json.dump(m, open(p, "w"))
    try:
        r = subprocess.run([R, "build", p, "--out", os.path.join(W, "out%d" % seed), "--lang", "both"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        print("TIMEOUT", p); continue
    if r.returncode not in (0, 2):
        crashes += 1
        print("CRASH", r.returncode, p, r.stderr.strip().splitlines()[0][:200] if r.stderr.strip() else "")
    elif r.returncode == 2 and len(r.stderr.strip().splitlines()) != 1:
        crashes += 1
        print("MULTILINE", p, r.stderr[:200])
    elif r.returncode == 0 and SIM == 0:
        # The golden model on the same file: edge, off-grid and out-of-range inputs must predict.
        v = subprocess.run([R, "vectors", p, "--count", "32", "--seed", str(i)], capture_output=True, text=True)
        pr = subprocess.run([R, "predict", p, "--input", "/dev/stdin"], input=v.stdout, capture_output=True, text=True)
        if v.returncode != 0 or pr.returncode != 0 or len(pr.stdout.splitlines()) != 32:
            crashes += 1
            print("PREDICT FAILED", v.returncode, pr.returncode, p, (v.stderr + pr.stderr).strip()[:200])
            continue
    elif r.returncode == 0 and SIM > 0:
        d = os.path.join(W, "out%d" % seed)
        v = subprocess.run([R, "vectors", p, "--count", str(SIM), "--seed", str(i)], capture_output=True, text=True)
        open(d + ".csv", "w").write(v.stdout)
        sr = subprocess.run([R, "sim", d, "--input", d + ".csv"], capture_output=True, text=True)
        simulated += 1
        if sr.returncode != 0:
            crashes += 1
            print("SIM FAILED", p, (sr.stdout + sr.stderr).strip()[-300:])
            continue
    subprocess.run(["rm", "-rf", os.path.join(W, "out%d" % seed)])
    if r.returncode in (0, 2): os.remove(p)
print("fuzz: %d mutated models, %d crashes, multi-line errors or simulation failures%s"
      % (n, crashes, (", %d simulated bit-exact" % (simulated - crashes)) if SIM else ""))
sys.exit(1 if crashes else 0)
