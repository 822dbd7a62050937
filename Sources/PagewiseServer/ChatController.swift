import Foundation
import Hummingbird
import Pagewise
import Tokenization

/// `POST /v1/chat/completions`: the conversation is rendered through the model's chat template,
/// tokenized, generated, and answered as `chat.completion` or a stream of chunks.
struct ChatController: Sendable {
    let serving: Serving

    func addRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.post("chat/completions") { request, _ in try await create(request) }
    }

    func create(_ request: Request) async throws -> Response {
        let data = try await BodyDecoding.collect(request, limit: serving.config.maxBodyBytes)
        let body = try BodyDecoding.decode(ChatCompletionRequest.self, from: data)
        let model = try serving.host.ready(named: body.model)
        let tokenizer = model.tokenizer
        if let k = body.topLogprobs, !(0 ... SamplingParams.maxLogprobs).contains(k) {
            throw OpenAIError.badRequest("top_logprobs must be in [0, \(SamplingParams.maxLogprobs)], got \(k)", param: "top_logprobs")
        }
        if body.topLogprobs != nil, body.logprobs != true {
            throw OpenAIError.badRequest("top_logprobs needs logprobs set to true", param: "top_logprobs")
        }
        let promptText = try ChatPrompt.render(messages: body.messages, tools: body.tools, body: data,
                                               addGenerationPrompt: body.addGenerationPrompt ?? true,
                                               continueFinalMessage: body.continueFinalMessage ?? false,
                                               extra: body.chatTemplateKwargs ?? [:], model: model)
        var prompt = tokenizer.encode(promptText, addSpecial: body.addSpecialTokens ?? false, parseSpecial: true)
        if let k = body.sampling.truncatePromptTokens {
            guard k >= 1 else { throw OpenAIError.badRequest("truncate_prompt_tokens must be ≥ 1", param: "truncate_prompt_tokens") }
            prompt = Array(prompt.suffix(k))
        }
        let requested = body.maxCompletionTokens ?? body.maxTokens
        let maxParam = body.maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens"
        if let m = requested, m < 1 { throw OpenAIError.badRequest("\(maxParam) must be ≥ 1, got \(m)", param: maxParam) }
        try serving.checkPrompt(prompt, model: model, maxTokens: requested, param: "messages")
        let maxTokens = requested ?? (model.backend.maxModelLen - prompt.count)
        let logprobs = body.logprobs == true ? (body.topLogprobs ?? 0) : nil
        let params = try SamplingMapping.params(body.sampling, maxTokens: maxTokens, logprobs: logprobs, vocabSize: tokenizer.vocabSize)
        let n = body.sampling.n ?? 1
        let slot = try AdmissionSlot(serving.admission)
        let run = GenerationRun(id: serving.makeId("chatcmpl-"), prompts: [prompt], params: params, n: n,
                                priority: body.sampling.priority ?? 0, model: model, serving: serving, slot: slot)
        let shape = ChatShape(run: run, model: model, created: serving.now, fingerprint: serving.config.systemFingerprint,
                              logprobs: logprobs != nil)
        if body.sampling.stream == true {
            return try await stream(run, shape: shape, options: body.sampling.streamOptions)
        }
        return try await serving.cancellingOnDisconnect(request) {
            do {
                for try await (i, out) in run.outputs {
                    run.observe(i, out)
                    shape.take(i, out)
                }
            } catch {
                run.abort()
                throw serving.engineError(error)
            }
            run.finish()
            return try Serving.json(shape.response(usage: run.usage))
        }
    }

    private func stream(_ run: GenerationRun, shape: ChatShape, options: StreamOptions?) async throws -> Response {
        let box = IteratorBox(run.outputs)
        let first: (Int, RequestOutput)?
        do {
            first = try await box.next()
        } catch {
            run.abort()
            throw serving.engineError(error)
        }
        let includeUsage = options?.includeUsage ?? false
        let continuous = includeUsage && (options?.continuousUsageStats ?? false)
        let serving = serving
        return Response(status: .ok, headers: SSE.headers, body: ResponseBody { writer in
            var pending = first
            do {
                for i in 0 ..< run.choices.count {
                    try await writer.write(SSE.encode(shape.roleChunk(i, usage: continuous ? run.usage : nil)))
                }
                while let (i, out) = pending {
                    run.observe(i, out)
                    try await writer.write(SSE.encode(shape.chunk(i, out, usage: continuous ? run.usage : nil)))
                    do {
                        pending = try await box.next()
                    } catch {
                        run.abort()
                        try await writer.write(SSE.event(serving.engineError(error).body()))
                        pending = nil
                    }
                }
                if includeUsage {
                    try await writer.write(SSE.encode(shape.usageChunk(run.usage)))
                }
                try await writer.write(SSE.done)
                run.finish()
            } catch {
                run.abort()
                throw error
            }
            try await writer.finish(nil)
        })
    }
}

/// Renders a request's messages through the model's chat template.
enum ChatPrompt {
    static func render(messages: [ChatMessageInput], tools: [JSONValue]?, body: Data?, addGenerationPrompt: Bool,
                       continueFinalMessage: Bool, extra: [String: JSONValue], model: LoadedModel) throws(OpenAIError) -> String {
        guard !messages.isEmpty else { throw .badRequest("messages must not be empty", param: "messages") }
        guard let renderer = model.renderer else {
            throw .badRequest("the model has no chat template; start the server with --chat-template NAME|FILE", param: "messages")
        }
        if continueFinalMessage && addGenerationPrompt && messages.last?.role != "assistant" {
            throw .badRequest("continue_final_message needs the last message to be the assistant's", param: "continue_final_message")
        }
        var values: [JSONValue] = []
        for (i, m) in messages.enumerated() {
            guard ["system", "user", "assistant", "tool", "developer", "function"].contains(m.role) else {
                throw .badRequest("messages[\(i)].role must be system, user, assistant, tool or developer, got '\(m.role)'",
                                  param: "messages[\(i)].role")
            }
            var o: [String: JSONValue] = ["role": .string(m.role)]
            if let content = m.content {
                o["content"] = .string(try content.flattened())
            } else {
                o["content"] = .null
            }
            if let name = m.name { o["name"] = .string(name) }
            if let id = m.toolCallId { o["tool_call_id"] = .string(id) }
            if let r = m.reasoningContent { o["reasoning_content"] = .string(r) }
            if let calls = m.toolCalls { o["tool_calls"] = .array(calls.map(parsedArguments)) }
            values.append(.object(o))
        }
        let input = ChatRenderInput(body: body, messages: values, tools: tools, addGenerationPrompt: addGenerationPrompt,
                                    continueFinalMessage: continueFinalMessage, extra: extra)
        do {
            return try renderer.render(input)
        } catch {
            throw .badRequest("the chat template failed: \(error)", param: "messages")
        }
    }

    /// Tool call arguments arrive as a JSON string; templates expect the object (as vLLM passes it).
    private static func parsedArguments(_ call: JSONValue) -> JSONValue {
        guard case var .object(o) = call, case var .object(f)? = o["function"], case let .string(args)? = f["arguments"],
              let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(args.utf8)), case .object = parsed
        else { return call }
        f["arguments"] = parsed
        o["function"] = .object(f)
        return .object(o)
    }
}

/// Builds chat bodies and chunks from a run's outputs.
final class ChatShape: @unchecked Sendable {
    private let run: GenerationRun
    private let model: LoadedModel
    private let created: Int
    private let fingerprint: String
    private let wantLogprobs: Bool
    private var logprobs: [[ChatTokenLogprob]]
    private var finish: [(String?, StopReasonValue?)]

    init(run: GenerationRun, model: LoadedModel, created: Int, fingerprint: String, logprobs: Bool) {
        self.run = run
        self.model = model
        self.created = created
        self.fingerprint = fingerprint
        wantLogprobs = logprobs
        self.logprobs = Array(repeating: [], count: run.choices.count)
        finish = Array(repeating: (nil, nil), count: run.choices.count)
    }

    private func entries(_ out: RequestOutput) -> [ChatTokenLogprob] {
        guard wantLogprobs, let positions = out.logprobs else { return [] }
        let tokenizer = model.tokenizer
        var list: [ChatTokenLogprob] = []
        for (k, pos) in positions.enumerated() where k < out.newTokens.count {
            let id = out.newTokens[k]
            let top = pos.top.map {
                ChatTopLogprob(token: Serving.tokenString($0.token, tokenizer), logprob: Serving.finite($0.logprob),
                               bytes: tokenizer.tokenPiece($0.token))
            }
            list.append(ChatTokenLogprob(token: Serving.tokenString(id, tokenizer), logprob: Serving.finite(pos.logprob),
                                         bytes: tokenizer.tokenPiece(id), topLogprobs: top))
        }
        return list
    }

    func take(_ i: Int, _ out: RequestOutput) {
        guard logprobs.indices.contains(i) else { return }
        logprobs[i] += entries(out)
        if out.finished { finish[i] = ((out.finishReason ?? .stop).rawValue, StopReasonValue(out.stopReason)) }
    }

    func response(usage: Usage) -> ChatCompletionResponse {
        let choices = run.choices.indices.map { i in
            ChatChoice(index: i, message: ChatResponseMessage(content: run.choices[i].text),
                       logprobs: wantLogprobs ? ChatLogprobs(content: logprobs[i]) : nil,
                       finishReason: finish[i].0, stopReason: finish[i].1)
        }
        return ChatCompletionResponse(id: run.id, created: created, model: model.name, systemFingerprint: fingerprint,
                                      choices: choices, usage: usage)
    }

    func roleChunk(_ i: Int, usage: Usage?) -> ChatCompletionChunk {
        ChatCompletionChunk(id: run.id, created: created, model: model.name, systemFingerprint: fingerprint,
                            choices: [ChatChunkChoice(index: i, delta: ChatDelta(role: "assistant", content: ""))], usage: usage)
    }

    func chunk(_ i: Int, _ out: RequestOutput, usage: Usage?) -> ChatCompletionChunk {
        let lp = entries(out)
        var reason: String?
        var stop: StopReasonValue?
        if out.finished {
            reason = (out.finishReason ?? .stop).rawValue
            stop = StopReasonValue(out.stopReason)
        }
        let choice = ChatChunkChoice(index: i, delta: ChatDelta(content: out.text.isEmpty && out.finished ? nil : out.text),
                                     logprobs: wantLogprobs ? ChatLogprobs(content: lp) : nil, finishReason: reason, stopReason: stop)
        return ChatCompletionChunk(id: run.id, created: created, model: model.name, systemFingerprint: fingerprint,
                                   choices: [choice], usage: usage)
    }

    func usageChunk(_ usage: Usage) -> ChatCompletionChunk {
        ChatCompletionChunk(id: run.id, created: created, model: model.name, systemFingerprint: fingerprint, choices: [], usage: usage)
    }
}
