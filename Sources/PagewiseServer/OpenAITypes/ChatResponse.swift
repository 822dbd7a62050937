/// One alternative token of chat `logprobs`.
struct ChatTopLogprob: Encodable, Sendable {
    var token: String
    var logprob: Double
    var bytes: [UInt8]
}

/// One generated token of chat `logprobs.content`.
struct ChatTokenLogprob: Encodable, Sendable {
    var token: String
    var logprob: Double
    var bytes: [UInt8]
    var topLogprobs: [ChatTopLogprob]

    enum CodingKeys: String, CodingKey {
        case token, logprob, bytes
        case topLogprobs = "top_logprobs"
    }
}

/// Chat `logprobs`.
struct ChatLogprobs: Encodable, Sendable {
    var content: [ChatTokenLogprob]
}

/// The assistant message of a non-streamed chat choice.
struct ChatResponseMessage: Encodable, Sendable {
    var role = "assistant"
    var content: String?
    var toolCalls: [JSONValue] = []

    enum CodingKeys: String, CodingKey {
        case role, content
        case toolCalls = "tool_calls"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(role, forKey: .role)
        try c.encode(content, forKey: .content) // null beside tool calls, as OpenAI
        try c.encode(toolCalls, forKey: .toolCalls)
    }
}

/// One choice of a non-streamed chat completion.
struct ChatChoice: Encodable, Sendable {
    var index: Int
    var message: ChatResponseMessage
    var logprobs: ChatLogprobs?
    var finishReason: String?
    var stopReason: StopReasonValue?

    enum CodingKeys: String, CodingKey {
        case index, message, logprobs
        case finishReason = "finish_reason"
        case stopReason = "stop_reason"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(message, forKey: .message)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(finishReason, forKey: .finishReason)
        try c.encode(stopReason, forKey: .stopReason)
    }
}

/// `chat.completion`.
struct ChatCompletionResponse: Encodable, Sendable {
    var id: String
    var object = "chat.completion"
    var created: Int
    var model: String
    var systemFingerprint: String
    var choices: [ChatChoice]
    var usage: Usage

    enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices, usage
        case systemFingerprint = "system_fingerprint"
    }
}

/// The `delta` of a streamed chat chunk.
struct ChatDelta: Encodable, Sendable {
    var role: String?
    var content: String?
    var toolCalls: [JSONValue]?

    func encode(to encoder: any Encoder) throws {
        enum K: String, CodingKey { case role, content, tool_calls }
        var c = encoder.container(keyedBy: K.self)
        try c.encodeIfPresent(role, forKey: .role)
        try c.encodeIfPresent(content, forKey: .content)
        try c.encodeIfPresent(toolCalls, forKey: .tool_calls)
    }
}

/// One choice of a streamed chat chunk.
struct ChatChunkChoice: Encodable, Sendable {
    var index: Int
    var delta: ChatDelta
    var logprobs: ChatLogprobs?
    var finishReason: String?
    var stopReason: StopReasonValue?

    enum CodingKeys: String, CodingKey {
        case index, delta, logprobs
        case finishReason = "finish_reason"
        case stopReason = "stop_reason"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(delta, forKey: .delta)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(finishReason, forKey: .finishReason)
        try c.encode(stopReason, forKey: .stopReason)
    }
}

/// `chat.completion.chunk`.
struct ChatCompletionChunk: Encodable, Sendable {
    var id: String
    var object = "chat.completion.chunk"
    var created: Int
    var model: String
    var systemFingerprint: String
    var choices: [ChatChunkChoice]
    var usage: Usage?

    enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices, usage
        case systemFingerprint = "system_fingerprint"
    }
}
