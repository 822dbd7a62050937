import Foundation
import Hummingbird
import Pagewise
import Tokenization

/// `POST /v1/completions`: OpenAI's legacy completions with vLLM's extensions.
struct CompletionsController: Sendable {
    let serving: Serving

    /// Most prompts one request may carry.
    static let maxPrompts = 64

    func addRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.post("completions") { request, _ in try await create(request) }
    }

    func create(_ request: Request) async throws -> Response {
        let body = try await serving.decode(CompletionRequest.self, request)
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
        let n = body.sampling.n ?? 1
        let slot = try AdmissionSlot(serving.admission)
        let run = GenerationRun(id: serving.makeId("cmpl-"), prompts: prompts, params: params, n: n,
                                priority: body.sampling.priority ?? 0, model: model, serving: serving, slot: slot)
        let shape = CompletionShape(run: run, model: model, created: serving.now, fingerprint: serving.config.systemFingerprint,
                                    echo: echo ? promptTexts : nil, logprobs: body.logprobs != nil)
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
            return try Serving.json(shape.response(choices: Array(0 ..< run.choices.count), final: true, usage: run.usage))
        }
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

/// Builds completion bodies from a run's outputs: text, the legacy `logprobs` object, echo.
final class CompletionShape: @unchecked Sendable {
    private let run: GenerationRun
    private let model: LoadedModel
    private let created: Int
    private let fingerprint: String
    private let echo: [String]?
    private let wantLogprobs: Bool
    /// Per choice: text and logprobs not yet sent (streaming) or all of it (not streaming).
    private var text: [String]
    private var logprobs: [CompletionLogprobs]
    private var offsets: [Int]
    private var started: [Bool]
    private var finish: [(String?, StopReasonValue?)]

    init(run: GenerationRun, model: LoadedModel, created: Int, fingerprint: String, echo: [String]?, logprobs: Bool) {
        self.run = run
        self.model = model
        self.created = created
        self.fingerprint = fingerprint
        self.echo = echo
        wantLogprobs = logprobs
        let count = run.choices.count
        text = Array(repeating: "", count: count)
        self.logprobs = Array(repeating: CompletionLogprobs(), count: count)
        offsets = Array(repeating: 0, count: count)
        started = Array(repeating: false, count: count)
        finish = Array(repeating: (nil, nil), count: count)
    }

    func take(_ i: Int, _ out: RequestOutput) {
        guard text.indices.contains(i) else { return }
        if !started[i] {
            started[i] = true
            if let echo {
                let p = i / run.n
                text[i] += echo[p]
                if wantLogprobs, let prompt = out.promptLogprobs {
                    let ids = run.prompts[p]
                    for (k, id) in ids.enumerated() {
                        appendLogprob(i, token: id, position: k < prompt.count ? prompt[k] : nil)
                    }
                }
            }
        }
        text[i] += out.text
        if wantLogprobs, let positions = out.logprobs {
            for (k, pos) in positions.enumerated() where k < out.newTokens.count {
                appendLogprob(i, token: out.newTokens[k], position: pos)
            }
        }
        if out.finished {
            finish[i] = ((out.finishReason ?? .stop).rawValue, StopReasonValue(out.stopReason))
        }
    }

    private func appendLogprob(_ i: Int, token: Int32, position: PositionLogprobs?) {
        let tokenizer = model.tokenizer
        let s = Serving.tokenString(token, tokenizer)
        logprobs[i].tokens.append(s)
        logprobs[i].textOffset.append(offsets[i])
        offsets[i] += s.unicodeScalars.count
        if let position {
            logprobs[i].tokenLogprobs.append(Serving.finite(position.logprob))
            var top: [String: Double] = [:]
            for t in position.top { top[Serving.tokenString(t.token, tokenizer)] = Serving.finite(t.logprob) }
            top[s] = Serving.finite(position.logprob)
            logprobs[i].topLogprobs.append(top)
        } else {
            logprobs[i].tokenLogprobs.append(nil)
            logprobs[i].topLogprobs.append(nil)
        }
    }

    /// A body holding `choices`' text and logprobs gathered since the last call (then cleared).
    func response(choices: [Int], final: Bool, usage: Usage?) -> CompletionResponse {
        var out: [CompletionChoice] = []
        for i in choices {
            out.append(CompletionChoice(index: i, text: text[i], logprobs: wantLogprobs ? logprobs[i] : nil,
                                        finishReason: finish[i].0, stopReason: finish[i].1))
            text[i] = ""
            logprobs[i] = CompletionLogprobs()
        }
        return CompletionResponse(id: run.id, created: created, model: model.name, systemFingerprint: fingerprint, choices: out,
                                  usage: usage)
    }

    /// The last streamed chunk with `stream_options.include_usage`: no choices, the usage.
    func usageChunk(_ usage: Usage) -> CompletionResponse {
        CompletionResponse(id: run.id, created: created, model: model.name, systemFingerprint: fingerprint, choices: [], usage: usage)
    }
}
