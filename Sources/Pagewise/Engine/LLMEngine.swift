import Foundation
import GGUF
import Kernels
import Logging
import Models
import StructuredOutput
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
    /// Per batch entry: first logits row, how many rows, whether it samples (the last row).
    private var rows: [(start: Int, count: Int, samples: Bool)] = []
    /// Shared by every row sampled on this engine's thread.
    let scratch = SamplerScratch()
    private let compilerLock = NSLock()
    private var compiler: GrammarCompiler?
    var stats = EngineStats()
    /// Speculative decoding's drafter (nil when off).
    var speculator: Speculator?
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
        speculator = try Speculator.make(config: config, tokenizer: tokenizer, pool: model.pool, maxModelLen: maxModelLen)
        let groups = layout.groupCount == 1 ? "" : ", \(layout.groupCount) KV groups of \(layout.groupSize) layers "
            + "(\(layout.slidingGroupCount) sliding-window)"
        logger.info("KV pool: \(numBlocks) blocks × \(config.blockSize) tokens, \(cache.byteCount / 1_048_576) MiB \(cache.dtype.name)\(groups); max model len \(maxModelLen)")
    }

    /// Whether any request is waiting or running.
    public var hasUnfinishedRequests: Bool { scheduler.hasWork }

    /// Queues a request. `n` > 1 generates that many sequences that share the prompt's blocks
    /// (with `params.beamSearch`, the beam width decides and `n` is ignored).
    /// Throws at once for a request that can never run (empty, longer than the context or the pool,
    /// impossible parameters).
    public func addRequest(id: String, prompt: [Int32], params: SamplingParams, n: Int = 1, priority: Int = 0,
                           grammar: CompiledGrammar? = nil, sink: @escaping OutputSink) throws {
        try params.validate(vocabSize: model.config.vocabSize)
        // A constraint not compiled by the caller is compiled here (AsyncEngine compiles off this thread).
        let compiled = try grammar ?? params.constraint.map { try grammarCompiler().compile($0) }
        guard n >= 1, n <= 128 else { throw RequestError.invalidRequest("n must be 1–128, got \(n)") }
        guard !prompt.isEmpty else { throw RequestError.emptyPrompt }
        guard prompt.count < maxModelLen else { throw RequestError.promptTooLong(tokens: prompt.count, limit: maxModelLen - 1) }
        let width = params.beamSearch?.width ?? 1
        guard width * cache.layout.pagesPerSequence(tokens: prompt.count + 1, blockSize: blocks.blockSize,
                                                    chunk: config.maxNumBatchedTokens) <= blocks.numBlocks else {
            throw RequestError.neverFits(tokens: prompt.count + 1, poolTokens: maxModelLen)
        }
        for t in prompt where t < 0 || Int(t) >= model.config.vocabSize {
            throw ModelError.tokenOutOfRange(token: t, vocabSize: model.config.vocabSize)
        }
        arrivals += 1
        let seq = Sequence(requestId: id, index: 0, arrival: arrivals, priority: priority, params: params, prompt: prompt,
                           tokenizer: tokenizer, badWords: Sampler.badWordSequences(params.badWords, tokenizer: tokenizer),
                           forks: params.beamSearch == nil ? n - 1 : 0, emit: sink)
        seq.matcher = compiled.map(GrammarMatcher.init)
        if let options = params.beamSearch {
            let group = BeamGroup(options: options, requestId: id, promptCount: prompt.count, maxTokens: params.maxTokens,
                                  ignoreEOS: params.ignoreEOS, emit: sink)
            group.live = [seq]
            seq.beam = group
        }
        scheduler.add(seq)
    }

    /// The engine's structured-output compiler (built on first use; thread-safe, caches grammars by
    /// a stable hash of the constraint).
    public func grammarCompiler() -> GrammarCompiler {
        compilerLock.lock()
        defer { compilerLock.unlock() }
        if let c = compiler { return c }
        let c = GrammarCompiler(vocabulary: TokenVocabulary(tokenizer: tokenizer))
        compiler = c
        return c
    }

    /// Stops every sequence of a request and frees its blocks (takes effect before the next step).
    public func abort(id: String) {
        var beamGroups: [ObjectIdentifier: BeamGroup] = [:]
        for seq in scheduler.sequences(of: id) {
            scheduler.finish(seq)
            if let g = seq.beam {
                beamGroups[ObjectIdentifier(g)] = g
                continue
            }
            seq.emit(.success(output(seq, newTokens: [], text: seq.stopMatcher.flush() + seq.detokenizer.flush(), reason: .abort)))
            // Sequences of an n > 1 request that had not split off yet end here too.
            for i in 0 ..< seq.forksPending {
                seq.emit(.success(RequestOutput(requestId: seq.requestId, index: i + 1, newTokens: [], text: "", finished: true,
                                                finishReason: .abort, promptTokenCount: seq.promptCount, cachedPromptTokenCount: 0)))
            }
            seq.forksPending = 0
        }
        for g in beamGroups.values { g.abort() }
    }

    func output(_ seq: Sequence, newTokens: [Int32], text: String, reason: FinishReason?) -> RequestOutput {
        RequestOutput(requestId: seq.requestId, index: seq.index, newTokens: newTokens, text: text,
                      finished: reason != nil, finishReason: reason, promptTokenCount: seq.promptCount,
                      cachedPromptTokenCount: seq.cachedPromptTokens)
    }

    /// Runs one scheduler step: schedule, one forward pass, sample, stream outputs.
    /// Returns false when there was nothing to run.
    @discardableResult
    public func step() -> Bool {
        speculator?.propose(scheduler.running, maxModelLen: maxModelLen, endsGeneration: endsGeneration)
        let batch = scheduler.schedule()
        guard !batch.isEmpty else { return false }
        for (src, dst) in batch.copies { cache.copyBlock(from: Int(src), to: Int(dst)) }
        fb.reset()
        rows.removeAll(keepingCapacity: true)
        var nextRow = 0
        for e in batch.entries {
            let s = e.seq
            if e.numNew > s.numTokens - s.numComputed {
                // Speculative decoding: the pending token and the draft, a logits row for each.
                s.spec.draft.insert(s.tokens[s.numComputed], at: 0)
                fb.append(tokens: s.spec.draft, startPosition: s.numComputed, blockTables: s.blockTables, wantLogits: .all)
                s.spec.draft.removeFirst()
                rows.append((nextRow, e.numNew, true))
                nextRow += e.numNew
                continue
            }
            let completes = s.numComputed + e.numNew == s.numTokens
            // Prompt logprobs: a row for every position of a prefill chunk.
            let all = s.params.promptLogprobs != nil && s.inPrefill
            let count = all ? e.numNew : (completes ? 1 : 0)
            fb.append(tokens: s.tokens[s.numComputed ..< s.numComputed + e.numNew], startPosition: s.numComputed,
                      blockTables: s.blockTables, wantLogits: all ? .all : (completes ? .last : .none))
            rows.append((nextRow, count, completes))
            nextRow += count
        }
        let logits: UnsafeBufferPointer<Float>
        // Speculative decoding learns what a step of a lone decoding sequence costs per token count.
        let lone = batch.entries.count == 1 && !batch.entries[0].seq.inPrefill
            && batch.entries[0].seq.numTokens - batch.entries[0].seq.numComputed == 1
        let started = speculator != nil && lone ? DispatchTime.now().uptimeNanoseconds : 0
        do {
            logits = try model.forward(fb, cache: cache)
            if started > 0 {
                speculator?.length.recordStep(tokens: fb.tokens.count, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            }
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
        func row(_ r: Int) -> UnsafeBufferPointer<Float> { UnsafeBufferPointer(rebasing: logits[r * vocab ..< (r + 1) * vocab]) }
        var beamGroups: [BeamGroup] = []
        for (k, e) in batch.entries.enumerated() {
            let s = e.seq
            let first = s.numComputed
            if e.numNew > s.numTokens - first {
                verify(s, first: first, draft: s.spec.draft, rows: rows[k].start, row: row)
                continue
            }
            s.numComputed += e.numNew
            blocks.cacheFullBlocks(s.blockTables, tokens: s.tokens, computedTokens: s.numComputed, hashes: &s.blockHashes)
            let (start, count, completes) = rows[k]
            if let top = s.params.promptLogprobs, count > 0, first < s.promptCount {
                recordPromptLogprobs(s, firstPosition: first, rows: start, count: count, top: top, row: row)
            }
            guard completes else { continue }
            let sampleRow = row(start + count - 1)
            if let g = s.beam {
                s.beamCandidates = g.candidates(sampleRow, scratch: scratch)
                if !beamGroups.contains(where: { $0 === g }) { beamGroups.append(g) }
                continue
            }
            if s.forksPending > 0 { fork(s, logits: sampleRow) }
            sample(s, sampleRow)
        }
        for g in beamGroups where g.isReady { advance(g) }
        return true
    }

    /// Prompt logprobs of the tokens that the rows of this chunk predict (idempotent after preemption).
    private func recordPromptLogprobs(_ s: Sequence, firstPosition: Int, rows start: Int, count: Int, top: Int,
                                      row: (Int) -> UnsafeBufferPointer<Float>) {
        if s.promptLogprobs.isEmpty { s.promptLogprobs.append(nil) }
        for r in 0 ..< count {
            let target = firstPosition + r + 1
            guard target < s.promptCount, target == s.promptLogprobs.count else { continue }
            s.promptLogprobs.append(Sampler.logprobs(row(start + r), token: s.tokens[target], k: top, scratch: scratch))
        }
    }

    /// Samples one token for `s` from its row and appends it; a request whose constraints leave no
    /// token fails alone.
    func sample(_ s: Sequence, _ rowLogits: UnsafeBufferPointer<Float>) {
        do {
            let token: Int32
            if let m = s.matcher {
                let words = m.grammar.vocabulary.maskWordCount
                if scratch.mask.count < words { scratch.mask = [UInt32](repeating: 0, count: words) }
                token = try scratch.mask.withUnsafeMutableBufferPointer { buf in
                    let mask = UnsafeMutableBufferPointer(rebasing: buf[0 ..< words])
                    m.fillNextTokenBitmask(mask)
                    return try s.sampler.sample(rowLogits, output: s.tokens[s.promptCount...], mask: UnsafeBufferPointer(mask),
                                                scratch: scratch)
                }
                m.accept(token)
            } else {
                token = try s.sampler.sample(rowLogits, output: s.tokens[s.promptCount...], scratch: scratch)
            }
            let lp = s.params.logprobs.map { Sampler.logprobs(rowLogits, token: token, k: $0, scratch: scratch) }
            append(token, to: s, logprobs: lp)
            jumpForward(s)
        } catch {
            scheduler.finish(s)
            s.emit(.failure(error))
        }
    }

    /// n > 1: after the prompt, the other sequences split off, sharing every block by reference.
    private func fork(_ parent: Sequence, logits: UnsafeBufferPointer<Float>) {
        let count = parent.forksPending
        parent.forksPending = 0
        for i in 1 ... count {
            let child = parent.fork(index: i)
            child.sampler.reseed(parent.params.seed.map { $0 &+ UInt64(i) })
            child.promptLogprobs = []
            child.blockTables = blocks.fork(parent.blockTables)
            scheduler.addRunning(child)
            sample(child, logits)
        }
    }

    /// Jump-forward (as SGLang): where the grammar allows only one continuation, its tokens are
    /// appended without sampling; the next step computes them like a prefill chunk.
    private func jumpForward(_ s: Sequence) {
        guard let m = s.matcher, s.params.jumpForward, s.params.logprobs == nil, s.status == .running, !m.isTerminated else { return }
        let forced = m.forcedContinuation()
        guard !forced.isEmpty, let text = String(validating: forced, as: UTF8.self) else { return }
        for t in tokenizer.encode(text, addSpecial: false, parseSpecial: false) {
            guard s.status == .running, m.accept(t) else { return }
            stats.jumpForwardTokens += 1
            append(t, to: s, logprobs: nil)
        }
    }

    /// The request's end-of-sequence token (unless it ignores EOS).
    private func isEOS(_ s: Sequence, _ token: Int32) -> Bool { !s.params.ignoreEOS && tokenizer.isEndOfGeneration(token) }

    /// Whether `token` by itself ends `s`: its EOS or one of its stop token ids (the speculator
    /// cuts drafts after such a token too).
    private func endsGeneration(_ s: Sequence, _ token: Int32) -> Bool {
        isEOS(s, token) || s.params.stopTokenIds.contains(token)
    }

    private func append(_ token: Int32, to s: Sequence, logprobs: PositionLogprobs?) {
        s.tokens.append(token)
        s.sampler.observe(token)
        stats.generatedTokens += 1
        if let lp = logprobs { s.cumulativeLogprob += Double(lp.logprob) }
        var reason: FinishReason?
        var stopReason: StopReason?
        if endsGeneration(s, token) {
            reason = .stop
            if !isEOS(s, token) { stopReason = .token(token) }
        }
        var text = s.detokenizer.add(token)
        let matching = !s.stopMatcher.isEmpty && s.outputCount >= s.params.minTokens
        if matching {
            let r = s.stopMatcher.feed(text)
            text = r.text
            if let m = r.matched {
                reason = .stop
                stopReason = .string(m)
            }
        }
        if reason == nil && (s.outputCount >= s.params.maxTokens || s.numTokens >= maxModelLen) { reason = .length }
        if reason != nil {
            if case .string = stopReason {} else {
                var tail = s.detokenizer.flush()
                if matching {
                    let r = s.stopMatcher.feed(tail)
                    tail = r.text
                    if let m = r.matched { stopReason = .string(m) } else { tail += s.stopMatcher.flush() }
                }
                text += tail
            }
            scheduler.finish(s)
            speculator?.retire(s)
        }
        var out = output(s, newTokens: [token], text: text, reason: reason)
        out.stopReason = stopReason
        if let lp = logprobs {
            out.logprobs = [lp]
            out.cumulativeLogprob = s.cumulativeLogprob
        }
        if s.params.promptLogprobs != nil, s.outputCount == 1, s.index == 0 { out.promptLogprobs = s.promptLogprobs }
        if s.outputCount == 1, s.index == 0, let t = s.firstScheduledAt { out.queueSeconds = Double(t &- s.addedAt) / 1e9 }
        s.emit(.success(out))
    }

    /// A snapshot of the counters.
    public func statistics() -> EngineStats {
        var st = stats
        st.preemptions = scheduler.preemptions
        st.prefixQueryTokens = blocks.prefixQueryTokens
        st.prefixHitTokens = blocks.prefixHitTokens
        st.numBlocks = blocks.numBlocks
        st.blockSize = blocks.blockSize
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
