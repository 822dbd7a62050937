import Foundation
import Hummingbird
import HummingbirdTesting
import Pagewise
@testable import PagewiseServer
import Testing
import TestSupport

/// The server around an engine with speculative decoding on: `/metrics` shows vLLM's
/// `spec_decode_*` counters, they move with the requests, and they agree with the engine's own
/// totals; the completions are the ones of an engine without speculation.
@Suite(.serialized) struct SpeculativeMetricsTests {
    static func engine(_ speculative: SpeculativeMethod?) throws -> AsyncEngine {
        var c = EngineConfig(modelPath: try TestModels.path("smollm2-135m-instruct"), threads: 2)
        c.maxModelLen = 256
        c.numBlocks = 128
        c.maxNumSeqs = 8
        c.speculative = speculative
        c.numSpeculativeTokens = 5
        return try AsyncEngine(config: c)
    }

    /// The value of the sample `name{…}` whose labels include every one of `labels` (nil when absent).
    static func sample(_ text: String, _ name: String, _ labels: [String] = []) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, labels.allSatisfy({ parts[0].contains($0) }) else { continue }
            return Double(parts[1])
        }
        return nil
    }

    /// Waits until the engine's snapshot is taken after the last request finished (the stream ends
    /// inside the step; the snapshot follows it).
    static func settle(_ e: AsyncEngine) async throws {
        for _ in 0 ..< 500 {
            let s = e.stats()
            if s.running == 0 && s.waiting == 0 { return }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Prompts whose greedy continuation repeats what they say (n-gram drafts get accepted).
    static let prompts = [
        "Repeat exactly: the red fox jumps over the lazy dog. the red fox jumps over the lazy dog. the red fox jumps over the lazy dog.",
        "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,",
        "Monday, Tuesday, Wednesday, Thursday, Friday. Monday, Tuesday, Wednesday, Thursday, Friday. Monday,",
    ]

    static func completions(_ client: some TestClientProtocol) async throws -> [String] {
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for (i, p) in prompts.enumerated() {
                group.addTask {
                    let body = #"{"prompt":"\#(p)","max_tokens":24,"temperature":0}"#
                    let r = try await Harness.post(client, "/v1/completions", body)
                    #expect(r.status == .ok, "\(String(buffer: r.body))")
                    let choice = (try Harness.object(r)["choices"] as? [[String: Any]])?.first
                    return (i, choice?["text"] as? String ?? "")
                }
            }
            var out = [String](repeating: "", count: prompts.count)
            for try await (i, t) in group { out[i] = t }
            return out
        }
    }

    @Test func specDecodeCountersMoveAndAgreeWithTheEngine() async throws {
        let plain = try Self.engine(nil)
        let expected: [String]
        do {
            defer { plain.shutdown() }
            expected = try await Harness.app(plain).test(.router) { client in
                let m = String(buffer: try await Harness.get(client, "/metrics").body)
                // Off: registered and zero.
                #expect(Self.sample(m, "vllm:spec_decode_num_drafts_total") == 0, "\(m)")
                return try await Self.completions(client)
            }
        }

        let engine = try Self.engine(.ngram)
        defer { engine.shutdown() }
        try await Harness.app(engine).test(.router) { client in
            let m0 = String(buffer: try await Harness.get(client, "/metrics").body)
            for name in ["vllm:spec_decode_num_drafts_total", "vllm:spec_decode_num_draft_tokens_total",
                         "vllm:spec_decode_num_accepted_tokens_total"] {
                #expect(m0.contains("# TYPE \(name) counter\n"), "\(name)")
                #expect(Self.sample(m0, name, [#"model_name="test-model""#]) == 0, "\(name) before any request")
            }
            let got = try await Self.completions(client)
            #expect(got == expected, "completions with speculation differ from those without")
            try await Self.settle(engine)

            let m = String(buffer: try await Harness.get(client, "/metrics").body)
            let s = engine.stats()
            let drafts = try #require(Self.sample(m, "vllm:spec_decode_num_drafts_total"))
            let draftTokens = try #require(Self.sample(m, "vllm:spec_decode_num_draft_tokens_total"))
            let accepted = try #require(Self.sample(m, "vllm:spec_decode_num_accepted_tokens_total"))
            #expect(drafts > 0 && accepted > 0, "\(m)")
            #expect(accepted <= draftTokens && drafts <= draftTokens && draftTokens <= 5 * drafts)
            #expect(Int(drafts) == s.specDraftsTotal && Int(draftTokens) == s.specDraftTokensTotal
                && Int(accepted) == s.specAcceptedTokensTotal, "metrics \(drafts) \(draftTokens) \(accepted), engine \(s)")
            // Per position: position 0 counts every draft whose first token was kept, each later
            // position at most as many as the one before, and together they are the accepted total.
            var perPosition: [Double] = []
            while let v = Self.sample(m, "vllm:spec_decode_num_accepted_tokens_per_pos", [#"position="\#(perPosition.count)""#]) {
                perPosition.append(v)
            }
            #expect(!perPosition.isEmpty && perPosition.count <= 5)
            #expect(perPosition.reduce(0, +) == accepted)
            #expect(zip(perPosition, perPosition.dropFirst()).allSatisfy { $0 >= $1 })
            #expect(perPosition.map(Int.init) == Array(s.specAcceptedTokensPerPosition.prefix(perPosition.count)))

            // The counters only grow: a second round adds to them.
            _ = try await Self.completions(client)
            try await Self.settle(engine)
            let m2 = String(buffer: try await Harness.get(client, "/metrics").body)
            #expect((Self.sample(m2, "vllm:spec_decode_num_drafts_total") ?? 0) > drafts)
            #expect(Int(Self.sample(m2, "vllm:spec_decode_num_accepted_tokens_total") ?? 0) == engine.stats().specAcceptedTokensTotal)
        }
    }
}
