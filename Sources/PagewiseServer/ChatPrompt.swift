import Foundation

/// Renders a request's messages through the model's chat template.
enum ChatPrompt {
    static func render(messages: [ChatMessageInput], tools: [JSONValue]?, body: Data?, addGenerationPrompt: Bool,
                       continueFinalMessage: Bool, extra: [String: JSONValue], model: LoadedModel) throws(OpenAIError) -> String {
        guard !messages.isEmpty else { throw .badRequest("messages must not be empty", param: "messages") }
        guard let renderer = model.renderer else {
            throw .badRequest("the model has no chat template; start the server with --chat-template NAME|FILE", param: "messages")
        }
        if continueFinalMessage && addGenerationPrompt && messages.last?.role != "assistant" {
            throw .badRequest("continue_final_message needs the last message to be the assistant's", param: "continue_final_message")
        }
        var values: [JSONValue] = []
        for (i, m) in messages.enumerated() {
            guard ["system", "user", "assistant", "tool", "developer", "function"].contains(m.role) else {
                throw .badRequest("messages[\(i)].role must be system, user, assistant, tool or developer, got '\(m.role)'",
                                  param: "messages[\(i)].role")
            }
            var o: [String: JSONValue] = ["role": .string(m.role)]
            if let content = m.content {
                o["content"] = .string(try content.flattened())
            } else {
                o["content"] = .null
            }
            if let name = m.name { o["name"] = .string(name) }
            if let id = m.toolCallId { o["tool_call_id"] = .string(id) }
            if let r = m.reasoningContent { o["reasoning_content"] = .string(r) }
            if let calls = m.toolCalls { o["tool_calls"] = .array(calls.map(parsedArguments)) }
            values.append(.object(o))
        }
        let input = ChatRenderInput(body: body, messages: values, tools: tools, addGenerationPrompt: addGenerationPrompt,
                                    continueFinalMessage: continueFinalMessage, extra: extra)
        do {
            return try renderer.render(input)
        } catch {
            throw .badRequest("the chat template failed: \(error)", param: "messages")
        }
    }

    /// Tool call arguments arrive as a JSON string; templates expect the object (as vLLM passes it).
    private static func parsedArguments(_ call: JSONValue) -> JSONValue {
        guard case var .object(o) = call, case var .object(f)? = o["function"], case let .string(args)? = f["arguments"],
              let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(args.utf8)), case .object = parsed
        else { return call }
        f["arguments"] = parsed
        o["function"] = .object(f)
        return .object(o)
    }
}
