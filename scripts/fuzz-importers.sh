#!/usr/bin/env bash
# Seeded mutation fuzzing of the importers (rtlgen fuzz-importers), resuming after each mutated
# HDF5 file that the HDF5 library cannot read: rtlgen's guard ends the process with exit 2 and
# one message (the product's behaviour on such a file), and the run continues with the next
# mutation. Anything else that is not a clean exit (a crash, an unexpected error) fails.
#
#   scripts/fuzz-importers.sh RTLGEN COUNT SEED [FORMATS...]    (default: all seven formats)
set -euo pipefail
RTLGEN=$1; COUNT=$2; SEED=$3; shift 3
FORMATS=("$@"); [ ${#FORMATS[@]} -gt 0 ] || FORMATS=(h5 keras json yaml csv npy onnx)
PROG=$(mktemp); ERR=$(mktemp); trap 'rm -f "$PROG" "$ERR"' EXIT
for f in "${FORMATS[@]}"; do
  start=0; guarded=0; ok=0; rejected=0; t0=$(date +%s)
  while [ "$start" -lt "$COUNT" ]; do
    set +e
    out=$("$RTLGEN" fuzz-importers --format "$f" --start "$start" --count $((COUNT - start)) --seed "$SEED" \
          --progress-file "$PROG" --hdf5-timeout 5 2>"$ERR")
    rc=$?
    set -e
    if [ $rc -eq 0 ]; then
      ok=$((ok + $(sed -n 's/.*files, \([0-9]*\) imported.*/\1/p' <<<"$out")))
      rejected=$((rejected + $(sed -n 's/.*imported, \([0-9]*\) rejected.*/\1/p' <<<"$out")))
      break
    fi
    read -r _ at imp rej <"$PROG"
    if [ $rc -eq 2 ] && grep -q "damaged HDF5 file" "$ERR" && [ "$(wc -l <"$ERR")" -eq 1 ]; then
      guarded=$((guarded + 1)); ok=$((ok + imp)); rejected=$((rejected + rej)); start=$((at + 1)); continue
    fi
    echo "fuzz-importers: $f seed $SEED mutation $at: exit $rc" >&2
    echo "$out" >&2; head -c 2000 "$ERR" >&2
    echo "reproduce: $RTLGEN fuzz-importers --format $f --seed $SEED --start $at --count 1" >&2
    exit 1
  done
  echo "fuzz-importers $f seed $SEED: $COUNT mutated files: $ok imported, $rejected rejected with one message, $guarded damaged HDF5 files stopped by the guard (exit 2, one message); no crash ($(( $(date +%s) - t0 )) s)"
done
