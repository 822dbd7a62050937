#!/usr/bin/env python3
"""Browser test of the chat page: starts the real `pagewise serve` (with an API key) on a free
loopback port and drives headless Chromium (Debian's `chromium`) over the DevTools protocol, with
real mouse clicks and typed text:

  1. without the key, a message gets the server's 401 shown in the page;
  2. with the key typed into Settings, the model name appears and a message streams an answer that
     equals the same request's answer from /v1/chat/completions (temperature 0), with a stats line;
  3. the screenshot shows that answer: the answer box lies inside the viewport, its pixels carry ink,
     they equal the pixels of the reference answer text drawn in the same box, and differ when one
     word of it is changed; the screenshot is saved (--screenshot);
  4. a second message sends the conversation so far (its answer equals the API's for the same history);
  5. a fenced code block in an answer is shown as <pre><code> holding the fence's lines;
  6. Stop ends a long streamed answer: the text stops growing and the server counts an abort.

    python3 scripts/test_chat_page.py --pagewise .build/release/pagewise [--screenshot chat.png]

Standard library only (scripts/cdp.py, scripts/png_pixels.py). Prints 'N passed, N failed'; exits 1 on
any failure, 2 when chromium is missing.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback import free_port, start_serve  # noqa: E402
from cdp import Browser, find_chromium  # noqa: E402
from png_pixels import crop, read_png  # noqa: E402

KEY = "page-test-key"
NAME = "smol"
LAST = "[...document.querySelectorAll('#messages .msg.assistant')].pop()"


def http(base, path, body=None, key=KEY, timeout=300):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + key
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers=headers, method="POST" if data else "GET")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read().decode()


def start_server(binary, model, port):
    args = [binary, "serve", "--model", model, "--port", str(port), "--api-key", KEY, "--served-model-name", NAME,
            "--threads", "2", "--max-num-seqs", "4", "--max-model-len", "1024", "--kv-cache-memory", "64MiB"]
    return start_serve(args, port)


def metric(base, name, label=""):
    for line in http(base, "/metrics", key=None).splitlines():
        if line.startswith(name + "{") and label in line or line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def reference_answer(base, text, max_tokens, earlier=()):
    """What the API answers for the page's request (the page sends the same fields)."""
    body = {"model": NAME, "messages": [*earlier, {"role": "user", "content": text}], "temperature": 0, "top_p": 0.95,
            "max_tokens": max_tokens}
    return json.loads(http(base, "/v1/chat/completions", body))["choices"][0]["message"]["content"]


def fenced_blocks(text):
    """CommonMark-style fenced code blocks (``` or ~~~, closed by a like fence at least as long): (prose, blocks)."""
    prose, blocks, fence = [], [], None
    for line in text.split("\n"):
        if fence is not None:
            m = re.match(r"^ {0,3}(`{3,}|~{3,})\s*$", line)
            if m and m.group(1)[0] == fence[0][0] and len(m.group(1)) >= len(fence[0]):
                blocks.append("\n".join(fence[1]))
                fence = None
            else:
                fence[1].append(line)
            continue
        m = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if m:
            fence = (m.group(1), [])
        else:
            prose.append(line)
    if fence is not None:
        blocks.append("\n".join(fence[1]))
    return prose, blocks


def set_setting(page, field, value):
    page.evaluate(f"(() => {{ const e = document.getElementById({json.dumps(field)}); e.value = {json.dumps(str(value))};"
                  " e.dispatchEvent(new Event('change')); })()")


def send_message(page, text):
    count = page.evaluate("document.querySelectorAll('#messages .msg.assistant').length")
    page.type_into("#input", text)
    page.click("#send")
    page.wait_for(f"document.querySelectorAll('#messages .msg.assistant').length > {count}", 10, "the answer box")


def wait_answer(page, timeout=240):
    return page.wait_for(f"(() => {{ const s = {LAST}.dataset.state; return s !== 'streaming' && s; }})()", timeout,
                         "the streamed answer to end")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pagewise", default=".build/release/pagewise")
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--screenshot", default=os.path.join(tempfile.gettempdir(), "pagewise-chat-page.png"))
    a = ap.parse_args()
    if not find_chromium():
        print("chromium not found: apt-get install chromium (or set PAGEWISE_CHROMIUM)")
        return 2
    proc, base = start_server(a.pagewise, a.model, free_port())
    results = []

    def check(name, fn):
        try:
            fn()
            results.append((name, True))
            print(f"ok   {name}", flush=True)
        except Exception:
            results.append((name, False))
            print(f"FAIL {name}\n{traceback.format_exc()}", flush=True)

    browser = Browser.launch(width=1200, height=900)
    page = browser.page()
    page.call("Runtime.enable")
    page.call("Page.enable")
    page.call("Emulation.setDeviceMetricsOverride", width=1200, height=900, deviceScaleFactor=1, mobile=False)
    page.call("Page.navigate", url=base + "/")
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('send')", 30, "the page")
    state = {}

    def unauthorized():
        page.wait_for("document.getElementById('model').textContent.includes('API key')", 30, "the key prompt")
        send_message(page, "Hello")
        assert wait_answer(page, 30) == "error", page.evaluate(f"{LAST}.dataset.state")
        error = page.evaluate(f"{LAST}.querySelector('.error').textContent")
        assert error.startswith("401:") and "API key" in error, error

    def answer():
        page.type_into("#key", KEY)
        page.click("#input")  # leaving the field commits it (change), as a person would
        page.wait_for(f"document.getElementById('model').textContent.startsWith({json.dumps(NAME)})", 30, "the model name")
        set_setting(page, "temperature", 0)
        set_setting(page, "max_tokens", 64)
        text = "Tell me three facts about Paris."
        send_message(page, text)
        assert wait_answer(page) == "done", page.evaluate(f"{LAST}.querySelector('.error').textContent")
        shown = page.evaluate(f"{LAST}.querySelector('.content').textContent")
        expected = reference_answer(base, text, 64)
        state["expected"] = expected
        state["turn"] = [{"role": "user", "content": text}, {"role": "assistant", "content": expected}]
        assert expected.strip(), "the reference answer is empty"
        assert "```" not in expected, "this prompt's answer was meant to be prose"
        assert shown == expected, (shown, expected)
        stats = page.evaluate(f"{LAST}.querySelector('.stats').textContent")
        assert re.search(r"\d+ tokens · [\d.]+ tok/s · first token \d+ ms", stats), stats
        assert page.evaluate("document.getElementById('send').disabled") is False

    def screenshot():
        rect = page.evaluate(f"(() => {{ const e = {LAST}.querySelector('.content'); e.scrollIntoView({{block: 'center'}});"
                             " const r = e.getBoundingClientRect();"
                             " return [r.left, r.top, r.right, r.bottom, innerWidth, innerHeight]; })()")
        left, top, right, bottom, vw, vh = rect
        assert right - left > 10 and bottom - top > 10, f"answer box {rect}"
        assert 0 <= left and 0 <= top and right <= vw and bottom <= vh, f"answer box {rect} outside the viewport"
        png = page.screenshot()
        with open(a.screenshot, "wb") as f:
            f.write(png)
        w, h, rows = read_png(png)
        assert (w, h) == (vw, vh), (w, h, vw, vh)
        colours = {p for row in rows[::8] for p in row[::8]}
        assert len(colours) > 8, f"the screenshot is nearly blank ({len(colours)} colours)"
        x0, y0 = int(left), int(top)
        cw, ch = int(right + 0.999) - x0, int(bottom + 0.999) - y0
        shown = crop(rows, x0, y0, cw, ch)
        background = shown[0][0]
        ink = sum(1 for row in shown for p in row if max(abs(p[i] - background[i]) for i in range(3)) > 64)
        assert ink > 50, f"only {ink} ink pixels in the answer box"
        clip = {"x": x0, "y": y0, "width": cw, "height": ch}

        def drawn(text):
            page.evaluate(f"{LAST}.querySelector('.content').replaceChildren(document.createTextNode({json.dumps(text)}))")
            return read_png(page.screenshot(clip))[2]

        original = page.evaluate(f"{LAST}.querySelector('.content').textContent")
        try:
            reference = drawn(state["expected"])
            words = state["expected"].split(" ")
            longest = max(range(len(words)), key=lambda i: len(words[i]))
            words[longest] = words[longest][::-1] if words[longest][::-1] != words[longest] else words[longest] + "x"
            altered = drawn(" ".join(words))
        finally:
            page.evaluate(f"{LAST}.querySelector('.content').replaceChildren(document.createTextNode({json.dumps(original)}))")
        assert reference == shown, "the answer box's pixels differ from the reference text drawn in the same box"
        assert altered != shown, "changing a word of the text did not change the pixels (the text is not visible)"
        print(f"     screenshot {a.screenshot} ({w}x{h}, answer box {cw}x{ch} at {x0},{y0}, {ink} ink pixels)")

    def second_turn():
        set_setting(page, "max_tokens", 24)
        text = "Which of those is the oldest?"
        send_message(page, text)
        assert wait_answer(page) == "done"
        shown = page.evaluate(f"{LAST}.querySelector('.content').textContent")
        expected = reference_answer(base, text, 24, earlier=state["turn"])
        assert shown == expected, (shown, expected)

    def code_block():
        page.click("#clear")
        set_setting(page, "max_tokens", 160)
        text = "Write a Python function that adds two numbers."
        send_message(page, text)
        assert wait_answer(page) == "done"
        expected = reference_answer(base, text, 160)
        prose, blocks = fenced_blocks(expected)
        assert blocks, f"the model's answer has no fenced code block to show: {expected!r}"
        codes = page.evaluate(f"[...{LAST}.querySelectorAll('.content pre > code')].map(c => c.textContent)")
        assert codes == blocks, (codes, blocks)
        outside = page.evaluate(f"[...{LAST}.querySelector('.content').childNodes].filter(n => n.nodeName !== 'PRE')"
                                ".map(n => n.textContent).join('\\n')")
        assert outside.split() == "\n".join(prose).split(), (outside, prose)  # blank lines next to a block may go

    def stop():
        page.click("#clear")
        set_setting(page, "max_tokens", 900)
        aborted = metric(base, "vllm:request_success_total", 'finished_reason="abort"') or 0
        send_message(page, "Tell me a long story about a dragon who learns to cook.")
        page.wait_for(f"{LAST}.querySelector('.content').textContent.length >= 30", 120, "some streamed text")
        page.click("#stop")
        assert page.wait_for(f"{LAST}.dataset.state !== 'streaming' && {LAST}.dataset.state", 10, "the stop") == "stopped"
        length = page.evaluate(f"{LAST}.querySelector('.content').textContent.length")
        time.sleep(1.5)
        assert page.evaluate(f"{LAST}.querySelector('.content').textContent.length") == length, "text grew after Stop"
        assert page.evaluate("document.getElementById('send').disabled") is False
        assert page.evaluate("document.getElementById('stop').disabled") is True
        deadline = time.time() + 15
        while time.time() < deadline:
            if (metric(base, "vllm:request_success_total", 'finished_reason="abort"') or 0) > aborted \
                    and metric(base, "vllm:num_requests_running") == 0:
                break
            time.sleep(0.3)
        else:
            raise AssertionError("the server did not abort the stopped request")
        assert "stopped" in page.evaluate(f"{LAST}.querySelector('.stats').textContent")

    def no_page_errors():
        thrown = [e for e in page.events if e["method"] == "Runtime.exceptionThrown"]
        assert not thrown, thrown

    try:
        check("without the key the page shows the server's 401", unauthorized)
        check("with the key a streamed answer equals the API's", answer)
        if state.get("expected"):
            check("the screenshot shows the answer", screenshot)
        if state.get("turn"):
            check("a second message carries the conversation", second_turn)
        check("fenced code is shown as <pre><code>", code_block)
        check("Stop ends the answer and the server aborts it", stop)
        check("no uncaught exceptions in the page", no_page_errors)
    finally:
        page.close()
        browser.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    failed = sum(1 for _, ok in results if not ok)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
