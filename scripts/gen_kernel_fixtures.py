#!/usr/bin/env python3
"""Generate Kernels test fixtures from the `gguf` Python package (the independent reference).

For every ggml type the Kernels module handles, builds a small weight matrix (quantized with
gguf.quants.quantize where gguf-py can quantize that type, otherwise random block bytes with
sane f16 scales), dequantizes it with gguf.quants.dequantize and writes:
  Tests/KernelsTests/Fixtures/<name>.bin   raw row-major block bytes
  Tests/KernelsTests/Fixtures/<name>.f32   expected dequantized values, little-endian float32
  Tests/KernelsTests/Fixtures/manifest.json  [{name, type, rows, cols}]

Run: /work/tools/venv/bin/python scripts/gen_kernel_fixtures.py
"""
import json
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants
from gguf.constants import GGML_QUANT_SIZES

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "KernelsTests", "Fixtures")
rng = np.random.default_rng(20240611)

# (type, rows, cols): rows not a multiple of 4; 32-block cols an odd number of blocks and
# not a multiple of 256.
CASES = [
    (T.F32, 5, 40),
    (T.F16, 7, 72),
    (T.BF16, 7, 72),
    (T.Q4_0, 13, 96),
    (T.Q4_1, 13, 96),
    (T.Q5_0, 13, 96),
    (T.Q5_1, 13, 96),
    (T.Q8_0, 13, 96),
    (T.Q4_0, 6, 320),
    (T.Q8_0, 6, 320),
    (T.Q2_K, 3, 512),
    (T.Q3_K, 3, 512),
    (T.Q4_K, 7, 512),
    (T.Q5_K, 7, 512),
    (T.Q6_K, 7, 512),
    # appended (earlier cases keep their random draws): Q2_K / Q3_K at the size of the others
    (T.Q2_K, 7, 768),
    (T.Q3_K, 7, 768),
]

QUANTIZABLE = {T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0}


def f16_bytes(values):
    return np.asarray(values, dtype=np.float16).view(np.uint8)


def random_kquant(qtype, n_blocks):
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    d = rng.uniform(0.002, 0.02, size=(n_blocks, 1))
    dmin = rng.uniform(0.001, 0.01, size=(n_blocks, 1))
    if qtype == T.Q2_K:  # scales[16] qs[64] d dmin
        blocks[:, 80:82] = f16_bytes(d)
        blocks[:, 82:84] = f16_bytes(dmin)
    elif qtype == T.Q3_K:  # hmask[32] qs[64] scales[12] d
        blocks[:, 108:110] = f16_bytes(d)
    elif qtype in (T.Q4_K, T.Q5_K):  # d dmin scales[12] ...
        blocks[:, 0:2] = f16_bytes(d)
        blocks[:, 2:4] = f16_bytes(dmin)
    elif qtype == T.Q6_K:  # ql[128] qh[64] scales[16] d
        blocks[:, 208:210] = f16_bytes(d * 0.1)
    else:
        raise ValueError(qtype)
    return blocks


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = []
    for qtype, rows, cols in CASES:
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        assert cols % block_size == 0
        if qtype in QUANTIZABLE:
            x = rng.standard_normal((rows, cols)).astype(np.float32)
            # a few outliers and an all-zero block exercise the scale logic
            x[0, 3] = 6.5
            x[rows - 1, :min(cols, 32)] = 0.0
            if qtype == T.F32:
                raw = x.view(np.uint8).reshape(rows, -1)
            elif qtype == T.F16:
                raw = x.astype(np.float16).view(np.uint8).reshape(rows, -1)
            else:
                raw = quants.quantize(x, qtype)
        else:
            raw = random_kquant(qtype, rows * cols // block_size).reshape(rows, -1)
        raw = np.ascontiguousarray(raw, dtype=np.uint8)
        assert raw.shape == (rows, cols // block_size * type_size), raw.shape
        if qtype == T.F32:
            deq = raw.view(np.float32).reshape(rows, cols)
        elif qtype == T.F16:
            deq = raw.view(np.float16).astype(np.float32).reshape(rows, cols)
        else:
            deq = quants.dequantize(raw, qtype).astype(np.float32).reshape(rows, cols)
        name = f"{qtype.name.lower()}_{rows}x{cols}"
        raw.tofile(os.path.join(OUT, name + ".bin"))
        deq.astype("<f4").tofile(os.path.join(OUT, name + ".f32"))
        manifest.append({"name": name, "type": int(qtype), "rows": rows, "cols": cols})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, p)) for p in os.listdir(OUT))
    print(f"wrote {len(manifest)} fixtures, {total} bytes")


if __name__ == "__main__":
    main()
