#!/usr/bin/env python3
"""Serving throughput: Pagewise's engine vs llama.cpp's llama-server, interleaved in one run.

Both get N requests at once, each a prompt of P random token ids and exactly G output tokens
(end-of-generation ignored, greedy). Pagewise runs offline (`pagewise bench --concurrency N --json`);
llama-server runs with `-np N` parallel slots and continuous batching, queried over HTTP on
127.0.0.1 with N concurrent streaming /completion requests. Reports aggregate output tok/s and TTFT.

Build llama-server from the llama.cpp source inside the llama-cpp-python sdist (see scripts/README.md):
  pip download --no-binary :all: --no-deps llama-cpp-python==0.3.36 ; tar xzf ... ;
  cmake -B build -DGGML_NATIVE=ON -DLLAMA_CURL=OFF && cmake --build build --target llama-server
Each round also runs one request alone on both (Pagewise `--concurrency 1`, one request to the same
llama-server), so the scaling of each engine (aggregate at N ÷ single stream) comes from the same run.
Usage:
  python scripts/bench_serving_vs_llamacpp.py --llama-server PATH [--model smollm2-135m-instruct]
      [--concurrency 16] [--prompt 64] [--gen 64] [--threads 2] [--rounds 3] [--no-single]
"""
import argparse, json, os, random, statistics, subprocess, sys, threading, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.environ.get("PAGEWISE_CACHE", os.path.expanduser("~/.cache/pagewise"))


def pagewise_bin():
    out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True)
    return os.path.join(out.stdout.strip(), "pagewise")


def run_pagewise(binary, model, n, p, g, threads, extra):
    out = subprocess.run([binary, "bench", "--model", model, "--threads", str(threads), "--concurrency", str(n),
                          "--prompt-tokens", str(p), "--gen-tokens", str(g), "--json"] + extra,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["results"][0]


class LlamaServer:
    def __init__(self, binary, model_path, n, p, g, threads, port=8091):
        self.url = f"http://127.0.0.1:{port}"
        ctx = n * (p + g + 16)
        self.proc = subprocess.Popen([binary, "-m", model_path, "-t", str(threads), "-tb", str(threads), "-np", str(n),
                                      "-c", str(ctx), "--host", "127.0.0.1", "--port", str(port), "-b", "512", "-ub", "512"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except Exception:
                time.sleep(0.2)
        raise RuntimeError("llama-server did not become healthy")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def one(self, prompt, g, out, i, t0):
        body = json.dumps({"prompt": prompt, "n_predict": g, "temperature": 0, "ignore_eos": True, "stream": True,
                           "cache_prompt": False}).encode()
        req = urllib.request.Request(self.url + "/completion", data=body, headers={"Content-Type": "application/json"})
        first = None
        tokens = 0
        with urllib.request.urlopen(req, timeout=600) as r:
            for line in r:
                line = line.decode().strip()
                if not line.startswith("data:"):
                    continue
                d = json.loads(line[5:])
                if d.get("content") is not None and not d.get("stop"):
                    tokens += 1
                    if first is None:
                        first = time.perf_counter() - t0
                if d.get("stop"):
                    tokens = d.get("tokens_predicted", tokens)
                    break
        out[i] = (first or 0, tokens)

    def bench(self, prompts, g):
        out = [None] * len(prompts)
        t0 = time.perf_counter()
        threads = [threading.Thread(target=self.one, args=(p, g, out, i, t0)) for i, p in enumerate(prompts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        total = sum(o[1] for o in out)
        ttft = sorted(o[0] * 1000 for o in out)
        return {"output_tps": total / wall, "ttft_p50_ms": ttft[len(ttft) // 2], "ttft_p99_ms": ttft[-1], "tokens": total}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-server", required=True)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-single", action="store_true", help="skip the single-request runs")
    a = ap.parse_args()
    binary = pagewise_bin()
    path = os.path.join(CACHE, "models", a.model + ".gguf")
    rng = random.Random(99)
    server = LlamaServer(a.llama_server, path, a.concurrency, a.prompt, a.gen, a.threads)
    ours, theirs, ours1, theirs1 = [], [], [], []
    try:
        for r in range(a.rounds):
            prompts = [[rng.randrange(1000, 40000) for _ in range(a.prompt)] for _ in range(a.concurrency)]
            o = run_pagewise(binary, a.model, a.concurrency, a.prompt, a.gen, a.threads, [])
            t = server.bench(prompts, a.gen)
            ours.append(o); theirs.append(t)
            line = (f"round {r+1}: pagewise {o['output_tps']:.1f} tok/s (TTFT p99 {o['ttft_p99_ms']:.0f} ms) | "
                    f"llama-server {t['output_tps']:.1f} tok/s (TTFT p99 {t['ttft_p99_ms']:.0f} ms, {t['tokens']} tokens)")
            if not a.no_single:
                o1 = run_pagewise(binary, a.model, 1, a.prompt, a.gen, a.threads, [])
                t1 = server.bench(prompts[:1], a.gen)
                ours1.append(o1); theirs1.append(t1)
                line += f" | alone: pagewise {o1['output_tps']:.1f}, llama-server {t1['output_tps']:.1f} tok/s"
            print(line, file=sys.stderr)
    finally:
        server.stop()
    pw = statistics.median(x["output_tps"] for x in ours)
    lc = statistics.median(x["output_tps"] for x in theirs)
    result = {"model": a.model, "concurrency": a.concurrency, "prompt": a.prompt, "gen": a.gen, "threads": a.threads,
              "pagewise_output_tps": round(pw, 1), "llama_server_output_tps": round(lc, 1), "ratio": round(pw / lc, 2),
              "pagewise_ttft_p99_ms": round(statistics.median(x["ttft_p99_ms"] for x in ours)),
              "llama_server_ttft_p99_ms": round(statistics.median(x["ttft_p99_ms"] for x in theirs))}
    if ours1:
        pw1 = statistics.median(x["output_tps"] for x in ours1)
        lc1 = statistics.median(x["output_tps"] for x in theirs1)
        result.update({"pagewise_single_tps": round(pw1, 1), "llama_server_single_tps": round(lc1, 1),
                       "pagewise_scaling": round(pw / pw1, 2), "llama_server_scaling": round(lc / lc1, 2),
                       "pagewise_scaling_per_round": [round(x["output_tps"] / y["output_tps"], 2) for x, y in zip(ours, ours1)]})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
