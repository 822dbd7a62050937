import Foundation
import Hummingbird
import Pagewise
import Tokenization

/// `POST /v1/completions`: OpenAI's legacy completions with vLLM's extensions.
struct CompletionsController: Sendable {
    let serving: Serving

    /// Most prompts one request may carry.
    static let maxPrompts = 64

    func addRoutes(to group: RouterGroup<ServerRequestContext>) {
        group.post("completions") { request, context in
            // The whole request runs under the disconnect watch: a client that leaves aborts it.
            try await serving.cancellingOnDisconnect(context) { try await respond(request.body) }
        }
    }

    private func respond(_ requestBody: RequestBody) async throws -> Response {
        let data = try await BodyDecoding.collect(requestBody, limit: serving.config.maxBodyBytes)
        let body = try BodyDecoding.decode(CompletionRequest.self, from: data)
        let model = try serving.host.ready(named: body.model)
        let tokenizer = model.tokenizer
        guard let prompt = body.prompt else { throw OpenAIError.badRequest("'prompt' is required", param: "prompt") }
        guard (1 ... Self.maxPrompts).contains(prompt.count) else {
            throw OpenAIError.badRequest("prompt must hold 1 to \(Self.maxPrompts) prompts, got \(prompt.count)", param: "prompt")
        }
        if let s = body.suffix, !s.isEmpty { throw OpenAIError.badRequest("suffix is not supported", param: "suffix") }
        let maxTokens = body.maxTokens ?? 16
        guard maxTokens >= 1 else { throw OpenAIError.badRequest("max_tokens must be ≥ 1, got \(maxTokens)", param: "max_tokens") }
        if let k = body.logprobs, !(0 ... SamplingParams.maxLogprobs).contains(k) {
            throw OpenAIError.badRequest("logprobs must be in [0, \(SamplingParams.maxLogprobs)], got \(k)", param: "logprobs")
        }
        var prompts: [[Int32]]
        let promptTexts: [String]
        switch prompt {
        case let .texts(texts):
            prompts = texts.map { tokenizer.encode($0, addSpecial: body.addSpecialTokens ?? true, parseSpecial: true) }
            promptTexts = texts
        case let .tokens(batches):
            prompts = batches
            promptTexts = batches.map { ids in
                ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabSize } ? tokenizer.decode(ids) : ""
            }
        }
        if let k = body.sampling.truncatePromptTokens {
            guard k >= 1 else { throw OpenAIError.badRequest("truncate_prompt_tokens must be ≥ 1", param: "truncate_prompt_tokens") }
            prompts = prompts.map { Array($0.suffix(k)) }
        }
        for p in prompts { try serving.checkPrompt(p, model: model, maxTokens: maxTokens, param: "prompt") }
        var params = try SamplingMapping.params(body.sampling, maxTokens: maxTokens, logprobs: body.logprobs,
                                                vocabSize: tokenizer.vocabSize)
        let echo = body.echo ?? false
        if echo, let k = body.logprobs { params.promptLogprobs = max(params.promptLogprobs ?? 0, k) }
        let form = try OutputForm.parse(body: data, chat: false)
        params.constraint = form.constraint
        if form.constraint != nil, params.beamSearch != nil {
            throw OpenAIError.badRequest("use_beam_search cannot be combined with \(form.param ?? "structured output")", param: form.param)
        }
        let n = body.sampling.n ?? 1
        let slot = try AdmissionSlot(serving.admission)
        let run = GenerationRun(id: serving.makeId("cmpl-"), prompts: prompts, params: params, n: n,
                                priority: body.sampling.priority ?? 0, model: model, serving: serving, slot: slot)
        let shape = CompletionShape(run: run, model: model, created: serving.now, fingerprint: serving.config.systemFingerprint,
                                    echo: echo ? promptTexts : nil, logprobs: body.logprobs != nil)
        if body.sampling.stream == true {
            return try await stream(run, shape: shape, options: body.sampling.streamOptions)
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
        return try Serving.json(shape.response(choices: Array(0 ..< run.choices.count), final: true, usage: run.usage))
    }

    private func stream(_ run: GenerationRun, shape: CompletionShape, options: StreamOptions?) async throws -> Response {
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
                while let (i, out) = pending {
                    run.observe(i, out)
                    shape.take(i, out)
                    let chunk = shape.response(choices: [i], final: false, usage: continuous ? run.usage : nil)
                    try await writer.write(SSE.encode(chunk))
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
                // The client went away: stop generating for it.
                run.abort()
                throw error
            }
            try await writer.finish(nil)
        })
    }
}
