#!/usr/bin/env python3
"""Trains the two BDT examples on seeded toy data (the venv of scripts/bdt-venv.sh):

  examples/muon_pt_bdt:       an EMTF-like muon momentum regressor: XGBoost reg:squarederror,
                              64 trees of depth 4 on 6 toy track-segment features, target
                              log2(pT / GeV); committed as conifer's JSON (converted by conifer).
  examples/track_quality_bdt: a track-quality (fake-track rejection) classifier: XGBoost
                              binary:logistic, 60 trees of depth 3 on 7 toy track features;
                              committed as XGBoost's own JSON model.

TOY DATA, NOT PHYSICS: the features imitate the shapes of the real inputs only. Each example
folder gets its model file, config.yml (conifer's precision keys) and a sample CSV; the native
model.json is written by `rtlgen import` (the Makefile's bdt-examples target).

  python scripts/make_bdt_examples.py OUTDIR_ROOT
"""
import json, os, sys
import numpy as np
import xgboost as xgb

root = sys.argv[1] if len(sys.argv) > 1 else "examples"


def muon_data(rng, n):
    # pT from 2 to 128 GeV (falling spectrum); bending between stations ~ charge / pT.
    pt = 2.0 * np.exp(rng.exponential(1.2, n)).clip(1, 64)
    q = rng.choice([-1.0, 1.0], n)
    eta = rng.uniform(1.2, 2.4, n)
    dphi12 = q * 60.0 / pt * (1 + 0.25 * (eta - 1.8)) + rng.normal(0, 0.6, n)
    dphi23 = q * 25.0 / pt + rng.normal(0, 0.5, n)
    dphi34 = q * 12.0 / pt + rng.normal(0, 0.5, n)
    dtheta = rng.normal(0, 1.5, n) + 4.0 / pt
    bend1 = q * np.clip(8.0 / np.sqrt(pt), 0, 6) + rng.normal(0, 0.7, n)
    X = np.stack([dphi12, dphi23, dphi34, dtheta, eta, bend1], axis=1)
    return np.round(X, 3), np.log2(pt)


def track_data(rng, n):
    real = rng.random(n) < 0.7
    nstub = np.where(real, rng.integers(4, 7, n), rng.integers(4, 6, n)).astype(float)
    chi2rphi = np.where(real, rng.exponential(1.0, n), rng.exponential(6.0, n)).clip(0, 60)
    chi2rz = np.where(real, rng.exponential(0.8, n), rng.exponential(4.0, n)).clip(0, 60)
    bendchi2 = np.where(real, rng.exponential(1.0, n), rng.exponential(3.0, n)).clip(0, 30)
    pt = 2.0 + rng.exponential(np.where(real, 8.0, 3.0), n).clip(0, 100)
    eta = rng.uniform(-2.4, 2.4, n)
    z0 = rng.normal(0, np.where(real, 5.0, 9.0), n).clip(-15, 15)
    X = np.stack([chi2rphi, chi2rz, bendchi2, nstub, pt, eta, z0], axis=1)
    return np.round(X, 3), real.astype(int)


def write_cfg(path, cfg):
    with open(path, "w") as f:
        f.write("# conifer's precision keys (rtlgen --config and conifer's cpp backend alike)\n")
        for k, v in cfg.items():
            f.write(f"{k}: {v}\n")


def sample_csv(path, X):
    np.savetxt(path, X[:8], delimiter=",", fmt="%.3f")


# --- muon pT regressor ---------------------------------------------------------------------
rng = np.random.default_rng(20261207)
X, y = muon_data(rng, 40000)
reg = xgb.XGBRegressor(n_estimators=64, max_depth=4, learning_rate=0.15, random_state=1, n_jobs=1, base_score=4.0)
reg.fit(X, y)
d = os.path.join(root, "muon_pt_bdt")
os.makedirs(d, exist_ok=True)
mcfg = {"input_precision": "ap_fixed<16,8>", "threshold_precision": "ap_fixed<16,8>", "score_precision": "ap_fixed<16,6>"}
write_cfg(os.path.join(d, "config.yml"), mcfg)
import conifer
cm = conifer.converters.convert_from_xgboost(reg.get_booster(), {"backend": "cpp", "output_dir": os.path.join(d, ".conifer"), "project_name": "muon_pt_bdt", **mcfg})
cm.save(os.path.join(d, "muon_pt_bdt.conifer.json"))
# The same JSON without indentation (conifer reads it alike; a quarter of the size), no metadata stamp.
cj = json.load(open(os.path.join(d, "muon_pt_bdt.conifer.json")))
cj.pop("metadata", None)
cj["config"] = {k: v for k, v in cj["config"].items() if k.endswith("precision")} | {"backend": "cpp"}
json.dump(cj, open(os.path.join(d, "muon_pt_bdt.conifer.json"), "w"), separators=(",", ":"))
os.system(f"rm -rf {os.path.join(d, '.conifer')}")
sample_csv(os.path.join(d, "sample.csv"), X)
print(f"muon_pt_bdt: 64 trees depth 4, train RMSE(log2 pT) {np.sqrt(np.mean((reg.predict(X) - y) ** 2)):.3f}")

# --- track quality classifier --------------------------------------------------------------
rng = np.random.default_rng(20261208)
X, y = track_data(rng, 40000)
clf = xgb.XGBClassifier(n_estimators=60, max_depth=3, learning_rate=0.3, random_state=2, n_jobs=1)
clf.fit(X, y)
d = os.path.join(root, "track_quality_bdt")
os.makedirs(d, exist_ok=True)
write_cfg(os.path.join(d, "config.yml"), {"input_precision": "ap_fixed<14,8>", "threshold_precision": "ap_fixed<14,8>", "score_precision": "ap_fixed<12,4>"})
clf.get_booster().save_model(os.path.join(d, "track_quality_bdt.xgb.json"))
sample_csv(os.path.join(d, "sample.csv"), X)
print(f"track_quality_bdt: 60 trees depth 3, train accuracy {np.mean(clf.predict(X) == y):.3f}")
