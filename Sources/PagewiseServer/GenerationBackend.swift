import Pagewise
import Tokenization

/// What the server needs from an engine: generation streams, aborts and counters.
/// `AsyncEngine` is the real one; tests may put a scripted one in its place.
public protocol GenerationBackend: AnyObject, Sendable {
    /// The model's tokenizer.
    var tokenizer: Tokenizer { get }
    /// Longest sequence (prompt + output).
    var maxModelLen: Int { get }
    /// Starts a request; its outputs (all `n` sequences) arrive on the stream, which ends when all finished.
    func generate(promptTokens: [Int32], params: SamplingParams, n: Int, priority: Int,
                  requestId: String?) -> AsyncThrowingStream<RequestOutput, any Error>
    /// Stops a request and frees its blocks.
    func abort(requestId: String)
    /// The counters `/metrics` shows, as of the last step.
    func servingStats() -> ServingStats
    /// Stops the engine.
    func shutdown()
}

/// What `/metrics` reads from an engine.
public struct ServingStats: Sendable, Equatable {
    /// Requests running.
    public var running = 0
    /// Requests waiting.
    public var waiting = 0
    /// Blocks in use over all blocks (0–1).
    public var kvUtilization = 0.0
    /// Prompt tokens looked up in the prefix cache, ever.
    public var prefixQueryTokens = 0
    /// Prompt tokens found there, ever.
    public var prefixHitTokens = 0
    /// Preemptions, ever.
    public var preemptions = 0
    /// KV blocks in the pool (0: unknown, then `vllm:cache_config_info` is left out).
    public var numBlocks = 0
    /// Tokens per KV block.
    public var blockSize = 0
    /// Speculative decoding, ever: verifications with a draft, draft tokens verified, accepted ones,
    /// and accepted ones per draft position.
    public var specDrafts = 0
    public var specDraftTokens = 0
    public var specAcceptedTokens = 0
    public var specAcceptedPerPosition: [Int] = []

    /// All zero.
    public init() {}

    /// The figures of an engine's counters.
    public init(_ s: EngineStats) {
        running = s.running
        waiting = s.waiting
        kvUtilization = s.kvUtilization
        prefixQueryTokens = s.prefixQueryTokens
        prefixHitTokens = s.prefixHitTokens
        preemptions = s.preemptions
        numBlocks = s.numBlocks
        blockSize = s.blockSize
        specDrafts = s.specDraftsTotal
        specDraftTokens = s.specDraftTokensTotal
        specAcceptedTokens = s.specAcceptedTokensTotal
        specAcceptedPerPosition = s.specAcceptedTokensPerPosition
    }
}

extension AsyncEngine: GenerationBackend {
    /// The engine's counters as `/metrics` shows them.
    public func servingStats() -> ServingStats { ServingStats(stats()) }
}
