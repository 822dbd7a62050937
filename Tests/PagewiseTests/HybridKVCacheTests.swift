import Foundation
import Models
import Pagewise
import Testing
import TestSupport

/// The engine with the hybrid KV layout on the tiny Gemma 3 (layers 0–4 sliding with a window of
/// 8, layer 5 global; pages of 4 tokens): sliding-window groups give back their pages as
/// sequences move on, and nothing a request computes changes (the one-table layout, which the
/// logits tests hold against llama.cpp, is the yardstick).
@Suite(.serialized)
struct HybridKVCacheTests {
    static func tinyGemma() -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ModelsTests/Fixtures/tiny/gemma3.gguf").path
    }

    static func engine(hybrid: Bool, numBlocks: Int, prefixCaching: Bool = true, maxBatched: Int = 16) throws -> LLMEngine {
        var c = EngineConfig(modelPath: tinyGemma(), threads: 2)
        c.numBlocks = numBlocks
        c.blockSize = 4
        c.maxNumBatchedTokens = maxBatched
        c.maxNumSeqs = 8
        c.maxModelLen = 128
        c.enablePrefixCaching = prefixCaching
        c.disableHybridKVCacheManager = !hybrid
        c.kvCacheDType = .f32
        return try LLMEngine(config: c)
    }

    static func greedy(_ maxTokens: Int) -> SamplingParams {
        var p = SamplingParams()
        p.temperature = 0
        p.maxTokens = maxTokens
        p.stopAtEndOfGeneration = false
        return p
    }

    /// 8 requests of 17–73 prompt tokens and 20–41 output tokens.
    static func workload() -> [(id: String, prompt: [Int32], maxTokens: Int)] {
        (0 ..< 8).map { i in
            let prompt = (0 ..< 17 + 8 * i).map { Int32(4 + ($0 * 37 + i * 101) % 300) }
            return ("r\(i)", prompt, 20 + 3 * i)
        }
    }

    /// Runs the workload to the end; returns each request's tokens and the most bytes of K/V pages
    /// the pool had in use after any step.
    static func run(_ e: LLMEngine, _ work: [(id: String, prompt: [Int32], maxTokens: Int)]) throws
        -> (tokens: [String: [Int32]], peakBytes: Int) {
        let c = EngineTests.Collector()
        for w in work { try e.addRequest(id: w.id, prompt: w.prompt, params: greedy(w.maxTokens), sink: c.sink(w.id)) }
        var peak = 0, steps = 0
        while e.hasUnfinishedRequests, steps < 10_000 {
            e.step()
            steps += 1
            #expect(e.blocks.checkInvariants(liveTables: e.liveBlockTables()) == nil, "step \(steps)")
            peak = max(peak, (e.blocks.numBlocks - e.blocks.freeBlockCount) * e.cache.bytesPerBlock)
        }
        #expect(!e.hasUnfinishedRequests)
        return (c.tokens, peak)
    }

    @Test func slidingPagesGoBackAndTokensDoNotChange() throws {
        let work = Self.workload()
        let single = try Self.engine(hybrid: false, numBlocks: 1024)
        #expect(single.cache.layout.groupCount == 1)
        let hybrid = try Self.engine(hybrid: true, numBlocks: 1024)
        #expect(hybrid.cache.layout.groupCount == 6 && hybrid.cache.layout.groupSize == 1)
        let a = try Self.run(single, work)
        let b = try Self.run(hybrid, work)
        #expect(a.tokens.count == work.count)
        for w in work { #expect(a.tokens[w.id]?.count == w.maxTokens) }
        #expect(b.tokens == a.tokens)
        // Each page of the one-table layout holds all 6 layers, a hybrid page one. Sequences of up
        // to 114 tokens: the hybrid pool holds every global position but only ~window of each
        // sliding layer, so well under half the bytes at its peak.
        #expect(b.peakBytes * 2 < a.peakBytes, "hybrid peak \(b.peakBytes) B vs \(a.peakBytes) B")
        for e in [single, hybrid] {
            #expect(e.blocks.freeBlockCount == e.blocks.numBlocks)
            #expect(e.blocks.checkInvariants(liveTables: []) == nil)
        }
    }

    /// A pool too small for every sequence at once: preemption by recompute, and still the same
    /// tokens. One sequence of 128 tokens needs 32 global pages + 5 sliding groups × 7 pages (a
    /// window of 8 and steps of 16 reach 23 positions) = 67 pages.
    @Test func smallPoolPreemptsAndKeepsTokens() throws {
        let work = Self.workload()
        let reference = try Self.run(try Self.engine(hybrid: false, numBlocks: 1024), work).tokens
        let small = try Self.engine(hybrid: true, numBlocks: 90)
        #expect(small.maxModelLen == 128)
        #expect(small.cache.layout.pagesPerSequence(tokens: 128, blockSize: 4, chunk: 16) == 32 + 5 * 7)
        let out = try Self.run(small, work)
        #expect(out.tokens == reference)
        #expect(small.statistics().preemptions > 0)
        #expect(small.blocks.freeBlockCount == small.blocks.numBlocks)
    }

    /// A second request with the same 40-token prefix after the first finished: the first's
    /// sliding pages went back to the free list but stay cached, so the hit covers the whole
    /// prefix (10 full pages), only the new tokens are computed, and the tokens are those of the
    /// request run alone.
    @Test func prefixHitAfterSlidingPagesWentBack() throws {
        let prefix = (0 ..< 40).map { Int32(7 + ($0 * 53) % 290) }
        let second = prefix + [11, 12, 13, 14, 15]
        let alone = EngineTests.Collector()
        let fresh = try Self.engine(hybrid: true, numBlocks: 512)
        try fresh.addRequest(id: "b", prompt: second, params: Self.greedy(12), sink: alone.sink("b"))
        EngineTests.runToEnd(fresh, alone)

        let e = try Self.engine(hybrid: true, numBlocks: 512)
        let c = EngineTests.Collector()
        try e.addRequest(id: "a", prompt: prefix + [9], params: Self.greedy(12), sink: c.sink("a"))
        EngineTests.runToEnd(e, c)
        let before = e.statistics().computedTokens
        try e.addRequest(id: "b", prompt: second, params: Self.greedy(12), sink: c.sink("b"))
        EngineTests.runToEnd(e, c)
        #expect(c.cached["b"] == 40)
        // 5 new prompt tokens, then one per generated token but the last.
        #expect(e.statistics().computedTokens - before == 5 + 11)
        #expect(c.tokens["b"] == alone.tokens["b"])
        #expect(e.blocks.checkInvariants(liveTables: []) == nil)
    }

    /// n > 1 on the hybrid layout: the forks share every group's pages, copy on write, give back
    /// their own sliding pages, and sample what the one-table layout samples.
    @Test func forksShareAndGiveBackPages() throws {
        var p = Self.greedy(30)
        p.temperature = 1
        p.seed = 42
        let prompt = (0 ..< 22).map { Int32(5 + $0 * 13 % 280) }
        var results: [[String: [Int32]]] = []
        for hybrid in [false, true] {
            let e = try Self.engine(hybrid: hybrid, numBlocks: 600)
            let c = EngineTests.Collector()
            try e.addRequest(id: "f", prompt: prompt, params: p, n: 3, sink: c.sink("f"))
            var steps = 0
            while e.hasUnfinishedRequests, steps < 1000 {
                e.step()
                steps += 1
                #expect(e.blocks.checkInvariants(liveTables: e.liveBlockTables()) == nil)
            }
            #expect(c.tokens.count == 3)
            #expect(e.blocks.freeBlockCount == e.blocks.numBlocks)
            results.append(c.tokens)
        }
        #expect(results[0] == results[1])
    }

    /// The real Gemma 3 270M (window 512) with prompts of 700–900 tokens, prefilled in steps of 128
    /// while the others decode: greedy tokens as with the one-table layout, and the hybrid pool at
    /// its peak holds under 80% of the one-table pool's bytes.
    @Test func realGemma3LongPromptsKeepTokens() throws {
        let text = try String(contentsOf: #require(Bundle.module.url(forResource: "ppl-text", withExtension: "txt", subdirectory: "Fixtures")),
                              encoding: .utf8)
        var results: [(tokens: [String: [Int32]], peakBytes: Int)] = []
        for hybrid in [false, true] {
            var c = EngineConfig(modelPath: try TestModels.path("gemma3-270m"), threads: 2)
            c.kvCacheMemory = 256 << 20
            c.maxNumBatchedTokens = 128
            c.maxModelLen = 1024
            c.disableHybridKVCacheManager = !hybrid
            let e = try LLMEngine(config: c)
            let all = e.tokenizer.encode(text)
            let work = (0 ..< 3).map { i in ("g\(i)", Array(all[(i * 50) ..< (i * 50 + 700 + 100 * i)]), 16) }
            results.append(try Self.run(e, work))
        }
        #expect(results[0].tokens.count == 3 && results[0].tokens.values.allSatisfy { $0.count == 16 })
        #expect(results[1].tokens == results[0].tokens)
        // At 800–1000 tokens the 15 sliding layers hold at most 512 + 127 positions (+ a page), the
        // 3 global ones all: (3 × 900 + 15 × 655) / (18 × 900) ≈ 0.77 of the one-table bytes.
        #expect(Double(results[1].peakBytes) < 0.8 * Double(results[0].peakBytes), "\(results[1].peakBytes) vs \(results[0].peakBytes) B")
    }
}
