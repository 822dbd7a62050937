import Foundation
import Pagewise
import Testing

/// Random arrivals, aborts and forks driven through the real scheduler and block manager (with a
/// tiny random-weight model so steps are cheap): after every step the block manager's reference
/// counts equal the live block tables, the free list is sound, and at the end every block is free.
struct SchedulerPropertyTests {
    static func tinyModel(_ name: String = "llama-q8_0") -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ModelsTests/Fixtures/tiny/\(name).gguf").path
    }

    struct RNG {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
    }

    /// The tiny Gemma 3 cases run the hybrid KV layout: six block tables per sequence (one global
    /// group, five sliding-window groups with a window of 8 that give back their pages).
    @Test(arguments: [(UInt64(1), 12, true, "llama-q8_0"), (2, 30, true, "llama-q8_0"), (3, 9, false, "llama-q8_0"),
                      (4, 64, true, "llama-q8_0"), (5, 17, true, "llama-q8_0"),
                      (6, 40, true, "gemma3"), (7, 70, true, "gemma3"), (8, 150, false, "gemma3"), (9, 300, true, "gemma3")])
    func invariantsHoldUnderRandomTraffic(seed: UInt64, numBlocks: Int, prefixCaching: Bool, model: String) throws {
        var c = EngineConfig(modelPath: Self.tinyModel(model), threads: 1)
        c.numBlocks = numBlocks
        c.blockSize = 4
        c.maxNumBatchedTokens = 24
        c.maxNumSeqs = 6
        c.enablePrefixCaching = prefixCaching
        c.schedulingPolicy = seed % 2 == 0 ? .priority : .fcfs
        c.maxModelLen = 64
        let e = try LLMEngine(config: c)
        var rng = RNG(state: seed)
        let finished = Finished()
        var live: [String] = []
        var nextId = 0
        let shared: [Int32] = (0 ..< 12).map { Int32(10 + $0) }
        var sawGivenBack = false
        for step in 0 ..< 400 {
            let action = rng.next(10)
            if action < 3, step < 300 {
                // New request: sometimes sharing a prefix, sometimes forked.
                let len = 1 + rng.next(20)
                var prompt: [Int32] = rng.next(2) == 0 ? Array(shared.prefix(len)) : []
                while prompt.count < len { prompt.append(Int32(1 + rng.next(299))) }
                var p = SamplingParams()
                p.seed = UInt64(step)
                p.temperature = 1
                p.maxTokens = 1 + rng.next(24)
                p.stopAtEndOfGeneration = false
                let id = "q\(nextId)"
                nextId += 1
                let n = rng.next(4) == 0 ? 2 + rng.next(2) : 1
                do {
                    try e.addRequest(id: id, prompt: prompt, params: p, n: n, priority: rng.next(3), sink: finished.sink(id, n: n))
                    live.append(id)
                } catch {
                    // Only requests that can never fit may be refused.
                    #expect(e.cache.layout.pagesPerSequence(tokens: prompt.count + 1, blockSize: 4, chunk: 24) > numBlocks
                        || prompt.count >= 64)
                }
            } else if action == 3, !live.isEmpty {
                let id = live.remove(at: rng.next(live.count))
                e.abort(id: id)
            }
            e.step()
            #expect(e.blocks.checkInvariants(liveTables: e.liveBlockTables()) == nil, "step \(step)")
            if e.liveBlockTables().contains(where: { $0.contains(-1) }) { sawGivenBack = true }
        }
        // The hybrid layout's sliding groups did give pages back (the one-table layout never does).
        #expect(sawGivenBack == (model == "gemma3"))
        var guardSteps = 0
        while e.hasUnfinishedRequests, guardSteps < 10_000 { e.step(); guardSteps += 1 }
        #expect(!e.hasUnfinishedRequests, "no deadlock")
        #expect(e.blocks.checkInvariants(liveTables: []) == nil)
        #expect(e.blocks.freeBlockCount == numBlocks)
        #expect(finished.allDone(ids: (0 ..< nextId).map { "q\($0)" }))
        let st = e.statistics()
        print("seed \(seed): \(nextId) requests, \(st.generatedTokens) tokens, \(st.preemptions) preemptions, prefix hits \(st.prefixHitTokens)/\(st.prefixQueryTokens)")
        #expect(st.generatedTokens > 100)
    }

    final class Finished: @unchecked Sendable {
        private let lock = NSLock()
        private var remaining: [String: Int] = [:]
        private var known = Set<String>()
        func sink(_ id: String, n: Int) -> OutputSink {
            lock.lock(); remaining[id] = n; known.insert(id); lock.unlock()
            return { result in
                self.lock.lock(); defer { self.lock.unlock() }
                switch result {
                case let .success(out): if out.finished { self.remaining[id, default: 0] -= 1 }
                case .failure: self.remaining[id] = 0
                }
            }
        }
        /// Every accepted request reported the end of each of its sequences.
        func allDone(ids: [String]) -> Bool {
            lock.lock(); defer { lock.unlock() }
            return remaining.values.allSatisfy { $0 <= 0 }
        }
    }
}
