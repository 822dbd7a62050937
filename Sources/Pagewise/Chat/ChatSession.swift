import Foundation

/// What one answer cost, for the stats line after it.
public struct ChatTurnStats: Sendable, Equatable {
    /// Tokens in the rendered prompt (the whole history).
    public var promptTokens = 0
    /// Of those, tokens served from the prefix cache.
    public var cachedPromptTokens = 0
    /// Tokens generated.
    public var completionTokens = 0
    /// Seconds from sending the request to the first token.
    public var timeToFirstToken: Double = 0
    /// Seconds from sending the request to the last token.
    public var totalSeconds: Double = 0
    /// `stop`, `length`, or nil when the answer was interrupted.
    public var finishReason: String?
    /// True when the caller's task was cancelled (Ctrl-C) before the answer ended.
    public var interrupted = false

    /// Makes stats.
    public init(promptTokens: Int = 0, cachedPromptTokens: Int = 0, completionTokens: Int = 0, timeToFirstToken: Double = 0,
                totalSeconds: Double = 0, finishReason: String? = nil, interrupted: Bool = false) {
        self.promptTokens = promptTokens
        self.cachedPromptTokens = cachedPromptTokens
        self.completionTokens = completionTokens
        self.timeToFirstToken = timeToFirstToken
        self.totalSeconds = totalSeconds
        self.finishReason = finishReason
        self.interrupted = interrupted
    }

    /// Generated tokens per second after the first one.
    public var tokensPerSecond: Double {
        let decode = totalSeconds - timeToFirstToken
        guard completionTokens > 1, decode > 0 else { return 0 }
        return Double(completionTokens - 1) / decode
    }

    /// One line: tokens, tok/s, TTFT, cached prompt tokens.
    public var summary: String {
        var s = String(format: "%d tokens, %.1f tok/s, TTFT %.0f ms, prompt %d tokens (%d cached)",
                       completionTokens, tokensPerSecond, timeToFirstToken * 1000, promptTokens, cachedPromptTokens)
        if interrupted { s += ", interrupted" } else if finishReason == "length" { s += ", cut at max tokens" }
        return s
    }
}

/// A conversation with a model: the history, the system prompt and the sampling parameters.
/// Each answer renders the whole history with the model's chat template, so the engine's prefix
/// cache serves the earlier turns again.
public actor ChatSession {
    private let engine: AsyncEngine
    private let template: ChatPromptTemplate
    /// The sampling parameters of the next answers.
    public var params: SamplingParams
    /// The system prompt, sent before the history when set.
    public private(set) var systemPrompt: String?
    /// The user and assistant turns so far.
    public private(set) var history: [ChatMessage] = []

    /// A new conversation.
    public init(engine: AsyncEngine, template: ChatPromptTemplate, params: SamplingParams, systemPrompt: String? = nil) {
        self.engine = engine
        self.template = template
        self.params = params
        self.systemPrompt = systemPrompt
    }

    /// Every message the model sees, the system prompt first.
    public var messages: [ChatMessage] {
        (systemPrompt.map { [ChatMessage(role: "system", content: $0)] } ?? []) + history
    }

    /// Sets (or, with nil or empty text, clears) the system prompt.
    public func setSystemPrompt(_ text: String?) {
        systemPrompt = (text?.isEmpty ?? true) ? nil : text
    }

    /// Replaces the sampling parameters (validated).
    public func setParams(_ p: SamplingParams) throws {
        try p.validate()
        params = p
    }

    /// Forgets the history (the system prompt stays).
    public func reset() { history.removeAll() }

    /// The messages as pretty JSON (`/save`).
    public func exportJSON() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try enc.encode(messages)
    }

    /// The prompt tokens of the history followed by `userText`.
    public func promptTokens(for userText: String) throws -> [Int32] {
        let text = try template.render(messages + [ChatMessage(role: "user", content: userText)])
        // The template writes BOS itself when the model wants one.
        return engine.tokenizer.encode(text, addSpecial: false, parseSpecial: true)
    }

    /// Answers `userText`, calling `onText` with each piece of the answer as it streams. Cancelling
    /// the calling task stops the answer (the request is aborted); the part already written is
    /// kept in the history.
    public func respond(to userText: String, onText: @Sendable (String) -> Void) async throws -> ChatTurnStats {
        let prompt = try promptTokens(for: userText)
        var stats = ChatTurnStats(promptTokens: prompt.count)
        let clock = ContinuousClock()
        let start = clock.now
        var answer = ""
        var sawFirst = false
        let stream = engine.generate(promptTokens: prompt, params: params)
        do {
            for try await out in stream {
                if !sawFirst, !out.newTokens.isEmpty {
                    sawFirst = true
                    stats.timeToFirstToken = (clock.now - start).asSeconds
                    stats.cachedPromptTokens = out.cachedPromptTokenCount
                }
                stats.completionTokens += out.newTokens.count
                if !out.text.isEmpty {
                    answer += out.text
                    onText(out.text)
                }
                if out.finished { stats.finishReason = out.finishReason?.rawValue }
            }
        } catch is CancellationError {}
        stats.totalSeconds = (clock.now - start).asSeconds
        stats.interrupted = Task.isCancelled && stats.finishReason == nil
        history.append(ChatMessage(role: "user", content: userText))
        history.append(ChatMessage(role: "assistant", content: answer))
        return stats
    }
}

private extension Duration {
    /// The duration in seconds.
    var asSeconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) * 1e-18
    }
}
