import Foundation

/// One function call a model wrote.
public struct ToolCall: Sendable, Hashable {
    /// The function's name.
    public var name: String
    /// The arguments as JSON text (compact; as OpenAI's `function.arguments` string carries them).
    public var arguments: String

    /// A call of `name` with `arguments` (JSON text).
    public init(name: String, arguments: String) {
        self.name = name
        self.arguments = arguments
    }
}

/// A model's output split into its text and its tool calls.
public struct ParsedToolCalls: Sendable, Hashable {
    /// The text before the calls (trimmed), or the whole output when it holds no call.
    public var content: String
    /// The calls, in order.
    public var calls: [ToolCall]

    /// An output of `content` and `calls`.
    public init(content: String, calls: [ToolCall]) {
        self.content = content
        self.calls = calls
    }
}

/// The ways model families write tool calls.
public enum ToolCallFormat: String, Sendable, CaseIterable {
    /// Hermes / Qwen 2.5+ / SmolLM: `<tool_call>{"name": …, "arguments": {…}}</tool_call>`, possibly several.
    case hermes
    /// Llama 3.1–3.3: `{"name": …, "parameters": {…}}`, optionally after `<|python_tag|>`, several
    /// separated by `;`.
    case llama3
    /// Mistral: `[TOOL_CALLS][{"name": …, "arguments": {…}}, …]`, or `[TOOL_CALLS]name[ARGS]{…}`.
    case mistral
    /// Any JSON: a call object, an array of them, or `{"tool_calls": […]}`, possibly in a ``` fence.
    case json
}

/// Parses generated text into tool calls. Pure functions: no model, no state. Text that does not
/// hold a well-formed call comes back whole as content with no calls.
public enum ToolCallParser {
    /// Parses `text` written in `format`.
    public static func parse(_ text: String, format: ToolCallFormat) -> ParsedToolCalls {
        let none = ParsedToolCalls(content: text, calls: [])
        switch format {
        case .hermes: return hermes(text) ?? none
        case .llama3: return llama3(text) ?? none
        case .mistral: return mistral(text) ?? none
        case .json: return genericJSON(text) ?? none
        }
    }

    /// Parses `text`, detecting the format from its markers (`<tool_call>`, `[TOOL_CALLS]`,
    /// `<|python_tag|>`), else trying the JSON forms.
    public static func parse(_ text: String) -> ParsedToolCalls {
        let none = ParsedToolCalls(content: text, calls: [])
        if text.contains("<tool_call>") { return hermes(text) ?? none }
        if text.contains("[TOOL_CALLS]") { return mistral(text) ?? none }
        if text.contains("<|python_tag|>") { return llama3(text) ?? none }
        return genericJSON(text) ?? llama3(text) ?? none
    }

    // MARK: - Formats

    static func hermes(_ text: String) -> ParsedToolCalls? {
        let open = "<tool_call>", close = "</tool_call>"
        guard let first = text.range(of: open) else { return nil }
        let content = trim(String(text[..<first.lowerBound]))
        var calls: [ToolCall] = []
        var rest = text[first.lowerBound...]
        while let o = rest.range(of: open) {
            let after = rest[o.upperBound...]
            let body: Substring
            if let c = after.range(of: close) {
                body = after[..<c.lowerBound]
                rest = after[c.upperBound...]
            } else {
                body = after
                rest = after[after.endIndex...]
            }
            guard let v = try? JSONValue.parse(String(body)), let call = call(from: v) else { return nil }
            calls.append(call)
        }
        return calls.isEmpty ? nil : ParsedToolCalls(content: content, calls: calls)
    }

    static func llama3(_ text: String) -> ParsedToolCalls? {
        var content = ""
        var body = Substring(text)
        if let tag = text.range(of: "<|python_tag|>") {
            content = trim(String(text[..<tag.lowerBound]))
            body = text[tag.upperBound...]
        } else if let brace = text.firstIndex(of: "{") {
            content = trim(String(text[..<brace]))
            body = text[brace...]
        } else {
            return nil
        }
        // One or more objects separated by ';' (or whitespace).
        var bytes = Array(body.utf8)
        var calls: [ToolCall] = []
        while true {
            while let f = bytes.first, f == 0x20 || f == 0x0A || f == 0x09 || f == 0x0D || f == 0x3B {
                bytes.removeFirst()
            }
            if bytes.isEmpty { break }
            guard let (v, end) = try? JSONValue.parsePrefix(bytes), let c = call(from: v) else { return nil }
            calls.append(c)
            bytes.removeFirst(end)
        }
        return calls.isEmpty ? nil : ParsedToolCalls(content: content, calls: calls)
    }

    static func mistral(_ text: String) -> ParsedToolCalls? {
        let marker = "[TOOL_CALLS]"
        guard let m = text.range(of: marker) else { return nil }
        let content = trim(String(text[..<m.lowerBound]))
        var calls: [ToolCall] = []
        // Every [TOOL_CALLS] section: a JSON array/object, or name[ARGS]{…}.
        for section in text[m.upperBound...].components(separatedBy: marker) {
            let s = trim(section)
            if s.isEmpty { continue }
            if let args = s.range(of: "[ARGS]") {
                let name = trim(String(s[..<args.lowerBound]))
                guard !name.isEmpty, let v = try? JSONValue.parse(String(s[args.upperBound...])) else { return nil }
                calls.append(ToolCall(name: name, arguments: v.serialized))
                continue
            }
            guard let v = try? JSONValue.parse(s), let list = callList(from: v) else { return nil }
            calls += list
        }
        return calls.isEmpty ? nil : ParsedToolCalls(content: content, calls: calls)
    }

    static func genericJSON(_ text: String) -> ParsedToolCalls? {
        var s = trim(text)
        if s.hasPrefix("```") {
            s = String(s.drop { $0 != "\n" })
            if let end = s.range(of: "```", options: .backwards) { s = String(s[..<end.lowerBound]) }
            s = trim(s)
        }
        guard let v = try? JSONValue.parse(s), let calls = callList(from: v), !calls.isEmpty else { return nil }
        return ParsedToolCalls(content: "", calls: calls)
    }

    // MARK: - Call objects

    /// `{"name": …, "arguments"|"parameters": …}` or OpenAI's `{"function": {…}}` / `{"type": "function", …}`.
    static func call(from v: JSONValue) -> ToolCall? {
        guard case .object = v else { return nil }
        if let f = v["function"], case .object = f { return call(from: f) }
        guard case .string(let name)? = v["name"], !name.isEmpty else { return nil }
        let args = v["arguments"] ?? v["parameters"] ?? .object([])
        switch args {
        case .string(let s):
            // Arguments already as JSON text.
            guard let inner = try? JSONValue.parse(s) else { return nil }
            return ToolCall(name: name, arguments: inner.serialized)
        case .object:
            return ToolCall(name: name, arguments: args.serialized)
        default:
            return nil
        }
    }

    static func callList(from v: JSONValue) -> [ToolCall]? {
        switch v {
        case .array(let items):
            var out: [ToolCall] = []
            for i in items {
                guard let c = call(from: i) else { return nil }
                out.append(c)
            }
            return out
        case .object:
            if case .array? = v["tool_calls"], let list = v["tool_calls"] { return callList(from: list) }
            return call(from: v).map { [$0] }
        default:
            return nil
        }
    }

    static func trim(_ s: String) -> String {
        var sub = Substring(s)
        while let f = sub.first, f.isWhitespace { sub.removeFirst() }
        while let l = sub.last, l.isWhitespace { sub.removeLast() }
        return String(sub)
    }
}
