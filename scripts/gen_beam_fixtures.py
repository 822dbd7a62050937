#!/usr/bin/env python3
"""Beam-search reference: NumPy beam search driven by llama.cpp's logits for a tiny model.

Writes Tests/ModelsTests/Fixtures/tiny/llama-f32.beam.json: for a few prompts and settings, the
final beams (tokens, cumulative log-probability, score, whether an end token finished it).

The algorithm (Hugging Face's beam search with BeamHypotheses, as Pagewise documents it):
  * every live beam proposes its 2W most likely next tokens (log-softmax of llama.cpp's logits,
    lower id first among equals); all candidates sorted by cumulative log-probability (desc), then
    beam index, then token id;
  * an end-of-generation candidate among the first W finishes a hypothesis scored
    cumulative / length**length_penalty (length = prompt + output tokens, the end token not
    counted); only the W best hypotheses are kept;
  * the first W other candidates become the next beams;
  * at max_tokens the live beams finish too (length = prompt + output);
  * early_stopping: "true" stops once W hypotheses exist; "false" when no live beam scores (at its
    current length) above the worst kept hypothesis; "never" the same at the longest length reachable.

Usage: LLAMA_CPP_LIB_PATH=tools/llama.cpp-build/bin tools/venv/bin/python scripts/gen_beam_fixtures.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llama_ref import REPO, dump_json, eval_all_logits, log_softmax, open_model, reference_info  # noqa: E402

TINY = REPO / "Tests" / "ModelsTests" / "Fixtures" / "tiny"
MODEL = TINY / "llama-f32.gguf"
EOS = 2


def beam_search(llm, prompt, width, max_tokens, length_penalty, early_stopping, eos_rank_limit=None, eos_length_offset=-1):
    """The last two arguments make deliberately wrong variants, used only to pick telling prompts."""
    eos_rank_limit = width if eos_rank_limit is None else eos_rank_limit
    cache = {}

    def logprobs(tokens):
        key = tuple(tokens)
        if key not in cache:
            cache[key] = log_softmax(eval_all_logits(llm, list(tokens))[-1])
        return cache[key]

    def score(cum, length):
        return cum / (length ** length_penalty)

    finished = []  # (score, tokens, cum, eos), best first

    def add(tokens, cum, length, eos):
        s = score(cum, length)
        if len(finished) == width and s <= finished[-1][0]:
            return
        finished.append((s, tokens, cum, eos))
        finished.sort(key=lambda h: -h[0])
        del finished[width:]

    def done(best_cum, length):
        if len(finished) < width:
            return False
        worst = finished[-1][0]
        if early_stopping == "true":
            return True
        if early_stopping == "false":
            return worst >= score(best_cum, length)
        reach = len(prompt) + max_tokens if length_penalty > 0 else length
        return worst >= score(best_cum, reach)

    live = [(list(prompt), 0.0)]
    min_gap = float("inf")
    seen = {"eos_added": False, "eos_late_rank": False}
    while True:
        cands = []
        for b, (toks, cum) in enumerate(live):
            lp = logprobs(toks)
            order = sorted(range(lp.size), key=lambda i: (-lp[i], i))[: 2 * width]
            for t in order:
                cands.append((cum + float(lp[t]), b, t))
        cands.sort(key=lambda c: (-c[0], c[1], c[2]))
        for a, b in zip(cands, cands[1:]):
            min_gap = min(min_gap, a[0] - b[0])
        length = len(live[0][0]) + 1
        nxt = []
        for rank, (c, b, t) in enumerate(cands):
            if t == EOS:
                seen["eos_late_rank"] |= width <= rank < 2 * width
                seen["eos_added"] |= rank < width
                if rank < eos_rank_limit:
                    add(live[b][0] + [t], c, length + eos_length_offset, True)
                continue
            nxt.append((c, b, t))
            if len(nxt) == width:
                break
        at_limit = length - len(prompt) >= max_tokens
        if not nxt or at_limit or done(nxt[0][0], length):
            if at_limit:
                for c, b, t in nxt:
                    add(live[b][0] + [t], c, length, False)
            break
        live = [(live[b][0] + [t], c) for c, b, t in nxt]
    beam_search.seen = seen
    return [{"tokens": h[1][len(prompt):], "cumulative_logprob": h[2], "score": h[0], "eos": h[3]} for h in finished], min_gap


def main():
    llm = open_model(MODEL, n_ctx=128)
    rng = np.random.RandomState(7)
    cases = []
    settings = [(4, 8, 1.0, "false"), (4, 10, 0.5, "true"), (3, 12, 1.5, "never"), (1, 8, 1.0, "false"), (6, 6, 1.0, "false")]
    for k, (width, max_tokens, lp, es) in enumerate(settings):
        prompt = [1] + [int(x) for x in rng.randint(3, 300, size=5 + k)]
        beams, gap = beam_search(llm, prompt, width, max_tokens, lp, es)
        cases.append({"prompt": prompt, "width": width, "max_tokens": max_tokens, "length_penalty": lp,
                      "early_stopping": es, "beams": beams, "min_candidate_gap": gap})
        print(f"width {width}: {len(beams)} beams, best {beams[0]['tokens']} (smallest gap between candidates {gap:.2e})")
    # Prompts (found by trying seeded ones) on which the end-token rules decide the result: a
    # hypothesis finished by the end token, and results that a wrong variant would change (end
    # tokens ranked W..2W-1 admitted; the end token counted in the length).
    wanted = {
        "eos": lambda b, p, s: any(h["eos"] for h in b),
        "eos-rank": lambda b, p, s: beam_search.seen["eos_late_rank"] and b != beam_search(llm, p, *s, eos_rank_limit=2 * s[0])[0],
        "eos-length": lambda b, p, s: beam_search.seen["eos_added"] and b != beam_search(llm, p, *s, eos_length_offset=0)[0],
    }
    for name, test in wanted.items():
        for seed in range(1500):
            r = np.random.RandomState(1000 + seed)
            setting = (4, 10, [1.0, 2.0, 0.5][seed % 3], ["false", "true", "never"][seed % 3 == 1 and 1 or 0])
            prompt = [1] + [int(x) for x in r.randint(3, 300, size=6)]
            beams, gap = beam_search(llm, prompt, *setting)
            if test(beams, prompt, setting):
                width, max_tokens, lp, es = setting
                cases.append({"name": name, "prompt": prompt, "width": width, "max_tokens": max_tokens, "length_penalty": lp,
                              "early_stopping": es, "beams": beams, "min_candidate_gap": gap})
                print(f"{name} case (seed {1000 + seed}): {[(b['tokens'], b['eos']) for b in beams]}")
                break
        else:
            print(f"no prompt found for {name}")
    dump_json({"model": MODEL.name, "reference": reference_info(2), "eos": EOS, "cases": cases}, TINY / "llama-f32.beam.json")


if __name__ == "__main__":
    main()
