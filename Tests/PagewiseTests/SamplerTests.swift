import Foundation
import Pagewise
import Testing

/// The sampler against a NumPy re-statement of vLLM v1's sampler (scripts/gen_sampling_fixtures.py).
struct SamplerTests {
    struct Case: Decodable {
        let name: String
        let row: Int
        let temperature: Float
        let top_k: Int?
        let top_p: Float?
        let min_p: Float?
        let repetition_penalty: Float?
        let frequency_penalty: Float?
        let presence_penalty: Float?
        let logit_bias: [String: Float]?
        let allowed_token_ids: [Int32]?
        let bad_words_ids: [[Int32]]?
        let min_tokens: Int?
        let stop_token_ids: [Int32]?
        let prompt: [Int32]?
        let output: [Int32]?
        let processed: [Float?]
        let distribution: [Double]?
        let error: Bool?

        var params: SamplingParams {
            var p = SamplingParams()
            p.temperature = temperature
            p.topK = top_k ?? 0
            p.topP = top_p ?? 1
            p.minP = min_p ?? 0
            p.repetitionPenalty = repetition_penalty ?? 1
            p.frequencyPenalty = frequency_penalty ?? 0
            p.presencePenalty = presence_penalty ?? 0
            p.logitBias = Dictionary(uniqueKeysWithValues: (logit_bias ?? [:]).map { (Int32($0.key)!, $0.value) })
            p.allowedTokenIds = allowed_token_ids
            p.badWordsTokenIds = bad_words_ids ?? []
            p.minTokens = min_tokens ?? 0
            p.stopTokenIds = stop_token_ids ?? []
            p.seed = 1234
            return p
        }

        /// A sampler that has seen `output` generated after `prompt`.
        func sampler(_ eos: [Int32]) -> Sampler {
            var s = Sampler(params: params, prompt: prompt ?? [], endOfGeneration: Set(eos))
            for t in output ?? [] { s.observe(t) }
            return s
        }
    }

    struct Fixture: Decodable {
        let eos: [Int32]
        let rows: [[Float]]
        let cases: [Case]
    }

    static let fixture: Fixture = {
        let url = Bundle.module.url(forResource: "sampling", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    static var caseNames: [String] { fixture.cases.map(\.name) }

    func fixtureCase(_ name: String) throws -> Case {
        try #require(Self.fixture.cases.first { $0.name == name })
    }

    /// Processors 1–3 give NumPy's float32 logits (−∞ where banned).
    @Test(arguments: caseNames) func processedLogitsMatchReference(_ name: String) throws {
        let c = try fixtureCase(name)
        let got = c.sampler(Self.fixture.eos).processedLogits(Self.fixture.rows[c.row], output: c.output ?? [])
        for (i, want) in c.processed.enumerated() {
            if let w = want {
                #expect(abs(got[i] - w) <= 1e-5 * max(1, abs(w)), "\(name) token \(i): \(got[i]) vs \(w)")
            } else {
                #expect(got[i] == -.infinity, "\(name) token \(i) should be banned, got \(got[i])")
            }
        }
    }

    /// The distribution a draw follows equals the reference's exact filtered distribution; greedy
    /// cases are the reference's argmax; an all-banned row is a clear error.
    @Test(arguments: caseNames) func distributionMatchesReference(_ name: String) throws {
        let c = try fixtureCase(name)
        var s = c.sampler(Self.fixture.eos)
        let row = Self.fixture.rows[c.row]
        if c.error == true {
            #expect(throws: SamplingError.self) { try s.distribution(row, output: c.output ?? []) }
            let scratch = SamplerScratch()
            #expect(throws: SamplingError.self) {
                try row.withUnsafeBufferPointer { try s.sample($0, output: (c.output ?? [])[...], scratch: scratch) }
            }
            return
        }
        let want = try #require(c.distribution)
        let got = try s.distribution(row, output: c.output ?? [])
        for i in want.indices {
            #expect(abs(got[i] - want[i]) <= 1e-6 + 1e-4 * want[i], "\(name) token \(i): \(got[i]) vs \(want[i])")
        }
        // Every drawn token has non-zero reference probability; greedy draws are the argmax.
        let scratch = SamplerScratch()
        for _ in 0 ..< 200 {
            let t = try row.withUnsafeBufferPointer { try s.sample($0, output: (c.output ?? [])[...], scratch: scratch) }
            #expect(want[Int(t)] > 0, "\(name): drew \(t), which the reference excludes")
        }
    }

    /// 20,000 seeded draws pass a chi-square test against the reference distribution for
    /// temperature + top-k + top-p + min-p together (deterministic: fixed seeds).
    @Test(arguments: ["all-four", "all-four-hot", "temperature-only", "repetition"])
    func drawsPassChiSquare(_ name: String) throws {
        let c = try fixtureCase(name)
        let want = try #require(c.distribution)
        var s = c.sampler(Self.fixture.eos)
        let n = 20_000
        var counts = [Int](repeating: 0, count: want.count)
        let scratch = SamplerScratch()
        try Self.fixture.rows[c.row].withUnsafeBufferPointer { buf in
            for _ in 0 ..< n { counts[Int(try s.sample(buf, output: (c.output ?? [])[...], scratch: scratch))] += 1 }
        }
        // Bins with an expected count under 5 are pooled.
        var chi = 0.0, bins = 0, pooledE = 0.0, pooledO = 0.0
        for i in want.indices {
            #expect(want[i] > 0 || counts[i] == 0, "\(name): token \(i) drawn but excluded")
            let e = want[i] * Double(n)
            if e < 5 { pooledE += e; pooledO += Double(counts[i]); continue }
            chi += (Double(counts[i]) - e) * (Double(counts[i]) - e) / e
            bins += 1
        }
        if pooledE > 0 { chi += (pooledO - pooledE) * (pooledO - pooledE) / max(pooledE, 1e-9); bins += 1 }
        let df = Double(max(1, bins - 1))
        // Wilson–Hilferty: the 0.999 quantile of chi-square with df degrees of freedom.
        let z = 3.090, h = 2 / (9 * df)
        let critical = df * pow(1 - h + z * h.squareRoot(), 3)
        #expect(chi < critical, "\(name): chi-square \(chi) over \(bins) bins ≥ \(critical)")
    }

    @Test func seedsReproduce() throws {
        var p = SamplingParams()
        p.seed = 99
        let logits: [Float] = (0 ..< 100).map { Float($0 % 7) * 0.3 }
        var a = Sampler(params: p), b = Sampler(params: p)
        let scratch = SamplerScratch()
        let x = try logits.withUnsafeBufferPointer { buf in try (0 ..< 50).map { _ in try a.sample(buf, scratch: scratch) } }
        let y = try logits.withUnsafeBufferPointer { buf in try (0 ..< 50).map { _ in try b.sample(buf, scratch: scratch) } }
        #expect(x == y)
        #expect(Set(x).count > 1)
    }

    /// Log-probabilities from the raw logits: log-softmax computed here from the formula.
    @Test func logprobsAreLogSoftmaxOfRawLogits() {
        let logits: [Float] = [1, 3, -2, 2.5, 3, 0]
        let lse = log(logits.map { exp(Double($0)) }.reduce(0, +))
        let lp = logits.withUnsafeBufferPointer { Sampler.logprobs($0, token: 3, k: 3, scratch: SamplerScratch()) }
        #expect(lp.token == 3)
        #expect(abs(Double(lp.logprob) - (2.5 - lse)) < 1e-5)
        #expect(lp.rank == 3)
        #expect(lp.top.map(\.token) == [1, 4, 3])
        #expect(abs(Double(lp.top[0].logprob) - (3 - lse)) < 1e-5)
    }

    @Test func impossibleParametersAreRejected() {
        let changes: [(String, (inout SamplingParams) -> Void)] = [
            ("temperature", { $0.temperature = -1 }), ("temperature", { $0.temperature = .nan }),
            ("top_p", { $0.topP = 0 }), ("top_p", { $0.topP = 1.5 }), ("top_k", { $0.topK = -3 }),
            ("min_p", { $0.minP = 2 }), ("max_tokens", { $0.maxTokens = 0 }), ("min_tokens", { $0.minTokens = -1 }),
            ("min_tokens", { $0.minTokens = 10; $0.maxTokens = 5 }), ("presence_penalty", { $0.presencePenalty = 2.5 }),
            ("frequency_penalty", { $0.frequencyPenalty = -3 }), ("repetition_penalty", { $0.repetitionPenalty = 0 }),
            ("logit_bias", { $0.logitBias = [-1: 1] }), ("allowed_token_ids", { $0.allowedTokenIds = [] }),
            ("stop", { $0.stop = [""] }), ("logprobs", { $0.logprobs = 21 }), ("prompt_logprobs", { $0.promptLogprobs = -1 }),
            ("beam width", { $0.beamSearch = BeamSearchOptions(width: 0) }),
        ]
        for (name, change) in changes {
            var p = SamplingParams()
            change(&p)
            do {
                try p.validate()
                Issue.record("\(name) was accepted")
            } catch {
                #expect("\(error)".contains(name), "message should name \(name): \(error)")
            }
        }
        var p = SamplingParams()
        p.logitBias = [50_000: 1]
        #expect(throws: SamplingError.self) { try p.validate(vocabSize: 49_152) }
        #expect(throws: Never.self) { try SamplingParams().validate() }
    }
}
