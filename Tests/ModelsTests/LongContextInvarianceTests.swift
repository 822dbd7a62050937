import Foundation
import GGUF
import Kernels
import Models
import Testing
import TestSupport

/// Past 512 positions attention folds 512-position partitions, and a lone decoding sequence
/// splits them across threads. A row's logits must still not depend on how the sequence was
/// chunked or what shared its steps: a real model over 1,100 tokens, prefilled in steps of 512
/// or 100, or decoded token by token alone (partitions split across the threads) or beside five
/// other sequences (each token's partitions on one thread), gives the same bits for positions
/// 1,000–1,099 every way.
@Suite(.serialized)
struct LongContextInvarianceTests {
    static let blockSize = 16

    /// Runs one sequence's `tokens` through `model` in the given steps (consecutive position
    /// ranges from 0) and returns the logits of positions from `firstLogit` on. Beside each step of
    /// a single token, `companions` other short sequences decode a token of their own.
    static func run(_ model: TransformerModel, _ tokens: [Int32], steps: [Range<Int>], firstLogit: Int,
                    companions: Int = 0) throws -> [[Float]] {
        let perSeq = (tokens.count + blockSize - 1) / blockSize
        let cache = KVCacheStorage(config: model.config, numBlocks: perSeq + companions * 8, blockSize: blockSize, dtype: .f16)
        let table = (0 ..< perSeq).map { Int32(perSeq - 1 - $0) } // pages back to front
        let others = (0 ..< companions).map { s in (0 ..< 8).map { Int32(perSeq + s * 8 + $0) } }
        var otherLen = [Int](repeating: 0, count: companions)
        let v = model.config.vocabSize
        var out: [[Float]] = []
        for step in steps {
            var batch = ForwardBatch()
            if step.count == 1 {
                for s in 0 ..< companions {
                    batch.append(tokens: [Int32(100 + s)], startPosition: otherLen[s], blockTable: others[s], wantLogits: .none)
                    otherLen[s] += 1
                }
            }
            let first = batch.tokens.count
            batch.append(tokens: tokens[step], startPosition: step.lowerBound, blockTable: table, wantLogits: .none)
            for p in step where p >= firstLogit { batch.logitIndices.append(first + p - step.lowerBound) }
            let logits = try model.forward(batch, cache: cache)
            for r in 0 ..< batch.logitIndices.count { out.append(Array(logits[r * v ..< (r + 1) * v])) }
        }
        return out
    }

    /// [from, to) in steps of `size`.
    static func steps(_ from: Int, _ to: Int, _ size: Int) -> [Range<Int>] {
        stride(from: from, to: to, by: size).map { $0 ..< min(to, $0 + size) }
    }

    /// SmolLM2 (9 query heads on 3 kv heads: a lone token's units are whole kv groups) and
    /// Gemma 3 (4 on 1, sliding windows of 512 on 15 layers: units of half a kv group).
    @Test(arguments: ["smollm2-135m-instruct", "gemma3-270m"])
    func longContextRowsDoNotDependOnChunkingOrCompany(model name: String) throws {
        let model = try TransformerModel(file: GGUFFile(path: TestModels.path(name)), pool: ThreadPool(threadCount: 2))
        #expect(attentionPartitions(windowStart: 0, contextLen: 1100) == 0 ..< 3)
        let tokens = (0 ..< 1100).map { Int32(200 + ($0 * 7919) % 40000) }
        let whole = try Self.run(model, tokens, steps: Self.steps(0, 1100, 512), firstLogit: 1000)
        #expect(whole.count == 100)
        #expect(try Self.run(model, tokens, steps: Self.steps(0, 1100, 100), firstLogit: 1000) == whole)
        // Prefill to 1000, then one token per step: alone (the split path), and among five others.
        let tail = Self.steps(0, 1000, 500) + Self.steps(1000, 1100, 1)
        #expect(try Self.run(model, tokens, steps: tail, firstLogit: 1000) == whole)
        #expect(try Self.run(model, tokens, steps: tail, firstLogit: 1000, companions: 5) == whole)
    }
}
