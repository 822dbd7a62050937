#!/usr/bin/env python3
"""Bounded load test of `pagewise serve` on loopback (standard library only):
64 concurrent streaming clients send 256 greedy requests; every stream must be framed as OpenAI's
SSE (`data: {json}` lines, blank-line separated, `data: [DONE]` last) and carry the same text as the
same prompt run alone. Then 16 clients hang up mid-stream while others run, and after the rest
finish `vllm:kv_cache_usage_perc` and `vllm:num_requests_running` must return to 0.

    scripts/test_server_load.py --pagewise .build/release/pagewise
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback import free_port  # noqa: E402

PROMPTS = ["The capital of France is", "Once upon a time", "def fibonacci(n):", "The three primary colors are",
           "In 1969, humans", "A haiku about the sea:", "The quick brown fox", "Water boils at"]


def stream(port, prompt, max_tokens, hang_up_after=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True, "ignore_eos": True}
    conn.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse()
    assert r.status == 200, r.status
    raw = b""
    text = ""
    events = 0
    while True:
        line = r.readline()
        if not line:
            break
        raw += line
        if line.startswith(b"data: {"):
            obj = json.loads(line[6:])
            text += obj["choices"][0]["text"] if obj["choices"] else ""
            events += 1
            if hang_up_after is not None and events >= hang_up_after:
                conn.sock.shutdown(socket.SHUT_RDWR)
                conn.close()
                return None
        if line == b"data: [DONE]\n":
            raw += r.readline()  # the blank line that ends the event
            break
    conn.close()
    frames = raw.decode().split("\n\n")
    assert frames[-1] == "", "stream ends with a blank line"
    assert all(f.startswith("data: ") and "\n" not in f for f in frames[:-1]), "one data line per event"
    assert frames[-2] == "data: [DONE]"
    return text


def metric(port, name):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/metrics")
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pagewise", default=".build/release/pagewise")
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--requests", type=int, default=256)
    ap.add_argument("--max-tokens", type=int, default=16)
    a = ap.parse_args()
    port = free_port()
    log = open(os.environ.get("PAGEWISE_SERVER_LOG", os.devnull), "w")
    proc = subprocess.Popen([a.pagewise, "serve", "--model", a.model, "--port", str(port), "--threads", "2",
                             "--max-num-seqs", str(a.clients), "--max-model-len", "256", "--kv-cache-memory", "256MiB"],
                            stdout=log, stderr=subprocess.STDOUT)
    failures = []
    try:
        deadline = time.time() + 180
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise SystemExit("server did not start")
            time.sleep(0.3)
        alone = {p: stream(port, p, a.max_tokens) for p in PROMPTS}
        jobs = [PROMPTS[i % len(PROMPTS)] for i in range(a.requests)]
        with ThreadPoolExecutor(a.clients) as pool:
            results = list(pool.map(lambda p: (p, stream(port, p, a.max_tokens)), jobs))
        bad = [(p, t) for p, t in results if t != alone[p]]
        if bad:
            failures.append(f"{len(bad)} of {len(results)} streams differ from the prompt run alone, e.g. {bad[0]!r}")
        with ThreadPoolExecutor(32) as pool:
            futures = [pool.submit(stream, port, PROMPTS[i % 8], 4 * a.max_tokens, 2 if i < 16 else None) for i in range(32)]
            for f in futures:
                f.result()
        deadline = time.time() + 30
        while time.time() < deadline and (metric(port, "vllm:kv_cache_usage_perc") != 0
                                          or metric(port, "vllm:num_requests_running") != 0):
            time.sleep(0.2)
        if metric(port, "vllm:kv_cache_usage_perc") != 0:
            failures.append(f"kv cache usage {metric(port, 'vllm:kv_cache_usage_perc')} after every client left")
    finally:
        proc.terminate()
        proc.wait(60)
    for f in failures:
        print("FAIL", f)
    print(f"{2 - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
