import Foundation
import Models
import Pagewise
import Testing
import TestSupport

/// The engine core with the real default model: batching, preemption, prefix caching, abort.
@Suite(.serialized)
struct EngineTests {
    static func engine(numBlocks: Int? = nil, prefixCaching: Bool = true, maxBatched: Int = 512, maxSeqs: Int = 64,
                       policy: SchedulingPolicy = .fcfs, kvCacheDType: KVCacheDType = .default) throws -> LLMEngine {
        var c = EngineConfig(modelPath: try TestModels.path("smollm2-135m-instruct"), threads: 2)
        c.numBlocks = numBlocks ?? 512
        c.enablePrefixCaching = prefixCaching
        c.maxNumBatchedTokens = maxBatched
        c.maxNumSeqs = maxSeqs
        c.schedulingPolicy = policy
        c.maxModelLen = 2048
        c.kvCacheDType = kvCacheDType
        return try LLMEngine(config: c)
    }

    /// Collects each request's tokens as the engine streams them.
    final class Collector: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var tokens: [String: [Int32]] = [:]
        private(set) var finished: [String: FinishReason] = [:]
        private(set) var cached: [String: Int] = [:]
        var stepOfToken: [String: [Int]] = [:]
        var currentStep = 0

        func sink(_ id: String) -> OutputSink {
            { result in
                guard case let .success(out) = result else { return }
                self.lock.lock()
                let key = out.index == 0 ? id : "\(id)#\(out.index)"
                self.tokens[key, default: []] += out.newTokens
                self.stepOfToken[key, default: []] += out.newTokens.map { _ in self.currentStep }
                self.cached[key] = out.cachedPromptTokenCount
                if let r = out.finishReason { self.finished[key] = r }
                self.lock.unlock()
            }
        }
    }

    static func runToEnd(_ e: LLMEngine, _ c: Collector, maxSteps: Int = 100_000) {
        var steps = 0
        while e.hasUnfinishedRequests, steps < maxSteps {
            c.currentStep = steps
            e.step()
            steps += 1
        }
    }

    /// 32 varied prompts (llama.cpp's tokenization of the greedy fixture's prompts, cut to
    /// different lengths) with different output lengths.
    static func workload() throws -> [(id: String, prompt: [Int32], maxTokens: Int)] {
        struct Ref: Decodable { let prompt_tokens: [Int32] }
        let url = try #require(Bundle.module.url(forResource: "smollm2-135m-instruct.greedy", withExtension: "json", subdirectory: "Fixtures"))
        let refs = try JSONDecoder().decode([Ref].self, from: Data(contentsOf: url))
        return (0 ..< 32).map { i in
            let p = refs[i % refs.count].prompt_tokens
            let prompt = i < refs.count ? p : Array(p.prefix(max(2, p.count / 2)))
            return ("r\(i)", prompt, 4 + (i * 7) % 29)
        }
    }

    /// With either KV element type: each token's attention is computed on its own, so a request's
    /// greedy tokens do not depend on what else is in the batch, nor on preemption.
    @Test(arguments: KVCacheDType.allCases)
    func concurrentGreedyEqualsAloneAndPreemptionKeepsTokens(kvCacheDType: KVCacheDType) throws {
        let work = try Self.workload()
        var params = SamplingParams.greedy

        // Each request alone.
        let alone = try Self.engine(kvCacheDType: kvCacheDType)
        let solo = Collector()
        for w in work {
            params.maxTokens = w.maxTokens
            try alone.addRequest(id: w.id, prompt: w.prompt, params: params, sink: solo.sink(w.id))
            Self.runToEnd(alone, solo)
        }

        // All 32 together.
        let together = try Self.engine(kvCacheDType: kvCacheDType)
        let batch = Collector()
        for w in work {
            params.maxTokens = w.maxTokens
            try together.addRequest(id: w.id, prompt: w.prompt, params: params, sink: batch.sink(w.id))
        }
        Self.runToEnd(together, batch)
        for w in work { #expect(batch.tokens[w.id] == solo.tokens[w.id], "\(w.id)") }
        #expect(together.statistics().freeBlocks == together.blocks.numBlocks)
        #expect(together.blocks.checkInvariants(liveTables: []) == nil)

        // A pool far too small for all at once: preemption by recompute, same tokens.
        let small = try Self.engine(numBlocks: 24, prefixCaching: false, kvCacheDType: kvCacheDType)
        let tight = Collector()
        for w in work {
            params.maxTokens = w.maxTokens
            try small.addRequest(id: w.id, prompt: w.prompt, params: params, sink: tight.sink(w.id))
        }
        Self.runToEnd(small, tight)
        for w in work { #expect(tight.tokens[w.id] == solo.tokens[w.id], "\(w.id) under preemption") }
        let st = small.statistics()
        #expect(st.preemptions > 0)
        #expect(st.freeBlocks == 24)
        print("preemptions with 24 blocks (\(kvCacheDType.name) KV): \(st.preemptions)")
    }

    @Test func sharedPrefixComputesOnlyNewTokens() throws {
        let e = try Self.engine()
        let c = Collector()
        let text = try String(contentsOf: #require(Bundle.module.url(forResource: "ppl-text", withExtension: "txt", subdirectory: "Fixtures")), encoding: .utf8)
        let prefix = Array(e.tokenizer.encode(text, addSpecial: false).prefix(1000))
        let q1 = e.tokenizer.encode(" Question: what is this?", addSpecial: false)
        let q2 = e.tokenizer.encode(" Question: who may copy it, and how?", addSpecial: false)
        var p = SamplingParams.greedy
        p.maxTokens = 4
        p.stopAtEndOfGeneration = false
        try e.addRequest(id: "a", prompt: prefix + q1, params: p, sink: c.sink("a"))
        Self.runToEnd(e, c)
        let before = e.statistics().computedTokens
        try e.addRequest(id: "b", prompt: prefix + q2, params: p, sink: c.sink("b"))
        Self.runToEnd(e, c)
        let computed = e.statistics().computedTokens - before
        let hit = c.cached["b"] ?? 0
        // 62 full blocks of 16 = 992 prefix tokens come from the cache.
        #expect(hit == 992)
        // Only the rest of the prompt plus the decode steps (the last output token is not fed back).
        #expect(computed == (prefix.count + q2.count - 992) + (p.maxTokens - 1))
        #expect(e.statistics().prefixHitTokens >= 992)

        // Without prefix caching everything is computed again, and the outputs are the same.
        let off = try Self.engine(prefixCaching: false)
        let c2 = Collector()
        try off.addRequest(id: "b", prompt: prefix + q2, params: p, sink: c2.sink("b"))
        Self.runToEnd(off, c2)
        #expect(c2.tokens["b"] == c.tokens["b"])
        #expect(off.statistics().computedTokens == prefix.count + q2.count + p.maxTokens - 1)
    }

    @Test func abortFreesBlocksAndLeavesOthersUnchanged() throws {
        let work = Array(try Self.workload().prefix(4))
        var params = SamplingParams.greedy
        params.maxTokens = 24
        let ref = try Self.engine()
        let refOut = Collector()
        for w in work { try ref.addRequest(id: w.id, prompt: w.prompt, params: params, sink: refOut.sink(w.id)) }
        Self.runToEnd(ref, refOut)

        let e = try Self.engine()
        let c = Collector()
        for w in work { try e.addRequest(id: w.id, prompt: w.prompt, params: params, sink: c.sink(w.id)) }
        for _ in 0 ..< 6 { e.step() }
        e.abort(id: work[1].id)
        #expect(c.finished[work[1].id] == .abort)
        Self.runToEnd(e, c)
        for w in work where w.id != work[1].id { #expect(c.tokens[w.id] == refOut.tokens[w.id]) }
        #expect(e.statistics().freeBlocks == e.blocks.numBlocks)
    }

    @Test func longPromptIsChunkedBetweenOtherDecodeSteps() throws {
        let e = try Self.engine(maxBatched: 64)
        let c = Collector()
        let text = try String(contentsOf: #require(Bundle.module.url(forResource: "ppl-text", withExtension: "txt", subdirectory: "Fixtures")), encoding: .utf8)
        let long = Array(e.tokenizer.encode(text, addSpecial: false).prefix(640))
        var p = SamplingParams.greedy
        p.maxTokens = 30
        try e.addRequest(id: "short", prompt: [1, 504, 3458], params: p, sink: c.sink("short"))
        e.step()
        p.maxTokens = 2
        try e.addRequest(id: "long", prompt: long, params: p, sink: c.sink("long"))
        Self.runToEnd(e, c)
        // The long prompt needs ≥ 10 steps of 64 tokens; the short request kept decoding during them.
        let firstLong = try #require(c.stepOfToken["long"]?.first)
        #expect(firstLong >= 10)
        let shortDuring = c.stepOfToken["short"]?.filter { $0 < firstLong }.count ?? 0
        #expect(shortDuring >= 9)
    }

    @Test(arguments: KVCacheDType.allCases)
    func forkedSequencesShareThePromptAndCopyOnWrite(kvCacheDType: KVCacheDType) throws {
        let e = try Self.engine(kvCacheDType: kvCacheDType)
        let c = Collector()
        var p = SamplingParams.greedy
        p.maxTokens = 12
        let prompt: [Int32] = [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 2, 198, 1, 4093, 198, 19556, 314, 253]
        try e.addRequest(id: "g", prompt: prompt, params: p, n: 3, sink: c.sink("g"))
        Self.runToEnd(e, c)
        // Greedy: all three sequences equal the single-sequence result.
        let single = Collector()
        try e.addRequest(id: "s", prompt: prompt, params: p, sink: single.sink("s"))
        Self.runToEnd(e, single)
        for key in ["g", "g#1", "g#2"] { #expect(c.tokens[key] == single.tokens["s"], "\(key)") }
        // Sampled with a seed: the sequences differ from each other but are reproducible.
        var s = SamplingParams()
        s.temperature = 1.2
        s.topK = 0
        s.topP = 1
        s.minP = 0
        s.seed = 5
        s.maxTokens = 16
        let a = Collector(), b = Collector()
        try e.addRequest(id: "x", prompt: prompt, params: s, n: 3, sink: a.sink("x"))
        Self.runToEnd(e, a)
        try e.addRequest(id: "x", prompt: prompt, params: s, n: 3, sink: b.sink("x"))
        Self.runToEnd(e, b)
        #expect(a.tokens == b.tokens)
        #expect(Set([a.tokens["x"]!, a.tokens["x#1"]!, a.tokens["x#2"]!]).count > 1)
        #expect(e.statistics().freeBlocks == e.blocks.numBlocks)
    }

    @Test func requestsThatCanNeverRunFailAtOnce() throws {
        let e = try Self.engine(numBlocks: 8)
        let sink: OutputSink = { _ in }
        #expect(throws: RequestError.self) { try e.addRequest(id: "x", prompt: [Int32](repeating: 5, count: 200), params: .greedy, sink: sink) }
        #expect(throws: RequestError.self) { try e.addRequest(id: "y", prompt: [], params: .greedy, sink: sink) }
        var bad = SamplingParams()
        bad.topP = 7
        #expect(throws: SamplingError.self) { try e.addRequest(id: "z", prompt: [1, 2], params: bad, sink: sink) }
        #expect(throws: (any Error).self) { try e.addRequest(id: "w", prompt: [1, 999_999], params: .greedy, sink: sink) }
        #expect(!e.hasUnfinishedRequests)
    }

    @Test func priorityPolicyAdmitsLowerValuesFirst() throws {
        let e = try Self.engine(maxSeqs: 1, policy: .priority)
        let c = Collector()
        var p = SamplingParams.greedy
        p.maxTokens = 3
        try e.addRequest(id: "late", prompt: [1, 2, 3], params: p, priority: 5, sink: c.sink("late"))
        try e.addRequest(id: "urgent", prompt: [1, 2, 4], params: p, priority: -1, sink: c.sink("urgent"))
        try e.addRequest(id: "normal", prompt: [1, 2, 5], params: p, priority: 0, sink: c.sink("normal"))
        Self.runToEnd(e, c)
        let first = { (id: String) in c.stepOfToken[id]?.first ?? -1 }
        #expect(first("urgent") < first("normal"))
        #expect(first("normal") < first("late"))
    }
}
