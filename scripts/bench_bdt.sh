#!/usr/bin/env bash
# BDT examples beside conifer's VHDL backend, same Yosys yardstick (docs/benchmarks.md, "Boosted
# decision trees"): conifer 1.11 writes its VHDL for the same model file and precisions; GHDL's
# synthesis (ghdl --synth --out=verilog) turns it into Verilog; `rtlgen synth` runs the same
# `synth_xilinx -family xcup -flatten` on both; scripts/latency_check.py counts the register ranks
# from the inputs to the outputs (conifer's outputs include its valid bit).
#
#   scripts/bench_bdt.sh [OUTDIR]      (minutes; needs yosys, ghdl, g++ and scripts/bdt-venv.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/.sim/bench-bdt}"
R="$ROOT/.build/release/rtlgen"
PY=$("$ROOT/scripts/bdt-venv.sh")
VENV_BIN="$(dirname "$PY")"
AP="$("$PY" -c 'import importlib.util, os; print(os.path.join(os.path.dirname(importlib.util.find_spec("hls4ml").origin), "templates", "vivado", "ap_types"))')"
mkdir -p "$OUT"
for e in muon_pt_bdt track_quality_bdt; do
  case $e in
    muon_pt_bdt) src="$ROOT/examples/$e/muon_pt_bdt.conifer.json" ;;
    track_quality_bdt) src="$ROOT/examples/$e/track_quality_bdt.xgb.json" ;;
  esac
  cfg="$ROOT/examples/$e/config.yml"
  rm -rf "$OUT/$e-rtlgen" "$OUT/$e-conifer"
  "$R" build "$ROOT/examples/$e/model.json" --out "$OUT/$e-rtlgen" >/dev/null
  # conifer's VHDL (its FixedPointConverter compiles with the venv's python and the ap_ headers).
  (cd "$OUT" && PATH="$VENV_BIN:$PATH" XILINX_AP_INCLUDE="$AP" "$PY" - "$src" "$cfg" "$OUT/$e-conifer" <<'PYEOF'
import sys, logging, conifer, xgboost as xgb
logging.disable(logging.WARNING)
src, cfgf, out = sys.argv[1:]
p = {}
for line in open(cfgf):
    line = line.split("#")[0].strip()
    if line:
        k, v = line.split(":", 1); p[k.strip()] = v.strip()
cfg = {"Backend": "vhdl", "OutputDir": out, "ProjectName": "bdt", "XilinxPart": "xcvu9p-flgb2104-2L-e",
       "InputPrecision": p["input_precision"], "ThresholdPrecision": p["threshold_precision"], "ScorePrecision": p["score_precision"]}
if src.endswith(".xgb.json"):
    m = conifer.converters.convert_from_xgboost(xgb.Booster(model_file=src), cfg)
else:
    m = conifer.model.load_model(src, new_config=cfg)
m.write()
PYEOF
  )
  d="$OUT/$e-conifer"; mkdir -p "$d/w"
  for f in Constants Split Types Tree AddReduce Arrays0 BDT BDTTop; do ghdl -a --std=08 --work=BDT --workdir="$d/w" "$d/firmware/$f.vhd" 2>/dev/null; done
  ghdl --synth --std=08 --work=BDT --workdir="$d/w" --out=verilog BDTTop > "$d/bdt_conifer.v" 2>/dev/null
  echo '{"latency_cycles": 0, "top": "BDTTop"}' > "$d/report.json"; echo '{"name": "BDTTop"}' > "$d/model.json"; echo bdt_conifer.v > "$d/files_verilog.f"
  echo "== $e"
  "$R" synth "$OUT/$e-rtlgen" | sed 's/^/rtlgen:  /'
  python3 "$ROOT/scripts/latency_check.py" "$OUT/$e-rtlgen" | sed 's/^/rtlgen:  /'
  "$R" synth "$d" --top BDTTop --file bdt_conifer.v | sed 's/^/conifer: /'
  python3 "$ROOT/scripts/latency_check.py" "$d" | sed 's/  MISMATCH//; s/report latency_cycles 0, //; s/^/conifer: /' || true
done
