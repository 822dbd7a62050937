/// The chat page's style sheet: system fonts, light or dark as the browser prefers.
enum ChatPageStyle {
    static let css = #"""
    :root { color-scheme: light dark; --bg: #fafafa; --fg: #1d1d1f; --muted: #6e6e73; --line: #d8d8dc;
            --user: #e8f0fe; --bot: #ffffff; --code: #f2f2f5; --accent: #2f6fde; --error: #b3261e; }
    @media (prefers-color-scheme: dark) {
      :root { --bg: #161618; --fg: #ececef; --muted: #9a9aa2; --line: #34343a; --user: #1f2a3d; --bot: #1e1e21;
              --code: #0f0f11; --accent: #6ea0ff; --error: #ff8a80; }
    }
    * { box-sizing: border-box; }
    html, body { height: 100%; margin: 0; }
    body { display: flex; flex-direction: column; background: var(--bg); color: var(--fg);
           font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
    header { display: flex; align-items: center; gap: 12px; padding: 8px 16px; border-bottom: 1px solid var(--line); }
    header h1 { font-size: 17px; margin: 0; }
    #model { color: var(--muted); font-size: 13px; flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid var(--line);
             background: var(--bot); color: var(--fg); cursor: pointer; }
    button:disabled { opacity: 0.45; cursor: default; }
    #send { background: var(--accent); border-color: var(--accent); color: #fff; }
    #settings { display: flex; flex-wrap: wrap; gap: 8px 16px; padding: 10px 16px; border-bottom: 1px solid var(--line);
                font-size: 13px; color: var(--muted); }
    #settings[hidden] { display: none; }
    #settings label { display: flex; flex-direction: column; gap: 2px; }
    #settings label.wide { flex: 1 1 320px; }
    #settings input[type=number] { width: 96px; }
    input, textarea { font: inherit; color: var(--fg); background: var(--bot); border: 1px solid var(--line);
                      border-radius: 6px; padding: 5px 8px; }
    main { flex: 1; overflow-y: auto; padding: 16px; display: flex; flex-direction: column; gap: 12px; }
    .msg { max-width: 860px; width: 100%; align-self: center; border: 1px solid var(--line); border-radius: 10px;
           padding: 10px 14px; background: var(--bot); }
    .msg.user { background: var(--user); }
    .msg.user.unsent { opacity: 0.6; }
    .msg .role { font-size: 12px; color: var(--muted); margin-bottom: 2px; }
    .msg .content { white-space: pre-wrap; overflow-wrap: anywhere; }
    .msg .content pre { white-space: pre; overflow-x: auto; background: var(--code); border: 1px solid var(--line);
                        border-radius: 6px; padding: 8px 10px; margin: 6px 0; }
    .msg .content code { font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
    .msg .stats { font-size: 12px; color: var(--muted); margin-top: 6px; }
    .msg .stats:empty { display: none; }
    .msg .error { color: var(--error); white-space: pre-wrap; }
    .msg .error:empty { display: none; }
    .msg[data-state=streaming] .content::after { content: "▍"; color: var(--muted); }
    #notice { margin: 0 16px; font-size: 13px; color: var(--error); }
    #notice:empty { display: none; }
    #composer { display: flex; gap: 10px; padding: 12px 16px; border-top: 1px solid var(--line); }
    #composer textarea { flex: 1; resize: vertical; }
    #composer .buttons { display: flex; flex-direction: column; gap: 6px; }

    """#
}
