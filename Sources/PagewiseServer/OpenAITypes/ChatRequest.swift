import Foundation

/// One part of a message's `content` list (only text parts are understood).
struct ContentPart: Decodable, Sendable {
    var type: String
    var text: String?
}

/// A message's `content`: a string, null, or a list of parts.
enum MessageContent: Decodable, Sendable {
    case text(String)
    case parts([ContentPart])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            self = .text(s)
        } else {
            self = .parts(try c.decode([ContentPart].self))
        }
    }

    /// The text the template sees: parts joined by newlines (vLLM's "string" content format).
    func flattened() throws(OpenAIError) -> String {
        switch self {
        case let .text(s): return s
        case let .parts(parts):
            var texts: [String] = []
            for p in parts {
                guard p.type == "text", let t = p.text else {
                    throw OpenAIError.badRequest("content parts of type '\(p.type)' are not supported; send text parts",
                                                 param: "messages")
                }
                texts.append(t)
            }
            return texts.joined(separator: "\n")
        }
    }
}

/// One message of a chat.
struct ChatMessageInput: Decodable, Sendable {
    var role: String
    var content: MessageContent?
    var name: String?
    var toolCalls: [JSONValue]?
    var toolCallId: String?
    var reasoningContent: String?

    enum CodingKeys: String, CodingKey {
        case role, content, name
        case toolCalls = "tool_calls"
        case toolCallId = "tool_call_id"
        case reasoningContent = "reasoning_content"
    }
}

/// The body of `POST /v1/chat/completions`.
struct ChatCompletionRequest: Decodable, Sendable {
    var model: String?
    var messages: [ChatMessageInput]
    var maxTokens: Int?
    var maxCompletionTokens: Int?
    var logprobs: Bool?
    var topLogprobs: Int?
    var tools: [JSONValue]?
    var toolChoice: JSONValue?
    var user: String?
    var addGenerationPrompt: Bool?
    var continueFinalMessage: Bool?
    var addSpecialTokens: Bool?
    var echo: Bool?
    var chatTemplateKwargs: [String: JSONValue]?
    var sampling: SamplingFields

    enum CodingKeys: String, CodingKey {
        case model, messages, logprobs, tools, user, echo
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case topLogprobs = "top_logprobs"
        case toolChoice = "tool_choice"
        case addGenerationPrompt = "add_generation_prompt"
        case continueFinalMessage = "continue_final_message"
        case addSpecialTokens = "add_special_tokens"
        case chatTemplateKwargs = "chat_template_kwargs"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        messages = try c.decode([ChatMessageInput].self, forKey: .messages)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
        maxCompletionTokens = try c.decodeIfPresent(Int.self, forKey: .maxCompletionTokens)
        logprobs = try c.decodeIfPresent(Bool.self, forKey: .logprobs)
        topLogprobs = try c.decodeIfPresent(Int.self, forKey: .topLogprobs)
        tools = try c.decodeIfPresent([JSONValue].self, forKey: .tools)
        toolChoice = try c.decodeIfPresent(JSONValue.self, forKey: .toolChoice)
        user = try c.decodeIfPresent(String.self, forKey: .user)
        addGenerationPrompt = try c.decodeIfPresent(Bool.self, forKey: .addGenerationPrompt)
        continueFinalMessage = try c.decodeIfPresent(Bool.self, forKey: .continueFinalMessage)
        addSpecialTokens = try c.decodeIfPresent(Bool.self, forKey: .addSpecialTokens)
        echo = try c.decodeIfPresent(Bool.self, forKey: .echo)
        chatTemplateKwargs = try c.decodeIfPresent([String: JSONValue].self, forKey: .chatTemplateKwargs)
        sampling = try SamplingFields(from: decoder)
    }
}
