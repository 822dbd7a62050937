import Foundation
import Pagewise
import Testing

struct SamplerTests {
    func draw(_ logits: [Float], _ params: SamplingParams, _ n: Int) -> [Int: Int] {
        var s = Sampler(params: params)
        var counts: [Int: Int] = [:]
        logits.withUnsafeBufferPointer { buf in
            for _ in 0 ..< n { counts[Int(s.sample(buf)), default: 0] += 1 }
        }
        return counts
    }

    @Test func greedyIsArgmax() {
        let logits: [Float] = [0.1, 3, -2, 2.9, 3]
        #expect(draw(logits, .greedy, 10) == [1: 10]) // first of equal maxima
        var p = SamplingParams()
        p.temperature = 5
        p.topK = 1
        p.seed = 7
        #expect(draw(logits, p, 50) == [1: 50])
    }

    /// With no cuts, frequencies follow softmax(logits / T) (computed here from the formula).
    @Test func frequenciesFollowTemperatureSoftmax() {
        let logits: [Float] = [1, 2, 0.5, -1, 1.5]
        var p = SamplingParams()
        p.temperature = 0.7
        p.topK = 0
        p.topP = 1
        p.minP = 0
        p.seed = 42
        let n = 40_000
        let counts = draw(logits, p, n)
        let e = logits.map { exp(Double($0) / 0.7) }
        let z = e.reduce(0, +)
        for i in logits.indices {
            let expected = e[i] / z
            let got = Double(counts[i, default: 0]) / Double(n)
            // 5 standard deviations of a binomial proportion.
            let sd = (expected * (1 - expected) / Double(n)).squareRoot()
            #expect(abs(got - expected) <= 5 * sd + 1e-4, "token \(i): \(got) vs \(expected)")
        }
    }

    /// top-p keeps the smallest prefix reaching p; top-k the k best; min-p drops the unlikely.
    @Test func cutsRemoveTheRightTokens() {
        // Probabilities at T=1: 0.5, 0.25, 0.125, 0.0625, 0.0625
        let logits: [Float] = [log(0.5), log(0.25), log(0.125), log(0.0625), log(0.0625)].map { Float($0) }
        var p = SamplingParams()
        p.temperature = 1
        p.topK = 0
        p.minP = 0
        p.seed = 1
        p.topP = 0.7 // 0.5 + 0.25 reaches it
        #expect(Set(draw(logits, p, 3000).keys) == [0, 1])
        p.topP = 1
        p.topK = 3
        #expect(Set(draw(logits, p, 3000).keys) == [0, 1, 2])
        p.topK = 0
        p.minP = 0.2 // keeps p ≥ 0.1
        #expect(Set(draw(logits, p, 3000).keys) == [0, 1, 2])
    }

    @Test func seedsReproduce() {
        var p = SamplingParams()
        p.seed = 99
        let logits: [Float] = (0 ..< 100).map { Float($0 % 7) * 0.3 }
        var a = Sampler(params: p), b = Sampler(params: p)
        let x = logits.withUnsafeBufferPointer { buf in (0 ..< 50).map { _ in a.sample(buf) } }
        let y = logits.withUnsafeBufferPointer { buf in (0 ..< 50).map { _ in b.sample(buf) } }
        #expect(x == y)
    }

    @Test func impossibleParametersAreRejected() {
        for change in [{ (p: inout SamplingParams) in p.temperature = -1 }, { $0.topP = 0 }, { $0.topP = 1.5 },
                       { $0.topK = -3 }, { $0.minP = 2 }, { $0.maxTokens = -1 }, { $0.temperature = .nan }] {
            var p = SamplingParams()
            change(&p)
            #expect(throws: SamplingError.self) { try p.validate() }
        }
        #expect(throws: Never.self) { try SamplingParams().validate() }
    }
}
