/// OpenAI's legacy completions `logprobs` object.
struct CompletionLogprobs: Encodable, Sendable {
    var tokens: [String] = []
    var tokenLogprobs: [Double?] = []
    var topLogprobs: [[String: Double]?] = []
    var textOffset: [Int] = []

    enum CodingKeys: String, CodingKey {
        case tokens
        case tokenLogprobs = "token_logprobs"
        case topLogprobs = "top_logprobs"
        case textOffset = "text_offset"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tokens, forKey: .tokens)
        try c.encode(tokenLogprobs, forKey: .tokenLogprobs)
        try c.encode(topLogprobs, forKey: .topLogprobs)
        try c.encode(textOffset, forKey: .textOffset)
    }
}

/// One choice of a completion (or of one streamed chunk).
struct CompletionChoice: Encodable, Sendable {
    var index: Int
    var text: String
    var logprobs: CompletionLogprobs?
    var finishReason: String?
    var stopReason: StopReasonValue?

    enum CodingKeys: String, CodingKey {
        case index, text, logprobs
        case finishReason = "finish_reason"
        case stopReason = "stop_reason"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(text, forKey: .text)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(finishReason, forKey: .finishReason)
        try c.encode(stopReason, forKey: .stopReason)
    }
}

/// `text_completion`: the body of a non-streamed completion and of each streamed chunk.
struct CompletionResponse: Encodable, Sendable {
    var id: String
    var object = "text_completion"
    var created: Int
    var model: String
    var systemFingerprint: String
    var choices: [CompletionChoice]
    var usage: Usage?

    enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices, usage
        case systemFingerprint = "system_fingerprint"
    }
}

/// vLLM's `stop_reason`: the stop string or the stop token id that ended a choice.
enum StopReasonValue: Encodable, Sendable {
    case string(String)
    case token(Int32)

    init?(_ r: StopReason?) {
        switch r {
        case let .string(s): self = .string(s)
        case let .token(t): self = .token(t)
        case nil: return nil
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .string(s): try c.encode(s)
        case let .token(t): try c.encode(t)
        }
    }
}

import Pagewise
