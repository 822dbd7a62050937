import Foundation
import Hummingbird
import HummingbirdTesting
import Pagewise
@testable import PagewiseServer
import Testing

/// Server-sent events as OpenAI streams them: `data: {json}\n\n` frames, `data: [DONE]` last,
/// a first chat chunk carrying the role, usage last with `stream_options.include_usage`.
@Suite struct StreamingTests {
    @Test func sseFraming() {
        #expect(String(buffer: SSE.event(Data(#"{"a":1}"#.utf8))) == "data: {\"a\":1}\n\n")
        #expect(String(buffer: SSE.done) == "data: [DONE]\n\n")
    }

    @Test func completionStream() async throws {
        let backend = try ScriptedBackend(behaviour: .reply(" one two three"))
        try await Harness.app(backend).test(.router) { client in
            let r = try await Harness.post(client, "/v1/completions",
                                           #"{"prompt":"x","stream":true,"max_tokens":10,"stream_options":{"include_usage":true}}"#)
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == "text/event-stream")
            let events = Harness.events(r.body)
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map(Harness.parse)
            var text = ""
            var ids = Set<String>()
            for c in chunks.dropLast() {
                #expect(c["object"] as? String == "text_completion")
                ids.insert(c["id"] as? String ?? "")
                let choice = try #require((c["choices"] as? [[String: Any]])?.first)
                text += choice["text"] as? String ?? ""
            }
            #expect(ids.count == 1 && ids.first?.hasPrefix("cmpl-") == true)
            #expect(text == " one two three")
            let lastChoice = try #require((chunks[chunks.count - 2]["choices"] as? [[String: Any]])?.first)
            #expect(lastChoice["finish_reason"] as? String == "stop")
            let usageChunk = try #require(chunks.last)
            #expect((usageChunk["choices"] as? [Any])?.isEmpty == true)
            let usage = try #require(usageChunk["usage"] as? [String: Any])
            #expect(usage["completion_tokens"] as? Int == 3)
        }
    }

    @Test func chatStreamStartsWithTheRole() async throws {
        let backend = try ScriptedBackend(behaviour: .reply(" Sure thing"))
        try await Harness.app(backend).test(.router) { client in
            let r = try await Harness.post(client, "/v1/chat/completions",
                                           #"{"messages":[{"role":"user","content":"hi"}],"stream":true,"n":2,"max_tokens":5}"#)
            #expect(r.status == .ok)
            let events = Harness.events(r.body)
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map(Harness.parse)
            var firstSeen = Set<Int>()
            var texts = [0: "", 1: ""]
            var finished = Set<Int>()
            for c in chunks {
                #expect(c["object"] as? String == "chat.completion.chunk")
                #expect((c["id"] as? String)?.hasPrefix("chatcmpl-") == true)
                let choice = try #require((c["choices"] as? [[String: Any]])?.first)
                let i = try #require(choice["index"] as? Int)
                let delta = try #require(choice["delta"] as? [String: Any])
                if !firstSeen.contains(i) {
                    #expect(delta["role"] as? String == "assistant", "the first chunk of a choice carries the role")
                    firstSeen.insert(i)
                } else {
                    #expect(delta["role"] == nil)
                }
                texts[i, default: ""] += delta["content"] as? String ?? ""
                if choice["finish_reason"] as? String != nil { finished.insert(i) }
            }
            #expect(texts == [0: " Sure thing", 1: " Sure thing"])
            #expect(finished == [0, 1])
        }
    }

    @Test func failureMidStreamEndsWithAnErrorEvent() async throws {
        struct Boom: Error {}
        let backend = try ScriptedBackend(behaviour: .failAfterFirst(Boom()))
        try await Harness.app(backend).test(.router) { client in
            let r = try await Harness.post(client, "/v1/completions", #"{"prompt":"x","stream":true}"#)
            #expect(r.status == .ok)
            let events = Harness.events(r.body)
            #expect(events.last == "[DONE]")
            let error = try Harness.parse(events[events.count - 2])
            #expect((error["error"] as? [String: Any])?["code"] as? Int == 500)
        }
    }
}
