#!/usr/bin/env bash
# Tests/reference/run_all.sh [N_RANDOM] [COUNT]
# check.sh on every examples/*/model.json with `rtlgen vectors --count COUNT` (default 2000)
# and on random models `rtlgen random-model --seed 1..N_RANDOM` (default 30) with
# `rtlgen vectors --seed N --count COUNT`. Prints one line per model and a total; exit 1 if any
# model disagrees.
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
nrand=${1:-30} count=${2:-2000}
if [ -z "${RTLGEN:-}" ]; then
  for c in .build-tests/debug .build/debug .build/release; do
    if [ -x "$root/$c/rtlgen" ]; then RTLGEN=$root/$c/rtlgen; break; fi
  done
fi
export RTLGEN
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 models=0 total=0
run() {  # model csv
  local out
  if out=$("$here/check.sh" "$1" "$2"); then
    echo "$out"
    total=$((total + $(echo "$out" | sed -E 's/.*= ([0-9]+) values/\1/')))
  else
    fail=$((fail + 1))
  fi
  models=$((models + 1))
}
for m in "$root"/examples/*/model.json; do
  # The reference implements dense and relu only (binary/ternary ops are checked by the Swift
  # tests and the simulations).
  if grep -qE '"op": *"(binary_dense|ternary_dense|sign|binary_tanh|ternary_tanh|threshold|multi_threshold|batchnorm)"' "$m"; then
    echo "$(basename "$(dirname "$m")"): skipped (ops the reference does not implement)"; continue
  fi
  "$RTLGEN" vectors "$m" --count "$count" > "$tmp/x.csv" || exit 2
  run "$m" "$tmp/x.csv"
done
for s in $(seq 1 "$nrand"); do
  "$RTLGEN" random-model --seed "$s" > "$tmp/random_$s.json" || exit 2
  "$RTLGEN" vectors "$tmp/random_$s.json" --count "$count" --seed "$s" > "$tmp/x.csv" || exit 2
  run "$tmp/random_$s.json" "$tmp/x.csv"
done
echo "reference vs rtlgen predict: $((models - fail))/$models models agree, $total values compared"
[ "$fail" -eq 0 ]
