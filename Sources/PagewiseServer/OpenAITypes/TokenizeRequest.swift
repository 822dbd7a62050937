import Foundation

/// The body of vLLM's `POST /tokenize`: either `prompt` or `messages`.
struct TokenizeRequest: Decodable, Sendable {
    var model: String?
    var prompt: String?
    var messages: [ChatMessageInput]?
    var addSpecialTokens: Bool?
    var addGenerationPrompt: Bool?
    var continueFinalMessage: Bool?
    var tools: [JSONValue]?
    var chatTemplateKwargs: [String: JSONValue]?
    var returnTokenStrs: Bool?

    enum CodingKeys: String, CodingKey {
        case model, prompt, messages, tools
        case addSpecialTokens = "add_special_tokens"
        case addGenerationPrompt = "add_generation_prompt"
        case continueFinalMessage = "continue_final_message"
        case chatTemplateKwargs = "chat_template_kwargs"
        case returnTokenStrs = "return_token_strs"
    }
}

/// The body of vLLM's `POST /detokenize`.
struct DetokenizeRequest: Decodable, Sendable {
    var model: String?
    var tokens: [Int32]
}
