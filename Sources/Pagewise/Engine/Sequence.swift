import Tokenization

/// One incremental result of a request, as streamed by `AsyncEngine.generate`.
public struct RequestOutput: Sendable {
    public let requestId: String
    /// Which of the request's `n` sequences this is (0 when n = 1).
    public let index: Int
    /// Tokens added since the previous output (the final end-of-generation token included).
    public let newTokens: [Int32]
    /// Text added since the previous output (never half a UTF-8 character, never the start of a
    /// stop string that may still complete).
    public let text: String
    public let finished: Bool
    public let finishReason: FinishReason?
    public let promptTokenCount: Int
    /// Prompt tokens served from the prefix cache when the request was admitted.
    public let cachedPromptTokenCount: Int
    /// What stopped a `.stop` finish: a stop string, a stop token, or nil for end of generation.
    public var stopReason: StopReason? = nil
    /// With `logprobs`: one entry per token of `newTokens`.
    public var logprobs: [PositionLogprobs]? = nil
    /// With `promptLogprobs`, on the first output only: one entry per prompt token (nil for the first).
    public var promptLogprobs: [PositionLogprobs?]? = nil
    /// Sum of the raw log-probabilities of every token generated so far (with `logprobs`, or beam search).
    public var cumulativeLogprob: Double? = nil

    public init(requestId: String, index: Int, newTokens: [Int32], text: String, finished: Bool,
                finishReason: FinishReason?, promptTokenCount: Int, cachedPromptTokenCount: Int) {
        self.requestId = requestId
        self.index = index
        self.newTokens = newTokens
        self.text = text
        self.finished = finished
        self.finishReason = finishReason
        self.promptTokenCount = promptTokenCount
        self.cachedPromptTokenCount = cachedPromptTokenCount
    }
}

/// Why a sequence finished with `.stop` besides the model's end of generation (vLLM's `stop_reason`).
public enum StopReason: Sendable, Equatable {
    case string(String)
    case token(Int32)
}

/// The log-probabilities at one position: the token there and the most likely alternatives, from
/// the model's raw distribution.
public struct PositionLogprobs: Sendable, Equatable {
    /// The token at this position (generated or from the prompt).
    public let token: Int32
    public let logprob: Float
    /// 1 for the most likely token.
    public let rank: Int
    /// The `k` most likely tokens, most likely first (lower id first among equals).
    public let top: [TokenLogprob]

    public init(token: Int32, logprob: Float, rank: Int, top: [TokenLogprob]) {
        self.token = token
        self.logprob = logprob
        self.rank = rank
        self.top = top
    }
}

public struct TokenLogprob: Sendable, Equatable {
    public let token: Int32
    public let logprob: Float
    public init(token: Int32, logprob: Float) {
        self.token = token
        self.logprob = logprob
    }
}

/// Receives a request's outputs, or the error that ended it, on the engine's thread.
public typealias OutputSink = @Sendable (Result<RequestOutput, any Error>) -> Void

/// Where a sequence is in its life.
public enum SequenceStatus: Sendable { case waiting, running, finished }

/// A sequence being generated: its tokens, its block tables (one per KV group), and how much of it
/// the KV cache holds.
final class Sequence {
    let requestId: String
    let index: Int
    let arrival: Int
    let priority: Int
    let params: SamplingParams
    let promptCount: Int
    var tokens: [Int32]
    var numComputed = 0
    var blockTables: [[Int32]] = []
    var blockHashes: [UInt64] = []
    var status: SequenceStatus = .waiting
    var sampler: Sampler
    var detokenizer: IncrementalDetokenizer
    var pendingTokens: [Int32] = []
    var cachedPromptTokens = 0
    /// Extra sequences to fork after the first sample (n > 1); 0 for children.
    var forksPending: Int
    let emit: OutputSink

    init(requestId: String, index: Int, arrival: Int, priority: Int, params: SamplingParams, prompt: [Int32],
         tokenizer: Tokenizer, forks: Int, emit: @escaping OutputSink) {
        self.requestId = requestId
        self.index = index
        self.arrival = arrival
        self.priority = priority
        self.params = params
        promptCount = prompt.count
        tokens = prompt
        sampler = Sampler(params: params)
        detokenizer = IncrementalDetokenizer(tokenizer: tokenizer, skipSpecial: true, isStartOfText: false)
        forksPending = forks
        self.emit = emit
    }

    var numTokens: Int { tokens.count }
    var outputCount: Int { tokens.count - promptCount }
}
