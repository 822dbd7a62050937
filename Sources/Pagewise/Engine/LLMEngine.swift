import Foundation
import GGUF
import Kernels
import Logging
import Models
import Tokenization

/// The engine core: one model, one paged KV pool, a scheduler, and the step loop that runs every
/// scheduled token of every sequence in one forward pass. Not thread-safe: `AsyncEngine` drives it
/// from its own thread; offline users call `step()` themselves.
public final class LLMEngine {
    public let config: EngineConfig
    public let model: TransformerModel
    public let tokenizer: Tokenizer
    public let cache: KVCacheStorage
    public let blocks: BlockManager
    /// Longest sequence (prompt + output) a request may reach.
    public let maxModelLen: Int
    let scheduler: Scheduler
    private var arrivals = 0
    /// Reused every step (storage kept) so steady decoding does not reallocate the batch.
    private var fb = ForwardBatch()
    private var samples: [Bool] = []
    private var stats = EngineStats()
    private let logger = Logger(label: "pagewise.engine")

    public init(config: EngineConfig) throws {
        try config.validate()
        self.config = config
        let file = try GGUFFile(path: config.modelPath)
        model = try TransformerModel(file: file, pool: ThreadPool(threadCount: config.threads))
        tokenizer = try Tokenizer(gguf: file)
        let c = model.config
        let maxLen = min(config.maxModelLen ?? min(c.contextLength, 4096), c.contextLength)
        guard config.kvCacheDType.supports(c) else {
            throw KVCacheError.unsupportedHeadDim(dtype: config.kvCacheDType, keyDim: c.headDim, valueDim: c.valueDim)
        }
        let layout = KVLayout(c, hybrid: !config.disableHybridKVCacheManager)
        let numBlocks: Int
        if let n = config.numBlocks {
            numBlocks = n
        } else {
            // Sized as `pagewise plan` computes it; never more than every sequence at full length needs.
            let weightBytes = file.tensors.reduce(0) { $0 + $1.byteCount } + MemoryPlan.interleavedWeightBytes(file: file)
            let scratch = MemoryPlan.scratchBytes(config: c, tokens: config.maxNumBatchedTokens,
                                                  logitRows: min(config.maxNumSeqs, config.maxNumBatchedTokens))
            let planned = try MemoryPlan.kvPoolBlocks(config: c, blockSize: config.blockSize, context: maxLen,
                                                      kvCacheMemory: config.kvCacheMemory, memoryFraction: config.memoryFraction,
                                                      weightBytes: weightBytes, scratchBytes: scratch,
                                                      kvCacheDType: config.kvCacheDType, layout: layout,
                                                      maxBatchedTokens: config.maxNumBatchedTokens)
            let useful = config.maxNumSeqs * layout.pagesPerSequence(tokens: maxLen, blockSize: config.blockSize,
                                                                     chunk: config.maxNumBatchedTokens)
            numBlocks = config.kvCacheMemory == nil ? min(planned, useful) : planned
        }
        maxModelLen = layout.longestSequence(pages: numBlocks, blockSize: config.blockSize, chunk: config.maxNumBatchedTokens,
                                             limit: maxLen)
        cache = KVCacheStorage(config: c, numBlocks: numBlocks, blockSize: config.blockSize, dtype: config.kvCacheDType,
                               layout: layout)
        blocks = BlockManager(numBlocks: numBlocks, blockSize: config.blockSize, prefixCaching: config.enablePrefixCaching,
                              groupWindows: layout.groupWindows)
        scheduler = Scheduler(blocks: blocks, maxNumBatchedTokens: config.maxNumBatchedTokens,
                              maxNumSeqs: config.maxNumSeqs, policy: config.schedulingPolicy)
        let groups = layout.groupCount == 1 ? "" : ", \(layout.groupCount) KV groups of \(layout.groupSize) layers "
            + "(\(layout.slidingGroupCount) sliding-window)"
        logger.info("KV pool: \(numBlocks) blocks × \(config.blockSize) tokens, \(cache.byteCount / 1_048_576) MiB \(cache.dtype.name)\(groups); max model len \(maxModelLen)")
    }

    /// Whether any request is waiting or running.
    public var hasUnfinishedRequests: Bool { scheduler.hasWork }

    /// Queues a request. `n` > 1 generates that many sequences that share the prompt's blocks.
    /// Throws at once for a request that can never run (empty, longer than the context or the pool,
    /// impossible parameters).
    public func addRequest(id: String, prompt: [Int32], params: SamplingParams, n: Int = 1, priority: Int = 0,
                           sink: @escaping OutputSink) throws {
        try params.validate()
        guard n >= 1, n <= 128 else { throw RequestError.invalidRequest("n must be 1–128, got \(n)") }
        guard !prompt.isEmpty else { throw RequestError.emptyPrompt }
        guard prompt.count < maxModelLen else { throw RequestError.promptTooLong(tokens: prompt.count, limit: maxModelLen - 1) }
        guard cache.layout.pagesPerSequence(tokens: prompt.count + 1, blockSize: blocks.blockSize,
                                            chunk: config.maxNumBatchedTokens) <= blocks.numBlocks else {
            throw RequestError.neverFits(tokens: prompt.count + 1, poolTokens: maxModelLen)
        }
        for t in prompt where t < 0 || Int(t) >= model.config.vocabSize {
            throw ModelError.tokenOutOfRange(token: t, vocabSize: model.config.vocabSize)
        }
        arrivals += 1
        let seq = Sequence(requestId: id, index: 0, arrival: arrivals, priority: priority, params: params, prompt: prompt,
                           tokenizer: tokenizer, forks: n - 1, emit: sink)
        scheduler.add(seq)
    }

    /// Stops every sequence of a request and frees its blocks (takes effect before the next step).
    public func abort(id: String) {
        for seq in scheduler.sequences(of: id) {
            scheduler.finish(seq)
            seq.emit(.success(output(seq, newTokens: [], text: seq.detokenizer.flush(), reason: .abort)))
            // Sequences of an n > 1 request that had not split off yet end here too.
            for i in 0 ..< seq.forksPending {
                seq.emit(.success(RequestOutput(requestId: seq.requestId, index: i + 1, newTokens: [], text: "", finished: true,
                                                finishReason: .abort, promptTokenCount: seq.promptCount, cachedPromptTokenCount: 0)))
            }
            seq.forksPending = 0
        }
    }

    private func output(_ seq: Sequence, newTokens: [Int32], text: String, reason: FinishReason?) -> RequestOutput {
        RequestOutput(requestId: seq.requestId, index: seq.index, newTokens: newTokens, text: text,
                      finished: reason != nil, finishReason: reason, promptTokenCount: seq.promptCount,
                      cachedPromptTokenCount: seq.cachedPromptTokens)
    }

    /// Runs one scheduler step: schedule, one forward pass, sample, stream outputs.
    /// Returns false when there was nothing to run.
    @discardableResult
    public func step() -> Bool {
        let batch = scheduler.schedule()
        guard !batch.isEmpty else { return false }
        for (src, dst) in batch.copies { cache.copyBlock(from: Int(src), to: Int(dst)) }
        fb.reset()
        samples.removeAll(keepingCapacity: true)
        for e in batch.entries {
            let s = e.seq
            let completes = s.numComputed + e.numNew == s.numTokens
            fb.append(tokens: s.tokens[s.numComputed ..< s.numComputed + e.numNew], startPosition: s.numComputed,
                      blockTables: s.blockTables, wantLogits: completes ? .last : .none)
            samples.append(completes)
        }
        let logits: UnsafeBufferPointer<Float>
        do {
            logits = try model.forward(fb, cache: cache)
        } catch {
            // Should not happen for validated requests; fail this batch's requests, keep the engine alive.
            logger.error("forward pass failed: \(error)")
            for e in batch.entries {
                scheduler.finish(e.seq)
                e.seq.emit(.failure(error))
            }
            return true
        }
        stats.steps += 1
        stats.computedTokens += fb.tokens.count
        let vocab = model.config.vocabSize
        var row = 0
        for (k, e) in batch.entries.enumerated() {
            let s = e.seq
            s.numComputed += e.numNew
            blocks.cacheFullBlocks(s.blockTables, tokens: s.tokens, computedTokens: s.numComputed, hashes: &s.blockHashes)
            guard samples[k] else { continue }
            let rowLogits = UnsafeBufferPointer(rebasing: logits[row * vocab ..< (row + 1) * vocab])
            row += 1
            if s.forksPending > 0 { fork(s, logits: rowLogits) }
            let token = s.sampler.sample(rowLogits)
            append(token, to: s)
        }
        return true
    }

    /// n > 1: after the prompt, the other sequences split off, sharing every block by reference.
    private func fork(_ parent: Sequence, logits: UnsafeBufferPointer<Float>) {
        let count = parent.forksPending
        parent.forksPending = 0
        for i in 1 ... count {
            var params = parent.params
            if let seed = params.seed { params.seed = seed &+ UInt64(i) }
            let child = Sequence(requestId: parent.requestId, index: i, arrival: parent.arrival, priority: parent.priority,
                                 params: params, prompt: Array(parent.tokens[..<parent.promptCount]),
                                 tokenizer: tokenizer, forks: 0, emit: parent.emit)
            child.tokens = parent.tokens
            child.numComputed = parent.numComputed
            child.blockHashes = parent.blockHashes
            child.blockTables = blocks.fork(parent.blockTables)
            child.cachedPromptTokens = parent.cachedPromptTokens
            scheduler.addRunning(child)
            append(child.sampler.sample(logits), to: child)
        }
    }

    private func append(_ token: Int32, to s: Sequence) {
        s.tokens.append(token)
        stats.generatedTokens += 1
        var reason: FinishReason?
        if s.params.stopAtEndOfGeneration && tokenizer.isEndOfGeneration(token) {
            reason = .stop
        } else if s.outputCount >= s.params.maxTokens || s.numTokens >= maxModelLen {
            reason = .length
        }
        var text = s.detokenizer.add(token)
        if reason != nil {
            text += s.detokenizer.flush()
            scheduler.finish(s)
        }
        s.emit(.success(output(s, newTokens: [token], text: text, reason: reason)))
    }

    /// A snapshot of the counters.
    public func statistics() -> EngineStats {
        var st = stats
        st.preemptions = scheduler.preemptions
        st.prefixQueryTokens = blocks.prefixQueryTokens
        st.prefixHitTokens = blocks.prefixHitTokens
        st.numBlocks = blocks.numBlocks
        st.freeBlocks = blocks.freeBlockCount
        st.running = scheduler.running.count
        st.waiting = scheduler.waiting.count
        // Per table: slots of the blocks it holds, and how many of them hold computed positions (a
        // sliding-window table's first blocks are given back, -1).
        var slots = 0, used = 0
        for seq in scheduler.running {
            for t in seq.blockTables {
                let first = t.firstIndex { $0 >= 0 } ?? t.count
                slots += (t.count - first) * blocks.blockSize
                used += max(0, min(seq.numComputed, t.count * blocks.blockSize) - first * blocks.blockSize)
            }
        }
        st.kvWasteFraction = slots == 0 ? 0 : Double(slots - used) / Double(slots)
        st.kvUtilization = Double(blocks.numBlocks - blocks.freeBlockCount) / Double(blocks.numBlocks)
        return st
    }

    /// Block tables of every live sequence, every KV group's (for invariant checks).
    public func liveBlockTables() -> [[Int32]] { (scheduler.running + scheduler.waiting).flatMap(\.blockTables) }
}
