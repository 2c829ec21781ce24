#!/usr/bin/env bash
# Fetches the ap_fixed C++ headers that ship inside the hls4ml wheel into .cache/apfixed/ap_types/
# (the reference for Tests/apfixed/oracle.cpp). Idempotent: does nothing if they are already there.
#
#   scripts/fetch-apfixed.sh        # from anywhere; paths are relative to the package root
#
# Needs python3 with pip (the wheel is fetched with `pip download --no-deps`, nothing is installed).
set -euo pipefail

HLS4ML_VERSION="1.3.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache/apfixed"
DEST="$CACHE/ap_types"
PREFIX="hls4ml/templates/vivado/ap_types/"

die() { echo "fetch-apfixed: error: $*" >&2; exit 1; }

if [ -f "$DEST/ap_fixed.h" ] && [ -f "$DEST/ap_fixed_base.h" ] && [ -f "$DEST/etc/ap_private.h" ]; then
    echo "fetch-apfixed: ap_fixed headers already in $DEST"
    exit 0
fi

command -v python3 >/dev/null 2>&1 || die "python3 not found (needed to download and unpack the hls4ml wheel)"
mkdir -p "$CACHE"

WHEEL="$(ls "$CACHE"/hls4ml-"$HLS4ML_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
if [ -z "$WHEEL" ]; then
    echo "fetch-apfixed: downloading hls4ml==$HLS4ML_VERSION wheel into $CACHE"
    python3 -m pip download --no-deps --only-binary=:all: "hls4ml==$HLS4ML_VERSION" -d "$CACHE" \
        || die "pip download of hls4ml==$HLS4ML_VERSION failed (network? pip missing: python3 -m ensurepip)"
    WHEEL="$(ls "$CACHE"/hls4ml-"$HLS4ML_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
    [ -n "$WHEEL" ] || die "pip reported success but no hls4ml-$HLS4ML_VERSION wheel is in $CACHE"
fi

echo "fetch-apfixed: extracting $PREFIX* from $(basename "$WHEEL")"
TMP="$CACHE/ap_types.tmp"
rm -rf "$TMP"
python3 - "$WHEEL" "$PREFIX" "$TMP" <<'EOF' || die "could not extract the ap_types headers from $WHEEL"
import os, sys, zipfile
wheel, prefix, dest = sys.argv[1:4]
n = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if not name.startswith(prefix) or name.endswith("/"):
            continue
        rel = name[len(prefix):]
        if rel.startswith("/") or ".." in rel.split("/"):
            sys.exit(f"refusing suspicious path {name}")
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, "wb") as dst:
            dst.write(src.read())
        n += 1
if n == 0:
    sys.exit(f"no files under {prefix} in {wheel}")
print(f"fetch-apfixed: {n} files")
EOF
[ -f "$TMP/ap_fixed.h" ] || die "the wheel has no ${PREFIX}ap_fixed.h"
rm -rf "$DEST"
mv "$TMP" "$DEST"
echo "fetch-apfixed: ap_fixed headers in $DEST"
