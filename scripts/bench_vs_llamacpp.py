#!/usr/bin/env python3
"""Pagewise vs llama.cpp (through llama-cpp-python), interleaved in one run.

For each model and thread count, alternates: `pagewise bench --json` (one repetition) then the same
pp/tg test in llama.cpp, `--rounds` times, and prints medians and ratios. llama.cpp's side mirrors
llama-bench: pp = one batch of N random tokens into an empty cache; tg = N single-token decode
steps from an empty cache; warm-up run first. Only llama.cpp's defaults are changed where the test
needs it (threads, context, batch size).

Usage:
  swift build -c release
  tools/venv/bin/python scripts/bench_vs_llamacpp.py [--models smollm2-135m-instruct,gemma3-270m]
      [--threads 2] [--rounds 5] [--pp 512] [--tg 128] [--json]
Needs: pip install llama-cpp-python (builds llama.cpp from source).
"""
import argparse, json, os, random, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.environ.get("PAGEWISE_CACHE", os.path.expanduser("~/.cache/pagewise"))


def pagewise_bin():
    out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True)
    return os.path.join(out.stdout.strip(), "pagewise")


def run_pagewise(binary, model, threads, pp, tg):
    out = subprocess.run([binary, "bench", "--model", model, "--threads", str(threads), "--prompt-tokens", str(pp),
                          "--gen-tokens", str(tg), "--repetitions", "1", "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


class LlamaCpp:
    def __init__(self, path, threads, pp, tg):
        import llama_cpp
        self.llama_cpp = llama_cpp
        self.llm = llama_cpp.Llama(model_path=path, n_ctx=max(pp, tg) + 16, n_batch=max(pp, 1), n_ubatch=max(pp, 1),
                                   n_threads=threads, n_threads_batch=threads, verbose=False)
        rng = random.Random(1234)
        self.prompt = [rng.randrange(self.llm.n_vocab()) for _ in range(pp)]
        self.tg = tg
        self.pp_tokens = pp
        self.bench()  # warm-up

    def bench(self):
        res = {}
        if self.pp_tokens:
            self.llm.reset()
            t0 = time.perf_counter()
            self.llm.eval(self.prompt)
            res["pp_tps"] = self.pp_tokens / (time.perf_counter() - t0)
        if self.tg:
            self.llm.reset()
            tok = self.prompt[0] if self.prompt else 1
            t0 = time.perf_counter()
            for _ in range(self.tg):
                self.llm.eval([tok])
            res["tg_tps"] = self.tg / (time.perf_counter() - t0)
        return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="smollm2-135m-instruct,gemma3-270m")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pp", type=int, default=512)
    ap.add_argument("--tg", type=int, default=128)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    binary = pagewise_bin()
    rows = []
    for model in a.models.split(","):
        path = os.path.join(CACHE, "models", model + ".gguf")
        if not os.path.exists(path):
            subprocess.run([binary, "pull", model], check=True)
        for threads in [int(t) for t in a.threads.split(",")]:
            ref = LlamaCpp(path, threads, a.pp, a.tg)
            ours = {"pp_tps": [], "tg_tps": []}
            theirs = {"pp_tps": [], "tg_tps": []}
            for r in range(a.rounds):
                o = run_pagewise(binary, model, threads, a.pp, a.tg)
                t = ref.bench()
                for k in ours:
                    ours[k].append(o[k]); theirs[k].append(t[k])
                print(f"  round {r+1}: pagewise pp {o['pp_tps']:.1f} tg {o['tg_tps']:.1f} | llama.cpp pp {t['pp_tps']:.1f} tg {t['tg_tps']:.1f}", file=sys.stderr)
            del ref
            for test, key, n in [(f"pp{a.pp}", "pp_tps", a.pp), (f"tg{a.tg}", "tg_tps", a.tg)]:
                pw, lc = statistics.median(ours[key]), statistics.median(theirs[key])
                rows.append({"model": model, "threads": threads, "test": test, "pagewise_tps": round(pw, 1),
                             "llamacpp_tps": round(lc, 1), "ratio": round(pw / lc, 3)})
    if a.json:
        print(json.dumps(rows))
    else:
        print(f"{'model':24} {'thr':>3} {'test':>6} {'pagewise':>10} {'llama.cpp':>10} {'ratio':>6}")
        for r in rows:
            print(f"{r['model']:24} {r['threads']:>3} {r['test']:>6} {r['pagewise_tps']:>10.1f} {r['llamacpp_tps']:>10.1f} {r['ratio']:>6.2f}")


if __name__ == "__main__":
    main()
