import Foundation
import Models
import Pagewise
import Testing
import TestSupport

/// The sampling parameters inside the batched engine, with the real default model.
@Suite(.serialized)
struct SamplingEngineTests {
    /// Everything a request streamed.
    final class Streams: @unchecked Sendable {
        struct Stream {
            var tokens: [Int32] = []
            var deltas: [String] = []
            var finish: FinishReason?
            var stopReason: StopReason?
            var logprobs: [PositionLogprobs] = []
            var promptLogprobs: [PositionLogprobs?]?
            var cumulative: Double?
            var error: (any Error)?
            var text: String { deltas.joined() }
        }
        private let lock = NSLock()
        private(set) var byKey: [String: Stream] = [:]

        func sink(_ id: String) -> OutputSink {
            { result in
                self.lock.lock()
                defer { self.lock.unlock() }
                switch result {
                case let .success(out):
                    let key = out.index == 0 ? id : "\(id)#\(out.index)"
                    var s = self.byKey[key] ?? Stream()
                    s.tokens += out.newTokens
                    s.deltas.append(out.text)
                    if out.finished { s.finish = out.finishReason; s.stopReason = out.stopReason }
                    s.logprobs += out.logprobs ?? []
                    if let p = out.promptLogprobs { s.promptLogprobs = p }
                    if let c = out.cumulativeLogprob { s.cumulative = c }
                    self.byKey[key] = s
                case let .failure(e):
                    self.byKey[id, default: Stream()].error = e
                }
            }
        }
        subscript(_ key: String) -> Stream { lock.lock(); defer { lock.unlock() }; return byKey[key] ?? Stream() }
    }

    static func engine(_ model: String = "smollm2-135m-instruct", maxBatched: Int = 512, numBlocks: Int = 1024) throws -> LLMEngine {
        var c = EngineConfig(modelPath: try TestModels.path(model), threads: 2)
        c.numBlocks = numBlocks
        c.maxNumBatchedTokens = maxBatched
        c.maxModelLen = 2048
        return try LLMEngine(config: c)
    }

    static func run(_ e: LLMEngine) {
        var steps = 0
        while e.hasUnfinishedRequests, steps < 100_000 { e.step(); steps += 1 }
    }

    static let prompts = [
        "The capital of France is", "Once upon a time, in a small village,", "def fibonacci(n):\n    ",
        "Here is a list of fruits:\n1. Apple\n2.", "The best way to learn a new language is",
        "Dear Sir or Madam,\n\nI am writing to", "Photosynthesis is the process by which", "The quick brown fox",
    ]

    /// Eight seeded requests, each with different parameters.
    static func seededParams() -> [SamplingParams] {
        (0 ..< 8).map { i in
            var p = SamplingParams()
            p.seed = UInt64(1000 + i)
            p.maxTokens = 24
            p.ignoreEOS = true
            p.temperature = [0.7, 1.0, 1.3, 0.9, 0.5, 1.1, 0.8, 1.0][i]
            p.topK = [0, 40, 5, 0, 100, 20, 0, 50][i]
            p.topP = [1, 0.9, 1, 0.8, 0.95, 1, 0.7, 0.99][i]
            p.minP = [0, 0.05, 0, 0.1, 0, 0.02, 0, 0][i]
            if i % 3 == 0 { p.repetitionPenalty = 1.2 }
            if i % 4 == 1 { p.frequencyPenalty = 0.5; p.presencePenalty = 0.3 }
            if i == 5 { p.logitBias = [198: -5, 30: 2] }
            if i % 2 == 0 { p.logprobs = 3 }
            return p
        }
    }

    /// The same seed and request give the same tokens alone, among 16 others of different parameters,
    /// and with prefill cut in other chunk sizes; greedy requests are unchanged by sampled neighbours.
    @Test func seededRequestsAreReproducibleInAnyBatch() throws {
        let e = try Self.engine()
        let params = Self.seededParams()
        let tokenized = Self.prompts.map { e.tokenizer.encode($0) }
        var greedy = SamplingParams.greedy
        greedy.maxTokens = 24

        let alone = Streams()
        for (i, p) in params.enumerated() {
            try e.addRequest(id: "s\(i)", prompt: tokenized[i], params: p, sink: alone.sink("s\(i)"))
            Self.run(e)
            try e.addRequest(id: "g\(i)", prompt: tokenized[i], params: greedy, sink: alone.sink("g\(i)"))
            Self.run(e)
        }
        // Sampled requests really sample: not all equal to greedy.
        #expect((0 ..< 8).contains { alone["s\($0)"].tokens != alone["g\($0)"].tokens })

        for maxBatched in [512, 7] {
            let together = try Self.engine(maxBatched: maxBatched)
            let mixed = Streams()
            for (i, p) in params.enumerated() {
                try together.addRequest(id: "s\(i)", prompt: tokenized[i], params: p, sink: mixed.sink("s\(i)"))
                try together.addRequest(id: "g\(i)", prompt: tokenized[i], params: greedy, sink: mixed.sink("g\(i)"))
                // Neighbours with unseeded, other parameters.
                var other = SamplingParams()
                other.temperature = 1.5
                other.presencePenalty = 1
                other.maxTokens = 5 + i
                other.stop = ["e"]
                try together.addRequest(id: "o\(i)", prompt: tokenized[(i + 3) % 8], params: other, sink: mixed.sink("o\(i)"))
            }
            Self.run(together)
            for i in 0 ..< 8 {
                #expect(mixed["s\(i)"].tokens == alone["s\(i)"].tokens, "seeded s\(i), chunk budget \(maxBatched)")
                #expect(mixed["g\(i)"].tokens == alone["g\(i)"].tokens, "greedy g\(i), chunk budget \(maxBatched)")
                #expect(mixed["s\(i)"].tokens.count == 24)
                if params[i].logprobs != nil {
                    #expect(mixed["s\(i)"].logprobs.count == 24)
                    #expect(mixed["s\(i)"].logprobs.map(\.token) == mixed["s\(i)"].tokens)
                }
            }
            #expect(together.statistics().freeBlocks == together.blocks.numBlocks)
        }
    }

    /// Greedy text of a prompt, and its tokens' text pieces.
    static func greedyRun(_ e: LLMEngine, _ prompt: String, maxTokens: Int = 40) throws -> Streams.Stream {
        var p = SamplingParams.greedy
        p.maxTokens = maxTokens
        p.ignoreEOS = true
        let s = Streams()
        try e.addRequest(id: "ref", prompt: e.tokenizer.encode(prompt), params: p, sink: s.sink("ref"))
        run(e)
        return s["ref"]
    }

    /// A stop string that straddles tokens ends the text before it (or after it with
    /// include_stop_str_in_output); the earliest of several wins; deltas add up to the final text,
    /// and no delta shows a stop string's start that then completes.
    @Test func stopStringsAcrossTokenBoundaries() throws {
        let e = try Self.engine()
        let prompt = "Once upon a time, in a small village,"
        let ref = try Self.greedyRun(e, prompt)
        let full = ref.text
        // Find a token boundary inside the text with ≥ 3 characters on each side.
        var offsets: [Int] = []
        var acc = ""
        for d in ref.deltas { acc += d; offsets.append(acc.count) }
        let cut = try #require(offsets.first { $0 >= 10 && $0 + 3 <= full.count && full.count > 20 })
        let chars = Array(full)
        let straddle = String(chars[(cut - 2) ..< (cut + 2)])
        let firstAt = try #require(full.range(of: straddle))
        let expectedBefore = String(full[..<firstAt.lowerBound])
        let later = String(chars[(full.count - 4) ..< full.count])

        for include in [false, true] {
            var p = SamplingParams.greedy
            p.maxTokens = 40
            p.ignoreEOS = true
            p.stop = [later, straddle] // the earlier one in the text wins, whatever the list order
            p.includeStopStrInOutput = include
            let s = Streams()
            try e.addRequest(id: "x", prompt: e.tokenizer.encode(prompt), params: p, sink: s.sink("x"))
            Self.run(e)
            let got = s["x"]
            #expect(got.finish == .stop)
            #expect(got.stopReason == .string(straddle))
            #expect(got.text == (include ? expectedBefore + straddle : expectedBefore), "include \(include)")
            // No delta ever held the stop string's start on its own before the stop completed.
            var shown = ""
            for d in got.deltas.dropLast() {
                shown += d
                #expect(!straddle.indices.dropFirst().contains { shown.hasSuffix(straddle[..<$0]) } || shown == expectedBefore)
            }
            #expect(Array(got.tokens) == Array(ref.tokens.prefix(got.tokens.count)))
        }
        #expect(e.statistics().freeBlocks == e.blocks.numBlocks)
    }

    /// The matcher on its own with multi-byte characters and several stops at once.
    @Test func stopStringMatcherHoldsBackPartialMatches() {
        var m = StopStringMatcher(stops: ["東京", "end", "ß!"], includeInOutput: false)
        var shown = ""
        for piece in ["Zürich ", "und 東", "京 end"] {
            let r = m.feed(piece)
            shown += r.text
            if r.matched != nil {
                #expect(r.matched == "東京")
                break
            }
        }
        #expect(shown == "Zürich und ")
        var n = StopStringMatcher(stops: ["ab", "abc"], includeInOutput: true)
        #expect(n.feed("xa").text == "x") // "a" may start a stop string
        let r = n.feed("b")
        #expect(r.matched == "ab" && r.text == "ab")
        var o = StopStringMatcher(stops: ["éa"], includeInOutput: false)
        #expect(o.feed("caf").text == "caf")
        #expect(o.feed("é").text == "") // held: could start "éa"
        #expect(o.feed("s").text == "és") // released: it did not
        #expect(o.flush() == "")
        var q = StopStringMatcher(stops: ["xyz"], includeInOutput: false)
        #expect(q.feed("wx").text == "w")
        #expect(q.flush() == "x")
    }

    /// min_tokens bans end of generation until reached; stop_token_ids end with the token as reason;
    /// ignore_eos runs to max_tokens; n > 1 gives each sequence its own finish reason.
    @Test func stoppingRules() throws {
        let e = try Self.engine()
        let chat = "<|im_start|>user\nSay hi.<|im_end|>\n<|im_start|>assistant\n"
        var p = SamplingParams.greedy
        p.maxTokens = 60
        let base = Streams()
        try e.addRequest(id: "b", prompt: e.tokenizer.encode(chat), params: p, sink: base.sink("b"))
        Self.run(e)
        let plain = base["b"]
        #expect(plain.finish == .stop && plain.stopReason == nil)
        let eosAt = plain.tokens.count
        #expect(eosAt < 40)

        let s = Streams()
        var minTok = p
        minTok.minTokens = eosAt + 5
        try e.addRequest(id: "min", prompt: e.tokenizer.encode(chat), params: minTok, sink: s.sink("min"))
        var ignore = p
        ignore.ignoreEOS = true
        ignore.maxTokens = eosAt + 3
        try e.addRequest(id: "ign", prompt: e.tokenizer.encode(chat), params: ignore, sink: s.sink("ign"))
        var stopTok = p
        stopTok.stopTokenIds = [plain.tokens[2]]
        try e.addRequest(id: "st", prompt: e.tokenizer.encode(chat), params: stopTok, sink: s.sink("st"))
        var many = SamplingParams()
        many.seed = 5
        many.maxTokens = 12
        many.temperature = 1.2
        many.stop = ["."]
        try e.addRequest(id: "n", prompt: e.tokenizer.encode("Write a sentence:"), params: many, n: 4, sink: s.sink("n"))
        Self.run(e)

        #expect(s["min"].tokens.count >= minTok.minTokens)
        #expect(!s["min"].tokens.prefix(minTok.minTokens - 1).contains { e.tokenizer.isEndOfGeneration($0) })
        #expect(Array(s["min"].tokens.prefix(eosAt - 1)) == Array(plain.tokens.prefix(eosAt - 1)))
        #expect(s["ign"].tokens.count == eosAt + 3 && s["ign"].finish == .length)
        #expect(s["st"].tokens == Array(plain.tokens.prefix(3)))
        #expect(s["st"].finish == .stop && s["st"].stopReason == .token(plain.tokens[2]))
        for key in ["n", "n#1", "n#2", "n#3"] {
            let r = s[key]
            #expect(r.finish != nil, "\(key) finished")
            if r.finish == .stop { #expect(r.stopReason == .string(".") || r.stopReason == nil) }
            if r.finish == .length { #expect(r.tokens.count == 12) }
            #expect(!r.text.contains("."))
        }
        #expect(e.statistics().freeBlocks == e.blocks.numBlocks)
    }

    /// Impossible values are refused before the request enters the engine, naming the parameter;
    /// a request whose constraints leave no token fails alone; the others finish untouched.
    @Test func badRequestsDisturbNothing() throws {
        let e = try Self.engine()
        let s = Streams()
        var good = SamplingParams.greedy
        good.maxTokens = 10
        good.ignoreEOS = true
        let prompt = e.tokenizer.encode("The quick brown fox")
        try e.addRequest(id: "good", prompt: prompt, params: good, sink: s.sink("good"))
        e.step()
        var bad = good
        bad.logitBias = [Int32(e.model.config.vocabSize): 1]
        #expect(throws: SamplingError.self) { try e.addRequest(id: "bad", prompt: prompt, params: bad, sink: s.sink("bad")) }
        bad = good
        bad.minTokens = 20
        #expect { try e.addRequest(id: "bad", prompt: prompt, params: bad, sink: s.sink("bad")) } throws: { "\($0)".contains("min_tokens") }
        var banned = good
        banned.allowedTokenIds = [2]
        banned.minTokens = 3 // bans EOS (2): nothing left
        banned.ignoreEOS = false
        try e.addRequest(id: "banned", prompt: prompt, params: banned, sink: s.sink("banned"))
        Self.run(e)
        #expect(s["banned"].error is SamplingError, "\(s["banned"])")
        #expect(s["good"].tokens.count == 10 && s["good"].finish == .length)
        let ref = try Self.greedyRun(try Self.engine(), "The quick brown fox", maxTokens: 10)
        #expect(s["good"].tokens == ref.tokens)
        #expect(e.statistics().freeBlocks == e.blocks.numBlocks)
    }
}
