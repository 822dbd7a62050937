#!/usr/bin/env python3
"""Reference numbers for `pagewise plan` (Tests/PagewiseTests/MemoryPlanTests.swift).

Writes Tests/PagewiseTests/Fixtures/plan-<model>.json for each real model with:

  weights     bytes and tensor count per ggml type, summed from gguf-py's GGUFReader
              (`tensor.n_bytes`, `tensor.tensor_type.name`): nothing here comes from Pagewise.
  llama_cpp   the KV cache llama.cpp allocates for an F32 K/V cache (type_k = type_v = 0,
              flash attention off), parsed from its own log lines:
                "llama_kv_cache: size = 180.00 MiB (4096 cells, 30 layers, 1/1 seqs),
                 K (f32): 90.00 MiB, V (f32): 90.00 MiB"
              one entry per cache it creates. Three runs per model, all n_ctx = 4096:
                default      Llama(path, n_ctx=4096, type_k=0, type_v=0, flash_attn=False)
                             (llama-cpp-python leaves swa_full on: the SWA cache of Gemma 3 gets
                             every cell, so its cells = n_ctx)
                swa_window   the same with swa_full=False, n_ubatch=512: the SWA cache is limited
                             to min(n_ctx, PAD(n_swa + n_ubatch, 256)) cells = 1024
                swa_window_ubatch1
                             swa_full=False, n_ubatch=1: PAD(512 + 1, 256) = 768 cells, which
                             shows the 256-cell padding llama.cpp applies to the SWA cell count
              For a llama-family model (no sliding layers) there is one cache and the three runs
              agree.

llama.cpp's log goes to stderr of a child Python process (verbose=True); we parse that text.

Usage:  /work/tools/venv/bin/python scripts/gen_plan_fixtures.py [--models-dir DIR] [--model NAME ...]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from gguf import GGUFReader

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "Tests" / "PagewiseTests" / "Fixtures"
MODELS = ["smollm2-135m-instruct", "gemma3-270m"]
N_CTX = 4096

RUNS = {
    "default": {},
    "swa_window": {"swa_full": False, "n_ubatch": 512, "n_batch": 512},
    "swa_window_ubatch1": {"swa_full": False, "n_ubatch": 1, "n_batch": 512},
}

CHILD = r"""
import sys, llama_cpp
kw = eval(sys.argv[2])
llm = llama_cpp.Llama(sys.argv[1], n_ctx=int(sys.argv[3]), type_k=0, type_v=0, flash_attn=False,
                      n_gpu_layers=0, verbose=True, **kw)
del llm
"""

SIZE_RE = re.compile(
    r"llama_kv_cache: size =\s*([\d.]+) MiB \(\s*(\d+) cells,\s*(\d+) layers,\s*(\d+)/(\d+) seqs\), "
    r"K \((\w+)\):\s*([\d.]+) MiB, V \((\w+)\):\s*([\d.]+) MiB")
BUF_RE = re.compile(r"llama_kv_cache:\s+\S+ KV buffer size =\s*([\d.]+) MiB")
ISWA_RE = re.compile(r"llama_kv_cache_iswa: creating\s+(non-SWA|SWA) KV cache, size = (\d+) cells")


def weights(path: Path) -> dict:
    r = GGUFReader(str(path))
    by_type: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for t in r.tensors:
        by_type[t.tensor_type.name] += int(t.n_bytes)
        count[t.tensor_type.name] += 1
    return {"bytes_by_type": dict(sorted(by_type.items())), "tensors_by_type": dict(sorted(count.items())),
            "bytes": sum(by_type.values()), "tensor_count": len(r.tensors)}


def llama_kv(path: Path, kwargs: dict) -> dict:
    p = subprocess.run([sys.executable, "-c", CHILD, str(path), repr(kwargs), str(N_CTX)],
                       capture_output=True, text=True, check=True)
    log = p.stderr + p.stdout
    kinds = [m.group(1) for m in ISWA_RE.finditer(log)]
    sizes = list(SIZE_RE.finditer(log))
    bufs = [float(m.group(1)) for m in BUF_RE.finditer(log)]
    if not sizes:
        raise SystemExit(f"no 'llama_kv_cache: size =' line in llama.cpp's log for {path} {kwargs}")
    caches = []
    for i, m in enumerate(sizes):
        caches.append({
            # "non-SWA" / "SWA" when llama.cpp made two caches (Gemma 3), else "unified".
            "kind": kinds[i] if len(kinds) == len(sizes) else "unified",
            "size_mib": float(m.group(1)), "cells": int(m.group(2)), "layers": int(m.group(3)),
            "seqs": int(m.group(5)), "k_type": m.group(6), "k_mib": float(m.group(7)),
            "v_type": m.group(8), "v_mib": float(m.group(9)),
            "buffer_mib": bufs[i] if i < len(bufs) else None,
            "line": m.group(0),
        })
    n_swa = re.search(r"print_info: n_swa\s+=\s*(\d+)", log)
    n_ubatch = re.search(r"llama_context: n_ubatch\s+=\s*(\d+)", log)
    return {"settings": {"n_ctx": N_CTX, "type_k": "f32", "type_v": "f32", "flash_attn": False, **kwargs},
            "n_swa": int(n_swa.group(1)) if n_swa else 0,
            "n_ubatch": int(n_ubatch.group(1)) if n_ubatch else None,
            "swa_full": "using full-size SWA cache" in log,
            "caches": caches}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models-dir", default=os.path.expanduser("~/.cache/pagewise/models"))
    ap.add_argument("--model", action="append")
    args = ap.parse_args()
    import llama_cpp
    import gguf
    for name in args.model or MODELS:
        path = Path(args.models_dir) / f"{name}.gguf"
        out = {
            "model": name,
            "n_ctx": N_CTX,
            "reference": {"gguf": getattr(gguf, "__version__", "?"), "llama_cpp_python": llama_cpp.__version__,
                          "swa_pad_cells": 256,
                          "note": "llama.cpp sizes its SWA cache min(n_ctx, PAD(n_swa*n_seq + n_ubatch, 256)) "
                                  "cells when swa_full is off; with swa_full on (llama-cpp-python's default) "
                                  "every cell is kept, like Pagewise's uniform pool."},
            "weights": weights(path),
            "llama_cpp": {k: llama_kv(path, v) for k, v in RUNS.items()},
        }
        dest = OUT / f"plan-{name}.json"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
        print(f"wrote {dest.relative_to(REPO)}")


if __name__ == "__main__":
    main()
