import Foundation
import Pagewise
import Testing
import TestSupport

/// The public async API: streams, greedy agreement with the single-sequence path, cancellation.
@Suite(.serialized)
struct AsyncEngineTests {
    static func engine() throws -> AsyncEngine {
        var c = EngineConfig(modelPath: try TestModels.path("smollm2-135m-instruct"), threads: 2)
        c.numBlocks = 64
        c.maxModelLen = 1024
        return try AsyncEngine(config: c)
    }

    @Test func streamsTheSameTokensAsTheSingleSequencePath() async throws {
        let engine = try Self.engine()
        defer { engine.shutdown() }
        var p = SamplingParams.greedy
        p.maxTokens = 12
        var tokens: [Int32] = []
        var text = ""
        var last: RequestOutput?
        for try await out in engine.generate(prompt: "The capital of France is", params: p) {
            tokens += out.newTokens
            text += out.text
            last = out
        }
        let session = try InferenceSession(modelPath: TestModels.path("smollm2-135m-instruct"), threads: 2, contextLength: 256)
        var expected: [Int32] = []
        try session.generate(prompt: session.tokenizer.encode("The capital of France is"), params: p) { expected.append($0); return true }
        #expect(tokens == expected)
        #expect(last?.finished == true)
        #expect(text == session.tokenizer.decode(expected.filter { !session.tokenizer.isEndOfGeneration($0) }))
    }

    @Test func cancellingTheConsumerAbortsAndFreesBlocks() async throws {
        let engine = try Self.engine()
        defer { engine.shutdown() }
        var p = SamplingParams.greedy
        p.maxTokens = 400
        p.stopAtEndOfGeneration = false
        var seen = 0
        for try await out in engine.generate(prompt: "Once upon a time", params: p) {
            seen += out.newTokens.count
            if seen >= 5 { break }
        }
        #expect(seen == 5)
        var freed = false
        for _ in 0 ..< 200 {
            let s = engine.stats()
            if s.running == 0, s.waiting == 0, s.freeBlocks == s.numBlocks { freed = true; break }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        #expect(freed)
        // A task cancelled mid-stream frees its request too, and the engine keeps serving.
        let task = Task {
            var n = 0
            for try await out in engine.generate(prompt: "Tell me a story", params: p) { n += out.newTokens.count }
            return n
        }
        try await Task.sleep(nanoseconds: 200_000_000)
        task.cancel()
        _ = try? await task.value
        var q = SamplingParams.greedy
        q.maxTokens = 3
        var after = 0
        for try await out in engine.generate(prompt: "Hello", params: q) { after += out.newTokens.count }
        #expect(after >= 1)
    }

    @Test func badRequestsEndTheirStreamWithAnError() async throws {
        let engine = try Self.engine()
        defer { engine.shutdown() }
        var p = SamplingParams.greedy
        p.topP = 0
        await #expect(throws: SamplingError.self) {
            for try await _ in engine.generate(prompt: "Hi", params: p) {}
        }
        let long = String(repeating: "word ", count: 2000)
        await #expect(throws: RequestError.self) {
            for try await _ in engine.generate(prompt: long, params: .greedy) {}
        }
    }
}
