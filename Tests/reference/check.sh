#!/usr/bin/env bash
# Tests/reference/check.sh MODEL CSV
# Runs the independent Python reference (exact_reference.py) and `rtlgen predict` on the same
# model and inputs and compares the outputs text for text. Exit 0 when identical, 1 on any
# difference (the first differing lines are printed), 2 when either side fails to run.
# The rtlgen binary: $RTLGEN, else the first of .build-tests/debug, .build/debug, .build/release.
set -u -o pipefail
if [ $# -ne 2 ]; then echo "usage: $0 MODEL CSV" >&2; exit 2; fi
model=$1 csv=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ -z "${RTLGEN:-}" ]; then
  for c in .build-tests/debug .build/debug .build/release; do
    if [ -x "$root/$c/rtlgen" ]; then RTLGEN=$root/$c/rtlgen; break; fi
  done
fi
if [ -z "${RTLGEN:-}" ]; then echo "check.sh: no rtlgen binary; run swift build or set RTLGEN" >&2; exit 2; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! python3 "$here/exact_reference.py" "$model" "$csv" > "$tmp/ref.csv"; then
  echo "check.sh: the reference failed on $model" >&2; exit 2
fi
if ! "$RTLGEN" predict "$model" --input "$csv" > "$tmp/rtlgen.csv"; then
  echo "check.sh: rtlgen predict failed on $model" >&2; exit 2
fi
samples=$(wc -l < "$tmp/ref.csv" | tr -d ' ')
outputs=$(head -1 "$tmp/ref.csv" | awk -F, '{print NF}')
if ! cmp -s "$tmp/ref.csv" "$tmp/rtlgen.csv"; then
  echo "DIFFERENT: $model on $csv (reference vs rtlgen predict):" >&2
  # first differing sample, with its input line (blank and # lines skipped as in the CSV rules)
  n=$(awk 'NR==FNR { a[NR] = $0; len = NR; next } a[FNR] != $0 { print FNR; exit } END { if (FNR != len) print (FNR < len ? FNR + 1 : len + 1) }' \
        "$tmp/ref.csv" "$tmp/rtlgen.csv" | sed -n 1p)
  if [ -n "$n" ]; then
    echo "  sample $n input: $(grep -vE '^[[:space:]]*(#|$)' "$csv" | sed -n "${n}p")" >&2
    echo "  reference: $(sed -n "${n}p" "$tmp/ref.csv")" >&2
    echo "  rtlgen:    $(sed -n "${n}p" "$tmp/rtlgen.csv")" >&2
  fi
  diff "$tmp/ref.csv" "$tmp/rtlgen.csv" | sed -n 1,10p >&2
  exit 1
fi
echo "agree: $model: $samples samples x $outputs outputs = $((samples * outputs)) values"
