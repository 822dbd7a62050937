import Foundation
@testable import Pagewise
import Testing

/// Draft sources and the acceptance rule, without a model.
struct SpeculativeUnitTests {
    @Test func ngramProposesWhatFollowedTheLatestLongestMatch() {
        // ... 1 2 3 [9 9] ... 1 2 3 [7 8] ... 2 3 → the latest occurrence of "2 3" continues "7 8".
        let t: [Int32] = [5, 1, 2, 3, 9, 9, 4, 1, 2, 3, 7, 8, 6, 2, 3]
        #expect(NgramProposer.lookup(t, minN: 2, maxN: 4, k: 2) == [7, 8])
        // The longest n wins: "6 1 2 3" occurred once, followed by 4 5.
        let u: [Int32] = [6, 1, 2, 3, 4, 5, 0, 1, 2, 3, 9, 6, 1, 2, 3]
        #expect(NgramProposer.lookup(u, minN: 2, maxN: 4, k: 3) == [4, 5, 0])
        // A match near the end continues as an overlapping copy (the period repeats); no match, no proposal.
        #expect(NgramProposer.lookup([1, 2, 1], minN: 1, maxN: 3, k: 5) == [2, 1, 2, 1, 2])
        #expect(NgramProposer.lookup([4, 7, 7, 7], minN: 2, maxN: 3, k: 4) == [7, 7, 7, 7])
        #expect(NgramProposer.lookup([9, 1, 2, 3, 1, 2], minN: 2, maxN: 2, k: 4) == [3, 1, 2, 3])
        #expect(NgramProposer.lookup([1, 2, 3, 4], minN: 2, maxN: 3, k: 5).isEmpty)
        #expect(NgramProposer.lookup([1, 2, 3, 1, 2], minN: 2, maxN: 3, k: 0).isEmpty)
    }

    @Test func suffixProposesTheMostFrequentContinuationAcrossRequests() {
        let s = SuffixProposer(maxDepth: 8, minProbability: 0.3, maxRecentRequests: 4)
        // Three earlier requests: "10 11" was followed by 12 13 twice, by 14 once.
        for tail: [Int32] in [[12, 13], [14, 15], [12, 13]] {
            var st: AnyObject?
            s.retire([1, 2, 10, 11] + tail + [99], promptCount: 2, state: &st)
        }
        #expect(s.recentRequestCount == 3)
        var st: AnyObject?
        #expect(s.propose([7, 10, 11], promptCount: 1, k: 3, state: &st) == [12, 13, 99])
        // The sequence's own tokens count too, and grow with it.
        #expect(s.propose([7, 10, 11, 50, 51, 52, 10, 11], promptCount: 1, k: 2, state: &st) == [12, 13])
        // Nothing matches the last token: nothing proposed.
        var other: AnyObject?
        #expect(s.propose([123], promptCount: 1, k: 3, state: &other).isEmpty)
        // Only the most recent requests are kept.
        for _ in 0 ..< 10 {
            var x: AnyObject?
            s.retire([1, 2, 3], promptCount: 1, state: &x)
        }
        #expect(s.recentRequestCount == 4)
    }

    /// What the speculative benchmark relies on: after `forgetRecentRequests` a request is drafted
    /// from its own tokens only, as a first-time one.
    @Test func suffixForgetsEarlierRequestsWhenAsked() {
        let s = SuffixProposer(maxDepth: 8, minProbability: 0.3, maxRecentRequests: 4)
        var done: AnyObject?
        s.retire([1, 2, 10, 11, 12, 13], promptCount: 2, state: &done)
        var a: AnyObject?
        #expect(s.propose([7, 10, 11], promptCount: 1, k: 2, state: &a) == [12, 13])
        s.forgetRecentRequests()
        #expect(s.recentRequestCount == 0)
        var b: AnyObject?
        #expect(s.propose([7, 10, 11], promptCount: 1, k: 2, state: &b).isEmpty)
        // Its own earlier tokens still count.
        var c: AnyObject?
        #expect(s.propose([10, 11, 12, 5, 10, 11], promptCount: 1, k: 1, state: &c) == [12])
    }

    /// The acceptance rule with a synthetic draft distribution q keeps the target distribution p:
    /// a chi-square test over 200,000 draws (5 degrees of freedom; 20.5 is the 0.1% critical value).
    @Test(arguments: [0, 1, 2])
    func rejectionSamplingPreservesTheTargetDistribution(caseIndex: Int) {
        let p: [Double] = [0.05, 0.30, 0.10, 0.25, 0.20, 0.10]
        let qs: [[Double]] = [
            [0.40, 0.10, 0.10, 0.10, 0.10, 0.20], // far from p
            [0, 0, 0, 1, 0, 0], // a point mass (n-gram / suffix / greedy draft model)
            [0.05, 0.30, 0.10, 0.25, 0.20, 0.10], // q = p: everything accepted
        ]
        let q = qs[caseIndex]
        var rng = SamplingRNG(seed: 42 + UInt64(caseIndex))
        let draws = 200_000
        var counts = [Int](repeating: 0, count: p.count)
        var accepted = 0
        for _ in 0 ..< draws {
            // x ~ q
            var r = rng.nextUnit(), x = 0
            for (i, w) in q.enumerated() where w > 0 {
                x = i
                r -= w
                if r < 0 { break }
            }
            let out = RejectionSampling.accept(p: p, q: q, draft: Int32(x), uniform: { rng.nextUnit() })
            counts[Int(out.token)] += 1
            if out.accepted { accepted += 1 }
        }
        var chi2 = 0.0
        for i in 0 ..< p.count {
            let expected = p[i] * Double(draws)
            chi2 += (Double(counts[i]) - expected) * (Double(counts[i]) - expected) / expected
        }
        #expect(chi2 < 20.5, "chi-square \(chi2) for q = \(q)")
        // The acceptance rate is Σ min(p, q).
        let rate = zip(p, q).reduce(0) { $0 + min($1.0, $1.1) }
        #expect(abs(Double(accepted) / Double(draws) - rate) < 0.01)
    }

    @Test func methodsParseAndBadOnesSayWhatToUse() throws {
        #expect(try SpeculativeMethod(parsing: "ngram") == .ngram)
        #expect(try SpeculativeMethod(parsing: "suffix") == .suffix)
        #expect(try SpeculativeMethod(parsing: "model:/m/draft.gguf") == .draftModel(path: "/m/draft.gguf"))
        #expect(throws: SpeculativeError.self) { try SpeculativeMethod(parsing: "eagle") }
        #expect("\(SpeculativeError.unknownMethod("eagle"))".contains("ngram, suffix or model:PATH"))
    }

    /// The draft length: as long as allowed where a step costs the same whatever its token count,
    /// none where cost grows with every token (no acceptance can pay for it), and in between where
    /// a 5-token step costs twice a 1-token one (the 135M model on 2 cores).
    @Test func draftLengthFollowsCostAndAcceptance() throws {
        let flat: (Int) -> Double = { _ in 1 }
        let linear: (Int) -> Double = { Double($0) }
        let measured: (Int) -> Double = { 1 + 0.25 * Double($0 - 1) }
        #expect(DraftLength.best(acceptance: 0.9, maxK: 8, step: flat, draftPerToken: 0) == 8)
        #expect(DraftLength.best(acceptance: 0.95, maxK: 8, step: linear, draftPerToken: 0) == 0)
        let mid = DraftLength.best(acceptance: 0.75, maxK: 8, step: measured, draftPerToken: 0)
        #expect((2 ... 4).contains(mid), "\(mid)")
        #expect(DraftLength.best(acceptance: 0.2, maxK: 8, step: measured, draftPerToken: 0) == 0)
        // A draft model that costs as much per token as the target: only near-certain drafts pay.
        #expect(DraftLength.best(acceptance: 0.6, maxK: 8, step: flat, draftPerToken: 1) == 0)
        #expect(DraftLength.best(acceptance: 0.99, maxK: 8, step: flat, draftPerToken: 0.1) > 3)

        // Costs learned from step times: nothing until two token counts were seen, then a line.
        var d = DraftLength()
        d.recordStep(tokens: 1, seconds: 0.010)
        #expect(d.relativeCosts == nil)
        d.recordStep(tokens: 5, seconds: 0.020)
        d.recordDraft(tokens: 4, seconds: 0.002)
        let c = try #require(d.relativeCosts)
        #expect(abs(c.step(5) - 2) < 1e-9 && abs(c.step(3) - 1.5) < 1e-9 && c.step(1) == 1)
        #expect(abs(c.draftPerToken - 0.05) < 1e-9)
    }
}
