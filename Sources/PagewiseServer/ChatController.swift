import Foundation
import Hummingbird
import Pagewise
import Tokenization

/// `POST /v1/chat/completions`: the conversation is rendered through the model's chat template,
/// tokenized, generated, and answered as `chat.completion` or a stream of chunks.
struct ChatController: Sendable {
    let serving: Serving

    func addRoutes(to group: RouterGroup<ServerRequestContext>) {
        group.post("chat/completions") { request, context in
            // The whole request runs under the disconnect watch: a client that leaves aborts it.
            try await serving.cancellingOnDisconnect(context) { try await respond(request.body) }
        }
    }

    private func respond(_ requestBody: RequestBody) async throws -> Response {
        let data = try await BodyDecoding.collect(requestBody, limit: serving.config.maxBodyBytes)
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
        let form = try OutputForm.parse(body: data, chat: true)
        var params = try SamplingMapping.params(body.sampling, maxTokens: maxTokens, logprobs: logprobs, vocabSize: tokenizer.vocabSize)
        params.constraint = form.constraint
        if form.constraint != nil, params.beamSearch != nil {
            throw OpenAIError.badRequest("use_beam_search cannot be combined with \(form.param ?? "structured output")", param: form.param)
        }
        let n = body.sampling.n ?? 1
        let slot = try AdmissionSlot(serving.admission)
        let run = GenerationRun(id: serving.makeId("chatcmpl-"), prompts: [prompt], params: params, n: n,
                                priority: body.sampling.priority ?? 0, model: model, serving: serving, slot: slot)
        let shape = ChatShape(run: run, model: model, created: serving.now, fingerprint: serving.config.systemFingerprint,
                              logprobs: logprobs != nil)
        if body.sampling.stream == true {
            return try await stream(run, shape: shape, options: body.sampling.streamOptions, form: form)
        }
        do {
            for try await (i, out) in run.outputs {
                run.observe(i, out)
                shape.take(i, out)
            }
        } catch {
            run.abort()
            throw serving.engineError(error, param: form.param)
        }
        run.finish()
        return try Serving.json(shape.response(usage: run.usage, form: form))
    }

    private func stream(_ run: GenerationRun, shape: ChatShape, options: StreamOptions?, form: OutputForm) async throws -> Response {
        let box = IteratorBox(run.outputs)
        let first: (Int, RequestOutput)?
        do {
            first = try await box.next()
        } catch {
            run.abort()
            throw serving.engineError(error, param: form.param)
        }
        // With tools the text is read for calls once complete: the choices stream as one chunk each.
        let buffered = form.tools != .none
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
                    if buffered {
                        shape.take(i, out)
                        if out.finished { try await writer.write(SSE.encode(shape.toolChunk(i, form: form, usage: continuous ? run.usage : nil))) }
                    } else {
                        try await writer.write(SSE.encode(shape.chunk(i, out, usage: continuous ? run.usage : nil)))
                    }
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
