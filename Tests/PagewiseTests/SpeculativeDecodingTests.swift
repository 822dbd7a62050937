import Foundation
import Models
import Pagewise
import Testing
import TestSupport

/// Speculative decoding inside the engine, with the real models: the same tokens with it on and
/// off (greedy and seeded sampling), rollback that leaves K/V, blocks and the prefix cache exactly
/// as decoding token by token would.
@Suite(.serialized)
struct SpeculativeDecodingTests {
    /// Output tokens per prompt in the greedy comparisons (the issue's 128).
    static let greedyTokens = 128

    /// `PAGEWISE_FULL_SPEC=1` runs the issue's whole grid (every prompt alone and among 16 for
    /// every draft source and every k = 2…8); otherwise a subset sized for CI.
    static let fullGrid = ProcessInfo.processInfo.environment["PAGEWISE_FULL_SPEC"] == "1"

    final class Outputs: @unchecked Sendable {
        struct Stream {
            var tokens: [Int32] = []
            var text = ""
            var finish: FinishReason?
            var stopReason: StopReason?
            var logprobs: [PositionLogprobs] = []
            var cached = 0
            var error: (any Error)?
        }
        private let lock = NSLock()
        private var byId: [String: Stream] = [:]

        func sink(_ id: String) -> OutputSink {
            { result in
                self.lock.lock()
                defer { self.lock.unlock() }
                switch result {
                case let .success(out):
                    let key = out.index == 0 ? id : "\(id)#\(out.index)"
                    var s = self.byId[key] ?? Stream()
                    s.tokens += out.newTokens
                    s.text += out.text
                    s.logprobs += out.logprobs ?? []
                    s.cached = out.cachedPromptTokenCount
                    if out.finished { s.finish = out.finishReason; s.stopReason = out.stopReason }
                    self.byId[key] = s
                case let .failure(e):
                    self.byId[id, default: Stream()].error = e
                }
            }
        }
        subscript(_ key: String) -> Stream { lock.lock(); defer { lock.unlock() }; return byId[key] ?? Stream() }
    }

    static func engine(_ model: String, speculative: SpeculativeMethod? = nil, k: Int = 4, maxRunning: Int = 8,
                       numBlocks: Int = 1024, prefixCaching: Bool = true, maxNumSeqs: Int = 64) throws -> LLMEngine {
        var c = EngineConfig(modelPath: try TestModels.path(model), threads: 2)
        c.numBlocks = numBlocks
        c.maxNumSeqs = maxNumSeqs
        c.maxModelLen = 2048
        c.enablePrefixCaching = prefixCaching
        c.speculative = speculative
        c.numSpeculativeTokens = k
        c.speculativeMaxRunning = maxRunning
        return try LLMEngine(config: c)
    }

    static func run(_ e: LLMEngine) {
        var steps = 0
        while e.hasUnfinishedRequests, steps < 100_000 { e.step(); steps += 1 }
    }

    /// No block leaks, consistent pool and prefix cache.
    static func expectClean(_ e: LLMEngine, _ what: String) {
        #expect(e.statistics().freeBlocks == e.blocks.numBlocks, "\(what): blocks leaked")
        #expect(e.blocks.checkInvariants(liveTables: e.liveBlockTables()) == nil, "\(what)")
    }

    static func prompts(_ model: String) throws -> [[Int32]] {
        struct Ref: Decodable { let prompt_tokens: [Int32] }
        // The prompts of the llama.cpp greedy fixtures (Tests/ModelsTests/Fixtures/real).
        let url = try #require(Bundle.module.url(forResource: "\(model).greedy", withExtension: "json", subdirectory: "Fixtures")
            ?? Bundle.module.url(forResource: "\(model).prompts", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode([Ref].self, from: Data(contentsOf: url)).map(\.prompt_tokens)
    }

    static func greedy(_ n: Int) -> SamplingParams {
        var p = SamplingParams.greedy
        p.maxTokens = n
        return p
    }

    /// Greedy, 30 prompts × 128 tokens: identical tokens with speculation on and off, each prompt
    /// alone (one after another in one engine, so suffix decoding also draws on the requests
    /// before) and among 16 running together (speculating throughout: no limit on the batch).
    /// The full grid (`PAGEWISE_FULL_SPEC=1`): n-gram, suffix and the model drafting for itself,
    /// each with k = 2…8, every prompt alone and all 30 in batches of 16. The CI subset: n-gram and
    /// suffix over k = 2…8, one prompt alone per k (spread over the 30), all 30 among 16 at one k
    /// per source, once more with the default limit of 8 running (speculation switches on as the
    /// batch drains), and the draft model alone on two prompts.
    @Test(arguments: ["smollm2-135m-instruct", "gemma3-270m"])
    func greedyOutputIsIdenticalWithSpeculation(model: String) throws {
        let prompts = try Self.prompts(model)
        let params = Self.greedy(Self.greedyTokens)
        let off = try Self.engine(model)
        let ref = Outputs()
        for (i, p) in prompts.enumerated() { try off.addRequest(id: "r\(i)", prompt: p, params: params, sink: ref.sink("r\(i)")) }
        Self.run(off)
        #expect(prompts.indices.allSatisfy { ref["r\($0)"].tokens.count > 0 })

        let full = Self.fullGrid
        let methods: [SpeculativeMethod] = [.ngram, .suffix, .draftModel(path: try TestModels.path(model))]
        for method in methods {
            let isModel: Bool
            if case .draftModel = method { isModel = true } else { isModel = false }
            var accepted = 0, mismatches = 0
            for k in 2 ... 8 {
                let alone: [Int]
                if full {
                    alone = Array(prompts.indices)
                } else if isModel {
                    alone = k == 4 ? [0, 25] : []
                } else {
                    // One prompt per k and source, spread over the 30.
                    alone = [(k - 2) * 4 + (method == .ngram ? 0 : 2)]
                }
                let together = full || (!isModel && k == (method == .ngram ? 4 : 7))
                guard !alone.isEmpty || together else { continue }
                let started = Date()
                let e = try Self.engine(model, speculative: method, k: k, maxRunning: 64, maxNumSeqs: 16)
                let got = Outputs()
                for i in alone {
                    try e.addRequest(id: "a\(i)", prompt: prompts[i], params: params, sink: got.sink("a\(i)"))
                    Self.run(e)
                    let same = got["a\(i)"].tokens == ref["r\(i)"].tokens && got["a\(i)"].finish == ref["r\(i)"].finish
                    #expect(same, "\(model) \(method) k=\(k) prompt \(i) alone")
                    if !same { mismatches += 1 }
                }
                if together {
                    for (i, p) in prompts.enumerated() { try e.addRequest(id: "b\(i)", prompt: p, params: params, sink: got.sink("b\(i)")) }
                    Self.run(e)
                    for i in prompts.indices {
                        let same = got["b\(i)"].tokens == ref["r\(i)"].tokens
                        #expect(same, "\(model) \(method) k=\(k) prompt \(i) among 16")
                        if !same { mismatches += 1 }
                    }
                }
                let s = e.statistics()
                #expect(s.specAcceptedTokensTotal <= s.specDraftTokensTotal && s.specDraftsTotal > 0, "\(method) k=\(k): \(s)")
                // The model drafting for itself: one-token steps and (k + 1)-token verification give
                // the same bits (batch invariance), so every draft token is kept.
                if isModel { #expect(s.specAcceptedTokensTotal == s.specDraftTokensTotal, "\(model) self-draft k=\(k): \(s)") }
                accepted += s.specAcceptedTokensTotal
                Self.expectClean(e, "\(model) \(method) k=\(k)")
                if full {
                    Self.progress("\(model) \(method) k=\(k): \(alone.count) alone, \(together ? prompts.count : 0) among 16, "
                        + "drafted \(s.specDraftTokensTotal) accepted \(s.specAcceptedTokensTotal), mismatches so far \(mismatches), "
                        + String(format: "%.0f s", Date().timeIntervalSince(started)))
                }
            }
            #expect(accepted > 0, "\(method) never accepted a draft")
            if full { Self.progress("\(model) \(method): grid done, \(mismatches) mismatching outputs") }
        }
        if !full {
            // The default limit: no drafting while more than 8 run, drafting as the batch drains. The
            // requests stop at different lengths (16…128 tokens), so the batch does drain while
            // requests still decode (with 128 each, a wave of 14 can run out together, never below 8);
            // greedy output cut by max_tokens is a prefix of the reference.
            let e = try Self.engine(model, speculative: .ngram, k: 5, maxRunning: 8, maxNumSeqs: 16)
            let got = Outputs()
            let lengths = prompts.indices.map { 16 + ($0 * 37) % 113 }
            for (i, p) in prompts.enumerated() {
                try e.addRequest(id: "r\(i)", prompt: p, params: Self.greedy(lengths[i]), sink: got.sink("r\(i)"))
            }
            Self.run(e)
            for i in prompts.indices {
                #expect(got["r\(i)"].tokens == Array(ref["r\(i)"].tokens.prefix(lengths[i])), "\(model) prompt \(i), limit 8")
            }
            #expect(e.statistics().specDraftsTotal > 0)
            Self.expectClean(e, "\(model) batch with the limit of 8")
        }
    }

    /// A line on standard error (the full grid's progress; tests only).
    static func progress(_ line: String) {
        FileHandle.standardError.write(Data("[spec grid] \(line)\n".utf8))
    }

    /// Seeded sampling with every kind of processor (penalties, bias, top-k/p, min-p, logprobs), stop
    /// strings, stop tokens and short max_tokens: the same tokens, text, logprobs and finish with
    /// speculation on and off — drafts are point masses, and the coupled acceptance rule (draw from
    /// the target with the request's stream, keep the draft when the draw equals it) spends exactly
    /// one draw per emitted token.
    @Test func seededSamplingIsIdenticalWithSpeculation() throws {
        let model = "smollm2-135m-instruct"
        let prompts = try Self.prompts(model)
        func params(_ i: Int) -> SamplingParams {
            var p = SamplingParams()
            p.seed = UInt64(500 + i)
            p.maxTokens = 20 + (i * 5) % 23
            p.temperature = [0.3, 0.7, 1.0, 0.5, 0.0, 0.9][i % 6]
            p.topK = [0, 40, 5, 0, 100, 20][i % 6]
            p.topP = [1, 0.9, 1, 0.8, 0.95, 1][i % 6]
            p.minP = [0, 0.05, 0, 0.1, 0, 0.02][i % 6]
            if i % 3 == 0 { p.repetitionPenalty = 1.2 }
            if i % 4 == 1 { p.frequencyPenalty = 0.5; p.presencePenalty = 0.3 }
            if i % 5 == 2 { p.logitBias = [198: -2, 30: 1] }
            if i % 2 == 0 { p.logprobs = 2 }
            if i % 4 == 3 { p.stop = [".", "\n\n"] }
            if i % 7 == 4 { p.stopTokenIds = [30] }
            if i % 6 == 5 { p.minTokens = 5 }
            return p
        }
        let count = 16
        var reference: [Outputs.Stream] = []
        for method: SpeculativeMethod? in [nil, .ngram, .suffix] {
            for maxRunning in method == nil ? [8] : [64, 1] {
                let e = try Self.engine(model, speculative: method, k: 6, maxRunning: maxRunning)
                let got = Outputs()
                for i in 0 ..< count {
                    try e.addRequest(id: "s\(i)", prompt: prompts[i], params: params(i), sink: got.sink("s\(i)"))
                }
                Self.run(e)
                let streams = (0 ..< count).map { got["s\($0)"] }
                if method == nil {
                    reference = streams
                    #expect(streams.contains { $0.finish == .stop })
                    continue
                }
                for i in 0 ..< count {
                    let a = streams[i], b = reference[i]
                    let what = "\(method.map { "\($0)" } ?? "off") max running \(maxRunning) request \(i)"
                    #expect(a.tokens == b.tokens, "\(what)")
                    #expect(a.text == b.text, "\(what)")
                    #expect(a.logprobs == b.logprobs, "\(what)")
                    #expect(a.finish == b.finish && a.stopReason == b.stopReason, "\(what)")
                }
                if maxRunning == 64 { #expect(e.statistics().specAcceptedTokensTotal > 0) }
                Self.expectClean(e, "seeded \(String(describing: method))")
            }
        }
    }

    /// A draft source that knows the right continuation and corrupts it at random: random
    /// accept/reject patterns of every length.
    final class CorruptedOracle: DraftSource {
        let answers: [[Int32]]
        var rng: SamplingRNG
        let vocab: Int32
        private(set) var proposals = 0
        init(answers: [[Int32]], seed: UInt64, vocab: Int) {
            self.answers = answers
            rng = SamplingRNG(seed: seed)
            self.vocab = Int32(vocab)
        }
        func propose(_ tokens: [Int32], promptCount: Int, k: Int, state: inout AnyObject?) -> [Int32] {
            // The request is recognised by its full token prefix.
            guard let full = answers.first(where: { $0.count > tokens.count && Array($0.prefix(tokens.count)) == tokens }) else { return [] }
            proposals += 1
            var out = Array(full[tokens.count ..< min(full.count, tokens.count + k)])
            for j in out.indices where rng.next() % 3 == 0 { out[j] = Int32(rng.next() % UInt64(vocab)) }
            if rng.next() % 4 == 0 { out = Array(out.prefix(Int(rng.next() % UInt64(k + 1)))) }
            return out
        }
    }

    /// Rollback: random accept/reject patterns give the same tokens (so the K/V of every kept
    /// position is what decoding wrote), leak no block, and never put a rejected token into the
    /// prefix cache: a later request whose prompt is an earlier output (its blocks computed under
    /// speculation) hits the cache and continues exactly as an engine without speculation does.
    @Test(arguments: ["smollm2-135m-instruct", "gemma3-270m"])
    func rollbackKeepsKVBlocksAndPrefixCacheExact(model: String) throws {
        let prompts = Array(try Self.prompts(model).prefix(10))
        let params = Self.greedy(48)
        let off = try Self.engine(model)
        let ref = Outputs()
        for (i, p) in prompts.enumerated() { try off.addRequest(id: "r\(i)", prompt: p, params: params, sink: ref.sink("r\(i)")) }
        Self.run(off)
        let answers = prompts.indices.map { prompts[$0] + ref["r\($0)"].tokens }

        for (round, blockCount) in [(0, 1024), (1, 1024), (2, 96)] {
            let e = try Self.engine(model, numBlocks: blockCount)
            let oracle = CorruptedOracle(answers: answers, seed: UInt64(round), vocab: e.model.config.vocabSize)
            e.useDraftSource(oracle, maxTokens: 3 + 2 * round, maxRunning: 64)
            let got = Outputs()
            for (i, p) in prompts.enumerated() { try e.addRequest(id: "r\(i)", prompt: p, params: params, sink: got.sink("r\(i)")) }
            Self.run(e)
            for i in prompts.indices { #expect(got["r\(i)"].tokens == ref["r\(i)"].tokens, "\(model) round \(round) prompt \(i)") }
            let s = e.statistics()
            #expect(s.specDraftsTotal > 20 && s.specAcceptedTokensTotal > 0 && s.specAcceptedTokensTotal < s.specDraftTokensTotal)
            Self.expectClean(e, "\(model) round \(round)")

            // Prompts made of the first 40 generated positions: their blocks were filled while
            // drafts were verified and rejected.
            let later = prompts.indices.map { Array(answers[$0].prefix(prompts[$0].count + 40)) }
            let fresh = try Self.engine(model, prefixCaching: false)
            let want = Outputs(), again = Outputs()
            for (i, p) in later.enumerated() {
                try fresh.addRequest(id: "l\(i)", prompt: p, params: Self.greedy(8), sink: want.sink("l\(i)"))
                var q = Self.greedy(8)
                q.speculative = false
                try e.addRequest(id: "l\(i)", prompt: p, params: q, sink: again.sink("l\(i)"))
            }
            Self.run(fresh)
            Self.run(e)
            var hits = 0
            for i in later.indices {
                #expect(again["l\(i)"].tokens == want["l\(i)"].tokens, "\(model) round \(round) later prompt \(i)")
                hits += again["l\(i)"].cached
            }
            if blockCount == 1024 { #expect(hits > 0, "the later prompts should hit the prefix cache") }
            Self.expectClean(e, "\(model) round \(round), after the later requests")
        }
    }

    /// The per-request opt-out drafts nothing; the others still speculate.
    @Test func perRequestOptOut() throws {
        let prompts = try Self.prompts("smollm2-135m-instruct")
        let e = try Self.engine("smollm2-135m-instruct", speculative: .ngram)
        var p = Self.greedy(32)
        p.speculative = false
        let got = Outputs()
        try e.addRequest(id: "a", prompt: prompts[3], params: p, sink: got.sink("a"))
        Self.run(e)
        #expect(e.statistics().specDraftsTotal == 0)
        #expect(got["a"].tokens.count == 32)
    }

    /// A draft model: SmolLM2 drafting for itself gives the same tokens and every draft token is
    /// kept; a draft of another vocabulary is refused with an error that says so.
    @Test func draftModelSameVocabularyAndRefusal() throws {
        let smol = try TestModels.path("smollm2-135m-instruct")
        let gemma = try TestModels.path("gemma3-270m")
        #expect {
            _ = try Self.engine("smollm2-135m-instruct", speculative: .draftModel(path: gemma))
        } throws: { error in
            guard let e = error as? SpeculativeError, case .vocabularyMismatch = e else { return false }
            return "\(e)".contains("another vocabulary")
        }
        let prompts = Array(try Self.prompts("smollm2-135m-instruct").prefix(4))
        let params = Self.greedy(32)
        let off = try Self.engine("smollm2-135m-instruct")
        let on = try Self.engine("smollm2-135m-instruct", speculative: .draftModel(path: smol), k: 4, maxRunning: 64)
        let a = Outputs(), b = Outputs()
        for (i, p) in prompts.enumerated() {
            try off.addRequest(id: "r\(i)", prompt: p, params: params, sink: a.sink("r\(i)"))
            try on.addRequest(id: "r\(i)", prompt: p, params: params, sink: b.sink("r\(i)"))
        }
        Self.run(off)
        Self.run(on)
        for i in prompts.indices { #expect(a["r\(i)"].tokens == b["r\(i)"].tokens, "draft model prompt \(i)") }
        let s = on.statistics()
        // The same weights drafting 1 token a step and verifying k + 1 in one step: by batch
        // invariance the logits are the same bits, so every draft token is kept (drafts stop at EOS).
        #expect(s.specDraftsTotal > 0)
        #expect(s.specAcceptedTokensTotal == s.specDraftTokensTotal, "\(s.specAcceptedTokensTotal) of \(s.specDraftTokensTotal) kept")
        Self.expectClean(on, "draft model")
    }
}
