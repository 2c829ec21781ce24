#!/usr/bin/env bash
# Seeded mutation fuzzing of the importers (rtlgen fuzz-importers): every mutated file must import
# (and evaluate) or be rejected with one message. HDF5 files are read by a child process, so a
# file that makes the HDF5 library fault, abort or loop is an ordinary rejection ("damaged HDF5
# file") and the run goes on in the same process. Anything else (a crash of rtlgen itself, an
# unexpected error, a message of several lines) fails.
#
#   scripts/fuzz-importers.sh RTLGEN COUNT SEED [FORMATS...]    (default: all ten formats)
#
# "brevitas" is the onnx format seeded with a Brevitas QONNX model (real and per-channel scales, a
# zero point, batchnorm folded into thresholds: Tests/onnx/brevitas/brevitas_tiny.onnx).
set -euo pipefail
RTLGEN=$1; COUNT=$2; SEED=$3; shift 3
FORMATS=("$@"); [ ${#FORMATS[@]} -gt 0 ] || FORMATS=(h5 keras json yaml csv npy bnn onnx brevitas hgq2)
PROG=$(mktemp); trap 'rm -f "$PROG"' EXIT
for f in "${FORMATS[@]}"; do
  set +e
  args=(--format "$f")
  [ "$f" = brevitas ] && args=(--format onnx --onnx "$(dirname "$0")/../Tests/onnx/brevitas/brevitas_tiny.onnx")
  "$RTLGEN" fuzz-importers "${args[@]}" --count "$COUNT" --seed "$SEED" --progress-file "$PROG" --hdf5-timeout 2
  rc=$?
  set -e
  if [ $rc -ne 0 ]; then
    read -r _ at _ _ <"$PROG" || at="?"
    echo "fuzz-importers: $f seed $SEED: exit $rc at mutation $at" >&2
    echo "reproduce: $RTLGEN fuzz-importers ${args[*]} --seed $SEED --start $at --count 1" >&2
    exit 1
  fi
done
