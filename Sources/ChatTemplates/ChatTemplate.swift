import Foundation

/// A parsed chat template, rendered as transformers' `apply_chat_template` renders it with
/// jinja2: `trim_blocks` and `lstrip_blocks` on, loop controls, the `{% generation %}` block,
/// `tojson` without HTML escaping, and the globals `raise_exception` and `strftime_now`.
///
/// ```swift
/// let template = try ChatTemplate(source: text)
/// let prompt = try template.render([
///     "messages": [["role": "user", "content": "Hi"]],
///     "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>",
/// ])
/// ```
public struct ChatTemplate: Sendable {
    private let body: [Stmt]

    /// Parses `source`; throws `ChatTemplateError` (with the line) for syntax errors, unknown
    /// filters or tests (as jinja2 does at load time) and for constructs Pagewise does not support.
    public init(source: String) throws {
        body = try DeepStack.run {
            var lexer = Lexer(source: source)
            let tokens = try lexer.tokenize()
            var parser = Parser(tokens: tokens)
            return try parser.parseTemplate()
        }
    }

    /// Renders with `context` (messages, add_generation_prompt, bos_token, eos_token, tools, …);
    /// `strftime_now` reads the current time.
    public func render(_ context: [String: JinjaValue]) throws -> String {
        try render(context, now: Date())
    }

    /// Renders with `strftime_now` reading the clock as `now` (a fixed moment makes renders repeatable).
    public func render(_ context: [String: JinjaValue], now: Date) throws -> String {
        let body = self.body
        return try DeepStack.run {
            let interpreter = Interpreter(now: now)
            let frame = Frame(parent: nil)
            for (key, value) in context { frame.variables[key] = Value(value) }
            var out = ""
            _ = try interpreter.execute(body, frame, &out)
            return out
        }
    }
}
