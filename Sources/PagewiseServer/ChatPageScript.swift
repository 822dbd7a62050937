/// The chat page's script: streams answers from `/v1/chat/completions` (fetch + a reader over the
/// server-sent events), stops them with an `AbortController`, keeps the settings in `localStorage`
/// and shows model text only through text nodes (never parsed as HTML).
enum ChatPageScript {
    static let js = #"""
    "use strict";
    const $ = (id) => document.getElementById(id);
    const fields = ["key", "system", "temperature", "top_p", "top_k", "max_tokens", "seed"];
    const history = [];          // the conversation as sent: {role, content}
    let modelName = null;
    let controller = null;       // the AbortController of the answer being streamed
    let conversation = 0;        // bumped by "New chat": an answer from before it no longer joins the history

    const store = {
      get(name) { try { return localStorage.getItem("pagewise." + name); } catch (e) { return null; } },
      set(name, value) { try { localStorage.setItem("pagewise." + name, value); } catch (e) { /* private mode */ } },
    };

    function authHeaders(json) {
      const h = {};
      if (json) h["Content-Type"] = "application/json";
      const key = $("key").value.trim();
      if (key) h["Authorization"] = "Bearer " + key;
      return h;
    }

    class ServerError extends Error {}

    // "401: missing or wrong API key …" from OpenAI's error shape, or the status and the start of the body.
    async function describeFailure(response) {
      let text = "";
      try { text = await response.text(); } catch (e) { /* body lost */ }
      try {
        const o = JSON.parse(text);
        if (o && o.error && typeof o.error.message === "string") return response.status + ": " + o.error.message;
      } catch (e) { /* not JSON */ }
      return (response.status + " " + response.statusText + (text ? ": " + text.slice(0, 300) : "")).trim();
    }

    let modelRetry = null;
    async function loadModel() {
      clearTimeout(modelRetry);
      const label = $("model");
      try {
        const r = await fetch("v1/models", { headers: authHeaders(false) });
        if (r.status === 503) { label.textContent = "model loading…"; modelRetry = setTimeout(loadModel, 2000); return; }
        if (r.status === 401) { modelName = null; label.textContent = "enter the API key in Settings"; return; }
        if (!r.ok) { modelName = null; label.textContent = await describeFailure(r); return; }
        const list = await r.json();
        const card = list && Array.isArray(list.data) ? list.data[0] : null;
        modelName = card ? card.id : null;
        label.textContent = card ? card.id + (card.max_model_len ? " · context " + card.max_model_len : "") : "no model";
      } catch (e) {
        label.textContent = "server unreachable";
        modelRetry = setTimeout(loadModel, 5000);
      }
    }

    // Fenced code blocks (``` or ~~~) become <pre><code>; all other text stays text. Nothing is parsed as HTML.
    function render(el, text) {
      const out = document.createDocumentFragment();
      let prose = [];
      let fence = null;  // {marker, lines, lang}
      let afterCode = false;
      const flushProse = (beforeCode) => {
        // The blank lines that set a code block apart are the block's margins here.
        if (afterCode && prose.length && prose[0].trim() === "") prose.shift();
        if (beforeCode && prose.length && prose[prose.length - 1].trim() === "") prose.pop();
        if (prose.length) out.append(document.createTextNode(prose.join("\n")));
        prose = [];
        afterCode = false;
      };
      const flushCode = () => {
        const pre = document.createElement("pre");
        const code = document.createElement("code");
        if (fence.lang) code.className = "language-" + fence.lang.replace(/[^\w+#.-]/g, "");
        code.textContent = fence.lines.join("\n");
        pre.append(code);
        out.append(pre);
        fence = null;
        afterCode = true;
      };
      for (const line of text.split("\n")) {
        if (fence) {
          const close = line.match(/^ {0,3}(`{3,}|~{3,})\s*$/);
          if (close && close[1][0] === fence.marker[0] && close[1].length >= fence.marker.length) flushCode();
          else fence.lines.push(line);
          continue;
        }
        const open = line.match(/^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/);
        if (open) { flushProse(true); fence = { marker: open[1], lines: [], lang: open[2] }; continue; }
        prose.push(line);
      }
      if (fence) flushCode();    // still streaming (or never closed): show it as code already
      flushProse(false);
      el.replaceChildren(out);
    }

    function addMessage(role, text) {
      const box = document.createElement("div");
      box.className = "msg " + role;
      const who = document.createElement("div");
      who.className = "role";
      who.textContent = role === "user" ? "You" : (modelName || "assistant");
      const content = document.createElement("div");
      content.className = "content";
      const stats = document.createElement("div");
      stats.className = "stats";
      const error = document.createElement("div");
      error.className = "error";
      box.append(who, content, error, stats);
      if (role === "user") content.textContent = text; else render(content, text);
      $("messages").append(box);
      scrollDown(true);
      return box;
    }

    function scrollDown(force) {
      const m = $("messages");
      if (force || m.scrollHeight - m.scrollTop - m.clientHeight < 80) m.scrollTop = m.scrollHeight;
    }

    function setBusy(busy) {
      $("send").disabled = busy;
      $("stop").disabled = !busy;
      document.body.dataset.busy = busy ? "1" : "0";
    }

    function numberSetting(body, id, name, integer) {
      const raw = $(id).value.trim();
      if (raw === "") return;
      const v = integer ? parseInt(raw, 10) : parseFloat(raw);
      if (Number.isFinite(v)) body[name] = v;
    }

    function requestBody() {
      const messages = [];
      const system = $("system").value;
      if (system.trim() !== "") messages.push({ role: "system", content: system });
      messages.push(...history);
      const body = { messages, stream: true, stream_options: { include_usage: true } };
      if (modelName) body.model = modelName;
      numberSetting(body, "temperature", "temperature", false);
      numberSetting(body, "top_p", "top_p", false);
      numberSetting(body, "top_k", "top_k", true);
      numberSetting(body, "max_tokens", "max_tokens", true);
      numberSetting(body, "seed", "seed", true);
      return body;
    }

    // One server-sent event's data lines, joined; null for comments and empty events.
    function eventData(block) {
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("data:")) data.push(line.slice(line[5] === " " ? 6 : 5));
      }
      return data.length ? data.join("\n") : null;
    }

    function statsLine(s) {
      const parts = [];
      const tokens = s.usage ? s.usage.completion_tokens : s.chunks;
      if (tokens != null) parts.push((s.usage ? "" : "≈") + tokens + " tokens");
      if (s.tFirst != null && s.tEnd > s.tFirst && tokens > 1) {
        parts.push(((tokens - 1) / ((s.tEnd - s.tFirst) / 1000)).toFixed(1) + " tok/s");
      }
      if (s.tFirst != null) parts.push("first token " + Math.round(s.tFirst - s.t0) + " ms");
      const cached = s.usage && s.usage.prompt_tokens_details ? s.usage.prompt_tokens_details.cached_tokens : 0;
      if (s.usage) parts.push(s.usage.prompt_tokens + " prompt tokens" + (cached ? " (" + cached + " cached)" : ""));
      if (s.finish) parts.push("finish: " + s.finish);
      return parts.join(" · ");
    }

    async function send(text) {
      const userBox = addMessage("user", text);
      history.push({ role: "user", content: text });
      const box = addMessage("assistant", "");
      box.dataset.state = "streaming";
      const mine = conversation;
      const content = box.querySelector(".content");
      const body = requestBody();
      const s = { t0: performance.now(), tFirst: null, tEnd: null, usage: null, finish: null, chunks: 0 };
      let answer = "";
      controller = new AbortController();
      setBusy(true);
      try {
        const r = await fetch("v1/chat/completions", {
          method: "POST", headers: authHeaders(true), body: JSON.stringify(body), signal: controller.signal,
        });
        if (!r.ok) throw new ServerError(await describeFailure(r));
        if (!r.body) throw new ServerError("this browser cannot read streamed responses");
        const reader = r.body.getReader();
        const decoder = new TextDecoder();
        let pending = "";
        let finished = false;
        while (!finished) {
          const { value, done } = await reader.read();
          if (done) break;
          pending += decoder.decode(value, { stream: true });
          let cut;
          while (!finished && (cut = pending.search(/\r?\n\r?\n/)) >= 0) {
            const block = pending.slice(0, cut);
            pending = pending.slice(cut).replace(/^\r?\n\r?\n/, "");
            const data = eventData(block);
            if (data === null) continue;
            if (data === "[DONE]") { finished = true; break; }
            const chunk = JSON.parse(data);
            if (chunk.error) throw new ServerError((chunk.error.code ? chunk.error.code + ": " : "") + chunk.error.message);
            if (chunk.usage) s.usage = chunk.usage;
            const choice = chunk.choices && chunk.choices[0];
            if (!choice) continue;
            const delta = choice.delta && typeof choice.delta.content === "string" ? choice.delta.content : "";
            if (delta !== "") {
              if (s.tFirst === null) s.tFirst = performance.now();
              s.chunks += 1;
              answer += delta;
              render(content, answer);
              scrollDown(false);
            }
            if (choice.finish_reason) s.finish = choice.finish_reason;
          }
        }
        s.tEnd = performance.now();
        box.dataset.state = "done";
      } catch (e) {
        s.tEnd = performance.now();
        if (e.name === "AbortError") {
          box.dataset.state = "stopped";
          s.finish = "stopped";
        } else {
          box.dataset.state = "error";
          box.querySelector(".error").textContent = e instanceof ServerError ? e.message : "request failed: " + e.message;
          if (/^401/.test(e.message || "")) $("settings").hidden = false;
        }
      } finally {
        controller = null;
        setBusy(false);
      }
      render(content, answer);
      if (mine !== conversation) return;
      if (box.dataset.state === "error" && answer === "") {
        history.pop();                          // not answered: the turn is not part of the conversation
        userBox.classList.add("unsent");
      } else {
        history.push({ role: "assistant", content: answer });
        box.querySelector(".stats").textContent = statsLine(s);
      }
      scrollDown(false);
    }

    function restoreSettings() {
      for (const id of fields) {
        const saved = store.get(id);
        if (saved !== null) $(id).value = saved;
        $(id).addEventListener("change", () => store.set(id, $(id).value));
      }
      const hidden = store.get("settings-hidden") === "1";
      $("settings").hidden = hidden;
      $("settings-toggle").setAttribute("aria-expanded", String(!hidden));
    }

    $("composer").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = $("input").value;
      if (text.trim() === "" || controller) return;
      $("input").value = "";
      send(text);
    });
    $("input").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); $("composer").requestSubmit(); }
    });
    $("stop").addEventListener("click", () => { if (controller) controller.abort(); });
    $("clear").addEventListener("click", () => {
      if (controller) controller.abort();
      conversation += 1;
      history.length = 0;
      $("messages").replaceChildren();
    });
    $("settings-toggle").addEventListener("click", () => {
      const hide = !$("settings").hidden;
      $("settings").hidden = hide;
      $("settings-toggle").setAttribute("aria-expanded", String(!hide));
      store.set("settings-hidden", hide ? "1" : "0");
    });
    $("key").addEventListener("change", loadModel);

    restoreSettings();
    setBusy(false);
    loadModel();
    $("input").focus();

    """#
}
