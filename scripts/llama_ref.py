"""Shared helpers for the fixture scripts: open a model in llama.cpp (through the
llama-cpp-python package) with the reference settings, and write compact JSON.

Reference settings (every fixture in Tests/ModelsTests/Fixtures uses them):
  * KV cache in F32 (type_k = type_v = GGML_TYPE_F32 = 0),
  * flash attention off (flash_attn=False -> LLAMA_FLASH_ATTN_TYPE_DISABLED),
  * CPU only (the package is built without GPU backends), mmap on,
  * logits for every position (logits_all=True), n_batch = n_ubatch = 512.
"""
from __future__ import annotations

import json
import math
import platform
from pathlib import Path
from typing import Any

import numpy as np
import llama_cpp
from llama_cpp import Llama

REPO = Path(__file__).resolve().parent.parent
GGML_TYPE_F32 = 0


def open_model(path: Path | str, n_ctx: int, n_threads: int = 2) -> Llama:
    return Llama(
        model_path=str(path),
        n_ctx=n_ctx,
        n_batch=512,
        n_ubatch=512,
        n_threads=n_threads,
        n_threads_batch=n_threads,
        logits_all=True,
        flash_attn=False,
        type_k=GGML_TYPE_F32,
        type_v=GGML_TYPE_F32,
        n_gpu_layers=0,
        seed=0,
        verbose=False,
    )


def reference_info(n_threads: int) -> dict[str, Any]:
    """What produced a fixture: llama.cpp build and the settings above."""
    return {
        "llama_cpp_python": llama_cpp.__version__,
        "system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
        "machine": platform.machine(),
        "settings": {"type_k": "f32", "type_v": "f32", "flash_attn": False, "n_threads": n_threads,
                     "n_batch": 512, "n_ubatch": 512, "backend": "CPU"},
    }


def eval_all_logits(llm: Llama, tokens: list[int]) -> np.ndarray:
    """Evaluate `tokens` from an empty cache in one call; return float32 logits [n_tokens, n_vocab]."""
    llm.reset()
    llm._ctx.kv_cache_clear()   # empty KV cache (llm.reset() only rewinds the position counter)
    llm.eval(tokens)
    return np.array(llm.scores[: len(tokens), :], dtype=np.float32, copy=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    x = logits.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def sig(x: float, digits: int = 6) -> float:
    """Round to `digits` significant digits."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


def dump_json(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        f.write("\n")
