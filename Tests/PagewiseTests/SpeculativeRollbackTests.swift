import Foundation
@testable import Models
@testable import Pagewise
import Testing
import TestSupport

/// Rollback at the level of the KV pool: after random accept/reject patterns the K/V of every kept
/// position is, bit for bit, what decoding without speculation wrote, and blocks that reach the
/// prefix cache hold only kept tokens. And the acceptance rule inside the engine keeps the
/// target's distribution (a chi-square test on a tiny model).
@Suite(.serialized)
struct SpeculativeRollbackTests {
    typealias Outputs = SpeculativeDecodingTests.Outputs

    /// The first position below `count` whose K or V differs between the two pools in any layer
    /// (each read through its sequence's block tables; positions whose sliding-window page was
    /// given back in either are skipped), or nil.
    static func firstDifference(_ a: LLMEngine, _ ta: [[Int32]], _ b: LLMEngine, _ tb: [[Int32]], count: Int) -> String? {
        let c = a.cache
        let kBytes = c.dtype.byteCount(values: c.kvHeads * c.keyDim), vBytes = c.dtype.byteCount(values: c.kvHeads * c.valueDim)
        for l in 0 ..< c.layerCount {
            let g = c.layout.groupOfLayer[l]
            let (ka, va) = a.cache.arrays(layer: l), (kb, vb) = b.cache.arrays(layer: l)
            for p in 0 ..< count {
                let i = p / c.blockSize
                guard i < ta[g].count, i < tb[g].count, ta[g][i] >= 0, tb[g][i] >= 0 else { continue }
                let sa = Int(ta[g][i]) * c.blockSize + p % c.blockSize, sb = Int(tb[g][i]) * c.blockSize + p % c.blockSize
                if memcmp(ka + sa * kBytes, kb + sb * kBytes, kBytes) != 0 { return "K of layer \(l) position \(p)" }
                if memcmp(va + sa * vBytes, vb + sb * vBytes, vBytes) != 0 { return "V of layer \(l) position \(p)" }
            }
        }
        return nil
    }

    /// One request at a time, step by step: whenever the speculating engine's sequence has `n`
    /// computed positions, the plain engine is stepped to `n` too and every layer's K/V of
    /// positions 0..<n is compared. Then prompts made of the outputs are served from the prefix
    /// cache of the speculating engine and compared with the plain engine computing them afresh.
    @Test(arguments: ["smollm2-135m-instruct", "gemma3-270m"])
    func keptPositionsKVIsBitEqualToDecodingWithoutSpeculation(model: String) throws {
        let prompts = Array(try SpeculativeDecodingTests.prompts(model).prefix(3))
        let params = SpeculativeDecodingTests.greedy(40)
        let ref = try SpeculativeDecodingTests.engine(model)
        let refOut = Outputs()
        for (i, p) in prompts.enumerated() { try ref.addRequest(id: "r\(i)", prompt: p, params: params, sink: refOut.sink("r\(i)")) }
        SpeculativeDecodingTests.run(ref)
        let answers = prompts.indices.map { prompts[$0] + refOut["r\($0)"].tokens }

        let spec = try SpeculativeDecodingTests.engine(model)
        spec.useDraftSource(SpeculativeDecodingTests.CorruptedOracle(answers: answers, seed: 7, vocab: spec.model.config.vocabSize),
                            maxTokens: 5, maxRunning: 64)
        let plain = try SpeculativeDecodingTests.engine(model, prefixCaching: false)
        var compared = 0
        func compareWhileRunning(_ id: String) {
            while spec.hasUnfinishedRequests {
                spec.step()
                guard let sa = spec.scheduler.running.first(where: { $0.requestId == id }) else { break }
                let n = sa.numComputed
                while plain.hasUnfinishedRequests {
                    if let sb = plain.scheduler.running.first(where: { $0.requestId == id }), sb.numComputed >= n { break }
                    plain.step()
                }
                guard let sb = plain.scheduler.running.first(where: { $0.requestId == id }), sb.numComputed == n else {
                    Issue.record("\(model) \(id): the plain engine did not stop at \(n) computed positions")
                    return
                }
                #expect(Array(sa.tokens.prefix(n)) == Array(sb.tokens.prefix(n)), "\(model) \(id) tokens before \(n)")
                if let d = Self.firstDifference(spec, sa.blockTables, plain, sb.blockTables, count: n) {
                    Issue.record("\(model) \(id) after \(n) computed positions: \(d) differs")
                    return
                }
                compared += 1
            }
        }
        for (i, p) in prompts.enumerated() {
            try spec.addRequest(id: "r\(i)", prompt: p, params: params, sink: { _ in })
            try plain.addRequest(id: "r\(i)", prompt: p, params: params, sink: { _ in })
            compareWhileRunning("r\(i)")
            SpeculativeDecodingTests.run(plain)
        }
        let s = spec.statistics()
        #expect(compared > 5 * prompts.count, "\(compared) comparisons")
        #expect(s.specAcceptedTokensTotal > 0 && s.specAcceptedTokensTotal < s.specDraftTokensTotal, "\(s)")
        SpeculativeDecodingTests.expectClean(spec, "\(model) speculating")
        SpeculativeDecodingTests.expectClean(plain, "\(model) plain")

        // The speculating engine's cached blocks (filled while drafts were verified and rejected)
        // against positions computed afresh without speculation.
        var hits = 0
        for i in prompts.indices {
            let later = Array(answers[i].prefix(prompts[i].count + 36))
            var q = SpeculativeDecodingTests.greedy(4)
            q.speculative = false
            let got = Outputs()
            try spec.addRequest(id: "l\(i)", prompt: later, params: q, sink: got.sink("l\(i)"))
            try plain.addRequest(id: "l\(i)", prompt: later, params: q, sink: { _ in })
            spec.step()
            plain.step()
            let sa = try #require(spec.scheduler.running.first { $0.requestId == "l\(i)" })
            let sb = try #require(plain.scheduler.running.first { $0.requestId == "l\(i)" })
            #expect(sa.numComputed == later.count && sb.numComputed == later.count)
            hits += sa.cachedPromptTokens
            if let d = Self.firstDifference(spec, sa.blockTables, plain, sb.blockTables, count: later.count) {
                Issue.record("\(model) later prompt \(i): \(d) differs (a cached block holds something decoding did not write)")
            }
            SpeculativeDecodingTests.run(spec)
            SpeculativeDecodingTests.run(plain)
        }
        #expect(hits >= 16 * prompts.count, "the later prompts should hit the prefix cache (\(hits) tokens)")
        SpeculativeDecodingTests.expectClean(spec, "\(model) after the later prompts")
    }

    /// The tiny Llama of the model fixtures (300 tokens, random weights).
    static var tinyModelPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ModelsTests/Fixtures/tiny/llama-f32.gguf").path
    }

    /// The 0.1% critical value of chi-square with `df` degrees of freedom (Wilson–Hilferty).
    static func chiSquareCritical(df: Int) -> Double {
        let d = Double(df), z = 3.0902
        let h = 2 / (9 * d)
        return d * pow(1 - h + z * sqrt(h), 3)
    }

    /// Chi-square of observed counts against expected probabilities; cells expecting fewer than 5
    /// are pooled into one.
    static func chiSquare(_ counts: [Int: Int], _ probabilities: [Int: Double], total: Int) -> (chi2: Double, df: Int) {
        var chi2 = 0.0, cells = 0, pooledObserved = 0, pooledExpected = 0.0
        var seen = 0
        for (key, p) in probabilities {
            let expected = p * Double(total), observed = counts[key] ?? 0
            seen += observed
            if expected < 5 {
                pooledObserved += observed
                pooledExpected += expected
                continue
            }
            chi2 += (Double(observed) - expected) * (Double(observed) - expected) / expected
            cells += 1
        }
        // Outcomes the distribution gives no weight at all count against it in the pooled cell.
        pooledObserved += total - seen
        if pooledExpected > 0 {
            chi2 += (Double(pooledObserved) - pooledExpected) * (Double(pooledObserved) - pooledExpected) / pooledExpected
            cells += 1
        } else if pooledObserved > 0 {
            chi2 = .infinity
        }
        return (chi2, max(1, cells - 1))
    }

    /// Seeded sampling (temperature 1, top-k 8) on the tiny model, 6,000 requests of four
    /// tokens (room for a draft of two and the bonus token), each drafting after its first token the two tokens the target finds most likely.
    /// The joint distribution of the first two tokens (the second decided by verification) and
    /// the third token after an accepted draft (scored in the same step, one row further) match
    /// the target's probabilities, computed by forward passes of the model alone.
    @Test func acceptanceKeepsTheTargetDistributionOnATinyModel() throws {
        var c = EngineConfig(modelPath: Self.tinyModelPath, threads: 2)
        c.numBlocks = 600
        c.maxNumSeqs = 256
        c.maxModelLen = 64
        let e = try LLMEngine(config: c)
        let vocab = e.model.config.vocabSize
        let prompt: [Int32] = [1, 40, 77, 123, 200]

        // The target's top-8 distributions, straight from the model.
        let cache = KVCacheStorage(config: e.model.config, numBlocks: 2, blockSize: 16, dtype: e.cache.dtype)
        func distribution(_ tokens: [Int32]) throws -> [Int: Double] {
            var batch = ForwardBatch()
            batch.append(tokens: tokens, startPosition: 0, blockTable: [0, 1], wantLogits: .last)
            let logits = Array(try e.model.forward(batch, cache: cache).prefix(vocab))
            let top = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(8)
            let m = logits[top.first!]
            let w = top.map { exp(Double(logits[$0] - m)) }
            let sum = w.reduce(0, +)
            return Dictionary(uniqueKeysWithValues: zip(top, w.map { $0 / sum }))
        }
        func argmax(_ d: [Int: Double]) -> Int32 { Int32(d.max { $0.value < $1.value }!.key) }
        let p0 = try distribution(prompt)
        var p1: [Int32: [Int: Double]] = [:], drafts: [Int32: [Int32]] = [:]
        for t0 in p0.keys.map(Int32.init) {
            p1[t0] = try distribution(prompt + [t0])
            let a = argmax(p1[t0]!)
            drafts[t0] = [a, argmax(try distribution(prompt + [t0, a]))]
        }
        final class Drafts: DraftSource {
            let table: [Int32: [Int32]]
            init(_ t: [Int32: [Int32]]) { table = t }
            func propose(_ tokens: [Int32], promptCount: Int, k: Int, state: inout AnyObject?) -> [Int32] {
                tokens.count == promptCount + 1 ? Array((table[tokens[promptCount]] ?? []).prefix(k)) : []
            }
        }
        e.useDraftSource(Drafts(drafts), maxTokens: 2, maxRunning: 1000)

        let n = 6000
        let got = Outputs()
        for i in 0 ..< n {
            var p = SamplingParams()
            p.temperature = 1
            p.topK = 8
            p.topP = 1
            p.minP = 0
            p.seed = UInt64(10_000 + i)
            p.maxTokens = 4
            p.ignoreEOS = true
            try e.addRequest(id: "c\(i)", prompt: prompt, params: p, sink: got.sink("c\(i)"))
        }
        SpeculativeDecodingTests.run(e)
        let outs = (0 ..< n).map { got["c\($0)"].tokens }
        #expect(outs.allSatisfy { $0.count == 4 })
        let s = e.statistics()
        #expect(s.specAcceptedTokensTotal > n / 10 && s.specAcceptedTokensTotal < s.specDraftTokensTotal, "\(s)")

        // t0 alone (no draft involved: checks the reference itself), then (t0, t1) jointly, keyed t0 * vocab + t1.
        let first = Self.chiSquare(Dictionary(outs.filter { $0.count == 4 }.map { (Int($0[0]), 1) }, uniquingKeysWith: +), p0, total: outs.count)
        let seen = Dictionary(outs.map { ($0.first ?? -1, 1) }, uniquingKeysWith: +)
        #expect(first.chi2 < Self.chiSquareCritical(df: first.df), "first token: chi-square \(first.chi2), df \(first.df), p0 \(p0), seen \(seen)")
        var joint: [Int: Int] = [:], expected: [Int: Double] = [:]
        for o in outs where o.count == 4 { joint[Int(o[0]) * vocab + Int(o[1]), default: 0] += 1 }
        for (t0, q0) in p0 {
            for (t1, q1) in p1[Int32(t0)]! { expected[t0 * vocab + t1] = q0 * q1 }
        }
        let j = Self.chiSquare(joint, expected, total: outs.count)
        #expect(j.chi2 < Self.chiSquareCritical(df: j.df), "first two tokens: chi-square \(j.chi2), df \(j.df)")

        // t2 after the draft's first token was accepted, for the most frequent such (t0, t1).
        let m = p0.keys.map(Int32.init).max { p0[Int($0)]! * p1[$0]![Int(drafts[$0]![0])]! < p0[Int($1)]! * p1[$1]![Int(drafts[$1]![0])]! }!
        let a = drafts[m]![0]
        let third = outs.filter { $0.count == 4 && $0[0] == m && $0[1] == a }.map { Int($0[2]) }
        #expect(third.count > 300, "\(third.count) samples after an accepted draft")
        let p2 = try distribution(prompt + [m, a])
        let t = Self.chiSquare(Dictionary(third.map { ($0, 1) }, uniquingKeysWith: +), p2, total: third.count)
        #expect(t.chi2 < Self.chiSquareCritical(df: t.df), "third token: chi-square \(t.chi2), df \(t.df)")
        // The test can tell a wrong row: the distribution one row earlier does not fit.
        let wrong = Self.chiSquare(Dictionary(third.map { ($0, 1) }, uniquingKeysWith: +), p1[m]!, total: third.count)
        #expect(wrong.chi2 > Self.chiSquareCritical(df: wrong.df), "the third token should not follow the second token's distribution")
        SpeculativeDecodingTests.expectClean(e, "tiny model")
    }
}
