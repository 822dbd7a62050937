import Foundation
import Hummingbird
import HummingbirdTesting
import Pagewise
@testable import PagewiseServer
import StructuredOutput
import Testing

/// `response_format`, vLLM's structured-output fields, and tool calling over HTTP.
@Suite(.serialized) struct StructuredOutputRouteTests {
    static let weatherTool = #"""
    {"type":"function","function":{"name":"get_weather","description":"Current weather in a city",
     "parameters":{"type":"object","properties":{"city":{"type":"string","maxLength":20},"unit":{"enum":["celsius","fahrenheit"]}},
     "required":["city","unit"]}}}
    """#

    static func message(_ r: TestResponse) throws -> [String: Any] {
        try #require((try Harness.object(r)["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])
    }

    static func choice(_ r: TestResponse) throws -> [String: Any] {
        try #require((try Harness.object(r)["choices"] as? [[String: Any]])?.first)
    }

    /// With the real model: a JSON schema in response_format, a required tool call and a named one
    /// give outputs that parse and follow the schema (checked here with Foundation's parser).
    @Test func realModelFollowsSchemasAndCallsTools() async throws {
        let engine = try RealModelTests.engine()
        defer { engine.shutdown() }
        try await Harness.app(engine).test(.router) { client in
            let schema = #"{"type":"object","properties":{"color":{"enum":["red","green","blue"]},"count":{"type":"integer","minimum":1,"maximum":9}},"required":["color","count"]}"#
            let r = try await Harness.post(client, "/v1/chat/completions", #"""
            {"messages":[{"role":"user","content":"Pick a color and a count."}],"max_tokens":40,"temperature":0,
             "response_format":{"type":"json_schema","json_schema":{"name":"pick","schema":\#(schema)}}}
            """#)
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            let content = try #require(try Self.message(r)["content"] as? String)
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: Any], "\(content)")
            #expect(["red", "green", "blue"].contains(obj["color"] as? String ?? ""))
            #expect((1 ... 9).contains(obj["count"] as? Int ?? 0))
            #expect(try Self.choice(r)["finish_reason"] as? String == "stop")

            let g = try await Harness.post(client, "/v1/completions",
                                           #"{"prompt":"My phone number is","max_tokens":20,"temperature":0,"guided_regex":"[0-9]{3}-[0-9]{4}"}"#)
            let text = try #require(try Self.choice(g)["text"] as? String)
            #expect(text.range(of: "^[0-9]{3}-[0-9]{4}$", options: .regularExpression) != nil, "\(text)")
            let so = try await Harness.post(client, "/v1/completions",
                                            #"{"prompt":"The answer is","max_tokens":5,"temperature":0,"structured_outputs":{"choice":["yes","no"]}}"#)
            #expect(["yes", "no"].contains(try Self.choice(so)["text"] as? String ?? ""))

            for (choice, finish) in [(#""required""#, "tool_calls"), (#"{"type":"function","function":{"name":"get_weather"}}"#, "stop")] {
                let t = try await Harness.post(client, "/v1/chat/completions", #"""
                {"messages":[{"role":"user","content":"What is the weather in Paris?"}],"max_tokens":60,"temperature":0,
                 "tools":[\#(Self.weatherTool)],"tool_choice":\#(choice)}
                """#)
                #expect(t.status == .ok, "\(String(buffer: t.body))")
                let m = try Self.message(t)
                #expect(m["content"] is NSNull)
                let call = try #require((m["tool_calls"] as? [[String: Any]])?.first, "\(m)")
                #expect((call["id"] as? String)?.hasPrefix("call_") == true)
                #expect(call["type"] as? String == "function")
                let f = try #require(call["function"] as? [String: Any])
                #expect(f["name"] as? String == "get_weather")
                let args = try #require(try JSONSerialization.jsonObject(with: Data((f["arguments"] as? String ?? "").utf8)) as? [String: Any])
                #expect(args["city"] is String)
                #expect(["celsius", "fahrenheit"].contains(args["unit"] as? String ?? ""))
                #expect(try Self.choice(t)["finish_reason"] as? String == finish)
            }
        }
    }

    /// tool_choice auto: the model's own call format is parsed into tool_calls, in one body and streamed.
    @Test func autoToolCallsAreParsed() async throws {
        let reply = #"Let me check. <tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}</tool_call>"#
        let backend = try ScriptedBackend(behaviour: .reply(reply))
        try await Harness.app(backend).test(.router) { client in
            let body = #"{"messages":[{"role":"user","content":"Weather in Paris?"}],"max_tokens":200,"tools":[\#(Self.weatherTool)]}"#
            let r = try await Harness.post(client, "/v1/chat/completions", body)
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            let m = try Self.message(r)
            #expect(m["content"] as? String == "Let me check.")
            let f = try #require(((m["tool_calls"] as? [[String: Any]])?.first)?["function"] as? [String: Any])
            #expect(f["name"] as? String == "get_weather")
            let args = try JSONSerialization.jsonObject(with: Data((f["arguments"] as? String ?? "").utf8)) as? [String: String]
            #expect(args == ["city": "Paris", "unit": "celsius"])
            #expect(try Self.choice(r)["finish_reason"] as? String == "tool_calls")

            let s = try await Harness.post(client, "/v1/chat/completions",
                                           #"{"messages":[{"role":"user","content":"Weather in Paris?"}],"max_tokens":200,"stream":true,"tools":[\#(Self.weatherTool)]}"#)
            let events = Harness.events(s.body)
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map(Harness.parse)
            let deltas = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }
            #expect((deltas.first?["delta"] as? [String: Any])?["role"] as? String == "assistant")
            let calls = deltas.compactMap { ($0["delta"] as? [String: Any])?["tool_calls"] as? [[String: Any]] }.flatMap { $0 }
            #expect(calls.count == 1 && calls.first?["index"] as? Int == 0)
            #expect(deltas.last?["finish_reason"] as? String == "tool_calls")
            // The raw call markup never reaches the client as content.
            let content = deltas.compactMap { ($0["delta"] as? [String: Any])?["content"] as? String }.joined()
            #expect(!content.contains("<tool_call>"))
        }
    }

    @Test func badStructuredRequestsAreClear400s() async throws {
        let backend = try ScriptedBackend()
        try await Harness.app(backend).test(.router) { client in
            let two = try await Harness.post(client, "/v1/completions", #"{"prompt":"x","guided_regex":"a+","guided_choice":["a"]}"#)
            try Harness.expectError(two, .badRequest, param: "guided_choice")
            let kind = try await Harness.post(client, "/v1/chat/completions",
                                              #"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"yaml"}}"#)
            try Harness.expectError(kind, .badRequest, param: "response_format")
            let unknown = try await Harness.post(client, "/v1/chat/completions", #"""
            {"messages":[{"role":"user","content":"x"}],"tools":[\#(Self.weatherTool)],"tool_choice":{"type":"function","function":{"name":"nope"}}}
            """#)
            try Harness.expectError(unknown, .badRequest, param: "tool_choice")
            let choice = try await Harness.post(client, "/v1/completions", #"{"prompt":"x","guided_choice":"a"}"#)
            try Harness.expectError(choice, .badRequest, param: "guided_choice")
        }
        // An unsupported schema keyword is a 400 naming the field (compiled by the real engine).
        let engine = try RealModelTests.engine()
        defer { engine.shutdown() }
        try await Harness.app(engine).test(.router) { client in
            let r = try await Harness.post(client, "/v1/chat/completions", #"""
            {"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"type":"object","patternProperties":{"^a":{}}}}}}
            """#)
            try Harness.expectError(r, .badRequest, param: "response_format")
            #expect(String(buffer: r.body).contains("patternProperties"))
        }
    }
}
