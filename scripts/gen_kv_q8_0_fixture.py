#!/usr/bin/env python3
"""Expected Q8_0 bytes of K/V rows for the Q8_0 KV cache, from gguf-py's Q8_0 quantizer
(gguf.quants.quantize, bit-exact with ggml's quantize_row_q8_0_ref: d = amax / 127,
q = roundf(x * (1 / d)), ties away from zero; d as F16).

    /work/tools/venv/bin/python scripts/gen_kv_q8_0_fixture.py

Writes Tests/KernelsTests/Fixtures/kv_q8_0_rows.f32 (rows of 64 float32 values, little endian)
and kv_q8_0_rows.q8 (the rows' 2 blocks of 34 bytes each).
"""
import os
import numpy as np
import gguf
from gguf.quants import quantize

D = 64
rng = np.random.default_rng(20261122)
rows = []

def row(values):
    r = np.zeros(D, dtype=np.float32)
    r[: len(values)] = np.asarray(values, dtype=np.float32)
    rows.append(r)

row([])                                                     # all zeros: d = 0, q = 0
row([-0.0] * D)                                             # negative zeros
big = rng.standard_normal(D).astype(np.float32) * 1e-3      # one large value, the rest small
big[5] = 1000.0; big[40] = -3.0e-3
rows.append(big)
neg = rng.standard_normal(D).astype(np.float32)             # the block's max magnitude negative
neg[3] = -9.5; neg[33] = -0.75
rows.append(neg)
# amax 127: d = 1, exact ties k + 0.5 (roundf: away from zero; nearest-even would differ)
ties = [127.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5, 3.5, 64.5, -64.5]
ties += [float(np.nextafter(np.float32(0.5), np.float32(0))), float(np.nextafter(np.float32(0.5), np.float32(1))),
         float(np.nextafter(np.float32(2.5), np.float32(0))), float(np.nextafter(np.float32(2.5), np.float32(9)))]
row(ties + [0.0] * (32 - len(ties)) + [-127.0] + [k + 0.5 for k in range(-15, 16)])
# d = 3 (id = 1/3 inexact): x = 3k + 1.5 lands just off the tie once multiplied by the rounded id
row([381.0] + [3 * k + 1.5 for k in range(-15, 16)] + [-381.0] + [3 * k - 1.5 for k in range(1, 32)])
# d = 0.7/127 etc.: ties of the unrounded d, not of F16(d)
d = np.float32(0.7) / np.float32(127)
row([0.7] + [float(np.float32(k + 0.5) * d) for k in range(-15, 16)] + [-0.7] + [float(np.float32(k - 0.5) * d) for k in range(1, 32)])
row(list(np.linspace(-1e-5, 1e-5, D)))                      # tiny amax: F16 d subnormal
row([1e7] + [1.0] * 31 + [-2e6] + [5.0] * 31)               # d beyond F16's range (inf), and near it
for s in (0.02, 1.0, 30.0, 500.0):                          # typical K/V magnitudes
    rows.append((rng.standard_normal(D) * s).astype(np.float32))
rows.append((rng.uniform(-4, 4, D)).astype(np.float32))

x = np.stack(rows).astype(np.float32)
with np.errstate(over="ignore"):
    q = quantize(x, gguf.GGMLQuantizationType.Q8_0)
assert q.shape == (len(rows), D // 32 * 34)
out = os.path.join(os.path.dirname(__file__), "..", "Tests", "KernelsTests", "Fixtures")
x.astype("<f4").tofile(os.path.join(out, "kv_q8_0_rows.f32"))
q.astype(np.uint8).tofile(os.path.join(out, "kv_q8_0_rows.q8"))
print(f"gguf-py {gguf.__file__}, numpy {np.__version__}: {len(rows)} rows of {D}")
