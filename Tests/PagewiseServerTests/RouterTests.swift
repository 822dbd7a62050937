import Foundation
import Hummingbird
import HummingbirdTesting
import Pagewise
@testable import PagewiseServer
import Testing

/// Every route and its errors, through the router with a scripted engine (expected shapes are
/// OpenAI's and vLLM's documented ones).
@Suite struct RouterTests {
    @Test func healthIs503UntilTheModelIsLoadedThen200() async throws {
        try await Harness.app(nil).test(.router) { client in
            let r = try await Harness.get(client, "/health")
            try Harness.expectError(r, .serviceUnavailable)
            try Harness.expectError(try await Harness.post(client, "/v1/completions", #"{"prompt":"hi"}"#), .serviceUnavailable)
        }
        try await Harness.app(try ScriptedBackend()).test(.router) { client in
            let r = try await Harness.get(client, "/health")
            #expect(r.status == .ok)
        }
    }

    @Test func versionAndModels() async throws {
        try await Harness.app(try ScriptedBackend()).test(.router) { client in
            let v = try Harness.object(try await Harness.get(client, "/version"))
            #expect(v["version"] is String)
            let m = try Harness.object(try await Harness.get(client, "/v1/models"))
            #expect(m["object"] as? String == "list")
            let data = try #require(m["data"] as? [[String: Any]])
            #expect(data.count == 1)
            #expect(data[0]["id"] as? String == Harness.modelName)
            #expect(data[0]["object"] as? String == "model")
            #expect(data[0]["max_model_len"] as? Int == 256)
        }
    }

    @Test func completionHasOpenAIsShape() async throws {
        let backend = try ScriptedBackend(behaviour: .reply(" Hello there"))
        try await Harness.app(backend).test(.router) { client in
            let r = try await Harness.post(client, "/v1/completions",
                                           #"{"model":"test-model","prompt":"Say hi","max_tokens":5,"temperature":0,"unknown_field":{"x":[1]}}"#)
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == "application/json")
            let o = try Harness.object(r)
            #expect((o["id"] as? String)?.hasPrefix("cmpl-") == true)
            #expect(o["object"] as? String == "text_completion")
            #expect(o["created"] is Int)
            #expect(o["model"] as? String == Harness.modelName)
            #expect(o["system_fingerprint"] is String)
            let choices = try #require(o["choices"] as? [[String: Any]])
            #expect(choices.count == 1)
            #expect(choices[0]["index"] as? Int == 0)
            #expect(choices[0]["text"] as? String == " Hello there")
            #expect(choices[0]["finish_reason"] as? String == "stop")
            #expect(choices[0].keys.contains("logprobs"))
            let usage = try #require(o["usage"] as? [String: Any])
            let prompt = backend.tokenizer.encode("Say hi", addSpecial: true, parseSpecial: true).count
            #expect(usage["prompt_tokens"] as? Int == prompt)
            #expect(usage["completion_tokens"] as? Int == 2)
            #expect(usage["total_tokens"] as? Int == prompt + 2)
            #expect((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int == 0)
        }
        // The request reached the engine with the OpenAI fields mapped.
        let sent = try #require(backend.requests.first)
        #expect(sent.params.temperature == 0)
        #expect(sent.params.maxTokens == 5)
    }

    @Test func everySamplingFieldIsMappedUnderItsName() async throws {
        let backend = try ScriptedBackend()
        let body = #"""
        {"prompt":"x","max_tokens":7,"temperature":0.5,"top_p":0.9,"top_k":20,"min_p":0.1,"seed":42,"min_tokens":2,
         "ignore_eos":true,"repetition_penalty":1.1,"presence_penalty":0.5,"frequency_penalty":-0.5,
         "logit_bias":{"42":5,"7":-100},"allowed_token_ids":[1,2,42],"bad_words":["bad"],"stop":["\n\n","END"],
         "stop_token_ids":[2],"include_stop_str_in_output":true,"skip_special_tokens":false,"prompt_logprobs":1,
         "logprobs":3,"n":2,"priority":1}
        """#
        try await Harness.app(backend).test(.router) { client in
            let r = try await Harness.post(client, "/v1/completions", body)
            #expect(r.status == .ok, "\(String(buffer: r.body))")
        }
        let sent = try #require(backend.requests.first)
        let p = sent.params
        #expect(sent.n == 2)
        #expect(p.maxTokens == 7 && p.temperature == 0.5 && p.topP == 0.9 && p.topK == 20 && p.minP == 0.1)
        #expect(p.seed == 42 && p.minTokens == 2 && p.ignoreEOS && p.repetitionPenalty == 1.1)
        #expect(p.presencePenalty == 0.5 && p.frequencyPenalty == -0.5)
        #expect(p.logitBias == [42: 5, 7: -100])
        #expect(p.allowedTokenIds == [1, 2, 42] && p.badWords == ["bad"] && p.stop == ["\n\n", "END"])
        #expect(p.stopTokenIds == [2] && p.includeStopStrInOutput && !p.skipSpecialTokens)
        #expect(p.promptLogprobs == 1 && p.logprobs == 3)
    }

    @Test func openAIDefaultsAndBeamSearch() async throws {
        let backend = try ScriptedBackend()
        try await Harness.app(backend).test(.router) { client in
            _ = try await Harness.post(client, "/v1/completions", #"{"prompt":"x"}"#)
            _ = try await Harness.post(client, "/v1/completions",
                                       #"{"prompt":"x","n":3,"use_beam_search":true,"length_penalty":0.5,"early_stopping":"never"}"#)
            _ = try await Harness.post(client, "/v1/chat/completions", #"{"messages":[{"role":"user","content":"x"}],"max_completion_tokens":9}"#)
        }
        let reqs = backend.requests
        try #require(reqs.count == 3)
        #expect(reqs[0].params.temperature == 1 && reqs[0].params.topP == 1 && reqs[0].params.topK == 0 && reqs[0].params.minP == 0)
        #expect(reqs[0].params.maxTokens == 16)
        #expect(reqs[1].params.beamSearch == BeamSearchOptions(width: 3, lengthPenalty: 0.5, earlyStopping: .never))
        #expect(reqs[1].n == 3)
        #expect(reqs[2].params.maxTokens == 9)
    }

    @Test func chatRendersTheTemplateAndAnswers() async throws {
        let backend = try ScriptedBackend(behaviour: .reply(" Hi!"))
        try await Harness.app(backend).test(.router) { client in
            let r = try await Harness.post(client, "/v1/chat/completions", #"""
            {"model":"test-model","messages":[{"role":"system","content":"Be brief."},
             {"role":"user","content":[{"type":"text","text":"Hello"}]}],"max_tokens":4,"logprobs":true,"top_logprobs":2}
            """#)
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            let o = try Harness.object(r)
            #expect((o["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            #expect(o["object"] as? String == "chat.completion")
            let choice = try #require((o["choices"] as? [[String: Any]])?.first)
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant")
            #expect(message["content"] as? String == " Hi!")
            #expect(choice["finish_reason"] as? String == "stop")
            let content = try #require((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            #expect(content.count == 2)
            #expect(content[0]["logprob"] as? Double == -0.5)
            #expect(content[0]["bytes"] is [Int])
            #expect((content[0]["top_logprobs"] as? [[String: Any]])?.count == 2)
        }
        let sent = try #require(backend.requests.first)
        let expected = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n"
        #expect(sent.tokens == backend.tokenizer.encode(expected, addSpecial: false, parseSpecial: true))
        #expect(sent.params.logprobs == 2)
    }

    @Test func completionLogprobsUseTheLegacyShapeWithEcho() async throws {
        let backend = try ScriptedBackend(behaviour: .reply(" A B"))
        try await Harness.app(backend).test(.router) { client in
            let r = try await Harness.post(client, "/v1/completions", #"{"prompt":"one two","max_tokens":2,"logprobs":2,"echo":true}"#)
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            let choice = try #require((try Harness.object(r)["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == "one two A B")
            let lp = try #require(choice["logprobs"] as? [String: Any])
            let tokens = try #require(lp["tokens"] as? [String])
            let promptCount = backend.tokenizer.encode("one two", addSpecial: true, parseSpecial: true).count
            #expect(tokens.count == promptCount + 2)
            let values = try #require(lp["token_logprobs"] as? [Any])
            #expect(values.first is NSNull, "the first prompt token has no logprob")
            #expect(values.last as? Double == -0.5)
            let offsets = try #require(lp["text_offset"] as? [Int])
            #expect(offsets == offsets.sorted() && offsets.first == 0)
            let top = try #require(lp["top_logprobs"] as? [Any])
            #expect(top.count == tokens.count)
            #expect((top.last as? [String: Double])?.count ?? 0 >= 2)
        }
    }

    @Test func nChoicesAndSeveralPrompts() async throws {
        let backend = try ScriptedBackend(behaviour: .reply(" ok"))
        try await Harness.app(backend).test(.router) { client in
            let r = try await Harness.post(client, "/v1/completions", #"{"prompt":["a","b"],"n":2,"max_tokens":3}"#)
            #expect(r.status == .ok)
            let choices = try #require(try Harness.object(r)["choices"] as? [[String: Any]])
            #expect(choices.map { $0["index"] as? Int } == [0, 1, 2, 3])
            #expect(choices.allSatisfy { $0["text"] as? String == " ok" })
            let tokenPrompt = try await Harness.post(client, "/v1/completions", #"{"prompt":[1,2,3],"max_tokens":1}"#)
            #expect(tokenPrompt.status == .ok)
        }
        #expect(backend.requests.last?.tokens == [1, 2, 3])
    }

    @Test func tokenizeAndDetokenize() async throws {
        let backend = try ScriptedBackend()
        try await Harness.app(backend).test(.router) { client in
            let r = try Harness.object(try await Harness.post(client, "/tokenize", #"{"prompt":"Hello world"}"#))
            let expected = backend.tokenizer.encode("Hello world", addSpecial: true, parseSpecial: true)
            #expect((r["tokens"] as? [Int])?.map(Int32.init) == expected)
            #expect(r["count"] as? Int == expected.count)
            #expect(r["max_model_len"] as? Int == 256)
            let m = try Harness.object(try await Harness.post(client, "/tokenize",
                                                              #"{"messages":[{"role":"user","content":"Hi"}],"add_generation_prompt":false}"#))
            let chat = backend.tokenizer.encode("<|im_start|>user\nHi<|im_end|>\n", addSpecial: false, parseSpecial: true)
            #expect((m["tokens"] as? [Int])?.map(Int32.init) == chat)
            let d = try Harness.object(try await Harness.post(client, "/detokenize", "{\"tokens\":\(expected.map(Int.init))}"))
            #expect(d["prompt"] as? String == backend.tokenizer.decode(expected))
            try Harness.expectError(try await Harness.post(client, "/detokenize", #"{"tokens":[99999999]}"#), .badRequest, param: "tokens")
            try Harness.expectError(try await Harness.post(client, "/tokenize", #"{}"#), .badRequest, param: "prompt")
        }
    }

    @Test func malformedAndWrongTypesAre400NamingTheField() async throws {
        try await Harness.app(try ScriptedBackend()).test(.router) { client in
            try Harness.expectError(try await Harness.post(client, "/v1/completions", #"{"prompt":"x""#), .badRequest)
            try Harness.expectError(try await Harness.post(client, "/v1/completions", ""), .badRequest)
            try Harness.expectError(try await Harness.post(client, "/v1/completions", "[1,2]"), .badRequest)
            let cases: [(String, String, String)] = [
                ("/v1/completions", #"{"prompt":"x","temperature":"hot"}"#, "temperature"),
                ("/v1/completions", #"{"prompt":"x","max_tokens":"5"}"#, "max_tokens"),
                ("/v1/completions", #"{"prompt":"x","n":1.5}"#, "n"),
                ("/v1/completions", #"{"prompt":"x","stop":5}"#, "stop"),
                ("/v1/completions", #"{"prompt":{"a":1}}"#, "prompt"),
                ("/v1/completions", #"{"prompt":"x","logit_bias":{"a":1}}"#, "logit_bias"),
                ("/v1/completions", #"{"prompt":"x","seed":1e30}"#, "seed"),
                ("/v1/chat/completions", #"{"messages":"hi"}"#, "messages"),
                ("/v1/chat/completions", #"{"messages":[{"role":"user","content":5}]}"#, "messages[0].content"),
                ("/v1/chat/completions", #"{"messages":[{"content":"x"}]}"#, "messages[0].role"),
                ("/v1/chat/completions", #"{"model":"test-model"}"#, "messages"),
                ("/v1/chat/completions", #"{"messages":[{"role":"user","content":"x"}],"logprobs":"yes"}"#, "logprobs"),
            ]
            for (uri, body, param) in cases {
                try Harness.expectError(try await Harness.post(client, uri, body), .badRequest, param: param)
            }
        }
    }

    @Test func impossibleParametersAre400NamingTheParameter() async throws {
        try await Harness.app(try ScriptedBackend()).test(.router) { client in
            let cases: [(String, String)] = [
                (#"{"prompt":"x","temperature":-1}"#, "temperature"),
                (#"{"prompt":"x","top_p":0}"#, "top_p"),
                (#"{"prompt":"x","top_p":1.5}"#, "top_p"),
                (#"{"prompt":"x","top_k":-5}"#, "top_k"),
                (#"{"prompt":"x","min_p":2}"#, "min_p"),
                (#"{"prompt":"x","n":0}"#, "n"),
                (#"{"prompt":"x","n":1000}"#, "n"),
                (#"{"prompt":"x","max_tokens":0}"#, "max_tokens"),
                (#"{"prompt":"x","max_tokens":100000}"#, "max_tokens"),
                (#"{"prompt":"x","logprobs":50}"#, "logprobs"),
                (#"{"prompt":"x","presence_penalty":3}"#, "presence_penalty"),
                (#"{"prompt":"x","frequency_penalty":-3}"#, "frequency_penalty"),
                (#"{"prompt":"x","repetition_penalty":0}"#, "repetition_penalty"),
                (#"{"prompt":"x","min_tokens":10,"max_tokens":5}"#, "min_tokens"),
                (#"{"prompt":"x","stop":[""]}"#, "stop"),
                (#"{"prompt":"x","logit_bias":{"99999999":1}}"#, "logit_bias"),
                (#"{"prompt":"x","stop_token_ids":[-1]}"#, "stop_token_ids"),
                (#"{"prompt":"x","n":2,"best_of":1}"#, "best_of"),
                (#"{"prompt":[99999999]}"#, "prompt"),
                (#"{"prompt":[]}"#, "prompt"),
                ("{\"prompt\":\"\(String(repeating: "word ", count: 400))\"}", "prompt"),
                (#"{"prompt":"x","suffix":"y"}"#, "suffix"),
            ]
            for (body, param) in cases {
                try Harness.expectError(try await Harness.post(client, "/v1/completions", body), .badRequest, param: param)
            }
            try Harness.expectError(try await Harness.post(client, "/v1/chat/completions",
                                                           #"{"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":30}"#),
                                    .badRequest, param: "top_logprobs")
            try Harness.expectError(try await Harness.post(client, "/v1/chat/completions", #"{"messages":[]}"#),
                                    .badRequest, param: "messages")
            try Harness.expectError(try await Harness.post(client, "/v1/chat/completions", #"{"messages":[{"role":"wizard","content":"x"}]}"#),
                                    .badRequest, param: "messages[0].role")
        }
    }

    @Test func unknownModelAndRouteAre404() async throws {
        try await Harness.app(try ScriptedBackend()).test(.router) { client in
            try Harness.expectError(try await Harness.post(client, "/v1/completions", #"{"model":"gpt-9","prompt":"x"}"#),
                                    .notFound, param: "model")
            try Harness.expectError(try await Harness.post(client, "/v1/chat/completions",
                                                           #"{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}"#),
                                    .notFound, param: "model")
            try Harness.expectError(try await Harness.get(client, "/v1/nothing"), .notFound)
        }
    }

    @Test func apiKeyGuardsV1Only() async throws {
        try await Harness.app(try ScriptedBackend(), { $0.apiKey = "sekrit" }).test(.router) { client in
            try Harness.expectError(try await Harness.post(client, "/v1/completions", #"{"prompt":"x"}"#), .unauthorized)
            try Harness.expectError(try await Harness.get(client, "/v1/models"), .unauthorized)
            var wrong = Harness.jsonHeaders
            wrong[.authorization] = "Bearer nope"
            try Harness.expectError(try await Harness.post(client, "/v1/completions", #"{"prompt":"x"}"#, headers: wrong), .unauthorized)
            var right = Harness.jsonHeaders
            right[.authorization] = "Bearer sekrit"
            #expect(try await Harness.post(client, "/v1/completions", #"{"prompt":"x","max_tokens":1}"#, headers: right).status == .ok)
            #expect(try await Harness.get(client, "/v1/models", headers: right).status == .ok)
            #expect(try await Harness.get(client, "/health").status == .ok)
            #expect(try await Harness.get(client, "/metrics").status == .ok)
        }
    }

    @Test func bodyOverTheLimitIs413() async throws {
        try await Harness.app(try ScriptedBackend(), { $0.maxBodyBytes = 100 }).test(.router) { client in
            let big = "{\"prompt\":\"\(String(repeating: "a", count: 200))\"}"
            try Harness.expectError(try await Harness.post(client, "/v1/completions", big), .contentTooLarge)
            try Harness.expectError(try await Harness.post(client, "/tokenize", big), .contentTooLarge)
        }
    }

    @Test func fullQueueIs429() async throws {
        let backend = try ScriptedBackend(behaviour: .hang)
        try await Harness.app(backend, { $0.maxQueue = 1 }).test(.router) { client in
            let first = Task { try await Harness.post(client, "/v1/completions", #"{"prompt":"x"}"#) }
            // Wait until the first request holds the only slot.
            for _ in 0 ..< 200 where backend.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            try Harness.expectError(try await Harness.post(client, "/v1/completions", #"{"prompt":"y"}"#), .tooManyRequests)
            backend.abortAll()
            _ = try? await first.value
            // The slot is free again.
            backend.behaviour = .reply(" ok")
            #expect(try await Harness.post(client, "/v1/completions", #"{"prompt":"z"}"#).status == .ok)
        }
    }

    @Test func engineFailureIs500AndTheServerKeepsServing() async throws {
        struct Boom: Error {}
        let backend = try ScriptedBackend(behaviour: .fail(Boom()))
        try await Harness.app(backend).test(.router) { client in
            try Harness.expectError(try await Harness.post(client, "/v1/completions", #"{"prompt":"x"}"#), .internalServerError)
            try Harness.expectError(try await Harness.post(client, "/v1/completions", #"{"prompt":"x","stream":true}"#), .internalServerError)
            backend.behaviour = .reply(" fine")
            #expect(try await Harness.post(client, "/v1/completions", #"{"prompt":"x"}"#).status == .ok)
            // An engine-side validation failure is the client's fault.
            backend.behaviour = .fail(RequestError.promptTooLong(tokens: 9, limit: 8))
            try Harness.expectError(try await Harness.post(client, "/v1/completions", #"{"prompt":"x"}"#), .badRequest, param: "prompt")
        }
    }

    @Test func metricsUseVLLMNames() async throws {
        let backend = try ScriptedBackend()
        try await Harness.app(backend).test(.router) { client in
            _ = try await Harness.post(client, "/v1/completions", #"{"prompt":"x","max_tokens":3}"#)
            let r = try await Harness.get(client, "/metrics")
            #expect(r.status == .ok)
            let text = String(buffer: r.body)
            let expected: [(String, String)] = [
                ("vllm:num_requests_running", "gauge"), ("vllm:num_requests_waiting", "gauge"), ("vllm:kv_cache_usage_perc", "gauge"),
                ("vllm:prefix_cache_queries_total", "counter"), ("vllm:prefix_cache_hits_total", "counter"),
                ("vllm:prompt_tokens_total", "counter"), ("vllm:generation_tokens_total", "counter"),
                ("vllm:num_preemptions_total", "counter"), ("vllm:request_success_total", "counter"),
                ("vllm:time_to_first_token_seconds", "histogram"), ("vllm:inter_token_latency_seconds", "histogram"),
                ("vllm:e2e_request_latency_seconds", "histogram"), ("vllm:request_queue_time_seconds", "histogram"),
            ]
            for (name, type) in expected {
                #expect(text.contains("# TYPE \(name) \(type)\n"), "\(name) \(type)")
            }
            #expect(text.contains(#"vllm:request_success_total{model_name="test-model",finished_reason="length"} 1"#)
                || text.contains(#"vllm:request_success_total{finished_reason="length",model_name="test-model"} 1"#), "\(text)")
            #expect(text.contains(#"vllm:generation_tokens_total{model_name="test-model"} 3"#))
            #expect(text.contains(#"vllm:e2e_request_latency_seconds_count{model_name="test-model"} 1"#))
        }
    }
}
