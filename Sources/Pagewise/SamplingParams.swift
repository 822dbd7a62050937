import StructuredOutput

/// How a request picks its tokens and when it stops: vLLM's `SamplingParams`, field for field
/// where the two overlap (Swift spelling; the validation messages use vLLM's snake_case names).
///
/// Logits processors run in vLLM v1's order (see `Sampler`):
/// 1. `allowedTokenIds` (everything else → −∞), `badWords`,
/// 2. `minTokens` (EOS and `stopTokenIds` → −∞ until reached), `logitBias`,
/// 3. `repetitionPenalty` (prompt + output tokens), `frequencyPenalty`, `presencePenalty` (output tokens),
/// 4. `constraint`: the grammar's allowed next tokens (everything else → −∞; end of generation only
///    where the grammar may end),
/// 5. greedy (temperature 0) takes the argmax here; otherwise `temperature`,
/// 6. `minP`, `topK`, `topP`, then one draw from the request's own random stream.
/// `logprobs` and `promptLogprobs` come from the raw logits, before any processor (vLLM's default
/// `raw_logprobs`).
public struct SamplingParams: Sendable, Equatable {
    /// 0 means greedy (argmax).
    public var temperature: Float = 0.8
    /// Keep only the k most likely tokens (0 = off; −1 is accepted as off, as in vLLM).
    public var topK: Int = 40
    /// Keep the smallest set whose probability reaches p (1 = off).
    public var topP: Float = 0.95
    /// Drop tokens less likely than minP × the top token's probability (0 = off).
    public var minP: Float = 0.05
    /// Seed of the request's random stream (nil = random). The same seed and request give the same
    /// tokens alone or in any batch.
    public var seed: UInt64? = nil
    /// Most tokens to generate.
    public var maxTokens: Int = 256
    /// End-of-generation and `stopTokenIds` are banned until this many tokens were generated.
    public var minTokens: Int = 0
    /// Keep generating past the model's end-of-generation tokens.
    public var ignoreEOS = false
    /// > 1 discourages, < 1 encourages every token already in the prompt or the output
    /// (a positive logit is divided by it, a negative one multiplied; 1 = off).
    public var repetitionPenalty: Float = 1
    /// Subtracted once from the logit of every token already generated (−2…2).
    public var presencePenalty: Float = 0
    /// Subtracted from a token's logit once per time it was generated (−2…2).
    public var frequencyPenalty: Float = 0
    /// Token id → value added to its logit (clamped to ±100).
    public var logitBias: [Int32: Float] = [:]
    /// Only these tokens may be generated (nil = all).
    public var allowedTokenIds: [Int32]? = nil
    /// Words or phrases never produced: each is tokenized with and without a leading space, and the
    /// last token of a sequence is banned when the tokens before it were just generated.
    public var badWords: [String] = []
    /// Token sequences never produced (Hugging Face's `bad_words_ids`), with the same rule.
    public var badWordsTokenIds: [[Int32]] = []
    /// Strings that end generation when they appear in the text (matched across token boundaries;
    /// excluded from the text unless `includeStopStrInOutput`).
    public var stop: [String] = []
    /// Tokens that end generation (kept in `newTokens`, not in the text).
    public var stopTokenIds: [Int32] = []
    /// Keep the matched stop string at the end of the text.
    public var includeStopStrInOutput = false
    /// Return this many most likely tokens with their log-probabilities at each generated position,
    /// plus the chosen token's (nil = none; 0 = only the chosen token's).
    public var logprobs: Int? = nil
    /// The same over the prompt's positions (the first has none), computed during prefill.
    public var promptLogprobs: Int? = nil
    /// Leave special tokens out of the text.
    public var skipSpecialTokens = true
    /// Beam search instead of sampling (`n` is the beam width; see `BeamSearchOptions`).
    public var beamSearch: BeamSearchOptions? = nil
    /// Structured output: the text must match this JSON schema / regex / choice / grammar.
    public var constraint: Constraint? = nil
    /// With a constraint: append the tokens the grammar forces without sampling them one by one
    /// (jump-forward; off when `logprobs` are asked for, as forced tokens have none).
    public var jumpForward = true

    public init() {}

    public static var greedy: SamplingParams {
        var p = SamplingParams()
        p.temperature = 0
        return p
    }

    /// Stop at the model's end-of-generation tokens (the opposite of `ignoreEOS`).
    public var stopAtEndOfGeneration: Bool {
        get { !ignoreEOS }
        set { ignoreEOS = !newValue }
    }

    /// Most log-probabilities a request may ask for at one position (vLLM's default `max_logprobs`).
    public static let maxLogprobs = 20

    /// Checks the values that do not depend on the model; the message names the parameter.
    public func validate() throws {
        func bad(_ m: String) -> SamplingError { SamplingError.invalidParameter(m) }
        guard temperature.isFinite, temperature >= 0 else { throw bad("temperature must be ≥ 0, got \(temperature)") }
        guard topK >= -1 else { throw bad("top_k must be -1 (off), 0 (off) or ≥ 1, got \(topK)") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw bad("top_p must be in (0, 1], got \(topP)") }
        guard minP.isFinite, minP >= 0, minP <= 1 else { throw bad("min_p must be in [0, 1], got \(minP)") }
        guard maxTokens >= 1 else { throw bad("max_tokens must be ≥ 1, got \(maxTokens)") }
        guard minTokens >= 0 else { throw bad("min_tokens must be ≥ 0, got \(minTokens)") }
        guard minTokens <= maxTokens else {
            throw bad("min_tokens must be ≤ max_tokens, got min_tokens \(minTokens) and max_tokens \(maxTokens)")
        }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw bad("repetition_penalty must be > 0, got \(repetitionPenalty)")
        }
        guard presencePenalty.isFinite, (-2 ... 2).contains(presencePenalty) else {
            throw bad("presence_penalty must be in [-2, 2], got \(presencePenalty)")
        }
        guard frequencyPenalty.isFinite, (-2 ... 2).contains(frequencyPenalty) else {
            throw bad("frequency_penalty must be in [-2, 2], got \(frequencyPenalty)")
        }
        for (token, bias) in logitBias {
            guard token >= 0 else { throw bad("logit_bias token id must be ≥ 0, got \(token)") }
            guard !bias.isNaN else { throw bad("logit_bias value for token \(token) is NaN") }
        }
        if let allowed = allowedTokenIds {
            guard !allowed.isEmpty else { throw bad("allowed_token_ids must not be empty") }
            for t in allowed where t < 0 { throw bad("allowed_token_ids holds a negative id \(t)") }
        }
        for w in badWords where w.trimmingPrefixSpaces().isEmpty { throw bad("bad_words holds an empty word") }
        for w in badWordsTokenIds where w.isEmpty { throw bad("bad_words token sequence is empty") }
        for s in stop where s.isEmpty { throw bad("stop strings must not be empty") }
        for t in stopTokenIds where t < 0 { throw bad("stop_token_ids holds a negative id \(t)") }
        if let k = logprobs, !(0 ... Self.maxLogprobs).contains(k) {
            throw bad("logprobs must be in [0, \(Self.maxLogprobs)], got \(k)")
        }
        if let k = promptLogprobs, !(0 ... Self.maxLogprobs).contains(k) {
            throw bad("prompt_logprobs must be in [0, \(Self.maxLogprobs)], got \(k)")
        }
        if let b = beamSearch {
            try b.validate()
            if constraint != nil { throw bad("beam search with a structured-output constraint is not supported") }
        }
    }

    /// Checks the token ids against the model's vocabulary.
    public func validate(vocabSize: Int) throws {
        try validate()
        func bad(_ m: String) -> SamplingError { SamplingError.invalidParameter(m) }
        for t in logitBias.keys where Int(t) >= vocabSize {
            throw bad("logit_bias token id \(t) is outside the vocabulary (0..<\(vocabSize))")
        }
        for t in allowedTokenIds ?? [] where Int(t) >= vocabSize {
            throw bad("allowed_token_ids holds \(t), outside the vocabulary (0..<\(vocabSize))")
        }
        for t in stopTokenIds where Int(t) >= vocabSize {
            throw bad("stop_token_ids holds \(t), outside the vocabulary (0..<\(vocabSize))")
        }
        for w in badWordsTokenIds { for t in w where t < 0 || Int(t) >= vocabSize {
            throw bad("bad_words token id \(t) is outside the vocabulary (0..<\(vocabSize))")
        } }
    }

    /// Whether sampling is plain argmax over the raw logits (no processor changes them).
    var isPlainGreedy: Bool { temperature == 0 && !hasLogitsProcessors }

    /// Whether any processor of steps 1–3 applies.
    var hasLogitsProcessors: Bool {
        allowedTokenIds != nil || !badWords.isEmpty || !badWordsTokenIds.isEmpty || minTokens > 0 || !logitBias.isEmpty
            || repetitionPenalty != 1 || presencePenalty != 0 || frequencyPenalty != 0
    }
}

/// Beam search (`pagewise generate --beam-width W`, the server's `use_beam_search`): keeps the W
/// most likely sequences by cumulative log-probability; finished beams are scored as
/// `cumulativeLogprob / length^lengthPenalty` (length counts prompt and output, the end token not).
public struct BeamSearchOptions: Sendable, Equatable {
    /// How the search ends (Hugging Face's `early_stopping`).
    public enum EarlyStopping: String, Sendable, Equatable {
        /// Stop as soon as `width` beams have finished.
        case always = "true"
        /// Stop when no running beam can beat the worst finished one at its current length.
        case heuristic = "false"
        /// Run until no running beam can beat the worst finished one at any length up to `maxTokens`.
        case never
    }

    public var width: Int
    public var lengthPenalty: Float = 1
    public var earlyStopping: EarlyStopping = .heuristic

    public init(width: Int, lengthPenalty: Float = 1, earlyStopping: EarlyStopping = .heuristic) {
        self.width = width
        self.lengthPenalty = lengthPenalty
        self.earlyStopping = earlyStopping
    }

    func validate() throws {
        guard (1 ... 64).contains(width) else { throw SamplingError.invalidParameter("beam width must be 1–64, got \(width)") }
        guard lengthPenalty.isFinite else { throw SamplingError.invalidParameter("length_penalty must be finite") }
    }
}

public enum SamplingError: Error, CustomStringConvertible, Sendable {
    case invalidParameter(String)
    /// Every token was banned by the request's constraints at some position.
    case noAllowedToken(String)
    public var description: String {
        switch self {
        case let .invalidParameter(m): return "invalid sampling parameter: \(m)"
        case let .noAllowedToken(m): return "no token can be generated: \(m)"
        }
    }
}

extension String {
    func trimmingPrefixSpaces() -> Substring { drop { $0 == " " } }
}
