import Pagewise

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
