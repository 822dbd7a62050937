#!/usr/bin/env python3
"""llama.cpp reference fixtures for the two real models (fidelity tests).

Writes, for each model, into Tests/ModelsTests/Fixtures/real/:

  <model>.ppl.json     llama-perplexity's method on ppl-text.txt (a verbatim copy of the GPL-3
                       text), with the top-32 log-probabilities at every scored position so that
                       a KL divergence against llama.cpp can be computed (see scripts/README.md).
  <model>.greedy.json  30 prompts, greedy (argmax) continuation of 32 tokens each with the
                       top-5 log-probabilities at every generated step.
  <model>.ppl-2048.json  the same perplexity method in one window of 2,048 tokens (positions
                       1,024-2,046 scored: past Gemma 3's 512-token sliding window and several
                       512-position attention partitions); --only ppl --n-ctx 2048 --chunks 1.

Models are looked for in ~/.cache/pagewise/models/ (override with --models-dir):
  smollm2-135m-instruct.gguf, gemma3-270m.gguf (see MODELS.md for where they come from).

Usage:  python scripts/gen_real_fixtures.py [--only ppl|greedy] [--model NAME ...] [--chunks N] [--n-ctx N]
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import time
from pathlib import Path

import jinja2
import numpy as np
import llama_cpp
from gguf import GGUFReader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llama_ref import REPO, dump_json, eval_all_logits, log_softmax, open_model, reference_info  # noqa: E402

REAL = REPO / "Tests" / "ModelsTests" / "Fixtures" / "real"
PPL_TEXT = REAL / "ppl-text.txt"
PPL_SOURCE = Path("/usr/share/common-licenses/GPL-3")
MODELS = ["smollm2-135m-instruct", "gemma3-270m"]
N_THREADS = 2
N_CTX = 512
TOP_K = 32
GREEDY_STEPS = 32
GREEDY_TOP = 5

# ------------------------------------------------------------------------------------------
# Prompts. 25 shared plain-text prompts (English, code, lists, questions, numbers, JSON, HTML,
# whitespace, non-ASCII) and 5 chat prompts per model (rendered with jinja2 from the model's
# own chat template for SmolLM2; Gemma 3's turn markers written by hand, as the file has no
# template). All are tokenized by llama.cpp with special tokens parsed and BOS per metadata.
# ------------------------------------------------------------------------------------------
PLAIN_PROMPTS = [
    "The capital of France is",
    "Once upon a time, in a small village,",
    "def fibonacci(n):\n    ",
    "import numpy as np\n\n# Compute the mean of a list of numbers\n",
    "1, 2, 3, 4, 5,",
    "Here is a list of fruits:\n1. Apple\n2.",
    "Q: What is the boiling point of water in Celsius?\nA:",
    "The quick brown fox",
    "In 1969, Neil Armstrong",
    "SELECT name, age FROM users WHERE",
    "<html>\n<head>\n<title>",
    "The three primary colors are",
    "2 + 2 = 4. 3 + 5 =",
    "Dear Sir or Madam,\n\nI am writing to",
    "The mitochondria is",
    "for (int i = 0; i < n; i++) {",
    "Translate to French: Hello, how are you?\nFrench:",
    '{"name": "Alice", "age":',
    "Water is made of hydrogen and",
    "The best way to learn a new language is",
    "Monday, Tuesday, Wednesday,",
    "Photosynthesis is the process by which",
    "   Indented text,\ttabs\tand\n\nblank lines:",
    "Unicode: café, naïve, Zürich, 東京 and",
    "#!/bin/bash\n# Print every file in the current directory\n",
]
CHAT_QUESTIONS = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "List three colors.",
    "What is 12 times 12?",
    "Write a Python function that reverses a string.",
]


def metadata(path: Path) -> dict:
    r = GGUFReader(path)
    keys = ["tokenizer.ggml.add_bos_token", "tokenizer.chat_template", "general.architecture"]
    out = {}
    for k in keys:
        f = r.get_field(k)
        out[k] = None if f is None else f.contents()
    return out


def chat_prompts(model: str, meta: dict) -> list[str]:
    if meta["tokenizer.chat_template"]:
        env = jinja2.Environment(loader=jinja2.BaseLoader(), keep_trailing_newline=True)
        tmpl = env.from_string(meta["tokenizer.chat_template"])
        return [tmpl.render(messages=[{"role": "user", "content": q}], add_generation_prompt=True,
                            bos_token="", eos_token="") for q in CHAT_QUESTIONS]
    # Gemma 3 (no template in the file): its documented turn format.
    return [f"<start_of_turn>user\n{q}<end_of_turn>\n<start_of_turn>model\n" for q in CHAT_QUESTIONS]


def r4(x: float) -> float:
    return round(float(x), 4)


# ------------------------------------------------------------------------------------------
# Perplexity (llama-perplexity's method, tools/perplexity/perplexity.cpp, default settings)
# ------------------------------------------------------------------------------------------
def run_ppl(model: str, path: Path, n_chunks: int, N_CTX: int = N_CTX) -> None:
    meta = metadata(path)
    add_bos = bool(meta["tokenizer.ggml.add_bos_token"])
    llm = open_model(path, n_ctx=N_CTX, n_threads=N_THREADS)
    assert llama_cpp.llama_vocab_get_add_bos(llm._model.vocab) == add_bos
    text = PPL_TEXT.read_bytes()
    # common_tokenize(ctx, text, add_special=true, parse_special=false)
    all_tokens = llm.tokenize(text, add_bos=True, special=False)
    n_chunk_max = len(all_tokens) // N_CTX
    assert n_chunk_max >= n_chunks, (len(all_tokens), n_chunks)
    tokens = all_tokens[: n_chunks * N_CTX]
    first = N_CTX // 2
    bos = llm.token_bos()

    positions, target_lp = [], []
    nll = 0.0
    count = 0
    t0 = time.time()
    for i in range(n_chunks):
        start = i * N_CTX
        chunk = list(tokens[start:start + N_CTX])
        if add_bos:
            chunk[0] = bos
        logits = eval_all_logits(llm, chunk)
        lp = log_softmax(logits[first:N_CTX - 1])                  # positions first .. n_ctx-2
        targets = np.array(tokens[start + first + 1:start + N_CTX])  # token j+1 for logits at j
        tl = lp[np.arange(len(targets)), targets]
        nll += float(-tl.sum())
        count += len(targets)
        for row, t in zip(lp, tl):
            top = np.argpartition(-row, TOP_K)[:TOP_K]
            top = top[np.lexsort((top, -row[top]))]                # by logprob desc, then id
            mask = np.ones(row.shape[0], dtype=bool)
            mask[top] = False
            rest = row[mask]
            m = rest.max()
            tail = m + math.log(np.exp(rest - m).sum())            # log(1 - sum p(top-32))
            positions.append({"ids": [int(x) for x in top], "logprobs": [r4(row[x]) for x in top],
                              "tail_logprob": r4(tail)})
            target_lp.append(r4(t))
        print(f"  {model} chunk {i + 1}/{n_chunks}: running ppl {math.exp(nll / count):.4f} "
              f"({time.time() - t0:.0f}s)", flush=True)

    ppl = math.exp(nll / count)
    out = {
        "model": path.name,
        "text": PPL_TEXT.name,
        "method": "llama-perplexity: whole text tokenized with add_special=true, parse_special=false; "
                  "non-overlapping chunks of n_ctx tokens, each evaluated from an empty KV cache with its "
                  "first token replaced by BOS when add_bos; logits at positions first..n_ctx-2 score "
                  "token j+1 of the chunk",
        "n_ctx": N_CTX,
        "first": first,
        "chunks": n_chunks,
        "add_bos": add_bos,
        "bos_id": bos,
        "n_vocab": llm.n_vocab(),
        "text_tokens_total": len(all_tokens),
        "tokens": [int(t) for t in tokens],
        "ppl": round(ppl, 6),
        "tokens_scored": count,
        "top_k": TOP_K,
        "reference": reference_info(N_THREADS),
        "target_logprobs": target_lp,
        "positions": positions,
    }
    dest = REAL / (f"{model}.ppl.json" if N_CTX == 512 else f"{model}.ppl-{N_CTX}.json")
    dump_json(out, dest)
    print(f"{dest.relative_to(REPO)}: {dest.stat().st_size} bytes, PPL {ppl:.4f} over {count} tokens")


# ------------------------------------------------------------------------------------------
# Greedy continuations
# ------------------------------------------------------------------------------------------
def run_greedy(model: str, path: Path) -> None:
    meta = metadata(path)
    prompts = PLAIN_PROMPTS + chat_prompts(model, meta)
    assert len(prompts) == 30
    llm = open_model(path, n_ctx=128, n_threads=N_THREADS)
    vocab = llm._model.vocab
    results = []
    t0 = time.time()
    for prompt in prompts:
        # common_tokenize(..., add_special=true, parse_special=true): BOS per metadata
        ptoks = llm.tokenize(prompt.encode(), add_bos=True, special=True)
        llm.reset()
        llm._ctx.kv_cache_clear()
        llm.eval(ptoks)
        gen, top5 = [], []
        for step in range(GREEDY_STEPS):
            logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            lp = log_softmax(logits)
            order = np.lexsort((np.arange(lp.shape[0]), -lp))[:GREEDY_TOP]
            tok = int(np.argmax(logits))                             # llama.cpp's greedy sampler
            assert tok == int(order[0])
            gen.append(tok)
            top5.append([{"id": int(i), "logprob": round(float(lp[i]), 5)} for i in order])
            if llama_cpp.llama_vocab_is_eog(vocab, tok):
                break
            llm.eval([tok])
        results.append({"prompt": prompt, "prompt_tokens": [int(t) for t in ptoks], "tokens": gen,
                        "top5": top5,
                        "text": llm.detokenize(gen, special=True).decode("utf-8", errors="replace")})
    dest = REAL / f"{model}.greedy.json"
    dump_json(results, dest)
    n_eog = sum(1 for r in results if len(r["tokens"]) < GREEDY_STEPS)
    print(f"{dest.relative_to(REPO)}: {dest.stat().st_size} bytes, {len(results)} prompts, "
          f"{n_eog} stopped at EOG ({time.time() - t0:.0f}s)")
    info = reference_info(N_THREADS)
    dump_json({"model": path.name, "reference": info, "n_ctx": 128, "steps": GREEDY_STEPS,
               "tokenize": "add_special=true (BOS per tokenizer.ggml.add_bos_token), parse_special=true",
               "sampler": "argmax of the logits (llama.cpp greedy); stop after an end-of-generation token"},
              REAL / f"{model}.greedy.meta.json")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models-dir", type=Path, default=Path(os.path.expanduser("~/.cache/pagewise/models")))
    ap.add_argument("--model", nargs="*", default=MODELS)
    ap.add_argument("--only", choices=["ppl", "greedy"], default=None)
    ap.add_argument("--chunks", type=int, default=10)
    ap.add_argument("--n-ctx", type=int, default=N_CTX,
                    help="perplexity window; other than 512 writes <model>.ppl-<N>.json (the long-context fixtures: "
                         "--only ppl --n-ctx 2048 --chunks 1)")
    args = ap.parse_args()
    REAL.mkdir(parents=True, exist_ok=True)
    if not PPL_TEXT.exists():
        shutil.copyfile(PPL_SOURCE, PPL_TEXT)
    for model in args.model:
        path = args.models_dir / f"{model}.gguf"
        if not path.exists():
            print(f"missing {path}; see MODELS.md", file=sys.stderr)
            return 1
        if args.only in (None, "ppl"):
            run_ppl(model, path, args.chunks, args.n_ctx)
        if args.only in (None, "greedy"):
            run_greedy(model, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
