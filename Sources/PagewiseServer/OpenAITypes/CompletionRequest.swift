import Foundation

/// The prompt of `/v1/completions`: a string, a list of strings, a list of token ids or a list of
/// such lists (one completion per prompt).
enum PromptInput: Decodable, Sendable {
    case texts([String])
    case tokens([[Int32]])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            self = .texts([s])
        } else if let list = try? c.decode([String].self) {
            self = .texts(list)
        } else if let ids = try? c.decode([Int32].self) {
            self = .tokens([ids])
        } else if let batches = try? c.decode([[Int32]].self) {
            self = .tokens(batches)
        } else {
            throw DecodingError.typeMismatch(
                PromptInput.self,
                .init(codingPath: decoder.codingPath,
                      debugDescription: "expected a string, a list of strings, a list of token ids or a list of token id lists"))
        }
    }

    var count: Int {
        switch self {
        case let .texts(t): t.count
        case let .tokens(t): t.count
        }
    }
}

/// `stream_options` of both endpoints.
struct StreamOptions: Decodable, Sendable {
    var includeUsage: Bool?
    var continuousUsageStats: Bool?
    enum CodingKeys: String, CodingKey {
        case includeUsage = "include_usage"
        case continuousUsageStats = "continuous_usage_stats"
    }
}

/// The sampling fields both endpoints share, under their OpenAI and vLLM names.
struct SamplingFields: Decodable, Sendable {
    var n: Int?
    var bestOf: Int?
    var temperature: Double?
    var topP: Double?
    var topK: Int?
    var minP: Double?
    var seed: Int64?
    var minTokens: Int?
    var ignoreEOS: Bool?
    var repetitionPenalty: Double?
    var presencePenalty: Double?
    var frequencyPenalty: Double?
    var logitBias: [String: Double]?
    var allowedTokenIds: [Int32]?
    var badWords: [String]?
    var stop: StringOrList?
    var stopTokenIds: [Int32]?
    var includeStopStrInOutput: Bool?
    var skipSpecialTokens: Bool?
    var promptLogprobs: Int?
    var useBeamSearch: Bool?
    var lengthPenalty: Double?
    var earlyStopping: JSONValue?
    var truncatePromptTokens: Int?
    var priority: Int?
    var stream: Bool?
    var streamOptions: StreamOptions?

    enum CodingKeys: String, CodingKey {
        case n, temperature, seed, stop, priority, stream
        case bestOf = "best_of"
        case topP = "top_p"
        case topK = "top_k"
        case minP = "min_p"
        case minTokens = "min_tokens"
        case ignoreEOS = "ignore_eos"
        case repetitionPenalty = "repetition_penalty"
        case presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty"
        case logitBias = "logit_bias"
        case allowedTokenIds = "allowed_token_ids"
        case badWords = "bad_words"
        case stopTokenIds = "stop_token_ids"
        case includeStopStrInOutput = "include_stop_str_in_output"
        case skipSpecialTokens = "skip_special_tokens"
        case promptLogprobs = "prompt_logprobs"
        case useBeamSearch = "use_beam_search"
        case lengthPenalty = "length_penalty"
        case earlyStopping = "early_stopping"
        case truncatePromptTokens = "truncate_prompt_tokens"
        case streamOptions = "stream_options"
    }
}

/// The body of `POST /v1/completions` (OpenAI's legacy completions plus vLLM's extensions).
struct CompletionRequest: Decodable, Sendable {
    var model: String?
    var prompt: PromptInput?
    var maxTokens: Int?
    var logprobs: Int?
    var echo: Bool?
    var suffix: String?
    var user: String?
    var addSpecialTokens: Bool?
    var sampling: SamplingFields

    enum CodingKeys: String, CodingKey {
        case model, prompt, logprobs, echo, suffix, user
        case maxTokens = "max_tokens"
        case addSpecialTokens = "add_special_tokens"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        prompt = try c.decodeIfPresent(PromptInput.self, forKey: .prompt)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
        logprobs = try c.decodeIfPresent(Int.self, forKey: .logprobs)
        echo = try c.decodeIfPresent(Bool.self, forKey: .echo)
        suffix = try c.decodeIfPresent(String.self, forKey: .suffix)
        user = try c.decodeIfPresent(String.self, forKey: .user)
        addSpecialTokens = try c.decodeIfPresent(Bool.self, forKey: .addSpecialTokens)
        sampling = try SamplingFields(from: decoder)
    }
}
