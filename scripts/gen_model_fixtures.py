#!/usr/bin/env python3
"""Reference logits of llama.cpp for the tiny random-weight models.

For every Tests/ModelsTests/Fixtures/tiny/<model>.gguf (written by make_tiny_models.py)
evaluate a fixed sequence of 40 token ids in one batch from an empty cache and write
Tests/ModelsTests/Fixtures/tiny/<model>.logits.json:

  {"model": "<model>.gguf", "tokens": [40 ids], "n_vocab": V,
   "logits": [[V floats] x 40],          # every position, 6 significant digits
   "reference": {llama-cpp-python version, CPU features, settings}}

The token ids: BOS first when the file's tokenizer.ggml.add_bos_token is true, the rest
drawn (numpy PCG64, seed 20240601) from the ids whose token type is NORMAL or BYTE.

Usage:  python scripts/gen_model_fixtures.py [--only NAME ...]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from gguf import GGUFReader, TokenType

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llama_ref import REPO, dump_json, eval_all_logits, open_model, reference_info, sig  # noqa: E402

TINY = REPO / "Tests" / "ModelsTests" / "Fixtures" / "tiny"
N_TOKENS = 40
N_THREADS = 2


def field(reader: GGUFReader, key: str):
    f = reader.get_field(key)
    return None if f is None else f.contents()


def fixture_tokens(path: Path) -> list[int]:
    r = GGUFReader(path)
    types = field(r, "tokenizer.ggml.token_type")
    ok = [i for i, t in enumerate(types) if t in (TokenType.NORMAL, TokenType.BYTE)]
    rng = np.random.default_rng(20240601)
    toks = [int(ok[i]) for i in rng.integers(0, len(ok), N_TOKENS)]
    if field(r, "tokenizer.ggml.add_bos_token"):
        toks[0] = int(field(r, "tokenizer.ggml.bos_token_id"))
    return toks


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    models = sorted(TINY.glob("*.gguf"))
    if not models:
        print("no tiny models: run scripts/make_tiny_models.py first", file=sys.stderr)
        return 1
    for path in models:
        name = path.stem
        if args.only and name not in args.only:
            continue
        tokens = fixture_tokens(path)
        llm = open_model(path, n_ctx=128, n_threads=N_THREADS)
        logits = eval_all_logits(llm, tokens)
        n_vocab = llm.n_vocab()
        assert logits.shape == (len(tokens), n_vocab)
        assert np.isfinite(logits).all()
        out = {
            "model": path.name,
            "tokens": tokens,
            "n_vocab": n_vocab,
            "reference": reference_info(N_THREADS),
            "logits": [[sig(float(x)) for x in row] for row in logits],
        }
        dest = TINY / f"{name}.logits.json"
        dump_json(out, dest)
        top = logits.argmax(axis=1)
        print(f"{dest.relative_to(REPO)}: {dest.stat().st_size} bytes; logit std {logits.std():.3f}, "
              f"argmax of last 8 positions {top[-8:].tolist()}")
        del llm
    return 0


if __name__ == "__main__":
    sys.exit(main())
