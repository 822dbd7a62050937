import Foundation

/// One beam-search request: its live beams (sequences sharing KV blocks by reference count, copied
/// only when a beam writes into a shared block) and the finished hypotheses.
///
/// Each step every live beam proposes its 2·W most likely next tokens (raw log-softmax); the W best
/// continuations by cumulative log-probability become the next beams. An end-of-generation token
/// among the first W candidates finishes a hypothesis, scored `cumulative / length^lengthPenalty`
/// (length = prompt + output tokens, the end token not counted); the W best hypotheses are kept
/// (Hugging Face's `BeamHypotheses`). At `maxTokens` the live beams finish too.
final class BeamGroup {
    let options: BeamSearchOptions
    let requestId: String
    let promptCount: Int
    let maxTokens: Int
    let ignoreEOS: Bool
    let emit: OutputSink
    var live: [Sequence] = []
    /// Best first, at most `width`.
    private(set) var finished: [(tokens: [Int32], cumulative: Double, score: Double, eos: Bool)] = []
    /// Most KV blocks referenced by more than one beam at once.
    var peakSharedBlocks = 0
    private var ended = false

    init(options: BeamSearchOptions, requestId: String, promptCount: Int, maxTokens: Int, ignoreEOS: Bool,
         emit: @escaping OutputSink) {
        self.options = options
        self.requestId = requestId
        self.promptCount = promptCount
        self.maxTokens = maxTokens
        self.ignoreEOS = ignoreEOS
        self.emit = emit
    }

    var width: Int { options.width }

    /// Every live beam has its candidates for this step.
    var isReady: Bool { !ended && live.allSatisfy { $0.beamCandidates != nil } }

    /// A beam's 2·W best next tokens with their log-probabilities.
    func candidates(_ logits: UnsafeBufferPointer<Float>, scratch: SamplerScratch) -> [(token: Int32, logprob: Float)] {
        var maxLogit = -Float.infinity
        for v in logits where v > maxLogit { maxLogit = v }
        var sum = 0.0
        for v in logits { sum += exp(Double(v - maxLogit)) }
        let lse = Double(maxLogit) + log(sum)
        Sampler.selectTop(logits, k: min(2 * width, logits.count), threshold: -.infinity, into: &scratch.candidates)
        return scratch.candidates.map { ($0.id, Float(Double($0.logit) - lse)) }
    }

    func score(cumulative: Double, length: Int) -> Double {
        cumulative / pow(Double(length), Double(options.lengthPenalty))
    }

    func addFinished(tokens: [Int32], cumulative: Double, length: Int, eos: Bool) {
        let s = score(cumulative: cumulative, length: length)
        if finished.count == width, let worst = finished.last, s <= worst.score { return }
        finished.append((tokens, cumulative, s, eos))
        finished.sort { $0.score > $1.score }
        if finished.count > width { finished.removeLast() }
    }

    /// Whether no live beam can still beat the kept hypotheses (Hugging Face's `is_done`).
    func isDone(bestCumulative: Double, length: Int) -> Bool {
        guard finished.count >= width, let worst = finished.last?.score else { return false }
        switch options.earlyStopping {
        case .always:
            return true
        case .heuristic:
            return worst >= score(cumulative: bestCumulative, length: length)
        case .never:
            let reach = options.lengthPenalty > 0 ? promptCount + maxTokens : length
            return worst >= score(cumulative: bestCumulative, length: reach)
        }
    }

    /// Emits the W best hypotheses (index = rank) and ends the request.
    func finish(decode: ([Int32]) -> String) {
        ended = true
        for (rank, h) in finished.enumerated() {
            let output = Array(h.tokens[promptCount...])
            var out = RequestOutput(requestId: requestId, index: rank, newTokens: output, text: decode(output), finished: true,
                                    finishReason: h.eos ? .stop : .length, promptTokenCount: promptCount,
                                    cachedPromptTokenCount: live.first?.cachedPromptTokens ?? 0)
            out.cumulativeLogprob = h.cumulative
            emit(.success(out))
        }
        // Fewer hypotheses than beams can only follow an abort-like end; keep the stream's count.
        for rank in finished.count ..< width {
            emit(.success(RequestOutput(requestId: requestId, index: rank, newTokens: [], text: "", finished: true,
                                        finishReason: .abort, promptTokenCount: promptCount, cachedPromptTokenCount: 0)))
        }
    }

    /// Ends the request without results (every beam reports `.abort`).
    func abort() {
        guard !ended else { return }
        ended = true
        for rank in 0 ..< width {
            emit(.success(RequestOutput(requestId: requestId, index: rank, newTokens: [], text: "", finished: true,
                                        finishReason: .abort, promptTokenCount: promptCount, cachedPromptTokenCount: 0)))
        }
    }
}

extension LLMEngine {
    /// One beam-search step for a group whose beams all have candidates: choose the next W beams,
    /// fork the parents chosen more than once (blocks shared by reference), drop the others.
    func advance(_ g: BeamGroup) {
        var all: [(beam: Int, token: Int32, cumulative: Double)] = []
        for (b, seq) in g.live.enumerated() {
            for c in seq.beamCandidates ?? [] { all.append((b, c.token, seq.cumulativeLogprob + Double(c.logprob))) }
        }
        all.sort { ($0.cumulative, -$0.beam, -Int($0.token)) > ($1.cumulative, -$1.beam, -Int($1.token)) }
        let length = (g.live.first?.numTokens ?? g.promptCount) + 1
        var next: [(beam: Int, token: Int32, cumulative: Double)] = []
        for (rank, c) in all.enumerated() {
            if !g.ignoreEOS && tokenizer.isEndOfGeneration(c.token) {
                if rank < g.width {
                    g.addFinished(tokens: g.live[c.beam].tokens + [c.token], cumulative: c.cumulative, length: length - 1, eos: true)
                }
                continue
            }
            next.append(c)
            if next.count == g.width { break }
        }
        let outputLength = length - g.promptCount
        let atLimit = outputLength >= g.maxTokens || length >= maxModelLen
        if next.isEmpty || atLimit || g.isDone(bestCumulative: next[0].cumulative, length: length) {
            if atLimit {
                for c in next { g.addFinished(tokens: g.live[c.beam].tokens + [c.token], cumulative: c.cumulative, length: length, eos: false) }
            }
            for seq in g.live { scheduler.finish(seq) }
            g.finish { tokenizer.decode($0, skipSpecial: true) }
            return
        }
        // Forks first (they copy the parent's tokens before the parent grows), then drop the unused.
        var used = [Bool](repeating: false, count: g.live.count)
        var beams: [Sequence] = []
        for (slot, c) in next.enumerated() {
            let parent = g.live[c.beam]
            if !used[c.beam] {
                used[c.beam] = true
                beams.append(parent)
            } else {
                let child = parent.fork(index: slot)
                child.blockTables = blocks.fork(parent.blockTables)
                if parent.status == .running { scheduler.addRunning(child) } else { scheduler.add(child) }
                beams.append(child)
            }
        }
        for (b, seq) in g.live.enumerated() where !used[b] { scheduler.finish(seq) }
        for (slot, c) in next.enumerated() {
            let seq = beams[slot]
            seq.index = slot
            seq.tokens.append(c.token)
            seq.cumulativeLogprob = c.cumulative
            seq.beamCandidates = nil
            stats.generatedTokens += 1
        }
        g.live = beams
        var refs: [Int32: Int] = [:]
        for seq in beams { for t in seq.blockTables { for b in t where b >= 0 { refs[b, default: 0] += 1 } } }
        let shared = refs.values.filter { $0 > 1 }.count
        g.peakSharedBlocks = max(g.peakSharedBlocks, shared)
        stats.beamPeakSharedBlocks = max(stats.beamPeakSharedBlocks, shared)
    }
}
