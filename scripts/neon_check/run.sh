#!/usr/bin/env bash
# Cross-builds the CKernels sources for aarch64 and checks the NEON/dotprod ck_gemm_q path against
# the portable one, bit for bit, under qemu-aarch64:
#   1. aarch64-linux-gnu-gcc -march=armv8.2-a+dotprod (default qemu CPU, which has dotprod)
#   2. the Swift toolchain's clang (if found) at plain -march=armv8-a: the dotprod code is reached
#      only through the target attribute and the getauxval() check, as in a `swift build`;
#      run on the default CPU and on -cpu cortex-a53 (no dotprod: the fallback must be taken).
# Needs: apt-get install -y gcc-aarch64-linux-gnu qemu-user   (lld for step 2)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
src="$root/Sources/CKernels"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
QEMU="${QEMU:-qemu-aarch64}"
files=("$here/check.c" "$src/act_quant.c" "$src/gemm_portable.c" "$src/gemm_neon.c" "$src/dispatch.c" "$src/dequant.c")
inc=(-I"$src" -I"$src/include")
rc=0

echo "== gcc, -march=armv8.2-a+dotprod"
# gcc ignores '#pragma clang fp contract(off)': switch contraction off on the command line.
"${CC:-aarch64-linux-gnu-gcc}" -O2 -march=armv8.2-a+dotprod -static -ffp-contract=off -std=gnu11 \
    -w "${inc[@]}" "${files[@]}" -lm -o "$out/check_gcc"
"$QEMU" "$out/check_gcc" || rc=1

clang="${CLANG:-}"
if [ -z "$clang" ] && command -v swift >/dev/null; then
    clang="$(dirname "$(readlink -f "$(command -v swift)")")/clang"
fi
if [ -n "$clang" ] && [ -x "$clang" ]; then
    echo "== clang ($("$clang" --version | head -1)), -march=armv8-a (contraction off by the files' pragma)"
    "$clang" --target=aarch64-linux-gnu -O2 -march=armv8-a -static -fuse-ld=lld -w \
        "${inc[@]}" "${files[@]}" -lm -o "$out/check_clang"
    "$QEMU" "$out/check_clang" || rc=1
    echo "== clang build on -cpu cortex-a53 (no dotprod)"
    "$QEMU" -cpu cortex-a53 "$out/check_clang" || rc=1
fi
exit $rc
