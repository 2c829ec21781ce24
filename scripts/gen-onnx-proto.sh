#!/usr/bin/env bash
# Regenerates Sources/FrontEnds/ONNX/Generated/onnx.pb.swift, the swift-protobuf message code
# for ONNX's schema (onnx.proto3). Run by hand only when the schema should follow a newer ONNX:
# the generated file is committed, so building rtlgen never needs protoc.
#
#   scripts/gen-onnx-proto.sh path/to/onnx.proto3
#
# The schema: onnx/onnx.proto3 of github.com/onnx/onnx (the committed code was generated from
# the file at commit f7546912001bc31e92a238b17068a21b373d882e, VERSION_NUMBER 1.23.0, IR
# version 13; `git show f754691:onnx/onnx.proto3 > /tmp/onnx.proto3`). Tools: protoc from Debian's
# `protobuf-compiler`, and protoc-gen-swift built from the swift-protobuf package the build uses
# (1.39.0, /opt/swift-packages via git's url.insteadOf), in .cache/swift-protobuf.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROTO="${1:?usage: scripts/gen-onnx-proto.sh path/to/onnx.proto3}"
[ -f "$PROTO" ] || { echo "gen-onnx-proto: $PROTO not found" >&2; exit 1; }
command -v protoc >/dev/null || apt-get install -y protobuf-compiler >&2
SP="$ROOT/.cache/swift-protobuf"
if [ ! -d "$SP" ]; then
    git clone -q --branch 1.39.0 https://github.com/apple/swift-protobuf "$SP"
fi
( cd "$SP" && swift build -c release --product protoc-gen-swift >&2 )
PLUGIN="$SP/.build/release/protoc-gen-swift"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
# protoc names the output after the input file: copy the schema as onnx.proto.
cp "$PROTO" "$TMP/onnx.proto"
OUT="$ROOT/Sources/FrontEnds/ONNX/Generated"
mkdir -p "$OUT"
protoc --plugin=protoc-gen-swift="$PLUGIN" --proto_path="$TMP" --swift_out="$OUT" \
       --swift_opt=Visibility=Internal "$TMP/onnx.proto"
echo "gen-onnx-proto: wrote $OUT/onnx.pb.swift from $PROTO ($(protoc --version))" >&2
