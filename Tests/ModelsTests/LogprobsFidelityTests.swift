import Foundation
import Models
import Pagewise
import Testing
import TestSupport

/// The engine's `logprobs` and `prompt_logprobs` against llama.cpp (scripts/gen_real_fixtures.py's
/// greedy top-5 log-probabilities) and against the `perplexity` command.
@Suite(.serialized)
struct LogprobsFidelityTests {
    typealias GreedyReference = RealModelFidelityTests.GreedyReference

    static func engine(_ model: String) throws -> LLMEngine {
        var c = EngineConfig(modelPath: try TestModels.path(model), threads: 2)
        c.numBlocks = 512
        c.maxModelLen = 1024
        c.kvCacheDType = .f32 // as the fixtures were made
        return try LLMEngine(config: c)
    }

    final class Collect: @unchecked Sendable {
        private let lock = NSLock()
        var outputs: [String: [RequestOutput]] = [:]
        func sink(_ id: String) -> OutputSink {
            { r in
                guard case let .success(o) = r else { return }
                self.lock.lock(); self.outputs[id, default: []].append(o); self.lock.unlock()
            }
        }
    }

    static func run(_ e: LLMEngine) { while e.hasUnfinishedRequests { e.step() } }

    /// Greedy with logprobs = 5, all 30 prompts in one batch: at every position where our tokens still
    /// follow llama.cpp's, the chosen token is rank 1 with a log-probability within 0.06 nats of
    /// llama.cpp's on average, and llama.cpp's top-5 log-probabilities agree within 0.06 nats weighted
    /// by probability (measured: 0.035–0.040, about what a mean KL of 0.001–0.002 nats implies; the
    /// fidelity tests bound KL by 0.01).
    @Test(arguments: ["smollm2-135m-instruct", "gemma3-270m"])
    func greedyLogprobsMatchLlamaCpp(model: String) throws {
        let refs = try RealModelFidelityTests.fixture("\(model).greedy.json", as: [GreedyReference].self)
        let e = try Self.engine(model)
        let c = Collect()
        for (i, r) in refs.enumerated() {
            var p = SamplingParams.greedy
            p.maxTokens = r.tokens.count
            p.logprobs = 5
            try e.addRequest(id: "\(i)", prompt: r.prompt_tokens, params: p, sink: c.sink("\(i)"))
        }
        Self.run(e)
        var compared = 0, sumDiff = 0.0, maxDiff = 0.0, sameTop1 = 0
        var chosen = 0, chosenDiff = 0.0, chosenMax = 0.0, weight = 0.0, weightedDiff = 0.0
        for (i, r) in refs.enumerated() {
            let outs = try #require(c.outputs["\(i)"])
            let lps = outs.flatMap { $0.logprobs ?? [] }
            let tokens = outs.flatMap(\.newTokens)
            #expect(lps.count == tokens.count && lps.map(\.token) == tokens)
            var cumulative = 0.0
            for lp in lps { cumulative += Double(lp.logprob) }
            #expect(abs((outs.last?.cumulativeLogprob ?? .nan) - cumulative) < 1e-6)
            for k in 0 ..< min(tokens.count, r.tokens.count) {
                let ours = lps[k], theirs = r.top5[k]
                #expect(ours.top.count == 5)
                #expect(ours.rank == 1, "greedy token is the most likely")
                #expect(ours.top.first?.token == ours.token)
                if ours.top.first?.token == theirs.first?.id { sameTop1 += 1 }
                for alt in theirs {
                    guard let mine = ours.top.first(where: { $0.token == alt.id }) else { continue }
                    let d = abs(Double(mine.logprob - alt.logprob))
                    if alt.id == ours.token {
                        chosen += 1
                        chosenDiff += d
                        chosenMax = max(chosenMax, d)
                    }
                    weight += exp(Double(alt.logprob))
                    weightedDiff += exp(Double(alt.logprob)) * d
                    sumDiff += d
                    maxDiff = max(maxDiff, d)
                    compared += 1
                }
                if tokens[k] != r.tokens[k] { break } // past the first difference the contexts differ
            }
        }
        print("\(model): \(compared) log-probabilities compared, mean |Δ| \(sumDiff / Double(max(compared, 1))), max \(maxDiff); "
            + "chosen tokens \(chosen): mean |Δ| \(chosenDiff / Double(max(chosen, 1))), max \(chosenMax); probability-weighted |Δ| \(weightedDiff / weight); same top-1 \(sameTop1)")
        #expect(compared >= 500)
        #expect(chosenDiff / Double(chosen) <= 0.06)
        #expect(weightedDiff / weight <= 0.06)
    }

    /// prompt_logprobs over a 512-token window (prefilled in 64-token chunks, beside another request)
    /// give the perplexity that `perplexity` reports for the same window.
    @Test(arguments: ["smollm2-135m-instruct", "gemma3-270m"])
    func promptLogprobsGiveThePerplexity(model: String) throws {
        let ref = try RealModelFidelityTests.fixture("\(model).ppl.json", as: RealModelFidelityTests.PPLReference.self)
        let e = try Self.engine(model)
        let session = try RealModelFidelityTests.session(model, context: 512, kvCacheDType: .f32)
        let expected = try session.perplexity(tokens: ref.tokens, context: 512, maxChunks: 1)

        var window = Array(ref.tokens[0 ..< 512])
        if e.tokenizer.addBOS { window[0] = e.tokenizer.bosId }
        let c = Collect()
        var p = SamplingParams.greedy
        p.maxTokens = 1
        p.promptLogprobs = 2
        try e.addRequest(id: "ppl", prompt: window, params: p, sink: c.sink("ppl"))
        var other = SamplingParams.greedy
        other.maxTokens = 8
        try e.addRequest(id: "other", prompt: Array(window[0 ..< 300]), params: other, sink: c.sink("other"))
        Self.run(e)
        let outs = try #require(c.outputs["ppl"])
        let prompt = try #require(outs.first?.promptLogprobs)
        #expect(prompt.count == 512)
        #expect(prompt[0] == nil)
        #expect(outs.dropFirst().allSatisfy { $0.promptLogprobs == nil })
        var nll = 0.0
        for j in 257 ..< 512 {
            let lp = try #require(prompt[j])
            #expect(lp.token == window[j])
            #expect(lp.top.count == 2 && lp.rank >= 1)
            nll -= Double(lp.logprob)
        }
        let ppl = exp(nll / 255)
        print("\(model): perplexity from prompt_logprobs \(ppl), perplexity command \(expected.ppl), llama.cpp (10 windows) \(ref.ppl)")
        #expect(expected.tokensScored == 255)
        #expect(abs(ppl / expected.ppl - 1) <= 1e-4)
    }
}
