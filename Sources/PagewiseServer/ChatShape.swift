import Pagewise

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

    func response(usage: Usage, form: OutputForm = OutputForm()) -> ChatCompletionResponse {
        let choices = run.choices.indices.map { i in
            var message = ChatResponseMessage(content: run.choices[i].text)
            var reason = finish[i].0
            if let (content, calls) = form.toolCalls(in: run.choices[i].text) {
                message.content = content
                message.toolCalls = OutputForm.toolCallValues(calls, delta: false)
                if reason == "stop" { reason = form.toolFinishReason }
            }
            return ChatChoice(index: i, message: message, logprobs: wantLogprobs ? ChatLogprobs(content: logprobs[i]) : nil,
                              finishReason: reason, stopReason: finish[i].1)
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

    /// A whole choice read for tool calls, as one chunk (tool requests stream their result at the end).
    func toolChunk(_ i: Int, form: OutputForm, usage: Usage?) -> ChatCompletionChunk {
        let text = run.choices[i].text
        var delta = ChatDelta(content: text)
        var reason = finish[i].0
        if let (content, calls) = form.toolCalls(in: text) {
            delta = ChatDelta(content: content, toolCalls: OutputForm.toolCallValues(calls, delta: true))
            if reason == "stop" { reason = form.toolFinishReason }
        }
        let choice = ChatChunkChoice(index: i, delta: delta, logprobs: wantLogprobs ? ChatLogprobs(content: logprobs[i]) : nil,
                                     finishReason: reason, stopReason: finish[i].1)
        return ChatCompletionChunk(id: run.id, created: created, model: model.name, systemFingerprint: fingerprint,
                                   choices: [choice], usage: usage)
    }

    func usageChunk(_ usage: Usage) -> ChatCompletionChunk {
        ChatCompletionChunk(id: run.id, created: created, model: model.name, systemFingerprint: fingerprint, choices: [], usage: usage)
    }
}
