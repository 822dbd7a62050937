#!/usr/bin/env python3
"""Expected IEEE binary16 bits of float32 edge values, from numpy's float32 -> float16 cast
(round to nearest even). Prints the Swift literal table of Tests/KernelsTests/Float16ConversionTests.swift.

    tools/venv/bin/python scripts/gen_f16_cases.py

Only quiet NaNs are listed: for a signalling NaN numpy keeps the payload without setting the
quiet bit, while F16C (whose bits Pagewise follows) quiets it; the test checks those against the
hardware instead.
"""
import numpy as np

def f32(x):
    return int(np.array([x], dtype=np.float32).view(np.uint32)[0])

def bits(u):
    return np.array([u], dtype=np.uint32).view(np.float32)

cases = [
    ("+0", f32(0.0)), ("-0", 0x80000000), ("1", f32(1.0)), ("-1", f32(-1.0)),
    ("max half 65504", f32(65504.0)), ("-65504", f32(-65504.0)),
    ("65519.996 (below the tie: 65504)", 0x477FEFFF), ("65520 (tie: rounds to even 2^16, inf)", f32(65520.0)),
    ("-65520", f32(-65520.0)), ("65536", f32(65536.0)), ("1e10", f32(1e10)), ("float max", 0x7F7FFFFF),
    ("+inf", 0x7F800000), ("-inf", 0xFF800000),
    ("1 + 2^-11 (tie: down to even 1)", f32(1.0 + 2.0**-11)), ("1 + 3*2^-11 (tie: up to even)", f32(1.0 + 3 * 2.0**-11)),
    ("1 + 2^-11 + 2^-23 (above the tie)", f32(1.0 + 2.0**-11 + 2.0**-23)), ("1 + 2^-11 - 2^-23 (below the tie)", f32(1.0 + 2.0**-11 - 2.0**-23)),
    ("2049 (tie: 2048)", f32(2049.0)), ("2051 (tie: 2052)", f32(2051.0)), ("-2051", f32(-2051.0)),
    ("2047.5", f32(2047.5)), ("4095 (tie: 4096, exponent carry)", f32(4095.0)), ("1.99951171875 (mantissa carry to 2)", f32(1.99951171875)),
    ("min normal 2^-14", f32(2.0**-14)), ("2^-14 - 2^-25 (tie: even 2^-14)", f32(2.0**-14 - 2.0**-25)),
    ("max subnormal 1023 * 2^-24", f32(1023 * 2.0**-24)), ("min subnormal 2^-24", f32(2.0**-24)),
    ("-2^-24", f32(-(2.0**-24))), ("2^-25 (tie: 0)", f32(2.0**-25)), ("-2^-25 (tie: -0)", f32(-(2.0**-25))),
    ("2^-25 + ulp (rounds up to 2^-24)", f32(2.0**-25) + 1), ("3 * 2^-25 (tie: 2 * 2^-24)", f32(3 * 2.0**-25)),
    ("5 * 2^-25 (tie: 2 * 2^-24)", f32(5 * 2.0**-25)), ("2^-26", f32(2.0**-26)),
    ("float subnormal", 0x00000001), ("-float subnormal", 0x80000001), ("min normal float", 0x00800000),
    ("0.1", f32(0.1)), ("-3.14159", f32(-3.14159)), ("1e-5", f32(1e-5)), ("6e-8", f32(6e-8)), ("123.456", f32(123.456)),
    ("quiet NaN", 0x7FC00000), ("-quiet NaN", 0xFFC00000), ("quiet NaN with payload", 0x7FC02000), ("quiet NaN, low payload", 0x7FC00001),
]
print(f"// numpy {np.__version__}: (float32 bits, float16 bits), np.float32 -> np.float16 (paste the lines below)")
for name, u in cases:
    with np.errstate(over="ignore", invalid="ignore"):
        h = int(bits(u).astype(np.float16).view(np.uint16)[0])
    print(f"(0x{u:08X}, 0x{h:04X}), // {name}")
