#!/usr/bin/env bash
# make bench: speed and memory figures of rtlgen itself and of the simulations. Prints a table;
# fails if a target is missed (targets are generous ceilings for a 2-core machine).
set -euo pipefail
cd "$(dirname "$0")/.."
R=.build/release/rtlgen
B=.sim/bench
rm -rf "$B" && mkdir -p "$B"
fail=0
measure() { # name ceiling_seconds ceiling_MB command...
  local name=$1 tmax=$2 mmax=$3; shift 3
  /usr/bin/time -f "%e %M" -o "$B/time" "$@" > "$B/out" 2> "$B/err" || { echo "$name: command failed"; cat "$B/err"; exit 1; }
  read -r t m < "$B/time"
  local mb=$((m / 1024))
  local verdict=ok
  if awk "BEGIN{exit !($t > $tmax)}" || [ "$mb" -gt "$mmax" ]; then verdict="OVER (limit ${tmax}s, ${mmax}MB)"; fail=1; fi
  printf "%-44s %8.2fs %7d MB  %s\n" "$name" "$t" "$mb" "$verdict"
}
$R vectors examples/jet_tagger/model.json --count 100000 --seed 9 > "$B/jet100k.csv"
measure "build jet_tagger (4389 params)"            5  500 $R build examples/jet_tagger/model.json --out "$B/jet"
measure "predict jet_tagger, 100k vectors"          30 500 $R predict examples/jet_tagger/model.json --input "$B/jet100k.csv" --output "$B/y.csv"
# Golden-model throughput on a million samples (issue 9: >= 110,000 jet inferences/s, 10x hls4ml's
# compiled emulation, and >= 1,000,000 muon-student inferences/s), CSV in and out, all cores.
# "per CPU-second" divides by user+sys time: what the figure would be with the cores to itself.
throughput() { # name model csv rows
  /usr/bin/time -f "%e %U %S" -o "$B/time" $R predict "$2" --input "$3" --output "$B/y.csv"
  read -r t u s < "$B/time"
  awk -v n="$1" -v r="$4" -v t="$t" -v c="$(awk "BEGIN{print $u+$s}")" \
    'BEGIN{printf "%-44s %8.2fs  %12.0f inferences/s wall, %12.0f per CPU-second\n", n, t, r/t, r/c}'
}
for i in 1 2 3 4 5 6 7 8 9 10; do cat "$B/jet100k.csv"; done > "$B/jet1m.csv"
throughput "predict jet_tagger, 1M vectors" examples/jet_tagger/model.json "$B/jet1m.csv" 1000000
$R vectors examples/muon_recal/model.json --count 100000 --seed 9 > "$B/mu100k.csv"
for i in 1 2 3 4 5 6 7 8 9 10; do cat "$B/mu100k.csv"; done > "$B/mu1m.csv"
throughput "predict muon_recal (student), 1M vectors" examples/muon_recal/model.json "$B/mu1m.csv" 1000000
rm -f "$B/jet1m.csv" "$B/mu1m.csv"
# A wide layer: 64 -> 256 (16k weights, one CMVM program over the whole matrix) to watch generator scaling.
python3 - "$B/wide.json" <<'PY'
import json, random, sys
r = random.Random(5)
m = {"format": "rtlgen-model", "version": 1, "name": "wide", "input": {"size": 64, "type": "fixed<16,6>"},
     "layers": [{"name": "fc1", "op": "dense", "units": 256,
                 "kernel": [[round(r.uniform(-1, 1), 4) for _ in range(256)] for _ in range(64)],
                 "bias": [0.0] * 256, "kernel_type": "fixed<8,1>", "bias_type": "fixed<8,1>",
                 "output_type": "fixed<16,6>"}]}
json.dump(m, open(sys.argv[1], "w"))
PY
measure "build wide 64x256 (16k weights, shift-add)" 20 2000 $R build "$B/wide.json" --out "$B/wide"
# A large binary layer: 512 bipolar inputs -> 512 XNOR-popcount neurons (262k weights) + sign.
python3 - "$B/bnn.json" <<'PY'
import json, random, sys
r = random.Random(5)
n = 512
m = {"format": "rtlgen-model", "version": 1, "name": "bnn", "input": {"size": n, "type": "bipolar"},
     "layers": [{"name": "fc1", "op": "binary_dense", "units": n,
                 "kernel": [[r.choice((1, -1)) for _ in range(n)] for _ in range(n)],
                 "output_type": "int<12>"},
                {"name": "act1", "op": "sign"}]}
json.dump(m, open(sys.argv[1], "w"))
PY
measure "build binary 512x512 (262k XNOR weights)"  60 4000 $R build "$B/bnn.json" --out "$B/bnn"
rm -rf "$B/bnn"
$R vectors examples/keras_bnn/model.json --count 100000 --seed 9 > "$B/bnn100k.csv"
measure "predict keras_bnn, 100k vectors"           30 500 $R predict examples/keras_bnn/model.json --input "$B/bnn100k.csv" --output "$B/y.csv"
measure "build activations (23 layers, 47k ROM bits)" 5 500 $R build examples/activations/model.json --out "$B/act"
head -2000 "$B/jet100k.csv" > "$B/jet2k.csv"
measure "sim jet_tagger verilator, 2k vectors"      120 2000 $R sim "$B/jet" --input "$B/jet2k.csv" --simulator verilator
measure "sim jet_tagger ghdl, 2k vectors"           240 2000 $R sim "$B/jet" --input "$B/jet2k.csv" --simulator ghdl
exit $fail
