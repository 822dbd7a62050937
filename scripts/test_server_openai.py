#!/usr/bin/env python3
"""Integration test: start the real `pagewise serve` on a free loopback port and drive it with the
real `openai` Python client (completions, chat, streaming, n > 1, logprobs, tokenize with messages,
errors, auth, client disconnect, SIGTERM).

    tools/venv/bin/python scripts/test_server_openai.py --pagewise .build/debug/pagewise

Needs `pip install openai` (scripts/README: tools/venv). Prints 'N passed, N failed'; exits 1 on any failure.
Checks marked [sampling] need the engine's logprobs / stop-string work.
"""
import argparse
import os
import signal
import sys
import threading
import time
import traceback

try:
    import httpx
except ImportError:  # openai 3 ships httpx2
    import httpx2 as httpx
import openai

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback import free_port, start_serve  # noqa: E402

KEY = "test-key-123"
NAME = "smol"


def start(binary, model, port, extra=()):
    args = [binary, "serve", "--model", model, "--port", str(port), "--api-key", KEY, "--served-model-name", NAME,
            "--threads", "2", "--max-num-seqs", "8", "--max-model-len", "512", "--kv-cache-memory", "64MiB",
            "--grace-period", "120", *extra]
    return start_serve(args, port)


def metric(base, name):
    text = httpx.get(base + "/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pagewise", default=".build/debug/pagewise")
    ap.add_argument("--model", default="smollm2-135m-instruct")
    a = ap.parse_args()
    port = free_port()
    proc, base = start(a.pagewise, a.model, port)
    client = openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0, timeout=120)
    results = []

    def check(name, fn):
        try:
            fn()
            results.append((name, True))
            print(f"ok   {name}")
        except Exception:
            results.append((name, False))
            print(f"FAIL {name}\n{traceback.format_exc()}")

    def models():
        ids = [m.id for m in client.models.list().data]
        assert ids == [NAME], ids

    def completion():
        r = client.completions.create(model=NAME, prompt="The capital of France is", max_tokens=8, temperature=0)
        assert r.id.startswith("cmpl-") and r.object == "text_completion"
        assert len(r.choices) == 1 and isinstance(r.choices[0].text, str) and r.choices[0].text
        assert r.choices[0].finish_reason in ("length", "stop")
        assert r.usage.completion_tokens <= 8 and r.usage.prompt_tokens > 0
        again = client.completions.create(model=NAME, prompt="The capital of France is", max_tokens=8, temperature=0)
        assert again.choices[0].text == r.choices[0].text, "greedy is deterministic"

    def chat():
        r = client.chat.completions.create(model=NAME, messages=[{"role": "system", "content": "You are brief."},
                                                                 {"role": "user", "content": "Say hello."}],
                                           max_tokens=8, temperature=0)
        assert r.id.startswith("chatcmpl-") and r.object == "chat.completion"
        assert r.choices[0].message.role == "assistant" and r.choices[0].message.content
        assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
        assert r.usage.prompt_tokens_details.cached_tokens >= 0

    def streaming():
        whole = client.chat.completions.create(model=NAME, messages=[{"role": "user", "content": "Count to five."}],
                                               max_tokens=10, temperature=0)
        stream = client.chat.completions.create(model=NAME, messages=[{"role": "user", "content": "Count to five."}],
                                                max_tokens=10, temperature=0, stream=True,
                                                stream_options={"include_usage": True})
        chunks = list(stream)
        assert chunks[0].choices[0].delta.role == "assistant"
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == whole.choices[0].message.content, (text, whole.choices[0].message.content)
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
        finals = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        assert finals == [whole.choices[0].finish_reason]
        cs = list(client.completions.create(model=NAME, prompt="Hello", max_tokens=5, temperature=0, stream=True))
        assert all(c.object == "text_completion" for c in cs)

    def n_choices():
        r = client.completions.create(model=NAME, prompt="Once upon a time", max_tokens=5, temperature=0.8, n=3, seed=1)
        assert sorted(c.index for c in r.choices) == [0, 1, 2]
        r = client.chat.completions.create(model=NAME, messages=[{"role": "user", "content": "Hi"}], max_tokens=4, n=2,
                                           temperature=0)
        assert len(r.choices) == 2 and r.choices[0].message.content == r.choices[1].message.content

    def logprobs():  # [sampling]
        r = client.completions.create(model=NAME, prompt="Hello", max_tokens=3, temperature=0, logprobs=2)
        lp = r.choices[0].logprobs
        assert len(lp.tokens) == r.usage.completion_tokens == len(lp.token_logprobs) == len(lp.top_logprobs)
        assert all(v <= 0 for v in lp.token_logprobs)
        c = client.chat.completions.create(model=NAME, messages=[{"role": "user", "content": "Hi"}], max_tokens=3,
                                           temperature=0, logprobs=True, top_logprobs=2)
        content = c.choices[0].logprobs.content
        assert len(content) == c.usage.completion_tokens and all(len(t.top_logprobs) == 2 for t in content)
        # Greedy picks the most likely token.
        assert all(t.logprob >= max(x.logprob for x in t.top_logprobs) - 1e-4 for t in content)

    def stop_string():  # [sampling]
        r = client.completions.create(model=NAME, prompt="1, 2, 3, 4,", max_tokens=20, temperature=0, stop=[" 7"])
        assert " 7" not in r.choices[0].text and r.choices[0].finish_reason == "stop", r.choices[0]

    def tokenize():
        h = {"Authorization": f"Bearer {KEY}"}
        msgs = [{"role": "user", "content": "Hi"}]
        t = httpx.post(base + "/tokenize", json={"model": NAME, "messages": msgs}, headers=h, timeout=10).json()
        assert t["count"] == len(t["tokens"]) and t["max_model_len"] == 512
        r = client.chat.completions.create(model=NAME, messages=msgs, max_tokens=1, temperature=0)
        assert r.usage.prompt_tokens == t["count"], (r.usage.prompt_tokens, t["count"])
        d = httpx.post(base + "/detokenize", json={"tokens": t["tokens"]}, timeout=10).json()
        assert "Hi" in d["prompt"]

    def errors():
        for kwargs, param in [(dict(temperature=-1), "temperature"), (dict(top_p=2), "top_p"), (dict(n=0), "n"),
                              (dict(max_tokens=100000), "max_tokens"), (dict(extra_body={"top_k": "x"}), "top_k")]:
            try:
                client.completions.create(model=NAME, prompt="x", **{"max_tokens": 2, **kwargs})
                raise AssertionError(f"no error for {kwargs}")
            except openai.BadRequestError as e:
                assert e.status_code == 400 and e.body["param"] == param, (kwargs, e.body)
        try:
            client.completions.create(model="nope", prompt="x", max_tokens=1)
            raise AssertionError("unknown model accepted")
        except openai.NotFoundError as e:
            assert e.status_code == 404
        r = httpx.post(base + "/v1/completions", content=b'{"prompt": ', headers={"Authorization": f"Bearer {KEY}"})
        assert r.status_code == 400 and "error" in r.json()

    def auth():
        bad = openai.OpenAI(base_url=base + "/v1", api_key="wrong", max_retries=0)
        try:
            bad.models.list()
            raise AssertionError("wrong key accepted")
        except openai.AuthenticationError as e:
            assert e.status_code == 401
        assert httpx.get(base + "/health").status_code == 200
        assert httpx.get(base + "/metrics").status_code == 200

    def disconnect():
        h = {"Authorization": f"Bearer {KEY}"}
        body = {"model": NAME, "prompt": "Write a long story about a dragon.", "max_tokens": 400, "temperature": 0,
                "ignore_eos": True, "stream": True}
        for _ in range(2):
            with httpx.stream("POST", base + "/v1/completions", json=body, headers=h, timeout=60) as r:
                for line in r.iter_lines():
                    if line.startswith("data: {"):
                        break  # one chunk, then hang up
        # A non-streaming request whose client gives up is aborted too.
        try:
            httpx.post(base + "/v1/completions", json={**body, "stream": False}, headers=h, timeout=2)
        except httpx.TimeoutException:
            pass
        deadline = time.time() + 30
        while time.time() < deadline:
            if metric(base, "vllm:num_requests_running") == 0 and metric(base, "vllm:kv_cache_usage_perc") == 0:
                break
            time.sleep(0.2)
        assert metric(base, "vllm:num_requests_running") == 0
        assert metric(base, "vllm:kv_cache_usage_perc") == 0
        assert (metric(base, 'vllm:request_success_total{model_name="smol",finished_reason="abort"}') or 0) >= 0

    def sigterm():
        body = {"model": NAME, "prompt": "Tell me about the sea.", "max_tokens": 6, "temperature": 0, "ignore_eos": True}
        out = {}

        def run():
            try:
                out["r"] = httpx.post(base + "/v1/completions", json=body, headers={"Authorization": f"Bearer {KEY}"},
                                      timeout=120)
            except Exception as e:  # noqa: BLE001
                out["e"] = e

        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        t.join(120)
        assert "r" in out, out
        assert out["r"].status_code == 200, out["r"].text
        assert out["r"].json()["usage"]["completion_tokens"] == 6
        assert proc.wait(60) == 0

    for name, fn in [("models", models), ("completion", completion), ("chat", chat), ("streaming", streaming),
                     ("n_choices", n_choices), ("logprobs [sampling]", logprobs), ("stop_string [sampling]", stop_string),
                     ("tokenize", tokenize), ("errors", errors), ("auth", auth), ("disconnect", disconnect),
                     ("sigterm", sigterm)]:
        check(name, fn)
    if proc.poll() is None:
        proc.kill()
    passed = sum(ok for _, ok in results)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
