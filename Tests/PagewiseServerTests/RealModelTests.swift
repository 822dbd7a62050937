import Foundation
import Hummingbird
import HummingbirdTesting
import Pagewise
@testable import PagewiseServer
import Testing
import TestSupport

/// The server around the real engine and SmolLM2: what comes over HTTP is what the engine
/// generates for the same tokens (greedy), in one body or streamed.
@Suite(.serialized) struct RealModelTests {
    static func engine() throws -> AsyncEngine {
        var c = EngineConfig(modelPath: try TestModels.path("smollm2-135m-instruct"), threads: 2)
        c.maxModelLen = 256
        c.numBlocks = 96
        c.maxNumSeqs = 8
        return try AsyncEngine(config: c)
    }

    static func direct(_ engine: AsyncEngine, _ tokens: [Int32], maxTokens: Int) async throws -> String {
        var p = SamplingParams.greedy
        p.maxTokens = maxTokens
        var text = ""
        for try await o in engine.generate(promptTokens: tokens, params: p) { text += o.text }
        return text
    }

    @Test func greedyCompletionAndChatMatchTheEngine() async throws {
        let engine = try Self.engine()
        defer { engine.shutdown() }
        let prompt = "The capital of France is"
        let expected = try await Self.direct(engine, engine.tokenizer.encode(prompt, addSpecial: true, parseSpecial: true), maxTokens: 6)
        let chatPrompt = "<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\n"
        let expectedChat = try await Self.direct(engine, engine.tokenizer.encode(chatPrompt, addSpecial: false, parseSpecial: true),
                                                 maxTokens: 6)
        try await Harness.app(engine).test(.router) { client in
            let r = try await Harness.post(client, "/v1/completions", #"{"prompt":"\#(prompt)","max_tokens":6,"temperature":0}"#)
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            let choice = try #require((try Harness.object(r)["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == expected)
            #expect(choice["finish_reason"] as? String == "length")

            let s = try await Harness.post(client, "/v1/completions", #"{"prompt":"\#(prompt)","max_tokens":6,"temperature":0,"stream":true}"#)
            let streamed = try Harness.events(s.body).dropLast().map(Harness.parse).compactMap {
                ($0["choices"] as? [[String: Any]])?.first?["text"] as? String
            }.joined()
            #expect(streamed == expected)

            let c = try await Harness.post(client, "/v1/chat/completions",
                                           #"{"messages":[{"role":"user","content":"Name a color."}],"max_tokens":6,"temperature":0}"#)
            #expect(c.status == .ok, "\(String(buffer: c.body))")
            let message = try #require((try Harness.object(c)["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])
            #expect(message["content"] as? String == expectedChat)

            // A repeated prompt is served partly from the prefix cache.
            let again = try await Harness.post(client, "/v1/completions",
                                               #"{"prompt":"\#(String(repeating: "The sky is blue. ", count: 4))","max_tokens":1,"temperature":0}"#)
            let again2 = try await Harness.post(client, "/v1/completions",
                                                #"{"prompt":"\#(String(repeating: "The sky is blue. ", count: 4))","max_tokens":1,"temperature":0}"#)
            _ = again
            let usage = try #require(try Harness.object(again2)["usage"] as? [String: Any])
            let cached = (usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int ?? 0
            #expect(cached >= 16, "usage \(usage)")
        }
    }

    @Test func nGreedySequencesAllMatch() async throws {
        let engine = try Self.engine()
        defer { engine.shutdown() }
        try await Harness.app(engine).test(.router) { client in
            let r = try await Harness.post(client, "/v1/completions", #"{"prompt":"Once upon a time","max_tokens":4,"temperature":0,"n":3}"#)
            #expect(r.status == .ok)
            let choices = try #require(try Harness.object(r)["choices"] as? [[String: Any]])
            #expect(choices.count == 3)
            #expect(Set(choices.compactMap { $0["text"] as? String }).count == 1)
        }
    }

    /// Needs the engine's sampling work (logprobs, stop strings): on main since the sampling merge.
    @Test func logprobsAndStopStringsOverHTTP() async throws {
        let engine = try Self.engine()
        defer { engine.shutdown() }
        try await Harness.app(engine).test(.router) { client in
            let r = try await Harness.post(client, "/v1/completions", #"{"prompt":"Hello, my name","max_tokens":3,"temperature":0,"logprobs":2}"#)
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            let o = try Harness.object(r)
            let choice = try #require((o["choices"] as? [[String: Any]])?.first)
            let lp = try #require(choice["logprobs"] as? [String: Any])
            let values = try #require(lp["token_logprobs"] as? [Double])
            let top = try #require(lp["top_logprobs"] as? [[String: Double]])
            #expect(values.count == 3 && top.count == 3)
            for (v, t) in zip(values, top) {
                #expect(v <= 0)
                // Greedy takes the most likely token, so its logprob is the best of the top ones.
                #expect(v >= (t.values.max() ?? 0) - 1e-4)
            }

            let s = try await Harness.post(client, "/v1/completions",
                                           #"{"prompt":"1, 2, 3, 4,","max_tokens":20,"temperature":0,"stop":[" 7"]}"#)
            let sc = try #require((try Harness.object(s)["choices"] as? [[String: Any]])?.first)
            let text = try #require(sc["text"] as? String)
            #expect(!text.contains(" 7") && text.contains("6"), "\(text)")
            #expect(sc["finish_reason"] as? String == "stop")
            #expect(sc["stop_reason"] as? String == " 7")
        }
    }
}
