/// The chat page served at `/`: one self-contained HTML document (its style and script inline,
/// nothing fetched from elsewhere) that talks to this server's `/v1/models` and
/// `/v1/chat/completions`.
enum ChatPage {
    /// Inline style and script only; requests go back to this server alone.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
        + "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// The whole document.
    static let html = head + "<style>\n" + ChatPageStyle.css + "</style>\n</head>\n" + body
        + "<script>\n" + ChatPageScript.js + "</script>\n</body>\n</html>\n"

    private static let head = #"""
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Pagewise chat</title>

    """#

    private static let body = #"""
    <body>
    <header>
      <h1>Pagewise</h1>
      <span id="model" title="model served here">…</span>
      <button id="settings-toggle" type="button" aria-expanded="true" aria-controls="settings">Settings</button>
      <button id="clear" type="button" title="Forget the conversation">New chat</button>
    </header>
    <section id="settings" aria-label="Settings">
      <label class="wide">API key <input id="key" type="password" autocomplete="off" placeholder="only if the server was started with --api-key"></label>
      <label class="wide">System prompt <textarea id="system" rows="2" placeholder="(none)"></textarea></label>
      <label>temperature <input id="temperature" type="number" min="0" max="2" step="0.05" value="0.7"></label>
      <label>top_p <input id="top_p" type="number" min="0" max="1" step="0.01" value="0.95"></label>
      <label>top_k <input id="top_k" type="number" min="-1" step="1" placeholder="off"></label>
      <label>max_tokens <input id="max_tokens" type="number" min="1" step="1" value="256"></label>
      <label>seed <input id="seed" type="number" step="1" placeholder="random"></label>
    </section>
    <main id="messages" aria-live="polite"></main>
    <p id="notice" role="status"></p>
    <form id="composer" autocomplete="off">
      <textarea id="input" rows="3" placeholder="Message (Enter sends, Shift+Enter for a new line)"></textarea>
      <div class="buttons">
        <button id="send" type="submit">Send</button>
        <button id="stop" type="button" disabled>Stop</button>
      </div>
    </form>

    """#
}
