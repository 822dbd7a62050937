import GGUF
import Kernels
import Models
import Tokenization

/// Why generation stopped.
public enum FinishReason: String, Sendable, Codable {
    /// An end-of-generation token (or the caller) stopped it.
    case stop
    /// `maxTokens` or the context length was reached.
    case length
    /// The request was cancelled.
    case abort
}

/// Errors about a request (as opposed to the model file).
public enum RequestError: Error, CustomStringConvertible, Sendable {
    case promptTooLong(tokens: Int, limit: Int)
    case emptyPrompt
    case kvPoolExhausted(needed: Int, available: Int)
    case neverFits(tokens: Int, poolTokens: Int)
    case invalidRequest(String)

    public var description: String {
        switch self {
        case let .promptTooLong(t, l): return "the prompt has \(t) tokens but the context holds \(l); shorten it or raise --context"
        case .emptyPrompt: return "the prompt is empty (and the model adds no BOS token); give at least one token"
        case let .kvPoolExhausted(n, a): return "the KV cache needs \(n) blocks but only \(a) are free; raise --context or lower concurrency"
        case let .neverFits(t, p): return "the request needs \(t) tokens of KV cache but the whole pool holds \(p); raise --kv-cache-memory"
        case let .invalidRequest(m): return "invalid request: \(m)"
        }
    }
}

/// One model, its tokenizer and a paged KV pool, driving single sequences: the core of
/// `pagewise generate`, `perplexity` and `bench`.
public final class InferenceSession: @unchecked Sendable {
    public let model: TransformerModel
    public let tokenizer: Tokenizer
    public let cache: KVCacheStorage
    public let blocks: BlockManager
    /// Tokens one sequence may hold (prompt + generated).
    public let contextLength: Int
    /// Most tokens per forward pass (prefill chunk).
    public let maxBatchTokens: Int

    /// Loads `path` with `threads` kernel workers and a KV pool for `contextLength` tokens whose
    /// elements are `kvCacheDType`.
    public init(modelPath path: String, threads: Int, contextLength: Int? = nil, blockSize: Int = 16, maxBatchTokens: Int = 512,
                kvCacheDType: KVCacheDType = .default) throws {
        let file = try GGUFFile(path: path)
        model = try TransformerModel(file: file, pool: ThreadPool(threadCount: max(1, threads)))
        tokenizer = try Tokenizer(gguf: file)
        let ctx = min(contextLength ?? min(model.config.contextLength, 4096), model.config.contextLength)
        self.contextLength = ctx
        guard kvCacheDType.supports(model.config) else {
            throw KVCacheError.unsupportedHeadDim(dtype: kvCacheDType, keyDim: model.config.headDim, valueDim: model.config.valueDim)
        }
        let numBlocks = (ctx + blockSize - 1) / blockSize
        cache = KVCacheStorage(config: model.config, numBlocks: numBlocks, blockSize: blockSize, dtype: kvCacheDType)
        blocks = BlockManager(numBlocks: numBlocks, blockSize: blockSize)
        self.maxBatchTokens = max(1, maxBatchTokens)
    }

    public var config: ModelConfig { model.config }

    /// A block table covering `tokens` positions, or an error saying the pool is short.
    func reserveTable(tokens: Int) throws -> [Int32] {
        var table: [Int32] = []
        guard blocks.ensureCapacity(&table, tokens: tokens) else {
            throw RequestError.kvPoolExhausted(needed: blocks.blocksNeeded(tokens: tokens), available: blocks.freeBlockCount)
        }
        return table
    }

    /// Runs `tokens` through the model from position 0 in chunks of `maxBatchTokens`, writing K/V
    /// through `table`, and hands the logits of every position from `firstLogit` on to `body`.
    private func prefill(_ tokens: [Int32], table: [Int32], logitsFrom firstLogit: Int,
                         _ body: (Int, UnsafeBufferPointer<Float>) throws -> Void) throws {
        var start = 0
        let vocab = config.vocabSize
        var batch = ForwardBatch()
        while start < tokens.count {
            let end = min(tokens.count, start + maxBatchTokens)
            batch.reset()
            batch.append(tokens: tokens[start ..< end], startPosition: start, blockTable: table, wantLogits: .none)
            let wanted = min(max(start, firstLogit), end) ..< end
            for pos in wanted { batch.logitIndices.append(pos - start) }
            let logits = try model.forward(batch, cache: cache)
            for (r, pos) in wanted.enumerated() {
                try body(pos, UnsafeBufferPointer(rebasing: logits[r * vocab ..< (r + 1) * vocab]))
            }
            start = end
        }
    }

    /// Runs `tokens` through the model as one fresh sequence (chunked by `maxBatchTokens`) and
    /// hands the logits of each position from `firstLogit` on to `body` (position, logits).
    public func evaluate(_ tokens: [Int32], logitsFrom firstLogit: Int = 0,
                         _ body: (Int, UnsafeBufferPointer<Float>) throws -> Void) throws {
        guard tokens.count <= contextLength else { throw RequestError.promptTooLong(tokens: tokens.count, limit: contextLength) }
        var table = try reserveTable(tokens: tokens.count)
        defer { blocks.release(&table) }
        try prefill(tokens, table: table, logitsFrom: firstLogit, body)
    }

    /// Generates after `prompt`, calling `onToken` with each sampled token (return false to stop).
    /// The sampled end-of-generation token, if any, is passed too. The logits processors, min/max
    /// tokens and `stopTokenIds` apply; stop strings, logprobs, structured output, n > 1 and beam
    /// search are the engine's (`LLMEngine`, `AsyncEngine`).
    @discardableResult
    public func generate(prompt: [Int32], params: SamplingParams, onToken: (Int32) throws -> Bool) throws -> FinishReason {
        try params.validate()
        guard !prompt.isEmpty else { throw RequestError.emptyPrompt }
        guard prompt.count < contextLength else { throw RequestError.promptTooLong(tokens: prompt.count, limit: contextLength - 1) }
        guard params.beamSearch == nil, params.constraint == nil else {
            throw RequestError.invalidRequest("beam search and structured output run in the engine (LLMEngine / AsyncEngine), not in InferenceSession")
        }
        try params.validate(vocabSize: model.config.vocabSize)
        var sampler = Sampler(params: params, prompt: prompt, badWords: Sampler.badWordSequences(params.badWords, tokenizer: tokenizer),
                              endOfGeneration: tokenizer.endOfGenerationIds)
        let scratch = SamplerScratch()
        var output: [Int32] = []
        output.reserveCapacity(min(params.maxTokens, contextLength))
        var table = try reserveTable(tokens: prompt.count)
        defer { blocks.release(&table) }
        let maxTotal = min(contextLength, prompt.count + params.maxTokens)
        // Logits only for the last prompt token (valid until the next forward pass).
        var logits = UnsafeBufferPointer<Float>(start: nil, count: 0)
        try prefill(prompt, table: table, logitsFrom: prompt.count - 1) { _, row in logits = row }
        var length = prompt.count
        var generated = 0
        var batch = ForwardBatch()
        while true {
            if generated >= params.maxTokens { return .length }
            let token = try sampler.sample(logits, output: output[...], scratch: scratch)
            sampler.observe(token)
            output.append(token)
            generated += 1
            let keepGoing = try onToken(token)
            if params.stopAtEndOfGeneration && tokenizer.isEndOfGeneration(token) { return .stop }
            if params.stopTokenIds.contains(token) { return .stop }
            if !keepGoing { return .stop }
            if generated >= params.maxTokens || length >= maxTotal { return .length }
            guard blocks.ensureCapacity(&table, tokens: length + 1) else {
                throw RequestError.kvPoolExhausted(needed: 1, available: 0)
            }
            batch.reset()
            batch.append(tokens: CollectionOfOne(token), startPosition: length, blockTable: table, wantLogits: .last)
            logits = try model.forward(batch, cache: cache)
            length += 1
        }
    }
}
