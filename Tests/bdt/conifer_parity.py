#!/usr/bin/env python3
"""make conifer-parity: `rtlgen predict` against conifer's own bit-accurate C++ emulation (its
`cpp` backend on the ap_fixed headers, compiled with g++), N inputs per model, every output
compared exactly.

Models:
  - the two examples, as committed: muon_pt_bdt (conifer JSON) and track_quality_bdt (XGBoost JSON,
    and the conifer JSON conifer makes of it);
  - models trained here with other seeds, not by the example scripts: scikit-learn
    GradientBoostingClassifiers (binary and 3 classes) through conifer's JSON; an XGBoost
    multi:softprob model and an XGBoost regressor, as XGBoost JSON and as conifer JSON; each at
    its own precisions.
Inputs: random values, a third of them put exactly on a quantized threshold or one step beside
it (so that `<` and `<=` are told apart).

  python Tests/bdt/conifer_parity.py --rtlgen .build/release/rtlgen [--n 10000]
"""
import argparse, importlib.util, json, logging, os, subprocess, sys, tempfile, time
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--rtlgen", required=True)
ap.add_argument("--n", type=int, default=10000)
ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
args = ap.parse_args()
RTLGEN = os.path.abspath(args.rtlgen)
ROOT = os.path.abspath(args.root)

# conifer's cpp backend: the ap_ headers from hls4ml's templates (installed without its
# dependencies), the JSON header from PyPI nlohmann-json.
hls4ml_dir = os.path.dirname(importlib.util.find_spec("hls4ml").origin)
os.environ["XILINX_AP_INCLUDE"] = os.path.join(hls4ml_dir, "templates", "vivado", "ap_types")
json_inc = os.path.join(os.path.dirname(importlib.util.find_spec("nlohmann_json").origin), "include")
os.environ["CPLUS_INCLUDE_PATH"] = json_inc + (":" + os.environ["CPLUS_INCLUDE_PATH"] if os.environ.get("CPLUS_INCLUDE_PATH") else "")
logging.disable(logging.WARNING)

import conifer
import xgboost as xgb
from sklearn.ensemble import GradientBoostingClassifier

work = tempfile.mkdtemp(prefix="conifer-parity-")
failures = []
rows_checked = 0


def quantized_thresholds(cm, frac):
    """Per feature, the thresholds of conifer's model on the input grid (floor, as ap_fixed)."""
    th = {}
    for per_class in cm.trees:
        for t in per_class:
            for f, v in zip(t.feature, t.threshold):
                if f >= 0:
                    th.setdefault(f, set()).add(np.floor(v * 2.0 ** frac) / 2.0 ** frac)
    return {f: np.array(sorted(v)) for f, v in th.items()}


def inputs(cm, n_features, frac, scale, seed):
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(0, 1, (args.n, n_features)) * scale, 4)
    th = quantized_thresholds(cm, frac)
    lsb = 2.0 ** -frac
    for f, vals in th.items():
        pick = rng.random(args.n) < 0.33
        X[pick, f] = rng.choice(vals, pick.sum()) + lsb * rng.integers(-1, 2, pick.sum())
    return X


def frac_of(t):
    w, i = [int(s) for s in t[t.index("<") + 1:t.index(">")].split(",")[:2]]
    return w - i


def write_cfg(path, cfg):
    with open(path, "w") as f:
        for k, v in cfg.items():
            f.write(f"{k}: {v}\n")


def compare(label, model_file, cfg_file, X, want):
    global rows_checked
    csv = os.path.join(work, label + ".csv")
    with open(csv, "w") as f:
        for row in X:
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    cmd = [RTLGEN, "predict", model_file, "--input", csv] + (["--config", cfg_file] if cfg_file else [])
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        failures.append(f"{label}: rtlgen predict failed: {p.stderr.strip()}")
        print(f"  {label}: FAILED (rtlgen exit {p.returncode}) {p.stderr.strip()}")
        return
    got = np.array([[float(v) for v in line.split(",")] for line in p.stdout.strip().splitlines()])
    want = np.asarray(want, dtype=float).reshape(len(X), -1)
    if got.shape != want.shape:
        failures.append(f"{label}: shape {got.shape} vs conifer {want.shape}")
        print(f"  {label}: FAILED shape {got.shape} vs conifer {want.shape}")
        return
    bad = np.nonzero(np.any(got != want, axis=1))[0]
    rows_checked += len(X)
    if len(bad):
        failures.append(f"{label}: {len(bad)} of {len(X)} rows differ (first: row {bad[0]}: rtlgen {got[bad[0]]} conifer {want[bad[0]]})")
        print(f"  {label}: FAILED {len(bad)} of {len(X)} rows differ; row {bad[0]}: x={X[bad[0]]} rtlgen {got[bad[0]]} conifer {want[bad[0]]}")
    else:
        print(f"  {label}: {len(X)} rows identical ({want.shape[1]} score(s) per row)")


def conifer_cpp(cm_or_src, cfg, name, xgb_booster=None):
    c = {"backend": "cpp", "output_dir": os.path.join(work, name), "project_name": name, **cfg}
    if xgb_booster is not None:
        cm = conifer.converters.convert_from_xgboost(xgb_booster, c)
    elif isinstance(cm_or_src, str):
        cm = conifer.model.load_model(cm_or_src, new_config=c)
    else:
        cm = conifer.converters.convert_from_sklearn(cm_or_src, c)
    cm.compile()
    return cm


def check(name, cm, cfg, n_features, scale, seed, files):
    """files: [(label, model file, use the config file)]."""
    cfg_file = os.path.join(work, name + ".yml")
    write_cfg(cfg_file, cfg)
    X = inputs(cm, n_features, frac_of(cfg["input_precision"]), scale, seed)
    want = cm.decision_function(X)
    for label, f in files:
        compare(label, f, cfg_file, X, want)


t0 = time.time()
ex = os.path.join(ROOT, "examples")



def read_cfg(path):
    out = {}
    for line in open(path):
        line = line.split("#")[0].strip()
        if line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


# 1. muon_pt_bdt: conifer JSON as committed.
d = os.path.join(ex, "muon_pt_bdt")
cfg = read_cfg(os.path.join(d, "config.yml"))
f = os.path.join(d, "muon_pt_bdt.conifer.json")
check("muon_pt_bdt", conifer_cpp(f, cfg, "muon_pt_bdt"), cfg, 6, 8.0, 101,
      [("muon_pt_bdt (conifer JSON)", f)])

# 2. track_quality_bdt: XGBoost JSON as committed, and conifer's JSON of it.
d = os.path.join(ex, "track_quality_bdt")
cfg = read_cfg(os.path.join(d, "config.yml"))
f = os.path.join(d, "track_quality_bdt.xgb.json")
b = xgb.Booster(model_file=f)
cm = conifer_cpp(None, cfg, "track_quality_bdt", xgb_booster=b)
cj = os.path.join(work, "track_quality_bdt.conifer.json")
cm.save(cj)
check("track_quality_bdt", cm, cfg, 7, 6.0, 102,
      [("track_quality_bdt (XGBoost JSON)", f), ("track_quality_bdt (conifer JSON)", cj)])

# 3. Models not trained by the example scripts.
rng = np.random.default_rng(777)
Xt = rng.normal(0, 1, (3000, 5)) * 3
yb = (Xt[:, 0] * Xt[:, 1] + Xt[:, 2] > 0.5).astype(int)
y3 = np.digitize(Xt[:, 0] + 0.5 * Xt[:, 3] - 0.3 * Xt[:, 4], [-1.5, 1.5])

sk = GradientBoostingClassifier(n_estimators=30, max_depth=3, learning_rate=0.2, random_state=31).fit(Xt, yb)
cfg = {"input_precision": "ap_fixed<12,5>", "threshold_precision": "ap_fixed<12,5>", "score_precision": "ap_fixed<16,5>"}
cm = conifer_cpp(sk, cfg, "sk_binary")
cj = os.path.join(work, "sk_binary.json"); cm.save(cj)
check("sk_binary", cm, cfg, 5, 3.0, 103, [("scikit-learn GradientBoostingClassifier, binary (conifer JSON)", cj)])

sk3 = GradientBoostingClassifier(n_estimators=12, max_depth=4, learning_rate=0.3, random_state=32).fit(Xt, y3)
cfg = {"input_precision": "ap_fixed<10,4,AP_RND,AP_SAT>", "threshold_precision": "ap_fixed<10,4,AP_RND,AP_SAT>", "score_precision": "ap_fixed<14,6>"}
cm = conifer_cpp(sk3, cfg, "sk_3class")
cj = os.path.join(work, "sk_3class.json"); cm.save(cj)
check("sk_3class", cm, cfg, 5, 3.0, 104, [("scikit-learn GradientBoostingClassifier, 3 classes (conifer JSON)", cj)])

xm = xgb.XGBClassifier(n_estimators=15, max_depth=3, learning_rate=0.4, random_state=33, n_jobs=1,
                       objective="multi:softprob", base_score=0.5).fit(Xt, y3)
xf = os.path.join(work, "xgb_multi.json"); xm.get_booster().save_model(xf)
cfg = {"input_precision": "ap_fixed<14,6>", "threshold_precision": "ap_fixed<14,6>", "score_precision": "ap_fixed<12,4>"}
cm = conifer_cpp(None, cfg, "xgb_multi", xgb_booster=xm.get_booster())
cj = os.path.join(work, "xgb_multi.conifer.json"); cm.save(cj)
check("xgb_multi", cm, cfg, 5, 3.0, 105, [("XGBoost multi:softprob, 3 classes (XGBoost JSON)", xf), ("XGBoost multi:softprob (conifer JSON)", cj)])

xr = xgb.XGBRegressor(n_estimators=25, max_depth=5, learning_rate=0.3, random_state=34, n_jobs=1).fit(Xt, Xt[:, 0] ** 2 - Xt[:, 1])
xf = os.path.join(work, "xgb_reg.json"); xr.get_booster().save_model(xf)
cfg = {"input_precision": "ap_fixed<18,8>", "threshold_precision": "ap_fixed<18,8>", "score_precision": "ap_fixed<20,10>"}
cm = conifer_cpp(None, cfg, "xgb_reg", xgb_booster=xr.get_booster())
cj = os.path.join(work, "xgb_reg.conifer.json"); cm.save(cj)
check("xgb_reg", cm, cfg, 5, 3.0, 106, [("XGBoost reg:squarederror, depth 5 (XGBoost JSON)", xf), ("XGBoost reg:squarederror (conifer JSON)", cj)])

print(f"conifer-parity: {rows_checked} rows compared in {time.time() - t0:.0f} s")
if failures:
    print("conifer-parity: FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("conifer-parity: rtlgen predict equals conifer's cpp emulation on every row")
