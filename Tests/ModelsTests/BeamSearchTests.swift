import Foundation
import Models
import Pagewise
import Testing
import TestSupport

/// Beam search in the engine against a NumPy beam search driven by llama.cpp's logits for the same
/// tiny model (scripts/gen_beam_fixtures.py), and on the real default model.
@Suite(.serialized)
struct BeamSearchTests {
    struct Fixture: Decodable {
        struct Beam: Decodable {
            let tokens: [Int32]
            let cumulative_logprob: Double
            let eos: Bool
        }
        struct Case: Decodable {
            let prompt: [Int32]
            let width: Int
            let max_tokens: Int
            let length_penalty: Float
            let early_stopping: String
            let beams: [Beam]
        }
        let cases: [Case]
    }

    final class Collect: @unchecked Sendable {
        private let lock = NSLock()
        var outputs: [RequestOutput] = []
        var errors: [any Error] = []
        var sink: OutputSink {
            { r in
                self.lock.lock()
                defer { self.lock.unlock() }
                switch r {
                case let .success(o): self.outputs.append(o)
                case let .failure(e): self.errors.append(e)
                }
            }
        }
    }

    static func engine(_ path: String, numBlocks: Int = 256) throws -> LLMEngine {
        var c = EngineConfig(modelPath: path, threads: 2)
        c.numBlocks = numBlocks
        c.blockSize = 4 // small pages, so beams share and copy many of them
        c.maxModelLen = 128
        c.kvCacheDType = .f32
        return try LLMEngine(config: c)
    }

    static func run(_ e: LLMEngine) { while e.hasUnfinishedRequests { e.step() } }

    /// Every case of the fixture: the same final beams, in the same order, with the same cumulative
    /// log-probabilities (within float noise); all blocks free afterwards.
    @Test func matchesReferenceBeamSearchOnTinyModel() throws {
        let dir = try #require(Bundle.module.url(forResource: "tiny", withExtension: nil, subdirectory: "Fixtures"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: dir.appendingPathComponent("llama-f32.beam.json")))
        let e = try Self.engine(dir.appendingPathComponent("llama-f32.gguf").path)
        #expect(fixture.cases.contains { $0.beams.contains(where: \.eos) }, "the fixture exercises finishing by the end token")
        for (k, c) in fixture.cases.enumerated() {
            var p = SamplingParams.greedy
            p.maxTokens = c.max_tokens
            p.beamSearch = BeamSearchOptions(width: c.width, lengthPenalty: c.length_penalty,
                                             earlyStopping: try #require(.init(rawValue: c.early_stopping)))
            let out = Collect()
            try e.addRequest(id: "b\(k)", prompt: c.prompt, params: p, sink: out.sink)
            Self.run(e)
            #expect(out.errors.isEmpty)
            let beams = out.outputs.sorted { $0.index < $1.index }
            #expect(beams.count == c.beams.count, "case \(k)")
            for (ours, theirs) in zip(beams, c.beams) {
                let expected = theirs.tokens
                #expect(ours.newTokens == expected, "case \(k) beam \(ours.index)")
                #expect(abs((ours.cumulativeLogprob ?? .nan) - theirs.cumulative_logprob) < 2e-3, "case \(k) beam \(ours.index)")
                #expect(ours.finishReason == (theirs.eos ? .stop : .length))
                #expect(ours.finished)
            }
            #expect(e.statistics().freeBlocks == e.blocks.numBlocks, "case \(k): every block free")
        }
        #expect(e.statistics().beamPeakSharedBlocks > 0)
    }

    /// Width 1 is greedy; width 4 on the real model shares blocks between beams (and frees them all),
    /// its best beam scores at least as well as greedy, and a second request beside it is undisturbed.
    @Test func widthOneIsGreedyAndBeamsShareBlocks() throws {
        let e = try Self.engine(try TestModels.path("smollm2-135m-instruct"), numBlocks: 512)
        let prompt = e.tokenizer.encode("The capital of France is")
        var greedy = SamplingParams.greedy
        greedy.maxTokens = 16
        greedy.ignoreEOS = true
        greedy.logprobs = 0
        let g = Collect()
        try e.addRequest(id: "g", prompt: prompt, params: greedy, sink: g.sink)
        Self.run(e)

        var beam = greedy
        beam.logprobs = nil
        beam.beamSearch = BeamSearchOptions(width: 1)
        let one = Collect()
        try e.addRequest(id: "w1", prompt: prompt, params: beam, sink: one.sink)
        Self.run(e)
        #expect(one.outputs.count == 1)
        #expect(one.outputs.first?.newTokens == g.outputs.flatMap(\.newTokens))
        let greedyScore = try #require(g.outputs.last?.cumulativeLogprob)
        #expect(abs((one.outputs.first?.cumulativeLogprob ?? .nan) - greedyScore) < 1e-3)

        beam.beamSearch = BeamSearchOptions(width: 4, lengthPenalty: 0) // plain cumulative log-probability
        let four = Collect(), side = Collect()
        try e.addRequest(id: "w4", prompt: prompt, params: beam, sink: four.sink)
        try e.addRequest(id: "side", prompt: prompt, params: greedy, sink: side.sink)
        Self.run(e)
        #expect(four.outputs.count == 4)
        let best = try #require(four.outputs.first { $0.index == 0 })
        #expect((best.cumulativeLogprob ?? -.infinity) >= greedyScore - 1e-4)
        let scores = four.outputs.sorted { $0.index < $1.index }.compactMap(\.cumulativeLogprob)
        #expect(scores == scores.sorted(by: >))
        #expect(Set(four.outputs.map(\.newTokens)).count == 4, "four different beams")
        #expect(side.outputs.flatMap(\.newTokens) == g.outputs.flatMap(\.newTokens))
        #expect(e.statistics().beamPeakSharedBlocks >= 2)
        #expect(e.statistics().freeBlocks == e.blocks.numBlocks)
        #expect(e.blocks.checkInvariants(liveTables: []) == nil)
    }

    /// Aborting a beam search ends all its beams and frees their blocks.
    @Test func abortEndsEveryBeam() throws {
        let e = try Self.engine(try TestModels.path("smollm2-135m-instruct"), numBlocks: 512)
        var p = SamplingParams.greedy
        p.maxTokens = 50
        p.beamSearch = BeamSearchOptions(width: 3)
        let c = Collect()
        try e.addRequest(id: "a", prompt: e.tokenizer.encode("Once upon a time"), params: p, sink: c.sink)
        for _ in 0 ..< 5 { e.step() }
        e.abort(id: "a")
        #expect(c.outputs.count == 3 && c.outputs.allSatisfy { $0.finishReason == .abort })
        #expect(!e.hasUnfinishedRequests)
        #expect(e.statistics().freeBlocks == e.blocks.numBlocks)
    }
}
