#!/usr/bin/env python3
"""NumPy reference for the sampler: vLLM v1's logits processors and filters on fixed logits.

Writes Tests/PagewiseTests/Fixtures/sampling.json: a few rows of fixed random logits and, for each
case (a set of sampling parameters with a prompt and the tokens generated so far), the logits after
the processors (allowed_token_ids, bad_words, min_tokens, logit_bias, repetition / frequency /
presence penalties) and the exact distribution a draw must follow after temperature, min_p, top_k
and top_p — or the argmax for greedy, or "error" when every token is banned.

The semantics are vLLM v1's (vllm/v1/sample/sampler.py, ops/penalties.py, ops/topk_topp_sampler.py,
logits_processor/builtin.py), written out here independently of the Swift code:
  * processors in float32: allowed ids -> -inf elsewhere; bad words (last token banned when the
    output ends with the others); min_tokens bans EOS + stop_token_ids; logit_bias clamped to +-100;
    repetition penalty (prompt + output tokens: positive / rp, negative * rp); frequency (x count)
    and presence (x [count > 0]) over output tokens;
  * temperature < 1e-5 is greedy (argmax, lowest id among equals);
  * else probabilities softmax(l / T) in float64; min_p keeps p >= min_p * max p; top_k keeps the
    k largest (lower id first among equals); top_p on what is left, renormalized: sorted by
    probability, a token stays while the mass of the more likely ones is below p.

Usage: python3 scripts/gen_sampling_fixtures.py   (needs numpy only)
"""
import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "Tests" / "PagewiseTests" / "Fixtures" / "sampling.json"
EOS = [2]


def process(logits, c):
    l = np.array(logits, dtype=np.float32)
    out = c.get("output", [])
    if c.get("allowed_token_ids") is not None:
        keep = np.full(l.shape, -np.inf, dtype=np.float32)
        ids = c["allowed_token_ids"]
        keep[ids] = l[ids]
        l = keep
    for seq in c.get("bad_words_ids", []):
        prefix = seq[:-1]
        if len(prefix) <= len(out) and (not prefix or out[len(out) - len(prefix):] == prefix):
            l[seq[-1]] = -np.inf
    if len(out) < c.get("min_tokens", 0):
        for t in c.get("stop_token_ids", []) + ([] if c.get("ignore_eos") else EOS):
            l[t] = -np.inf
    for t, b in c.get("logit_bias", {}).items():
        l[int(t)] += np.float32(min(100.0, max(-100.0, b)))
    rp = np.float32(c.get("repetition_penalty", 1.0))
    if rp != 1:
        seen = np.zeros(l.shape, dtype=bool)
        seen[c.get("prompt", [])] = True
        seen[out] = True
        pos = seen & (l > 0)
        neg = seen & (l <= 0)
        l[pos] = l[pos] / rp
        l[neg] = l[neg] * rp
    fp = np.float32(c.get("frequency_penalty", 0.0))
    pp = np.float32(c.get("presence_penalty", 0.0))
    if fp != 0 or pp != 0:
        counts = np.bincount(np.array(out, dtype=np.int64), minlength=l.size).astype(np.float32)
        l = l - (fp * counts + pp * (counts > 0).astype(np.float32))
    return l


def distribution(l, c):
    if not np.isfinite(l).any() and np.max(l) == -np.inf:
        return None
    T = c.get("temperature", 1.0)
    if T < 1e-5:
        p = np.zeros(l.size)
        p[int(np.argmax(l))] = 1.0
        return p
    z = l.astype(np.float64) / T
    z -= np.max(z)
    p = np.exp(z)
    p /= p.sum()
    min_p = c.get("min_p", 0.0)
    if min_p > 0:
        p[p < min_p * p.max()] = 0
    order = sorted(range(l.size), key=lambda i: (-l[i], i))
    k = c.get("top_k", 0)
    if 0 < k < l.size:
        keep = np.zeros(l.size, dtype=bool)
        keep[order[:k]] = True
        p[~keep] = 0
    p /= p.sum()
    top_p = c.get("top_p", 1.0)
    if top_p < 1:
        before = 0.0
        kept = np.zeros(l.size, dtype=bool)
        for n, i in enumerate(order):
            if p[i] == 0:
                continue
            if n > 0 and before >= top_p:
                break
            kept[i] = True
            before += p[i]
        p[~kept] = 0
        p /= p.sum()
    return p


def main():
    rng = np.random.RandomState(20261206)
    rows = [rng.normal(0, 2, 256).astype(np.float32) for _ in range(3)]
    rows[1][17] = rows[1].max()  # a tie for the maximum (lowest id wins)
    rows[1][9] = rows[1][17]
    argmax0 = int(np.argmax(rows[0]))
    top = [int(i) for i in np.argsort(-rows[0], kind="stable")[:8]]
    cases = [
        {"name": "greedy", "row": 0, "temperature": 0},
        {"name": "greedy-tie-lowest-id", "row": 1, "temperature": 0},
        {"name": "temperature-only", "row": 0, "temperature": 0.7},
        {"name": "tiny-temperature-is-greedy", "row": 2, "temperature": 1e-6},
        {"name": "small-temperature", "row": 2, "temperature": 0.05},
        {"name": "top-k", "row": 0, "temperature": 1.0, "top_k": 5},
        {"name": "top-k-larger-than-vocab", "row": 0, "temperature": 1.0, "top_k": 100000},
        {"name": "top-p", "row": 0, "temperature": 1.0, "top_p": 0.8},
        {"name": "top-p-one", "row": 0, "temperature": 1.3, "top_p": 1.0},
        {"name": "top-p-tiny", "row": 2, "temperature": 1.0, "top_p": 1e-6},
        {"name": "min-p", "row": 1, "temperature": 0.9, "min_p": 0.1},
        {"name": "all-four", "row": 0, "temperature": 0.8, "top_k": 40, "top_p": 0.9, "min_p": 0.05},
        {"name": "all-four-hot", "row": 2, "temperature": 1.5, "top_k": 20, "top_p": 0.95, "min_p": 0.02},
        {"name": "repetition", "row": 0, "temperature": 1.0, "repetition_penalty": 1.3,
         "prompt": [3, 5, top[0], 40], "output": [top[1], 7, 7]},
        {"name": "repetition-below-one", "row": 2, "temperature": 0.6, "repetition_penalty": 0.7,
         "prompt": [1, 2, 3, 4, 5], "output": [100, 101]},
        {"name": "frequency-presence", "row": 0, "temperature": 1.0, "frequency_penalty": 0.7, "presence_penalty": 0.5,
         "output": [top[0], top[0], top[0], top[1], 11]},
        {"name": "negative-penalties", "row": 1, "temperature": 0.9, "frequency_penalty": -1.5, "presence_penalty": -2.0,
         "output": [200, 200, 31]},
        {"name": "greedy-with-penalties", "row": 0, "temperature": 0, "repetition_penalty": 1.8, "frequency_penalty": 2.0,
         "prompt": [top[0]], "output": [top[0], top[1]]},
        {"name": "logit-bias-on-argmax", "row": 0, "temperature": 0, "logit_bias": {str(argmax0): -100.0}},
        {"name": "logit-bias-clamped", "row": 0, "temperature": 0.5, "logit_bias": {"3": 500.0, str(argmax0): -1e9}},
        {"name": "allowed-token-ids", "row": 0, "temperature": 1.0, "allowed_token_ids": [3, 50, 77, top[5]]},
        {"name": "bad-words", "row": 0, "temperature": 0, "bad_words_ids": [[top[0]], [9, top[1]], [8, 8, top[2]]],
         "output": [1, 9]},
        {"name": "bad-words-not-matching", "row": 0, "temperature": 1.0, "bad_words_ids": [[9, top[0]], [4, 8, top[1]]],
         "output": [8, 8]},
        {"name": "min-tokens-bans-eos", "row": 2, "temperature": 1.0, "min_tokens": 3, "stop_token_ids": [5, 6],
         "logit_bias": {"2": 30.0}, "output": [10, 11]},
        {"name": "min-tokens-reached", "row": 2, "temperature": 0, "min_tokens": 2, "stop_token_ids": [5],
         "logit_bias": {"2": 30.0}, "output": [10, 11]},
        {"name": "everything-banned", "row": 0, "temperature": 0.7, "allowed_token_ids": [5],
         "bad_words_ids": [[5]]},
        {"name": "everything-banned-greedy", "row": 0, "temperature": 0, "allowed_token_ids": [2], "min_tokens": 4},
    ]
    out_cases = []
    for c in cases:
        l = process(rows[c["row"]], c)
        d = distribution(l, c)
        entry = dict(c)
        entry["processed"] = [None if not np.isfinite(v) else float(v) for v in l]
        if d is None:
            entry["error"] = True
        else:
            entry["distribution"] = [float(v) for v in d]
        out_cases.append(entry)
    doc = {
        "reference": "NumPy re-statement of vLLM v1's sampler (see scripts/gen_sampling_fixtures.py)",
        "eos": EOS,
        "rows": [[float(v) for v in r] for r in rows],
        "cases": out_cases,
    }
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(out_cases)} cases)")


if __name__ == "__main__":
    main()
