#!/bin/sh
# Mask-time benchmark for the StructuredOutput target, optimized (-O, whole module), without
# building the rest of the package: GGUF, Tokenization and StructuredOutput are compiled with
# swiftc into $OUT (default /tmp/pagewise-bench-structured), then main.swift runs over the real
# SmolLM2 (49,152 tokens) and Gemma 3 (262,144 tokens) vocabularies from ~/.cache/pagewise/models.
# Usage: scripts/bench-structured/run.sh [-v]   (-v: the slowest steps with their text)
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
SRC="$HERE/../../Sources"
OUT=${OUT:-/tmp/pagewise-bench-structured}
mkdir -p "$OUT"
cd "$OUT"
OPT="-O -wmo -parse-as-library"
swiftc $OPT -emit-module -emit-object -module-name GGUF -o GGUF.o -emit-module-path GGUF.swiftmodule "$SRC"/GGUF/*.swift
swiftc $OPT -I . -emit-module -emit-object -module-name Tokenization -o Tokenization.o -emit-module-path Tokenization.swiftmodule "$SRC"/Tokenization/*.swift
swiftc $OPT -I . -emit-module -emit-object -module-name StructuredOutput -o StructuredOutput.o -emit-module-path StructuredOutput.swiftmodule "$SRC"/StructuredOutput/*.swift
swiftc -O -I . "$HERE/main.swift" GGUF.o Tokenization.o StructuredOutput.o -o bench-structured
./bench-structured "$@"
