#!/usr/bin/env bash
# Tests/reference/run_all.sh [N_RANDOM] [COUNT] [N_BINARY] [COUNT_BINARY]
# check.sh on:
#   - every examples/*/model.json with `rtlgen vectors --count COUNT` (default 2000);
#   - the hand-written edge-case models Tests/reference/models/*.json with
#     `rtlgen vectors --count COUNT --seed 1` followed by models/NAME.csv when it exists;
#   - random models `rtlgen random-model --seed 1..N_RANDOM` (default 30) with
#     `rtlgen vectors --seed N --count COUNT`;
#   - random binary/ternary models `rtlgen random-model --family binary --seed 1..N_BINARY`
#     (default 30) with `rtlgen vectors --seed N --count COUNT_BINARY` (default 2000).
# Prints one line per model and a total; exit 1 if any model disagrees.
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
nrand=${1:-30} count=${2:-2000} nbin=${3:-30} countbin=${4:-2000}
if [ -z "${RTLGEN:-}" ]; then
  for c in .build-tests/debug .build/debug .build/release; do
    if [ -x "$root/$c/rtlgen" ]; then RTLGEN=$root/$c/rtlgen; break; fi
  done
fi
export RTLGEN
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 models=0 total=0 samples=0
run() {  # model csv
  local out
  if out=$("$here/check.sh" "$1" "$2"); then
    echo "$out"
    total=$((total + $(echo "$out" | sed -E 's/.*= ([0-9]+) values/\1/')))
    samples=$((samples + $(echo "$out" | sed -E 's/.*: ([0-9]+) samples x.*/\1/')))
  else
    fail=$((fail + 1))
  fi
  models=$((models + 1))
}
# The reference implements the contract's dense, activation, softmax and binary ops. Layer kinds
# added later have their own outside oracles instead (conv / pooling: ConvTests' Keras-rule
# reference and hls4ml itself in make hls4ml-conv; bdt: conifer's emulation in make
# conifer-parity): examples using them are listed as skipped, not compared.
skipped=""
for m in "$root"/examples/*/model.json; do
  if grep -qE '"op": *"(conv[12]d|(global_)?(max|avg)_pool[12]d|flatten|reshape|zero_pad[12]d|bdt)"' "$m"; then
    skipped="$skipped $(basename "$(dirname "$m")")"; continue
  fi
  "$RTLGEN" vectors "$m" --count "$count" > "$tmp/x.csv" || exit 2
  run "$m" "$tmp/x.csv"
done
for m in "$here"/models/*.json; do
  "$RTLGEN" vectors "$m" --count "$count" --seed 1 > "$tmp/x.csv" || exit 2
  if [ -f "${m%.json}.csv" ]; then cat "${m%.json}.csv" >> "$tmp/x.csv"; fi
  run "$m" "$tmp/x.csv"
done
for s in $(seq 1 "$nrand"); do
  "$RTLGEN" random-model --seed "$s" > "$tmp/random_$s.json" || exit 2
  "$RTLGEN" vectors "$tmp/random_$s.json" --count "$count" --seed "$s" > "$tmp/x.csv" || exit 2
  run "$tmp/random_$s.json" "$tmp/x.csv"
done
for s in $(seq 1 "$nbin"); do
  "$RTLGEN" random-model --family binary --seed "$s" > "$tmp/binary_$s.json" || exit 2
  "$RTLGEN" vectors "$tmp/binary_$s.json" --count "$countbin" --seed "$s" > "$tmp/x.csv" || exit 2
  run "$tmp/binary_$s.json" "$tmp/x.csv"
done
echo "reference vs rtlgen predict: $((models - fail))/$models models agree, $samples samples, $total values compared"
[ -z "$skipped" ] || echo "reference: skipped (layer kinds with their own oracles):$skipped"
[ "$fail" -eq 0 ]
