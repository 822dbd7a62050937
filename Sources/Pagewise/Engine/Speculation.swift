import Foundation
import Kernels
import Tokenization

/// A sequence's speculative-decoding state.
struct SpeculationState {
    /// Tokens drafted for this step (verified after the sequence's pending token; the scheduler may
    /// shorten them to fit the token budget or the pool).
    var draft: [Int32] = []
    /// This sequence's current number of draft tokens (adaptive; 0 until its first draft).
    var k = 0
    /// The draft source's own state for this sequence.
    var source: AnyObject?
    /// Steps left without drafting, and how many the next miss costs (doubling to 16 while single
    /// draft tokens keep being rejected; a drafting source that keeps missing costs nearly nothing).
    var pause = 0
    var backoff = 1
    /// Accepted draft tokens and rejections, decaying (a prior of 4 to 1): the per-token acceptance
    /// the draft length is chosen for.
    var hits = 4.0
    var misses = 1.0
    var acceptance: Double { hits / (hits + misses) }
    /// The next draft after a pause is a probe: drafted whatever the cost model says, to learn
    /// whether acceptance came back.
    var probe = false
    /// The pause came from the cost model (no k pays), not from rejections: an accepted probe does
    /// not reset the backoff then, only a k that pays again does.
    var costPaused = false
}

/// Drafts tokens for decoding sequences and adapts each one's k to its acceptance.
final class Speculator {
    let source: any DraftSource
    let maxK: Int
    let maxRunning: Int
    /// Step and draft costs, learned from this engine's steps of a lone decoding sequence.
    var length = DraftLength()

    init(source: any DraftSource, maxK: Int, maxRunning: Int) {
        self.source = source
        self.maxK = maxK
        self.maxRunning = maxRunning
    }

    /// Sets `draft` of every running sequence for the coming step (empty where speculation does
    /// not apply: prefill, beam search, opted out, a large batch, no room left). A lone sequence
    /// drafts as many tokens as pay for themselves (`DraftLength`), none when no length does (then
    /// it pauses, doubling the pause up to 16 steps, and probes again).
    /// `endsGeneration(s, t)`: token t would finish s (its EOS or a stop token id); a draft is cut
    /// after the first such token, since nothing after it could be kept.
    func propose(_ running: [Sequence], maxModelLen: Int, endsGeneration: (Sequence, Int32) -> Bool) {
        let on = running.count <= maxRunning
        let costs = running.count == 1 ? length.relativeCosts : nil
        for s in running {
            s.spec.draft.removeAll(keepingCapacity: true)
            guard on, s.params.speculative, s.beam == nil, s.forksPending == 0, !s.inPrefill,
                  s.numTokens - s.numComputed == 1 else { continue }
            if s.spec.k == 0 { s.spec.k = maxK }
            if s.spec.pause > 0 {
                s.spec.pause -= 1
                continue
            }
            // All k accepted plus the bonus token must fit max_tokens and the model length.
            let room = min(s.params.maxTokens - s.outputCount, maxModelLen - s.numTokens) - 1
            var k = min(s.spec.k, room)
            guard k > 0 else { continue }
            if let c = costs, !s.spec.probe {
                k = DraftLength.best(acceptance: s.spec.acceptance, maxK: k, step: c.step, draftPerToken: c.draftPerToken)
                if k == 0 {
                    s.spec.pause = s.spec.backoff
                    s.spec.backoff = min(16, s.spec.backoff * 2)
                    s.spec.probe = true
                    s.spec.costPaused = true
                    continue
                }
                if s.spec.costPaused {
                    s.spec.costPaused = false
                    s.spec.backoff = 1
                }
            }
            s.spec.probe = false
            let started = costs == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            s.spec.draft = source.propose(s.tokens, promptCount: s.promptCount, k: k, state: &s.spec.source)
            if s.spec.draft.count > k { s.spec.draft.removeLast(s.spec.draft.count - k) }
            if let end = s.spec.draft.firstIndex(where: { endsGeneration(s, $0) }), end + 1 < s.spec.draft.count {
                s.spec.draft.removeLast(s.spec.draft.count - end - 1)
            }
            if costs != nil {
                length.recordDraft(tokens: s.spec.draft.count, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            }
        }
    }

    /// After a verification of `drafted` tokens of which `accepted` were kept: grow k after a full
    /// acceptance, otherwise shrink it to one more than what was kept.
    func record(_ s: Sequence, drafted: Int, accepted: Int) {
        s.spec.hits = 0.8 * s.spec.hits + Double(accepted)
        s.spec.misses = 0.8 * s.spec.misses + (accepted < drafted ? 1 : 0)
        if accepted == 0 && s.spec.k == 1 {
            s.spec.pause = s.spec.backoff
            s.spec.backoff = min(16, s.spec.backoff * 2)
        } else if accepted > 0 && !s.spec.costPaused {
            s.spec.backoff = 1
        }
        s.spec.k = accepted == drafted ? min(maxK, s.spec.k + 1) : max(1, min(s.spec.k, accepted + 1))
    }

    func retire(_ s: Sequence) {
        source.retire(s.tokens, promptCount: s.promptCount, state: &s.spec.source)
        s.spec.source = nil
    }
}

extension Sequence {
    /// Tokens the scheduler may add to this sequence's pending ones: its draft, cut to what fits
    /// `budget` and the chunk limit (0 when it is not decoding).
    func scheduledDraft(budget: Int) -> Int {
        guard !spec.draft.isEmpty else { return 0 }
        let pending = numTokens - numComputed
        guard pending == 1 else {
            spec.draft.removeAll()
            return 0
        }
        let fit = max(0, min(spec.draft.count, budget - 1, chunkLimit - 1))
        if fit < spec.draft.count { spec.draft.removeLast(spec.draft.count - fit) }
        return fit
    }
}

extension LLMEngine {
    /// Verifies the draft of `s` scored in this step: position j's logits (row `start + j`) are
    /// sampled by the request's own sampler after the tokens before j were appended (so penalties,
    /// bias and bad words see exactly what token-by-token decoding would); the draft token is kept
    /// while it equals the sampled one, and the first differing sample (or the bonus token after a
    /// fully accepted draft) ends the run. Each token goes through the ordinary append, so EOS,
    /// stop strings and max_tokens cut the run exactly where decoding would. The K/V of rejected
    /// positions is dropped: `numComputed` covers only kept tokens, blocks past it are freed, and
    /// only kept tokens ever reach the prefix cache. With a structured-output constraint the grammar
    /// mask applies position by position too (the matcher advances with each appended token).
    func verify(_ s: Sequence, first: Int, draft: [Int32], rows start: Int, row: (Int) -> UnsafeBufferPointer<Float>) {
        s.numComputed = first + 1
        blocks.cacheFullBlocks(s.blockTables, tokens: s.tokens, computedTokens: s.numComputed, hashes: &s.blockHashes)
        var accepted = 0
        for j in 0 ... draft.count {
            let before = s.numTokens
            sample(s, row(start + j))
            guard s.numTokens > before, j < draft.count, s.tokens[before] == draft[j] else { break }
            // A kept draft token that finished the sequence (EOS, a stop token or string, the
            // length) was still drafted right.
            accepted += 1
            guard s.status != .finished else { break }
            s.numComputed += 1
            blocks.cacheFullBlocks(s.blockTables, tokens: s.tokens, computedTokens: s.numComputed, hashes: &s.blockHashes)
            // Structured output's jump-forward appended forced tokens after it: the next step
            // computes them like a prefill chunk, and the rest of the draft no longer lines up.
            if s.numTokens > before + 1 { break }
        }
        stats.specDraftsTotal += 1
        stats.specDraftTokensTotal += draft.count
        stats.specAcceptedTokensTotal += accepted
        // One element per draft position seen so far (zero where none was accepted yet).
        let seen = stats.specAcceptedTokensPerPosition.count
        if seen < draft.count { stats.specAcceptedTokensPerPosition += [Int](repeating: 0, count: draft.count - seen) }
        for j in 0 ..< accepted { stats.specAcceptedTokensPerPosition[j] += 1 }
        speculator?.record(s, drafted: draft.count, accepted: accepted)
        s.spec.draft.removeAll(keepingCapacity: true)
        if s.status != .finished { blocks.truncate(&s.blockTables, tokens: s.numComputed) }
    }
}

extension Speculator {
    /// The drafter `config.speculative` asks for (nil when off).
    static func make(config: EngineConfig, tokenizer: Tokenizer, pool: ThreadPool, maxModelLen: Int) throws -> Speculator? {
        guard let method = config.speculative else { return nil }
        let source: any DraftSource
        switch method {
        case .ngram: source = NgramProposer()
        case .suffix: source = SuffixProposer()
        case let .draftModel(path):
            let perSequence = (maxModelLen + config.numSpeculativeTokens + config.blockSize - 1) / config.blockSize + 1
            source = try DraftModelProposer(path: path, target: tokenizer, pool: pool, blockSize: config.blockSize,
                                            numBlocks: perSequence * max(1, min(config.speculativeMaxRunning, config.maxNumSeqs)))
        }
        return Speculator(source: source, maxK: config.numSpeculativeTokens, maxRunning: config.speculativeMaxRunning)
    }
}

extension LLMEngine {
    /// Turns speculative decoding on with a draft source of the caller's (replacing the one of
    /// `config.speculative`): up to `maxTokens` draft tokens per sequence and step, none while more
    /// than `maxRunning` sequences run. Outputs do not depend on the source; only speed does.
    public func useDraftSource(_ source: any DraftSource, maxTokens: Int, maxRunning: Int = 8) {
        precondition(maxTokens >= 1, "at least one draft token")
        speculator = Speculator(source: source, maxK: maxTokens, maxRunning: maxRunning)
    }

    /// Makes the draft source forget earlier requests (suffix decoding's recent outputs), so the
    /// next request is drafted as a first-time one.
    public func forgetSpeculationHistory() {
        speculator?.source.forgetRecentRequests()
    }
}
