#!/usr/bin/env python3
"""Score llama.cpp itself, under other settings, against a <model>.ppl.json fixture.

This is the noise floor for Pagewise's fidelity tests: how far llama.cpp moves from its own
reference when only the attention kernel or the KV-cache type changes. It also shows, in
code, how the fixture is meant to be used (the same computation a Swift test does):

  * perplexity: exp(mean over scored positions of -log q(target)),
  * KL(P_ref || Q_test) per position over 33 buckets: the fixture's top-32 ids plus one tail
    bucket holding the rest of the probability (a lower bound on the full-vocabulary KL),
  * top-1 agreement: argmax of the test logits == the fixture's first id.

Usage:  python scripts/compare_ppl_fixture.py --model gemma3-270m [--flash-attn] [--kv f16]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
from llama_cpp import Llama

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llama_ref import REPO, eval_all_logits, log_softmax  # noqa: E402

REAL = REPO / "Tests" / "ModelsTests" / "Fixtures" / "real"
KV_TYPES = {"f32": 0, "f16": 1, "q8_0": 8}


def bucket_kl(ref_ids: list[int], ref_lp: list[float], ref_tail: float, test_lp: np.ndarray) -> float:
    """KL(P||Q) over the reference top-k ids plus one tail bucket. test_lp: full log-softmax row."""
    p = np.exp(np.array(ref_lp, dtype=np.float64))
    p_tail = math.exp(ref_tail)
    q = np.exp(test_lp[ref_ids])
    q_tail = max(1.0 - float(q.sum()), 1e-30)
    kl = float(np.sum(p * (np.array(ref_lp) - np.log(np.maximum(q, 1e-30)))))
    kl += p_tail * (ref_tail - math.log(q_tail))
    return kl


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--models-dir", type=Path, default=Path(os.path.expanduser("~/.cache/pagewise/models")))
    ap.add_argument("--flash-attn", action="store_true")
    ap.add_argument("--kv", choices=sorted(KV_TYPES), default="f32")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    fx = json.loads((REAL / f"{args.model}.ppl.json").read_text())
    n_ctx, first = fx["n_ctx"], fx["first"]
    llm = Llama(model_path=str(args.models_dir / fx["model"]), n_ctx=n_ctx, n_batch=512, n_ubatch=512,
                n_threads=args.threads, n_threads_batch=args.threads, logits_all=True,
                flash_attn=args.flash_attn, type_k=KV_TYPES[args.kv], type_v=KV_TYPES[args.kv],
                n_gpu_layers=0, verbose=False)
    tokens = fx["tokens"]
    kls, nll, same_top1, k = [], 0.0, 0, 0
    for i in range(fx["chunks"]):
        chunk = tokens[i * n_ctx:(i + 1) * n_ctx]
        if fx["add_bos"]:
            chunk = [fx["bos_id"]] + chunk[1:]
        lp = log_softmax(eval_all_logits(llm, chunk)[first:n_ctx - 1])
        for j, row in enumerate(lp):
            pos = fx["positions"][k]
            target = tokens[i * n_ctx + first + j + 1]
            nll -= row[target]
            kls.append(bucket_kl(pos["ids"], pos["logprobs"], pos["tail_logprob"], row))
            same_top1 += int(np.argmax(row)) == pos["ids"][0]
            k += 1
    kls = np.array(kls)
    print(f"{args.model} flash_attn={args.flash_attn} kv={args.kv}: PPL {math.exp(nll / k):.4f} "
          f"(reference {fx['ppl']:.4f}); KL(top-{fx['top_k']}+tail) mean {kls.mean():.6f} "
          f"p99 {np.percentile(kls, 99):.6f} max {kls.max():.6f}; same top-1 {100 * same_top1 / k:.2f}% of {k}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
