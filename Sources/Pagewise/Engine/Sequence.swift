import Tokenization

/// One incremental result of a request, as streamed by `AsyncEngine.generate`.
public struct RequestOutput: Sendable {
    public let requestId: String
    /// Which of the request's `n` sequences this is (0 when n = 1).
    public let index: Int
    /// Tokens added since the previous output (the final end-of-generation token included).
    public let newTokens: [Int32]
    /// Text added since the previous output (never half a UTF-8 character).
    public let text: String
    public let finished: Bool
    public let finishReason: FinishReason?
    public let promptTokenCount: Int
    /// Prompt tokens served from the prefix cache when the request was admitted.
    public let cachedPromptTokenCount: Int
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
