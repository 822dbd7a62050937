import Foundation

/// Single-stream speed of one workload with speculative decoding on and off, in one engine (the
/// off runs use the per-request opt-out, so both share weights, threads and pool).
public struct SpeculativeBenchmarkResult: Sendable, Codable {
    /// The workload's name.
    public var workload: String
    public var promptTokens: Int
    /// Tokens each run generated.
    public var outputTokens: Int
    /// Median output tokens/s over the rounds.
    public var offTPS: Double
    public var onTPS: Double
    /// On over off.
    public var speedup: Double { offTPS > 0 ? onTPS / offTPS : 0 }
    /// Accepted draft tokens over drafted ones (one on-run).
    public var acceptanceRate: Double
    /// Mean accepted tokens per verification.
    public var acceptedPerDraft: Double
    /// Whether every on-run gave the same tokens as the off-runs.
    public var identical: Bool
}

extension LLMEngine {
    /// Generates from `prompt` alone (`params`, end of generation ignored, `maxTokens` tokens),
    /// alternating speculation off and on for `rounds` rounds (after one warm-up of each). The
    /// prefix cache is bypassed for neither: both runs hit the same cached prompt. The draft source
    /// forgets earlier requests before each run: a source that learns from recent outputs (suffix)
    /// would otherwise be drafting from this very answer, which a first-time request never sees.
    public func benchmarkSpeculation(workload: String, prompt: [Int32], maxTokens: Int, rounds: Int = 3,
                                     params: SamplingParams = .greedy) throws -> SpeculativeBenchmarkResult {
        var p = params
        p.maxTokens = maxTokens
        p.ignoreEOS = true
        final class Box: @unchecked Sendable { var tokens: [Int32] = []; var error: (any Error)? }
        func run(_ speculative: Bool) throws -> (tps: Double, tokens: [Int32], stats: (Int, Int, Int)) {
            var q = p
            q.speculative = speculative
            let box = Box()
            forgetSpeculationHistory()
            let before = statistics()
            let start = DispatchTime.now().uptimeNanoseconds
            try addRequest(id: "spec-bench", prompt: prompt, params: q) { result in
                switch result {
                case let .success(out): box.tokens += out.newTokens
                case let .failure(e): box.error = e
                }
            }
            while hasUnfinishedRequests { step() }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if let e = box.error { throw e }
            let after = statistics()
            return (Double(box.tokens.count) / seconds, box.tokens,
                    (after.specDraftsTotal - before.specDraftsTotal, after.specDraftTokensTotal - before.specDraftTokensTotal,
                     after.specAcceptedTokensTotal - before.specAcceptedTokensTotal))
        }
        let reference = try run(false).tokens
        _ = try run(true)
        var off: [Double] = [], on: [Double] = []
        var identical = true
        var drafts = (0, 0, 0)
        for _ in 0 ..< max(1, rounds) {
            let a = try run(false)
            let b = try run(true)
            off.append(a.tps)
            on.append(b.tps)
            identical = identical && a.tokens == reference && b.tokens == reference
            drafts = b.stats
        }
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        return SpeculativeBenchmarkResult(workload: workload, promptTokens: prompt.count, outputTokens: reference.count,
                                          offTPS: median(off), onTPS: median(on),
                                          acceptanceRate: drafts.1 > 0 ? Double(drafts.2) / Double(drafts.1) : 0,
                                          acceptedPerDraft: drafts.0 > 0 ? Double(drafts.2) / Double(drafts.0) : 0,
                                          identical: identical)
    }
}
