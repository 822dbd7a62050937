import Dispatch
import StructuredOutput
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
    /// On the first output: seconds the request waited before it was first scheduled.
    public var queueSeconds: Double? = nil

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
    /// Which of the request's `n` sequences this is (for beam search: its slot while searching).
    var index: Int
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
    var stopMatcher: StopStringMatcher
    var cachedPromptTokens = 0
    /// Extra sequences to fork after the first sample (n > 1); 0 for children.
    var forksPending: Int
    /// Sum of the raw log-probabilities of the generated tokens (with logprobs or beam search).
    var cumulativeLogprob = 0.0
    /// With `promptLogprobs`: one entry per prompt position scored so far (nil for the first).
    var promptLogprobs: [PositionLogprobs?] = []
    /// Most tokens of this sequence one step may compute (prompt logprobs need a logits row per token).
    var chunkLimit = Int.max
    /// Whether admission may reuse cached prefix blocks (not when prompt logprobs are wanted).
    var readsPrefixCache = true
    /// The beam search this sequence is a beam of.
    var beam: BeamGroup?
    /// A beam's candidates from its latest logits: (token, log-probability), best first.
    var beamCandidates: [(token: Int32, logprob: Float)]?
    /// The structured-output state (with `params.constraint`).
    var matcher: GrammarMatcher?
    /// When the request was added, and when it was first scheduled (uptime nanoseconds).
    let addedAt = DispatchTime.now().uptimeNanoseconds
    var firstScheduledAt: UInt64?
    let emit: OutputSink

    init(requestId: String, index: Int, arrival: Int, priority: Int, params: SamplingParams, prompt: [Int32],
         tokenizer: Tokenizer, badWords: [[Int32]], forks: Int, emit: @escaping OutputSink) {
        self.requestId = requestId
        self.index = index
        self.arrival = arrival
        self.priority = priority
        self.params = params
        promptCount = prompt.count
        tokens = prompt
        sampler = Sampler(params: params, prompt: prompt, badWords: badWords, endOfGeneration: tokenizer.endOfGenerationIds)
        detokenizer = IncrementalDetokenizer(tokenizer: tokenizer, skipSpecial: params.skipSpecialTokens, isStartOfText: false)
        stopMatcher = StopStringMatcher(stops: params.stop, includeInOutput: params.includeStopStrInOutput)
        forksPending = forks
        self.emit = emit
        if params.promptLogprobs != nil {
            chunkLimit = 64
            readsPrefixCache = false
        }
    }

    /// A copy that shares nothing mutable but the emit sink (block tables are forked by the caller).
    func fork(index: Int) -> Sequence {
        let c = Sequence(copying: self, index: index)
        return c
    }

    private init(copying s: Sequence, index: Int) {
        requestId = s.requestId
        self.index = index
        arrival = s.arrival
        priority = s.priority
        params = s.params
        promptCount = s.promptCount
        tokens = s.tokens
        numComputed = s.numComputed
        blockHashes = s.blockHashes
        status = s.status
        sampler = s.sampler
        detokenizer = s.detokenizer
        stopMatcher = s.stopMatcher
        cachedPromptTokens = s.cachedPromptTokens
        forksPending = 0
        cumulativeLogprob = s.cumulativeLogprob
        chunkLimit = s.chunkLimit
        readsPrefixCache = s.readsPrefixCache
        beam = s.beam
        emit = s.emit
        if let m = s.matcher {
            // A matcher of its own, brought to the parent's state.
            let copy = GrammarMatcher(m.grammar)
            for t in s.tokens[s.promptCount...] { copy.accept(t) }
            matcher = copy
        }
    }

    var numTokens: Int { tokens.count }
    var outputCount: Int { tokens.count - promptCount }
    /// Whether the prompt is still being computed.
    var inPrefill: Bool { numComputed < promptCount }
}
