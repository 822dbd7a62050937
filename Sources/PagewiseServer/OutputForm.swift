import Foundation
import Pagewise
import StructuredOutput

/// The body re-read with object members in their written order (a JSON Schema's `properties`
/// order is the order of the generated keys).
typealias OrderedJSON = StructuredOutput.JSONValue

/// What a request asks of the form of its output: a structured-output constraint (OpenAI's
/// `response_format`, vLLM's `structured_outputs` and older `guided_*` fields) and, for chat, how
/// tool calls are produced and read (`tools`, `tool_choice`, `parallel_tool_calls`).
struct OutputForm: Sendable {
    enum Tools: Sendable, Equatable {
        /// No tools offered, or `tool_choice: "none"`.
        case none
        /// The model may call tools; its text is parsed for calls (Hermes/Qwen, Llama 3, Mistral, JSON).
        case auto(parallel: Bool)
        /// The output is constrained to a JSON array of calls (`[{"name": …, "parameters": {…}}]`).
        case required(parallel: Bool)
        /// The output is constrained to this function's arguments.
        case named(String)
    }

    var constraint: Constraint?
    var tools: Tools = .none
    /// The request parameter the constraint came from (for error messages).
    var param: String?

    /// Reads the fields from the raw body. Throws a 400 naming the field for a malformed one.
    static func parse(body: Data, chat: Bool) throws(OpenAIError) -> OutputForm {
        let root: OrderedJSON
        do {
            root = try OrderedJSON.parse(String(decoding: body, as: UTF8.self))
        } catch {
            throw .badRequest("the body is not valid JSON: \(error)")
        }
        var form = OutputForm()
        var found: [(Constraint, String)] = []
        if let rf = root["response_format"], rf != .null {
            guard case let .string(type)? = rf["type"] else { throw .badRequest("response_format.type must be a string", param: "response_format") }
            switch type {
            case "text": break
            case "json_object": found.append((.jsonObject, "response_format"))
            case "json_schema":
                if let schema = rf["json_schema"]?["schema"], schema != .null {
                    found.append((.jsonSchema(schema.serialized), "response_format"))
                } else {
                    found.append((.jsonObject, "response_format"))
                }
            default:
                throw .badRequest("response_format.type must be text, json_object or json_schema, got '\(type)'", param: "response_format")
            }
        }
        if let so = root["structured_outputs"], so != .null {
            guard case .object = so else { throw .badRequest("structured_outputs must be an object", param: "structured_outputs") }
            try collect(so["json"], so["regex"], so["choice"], so["grammar"], prefix: "structured_outputs.", into: &found)
            if case .bool(true)? = so["json_object"] { found.append((.jsonObject, "structured_outputs.json_object")) }
        }
        try collect(root["guided_json"], root["guided_regex"], root["guided_choice"], root["guided_grammar"], prefix: "guided_",
                    into: &found)
        guard found.count <= 1 else {
            throw .badRequest("ask for one kind of structured output, got \(found.map(\.1).joined(separator: ", "))", param: found[1].1)
        }
        if let (c, p) = found.first {
            form.constraint = c
            form.param = p
        }
        if chat { try form.readTools(root) }
        return form
    }

    /// `json`, `regex`, `choice`, `grammar` (as `structured_outputs.*` or `guided_*`).
    private static func collect(_ json: OrderedJSON?, _ regex: OrderedJSON?, _ choice: OrderedJSON?, _ grammar: OrderedJSON?,
                                prefix: String, into found: inout [(Constraint, String)]) throws(OpenAIError) {
        func name(_ s: String) -> String { prefix == "guided_" ? "guided_\(s)" : prefix + s }
        switch json {
        case nil, .null?: break
        case let .string(text)?: found.append((.jsonSchema(text), name("json")))
        case let value?:
            guard case .object = value else { throw .badRequest("\(name("json")) must be a JSON schema", param: name("json")) }
            found.append((.jsonSchema(value.serialized), name("json")))
        }
        switch regex {
        case nil, .null?: break
        case let .string(r)?: found.append((.regex(r), name("regex")))
        default: throw .badRequest("\(name("regex")) must be a string", param: name("regex"))
        }
        switch choice {
        case nil, .null?: break
        case let .array(items)?:
            var list: [String] = []
            for item in items {
                guard case let .string(s) = item else { throw .badRequest("\(name("choice")) must be a list of strings", param: name("choice")) }
                list.append(s)
            }
            guard !list.isEmpty else { throw .badRequest("\(name("choice")) must not be empty", param: name("choice")) }
            found.append((.choice(list), name("choice")))
        default: throw .badRequest("\(name("choice")) must be a list of strings", param: name("choice"))
        }
        switch grammar {
        case nil, .null?: break
        case let .string(g)?: found.append((.grammar(g), name("grammar")))
        default: throw .badRequest("\(name("grammar")) must be a string", param: name("grammar"))
        }
    }

    /// `tools`, `tool_choice`, `parallel_tool_calls`; a forced call becomes the constraint.
    private mutating func readTools(_ root: OrderedJSON) throws(OpenAIError) {
        guard case let .array(list)? = root["tools"], !list.isEmpty else {
            if let choice = root["tool_choice"], choice != .null, choice != .string("none"), choice != .string("auto") {
                throw .badRequest("tool_choice needs tools", param: "tool_choice")
            }
            return
        }
        var functions: [(name: String, parameters: OrderedJSON)] = []
        for (i, tool) in list.enumerated() {
            guard case let .string(name)? = tool["function"]?["name"], !name.isEmpty else {
                throw .badRequest("tools[\(i)].function.name must be a non-empty string", param: "tools")
            }
            let params = tool["function"]?["parameters"] ?? .null
            functions.append((name, params == .null ? .object([("type", .string("object"))]) : params))
        }
        var parallel = true
        if case let .bool(b)? = root["parallel_tool_calls"] { parallel = b }
        let choice = root["tool_choice"] ?? .string("auto")
        switch choice {
        case .null, .string("auto"): tools = .auto(parallel: parallel)
        case .string("none"): tools = .none
        case .string("required"):
            tools = .required(parallel: parallel)
            var call: [(String, OrderedJSON)] = [("type", .string("array")), ("minItems", .number("1"))]
            if !parallel { call.append(("maxItems", .number("1"))) }
            let variants: [OrderedJSON] = functions.map { f in
                .object([("type", .string("object")),
                         ("properties", .object([("name", .object([("const", .string(f.name))])), ("parameters", f.parameters)])),
                         ("required", .array([.string("name"), .string("parameters")])),
                         ("additionalProperties", .bool(false))])
            }
            call.append(("items", .object([("anyOf", .array(variants))])))
            try setConstraint(.jsonSchema(OrderedJSON.object(call).serialized), "tool_choice")
        case .object:
            guard case let .string(name)? = choice["function"]?["name"] else {
                throw .badRequest("tool_choice must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":…}}", param: "tool_choice")
            }
            guard let f = functions.first(where: { $0.name == name }) else {
                throw .badRequest("tool_choice names '\(name)', which is not among the tools", param: "tool_choice")
            }
            tools = .named(name)
            try setConstraint(.jsonSchema(f.parameters.serialized), "tool_choice")
        default:
            throw .badRequest("tool_choice must be none, auto, required or a named function", param: "tool_choice")
        }
    }

    private mutating func setConstraint(_ c: Constraint, _ p: String) throws(OpenAIError) {
        if let existing = param { throw .badRequest("\(p) forces a tool call and cannot be combined with \(existing)", param: p) }
        constraint = c
        param = p
    }

    /// A generated text read as the request's tool calls: (content, calls); nil when there are none.
    func toolCalls(in text: String) -> (content: String?, calls: [ToolCall])? {
        switch tools {
        case .none:
            return nil
        case let .auto(parallel):
            let parsed = ToolCallParser.parse(text)
            guard !parsed.calls.isEmpty else { return nil }
            let content = parsed.content.trimmingCharacters(in: .whitespacesAndNewlines)
            return (content.isEmpty ? nil : content, parallel ? parsed.calls : Array(parsed.calls.prefix(1)))
        case .required:
            guard case let .array(items)? = try? OrderedJSON.parse(text) else { return nil }
            let calls = items.compactMap { item -> ToolCall? in
                guard case let .string(name)? = item["name"] else { return nil }
                return ToolCall(name: name, arguments: (item["parameters"] ?? .object([])).serialized)
            }
            return calls.isEmpty ? nil : (nil, calls)
        case let .named(name):
            return (nil, [ToolCall(name: name, arguments: text)])
        }
    }

    /// The finish reason of a choice whose output held tool calls (OpenAI: `stop` for a forced named call).
    var toolFinishReason: String {
        if case .named = tools { return "stop" }
        return "tool_calls"
    }

    /// OpenAI's `tool_calls` entries (ids `call_…`); with `index` for stream deltas.
    static func toolCallValues(_ calls: [ToolCall], delta: Bool) -> [JSONValue] {
        calls.enumerated().map { k, c in
            var o: [String: JSONValue] = [
                "id": .string("call_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24).lowercased()),
                "type": .string("function"),
                "function": .object(["name": .string(c.name), "arguments": .string(c.arguments)]),
            ]
            if delta { o["index"] = .number(Double(k)) }
            return .object(o)
        }
    }
}
