import Models

/// How an engine is set up: the model, the KV pool and the scheduler's limits (vLLM's names).
public struct EngineConfig: Sendable {
    /// Path of the GGUF file.
    public var modelPath: String
    /// Kernel worker threads.
    public var threads: Int
    /// Tokens per KV page (1–128).
    public var blockSize = 16
    /// Token budget of one step (prefill chunks + decode tokens).
    public var maxNumBatchedTokens = 512
    /// Most sequences running at once.
    public var maxNumSeqs = 64
    /// Longest sequence (prompt + output); default min(model context, 4096).
    public var maxModelLen: Int?
    public var enablePrefixCaching = true
    public var schedulingPolicy = SchedulingPolicy.fcfs
    /// KV pool size in bytes; if nil, `memoryFraction` of available memory is used.
    public var kvCacheMemory: Int?
    /// Share of available RAM (after weights) for the KV pool when `kvCacheMemory` is nil.
    public var memoryFraction = 0.5
    /// Exact number of KV blocks (overrides the two above; for tests and experiments).
    public var numBlocks: Int?
    /// Element type of the KV pool (`--kv-cache-dtype`); the pool is sized with it.
    public var kvCacheDType = KVCacheDType.default
    /// Keep every layer's K/V for every position (`KVLayout.single`) even when the model has
    /// sliding-window layers, instead of giving back their pages that fell out of the window
    /// (`KVLayout.hybrid`; vLLM's `--disable-hybrid-kv-cache-manager`).
    public var disableHybridKVCacheManager = false
    /// Speculative decoding's draft source (nil: off). Outputs are the same with it on or off.
    public var speculative: SpeculativeMethod? = nil
    /// Most draft tokens verified per sequence and step (`--num-speculative-tokens`, 1–16); each
    /// request's own k adapts below it to its acceptance.
    public var numSpeculativeTokens = 4
    /// No drafting while more sequences than this run (decode is compute-bound there).
    public var speculativeMaxRunning = 8

    public init(modelPath: String, threads: Int) {
        self.modelPath = modelPath
        self.threads = threads
    }

    func validate() throws {
        func bad(_ m: String) -> RequestError { .invalidRequest(m) }
        guard (1 ... 128).contains(blockSize) else { throw bad("block size must be 1–128, got \(blockSize)") }
        guard maxNumBatchedTokens >= 1 else { throw bad("max-num-batched-tokens must be ≥ 1") }
        guard maxNumSeqs >= 1 else { throw bad("max-num-seqs must be ≥ 1") }
        guard threads >= 1 else { throw bad("threads must be ≥ 1") }
        if let m = maxModelLen, m < 2 { throw bad("max-model-len must be ≥ 2") }
        if let n = numBlocks, n < 1 { throw bad("num-blocks must be ≥ 1") }
        guard (1 ... 16).contains(numSpeculativeTokens) else {
            throw bad("num-speculative-tokens must be 1–16, got \(numSpeculativeTokens)")
        }
        guard memoryFraction > 0, memoryFraction <= 1 else { throw bad("memory fraction must be in (0, 1]") }
    }
}

/// Counters of an engine, as a snapshot.
public struct EngineStats: Sendable, Codable {
    public var steps = 0
    /// Tokens run through the model (prefill + decode), excluding prefix-cache hits.
    public var computedTokens = 0
    public var generatedTokens = 0
    public var preemptions = 0
    public var prefixQueryTokens = 0
    public var prefixHitTokens = 0
    public var numBlocks = 0
    public var freeBlocks = 0
    /// Tokens per KV block.
    public var blockSize = 0
    public var running = 0
    public var waiting = 0
    /// Unfilled slots in the last blocks of running sequences, over allocated slots.
    public var kvWasteFraction = 0.0
    /// Blocks in use over all blocks.
    public var kvUtilization = 0.0
    /// Most KV blocks that beams of one beam search referenced together at once (shared, not copied).
    public var beamPeakSharedBlocks = 0
    /// Speculative decoding: verifications with at least one draft token (vLLM's `spec_decode_num_drafts`).
    public var specDraftsTotal = 0
    /// Draft tokens verified.
    public var specDraftTokensTotal = 0
    /// Draft tokens accepted (each saved one forward pass of its own).
    public var specAcceptedTokensTotal = 0
    /// Element j: verifications whose draft token at position j (0-based) was accepted (vLLM's
    /// `spec_decode_num_accepted_tokens_per_pos`); its sum is `specAcceptedTokensTotal`.
    public var specAcceptedTokensPerPosition: [Int] = []
    /// Tokens appended by structured output's jump-forward (forced by the grammar, not sampled).
    public var jumpForwardTokens = 0

    public init() {}
}
