import Foundation

/// One row of the offline serving benchmark.
public struct ServingBenchmarkResult: Sendable, Codable {
    public var concurrency: Int
    public var outputTPS: Double
    public var ttftP50Ms: Double
    public var ttftP99Ms: Double
    public var itlP50Ms: Double
    public var itlP99Ms: Double
    /// Mean over steps of the unfilled share of the running sequences' blocks.
    public var kvWasteFrac: Double
    /// Peak share of the pool in use.
    public var kvUtilizationPeak: Double
    public var preemptions: Int
    public var prefixHitTokens: Int
    public var computedTokens: Int
    public var seconds: Double
    /// With several rounds (`summarize`): every round's output tok/s, in round order.
    public var outputTPSRounds: [Double]?
    /// With several rounds: the median over rounds of this level's output tok/s divided by the
    /// first level's in the same round (e.g. concurrency 16 over concurrency 1).
    public var scalingVsFirst: Double?
    /// Which parameters every request used: "greedy", or "full" (`ServingBenchmarkResult.fullSampling`).
    public var sampling: String?

    /// Every request's parameters in the "full" mode: penalties, top-k / top-p / min-p at a temperature,
    /// logit bias, a seed, and logprobs = 5 (the sampling issue's cost check).
    public static var fullSampling: SamplingParams {
        var p = SamplingParams()
        p.temperature = 0.8
        p.topK = 40
        p.topP = 0.95
        p.minP = 0.05
        p.repetitionPenalty = 1.1
        p.presencePenalty = 0.3
        p.frequencyPenalty = 0.3
        p.logitBias = [0: -1, 1: -1]
        p.logprobs = 5
        p.seed = 11
        return p
    }

    enum CodingKeys: String, CodingKey {
        case concurrency, outputTPS = "output_tps", ttftP50Ms = "ttft_p50_ms", ttftP99Ms = "ttft_p99_ms"
        case itlP50Ms = "itl_p50_ms", itlP99Ms = "itl_p99_ms", kvWasteFrac = "kv_waste_frac"
        case kvUtilizationPeak = "kv_utilization_peak", preemptions, prefixHitTokens = "prefix_hit_tokens"
        case computedTokens = "computed_tokens", seconds
        case outputTPSRounds = "output_tps_rounds", scalingVsFirst = "scaling_vs_first", sampling
    }

    /// Several interleaved rounds over the same levels (`rounds[r][i]`: round r, level i) as one
    /// row per level: the round whose output tok/s is the median (the lower middle for an even
    /// count) with all its figures, plus every round's output tok/s and the median per-round
    /// scaling against the first level. On a noisy machine a ratio taken within each round is
    /// steadier than a ratio of separate medians.
    public static func summarize(_ rounds: [[ServingBenchmarkResult]]) -> [ServingBenchmarkResult] {
        guard let first = rounds.first, !first.isEmpty, rounds.allSatisfy({ $0.count == first.count }) else { return [] }
        func median(_ xs: [Double]) -> Double {
            let s = xs.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        return (0 ..< first.count).map { i in
            let rows = rounds.map { $0[i] }
            var row = rows.sorted { $0.outputTPS < $1.outputTPS }[(rows.count - 1) / 2]
            row.outputTPSRounds = rows.map(\.outputTPS)
            row.scalingVsFirst = median(rounds.map { $0[i].outputTPS / max($0[0].outputTPS, .leastNonzeroMagnitude) })
            return row
        }
    }
}

extension LLMEngine {
    /// Offline serving benchmark: `concurrency` requests arrive at once, each with `promptTokens`
    /// random prompt tokens (after a common `sharedPrefixTokens` prefix, if any) and exactly
    /// `outputTokens` outputs (end-of-generation ignored). Measures aggregate output tokens/s, time
    /// to first token and inter-token latency percentiles, KV waste and preemptions.
    public func benchmarkServing(concurrency: Int, promptTokens: Int, outputTokens: Int, sharedPrefixTokens: Int = 0,
                                 seed: UInt64 = 7, sampling: SamplingParams = .greedy) throws -> ServingBenchmarkResult {
        // A different stream per level, so one level's prompts are not cache hits for the next.
        var rng = SamplingRNG(seed: seed &+ UInt64(concurrency) &* 1_000_003)
        let vocab = UInt64(model.config.vocabSize)
        func randomTokens(_ n: Int) -> [Int32] { (0 ..< n).map { _ in Int32(rng.next() % vocab) } }
        let prefix = randomTokens(sharedPrefixTokens)
        var params = sampling
        params.maxTokens = outputTokens
        params.stopAtEndOfGeneration = false

        let clock = TokenClock(requests: concurrency)
        let before = statistics()
        let start = DispatchTime.now().uptimeNanoseconds
        clock.start = start
        for i in 0 ..< concurrency {
            try addRequest(id: "bench-\(i)", prompt: prefix + randomTokens(promptTokens), params: params) { result in
                if case let .success(out) = result, !out.newTokens.isEmpty { clock.record(i) }
            }
        }
        var wasteSum = 0.0
        var steps = 0
        var peak = 0.0
        while hasUnfinishedRequests {
            step()
            let s = statistics()
            wasteSum += s.kvWasteFraction
            peak = max(peak, s.kvUtilization)
            steps += 1
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let after = statistics()
        func pct(_ xs: [Double], _ p: Double) -> Double {
            guard !xs.isEmpty else { return 0 }
            let s = xs.sorted()
            return s[min(s.count - 1, Int((p / 100 * Double(s.count - 1)).rounded()))]
        }
        let (ttft, itl) = clock.latencies()
        return ServingBenchmarkResult(
            concurrency: concurrency, outputTPS: Double(concurrency * outputTokens) / seconds,
            ttftP50Ms: pct(ttft, 50), ttftP99Ms: pct(ttft, 99), itlP50Ms: pct(itl, 50), itlP99Ms: pct(itl, 99),
            kvWasteFrac: steps == 0 ? 0 : wasteSum / Double(steps), kvUtilizationPeak: peak,
            preemptions: after.preemptions - before.preemptions,
            prefixHitTokens: after.prefixHitTokens - before.prefixHitTokens,
            computedTokens: after.computedTokens - before.computedTokens, seconds: seconds,
            sampling: sampling.isPlainGreedy ? "greedy" : "full")
    }
}

/// Token arrival times per request (the engine thread records, the caller reads after).
final class TokenClock: @unchecked Sendable {
    var start: UInt64 = 0
    private var times: [[UInt64]]
    private let lock = NSLock()
    init(requests: Int) { times = Array(repeating: [], count: requests) }
    func record(_ i: Int) {
        lock.lock()
        times[i].append(DispatchTime.now().uptimeNanoseconds)
        lock.unlock()
    }
    /// (time to first token, inter-token gaps) in milliseconds.
    func latencies() -> ([Double], [Double]) {
        lock.lock()
        defer { lock.unlock() }
        var ttft: [Double] = []
        var itl: [Double] = []
        for t in times where !t.isEmpty {
            ttft.append(Double(t[0] - start) / 1e6)
            for k in 1 ..< max(1, t.count) { itl.append(Double(t[k] - t[k - 1]) / 1e6) }
        }
        return (ttft, itl)
    }
}
