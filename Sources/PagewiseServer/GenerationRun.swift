import Foundation
import Logging
import Pagewise

/// One generation request as the server sees it: the engine streams of its prompts merged into one,
/// what each choice has produced so far, and the timings that become metrics and the log line.
/// Only the task that consumes `outputs` touches it.
final class GenerationRun: @unchecked Sendable {
    /// What one choice (one sequence of one prompt) has produced.
    struct Choice {
        var text = ""
        var tokenCount = 0
        var finishReason: FinishReason?
        var stopReason: StopReason?
        var lastTokenAt: ContinuousClock.Instant?
    }

    let id: String
    let prompts: [[Int32]]
    let n: Int
    private(set) var choices: [Choice]
    private(set) var cachedTokens: [Int]
    private let serving: Serving
    private let start = ContinuousClock.now
    private var firstTokenAt: ContinuousClock.Instant?
    private let slot: AdmissionSlot
    private var done = false
    private let backend: any GenerationBackend
    private let requestIds: [String]

    /// The merged stream: (choice index, output), choice index = prompt × n + sequence index.
    let outputs: AsyncThrowingStream<(Int, RequestOutput), any Error>

    init(id: String, prompts: [[Int32]], params: SamplingParams, n: Int, priority: Int, model: LoadedModel,
         serving: Serving, slot: AdmissionSlot) {
        self.id = id
        self.prompts = prompts
        self.n = n
        self.serving = serving
        self.slot = slot
        choices = Array(repeating: Choice(), count: prompts.count * n)
        cachedTokens = Array(repeating: 0, count: prompts.count)
        backend = model.backend
        let ids = prompts.indices.map { prompts.count == 1 ? id : "\(id)-\($0)" }
        requestIds = ids
        let streams = prompts.enumerated().map { p, tokens in
            model.backend.generate(promptTokens: tokens, params: params, n: n, priority: priority, requestId: ids[p])
        }
        outputs = Self.merge(streams, n: n)
    }

    deinit {
        // A run dropped before it finished (error, disconnect) is still counted and logged.
        if !done { finish(aborted: true) }
    }

    private static func merge(_ streams: [AsyncThrowingStream<RequestOutput, any Error>], n: Int)
        -> AsyncThrowingStream<(Int, RequestOutput), any Error>
    {
        if streams.count == 1, let only = streams.first {
            return AsyncThrowingStream { continuation in
                let task = Task {
                    do {
                        for try await o in only { continuation.yield((o.index, o)) }
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                    }
                }
                continuation.onTermination = { _ in task.cancel() }
            }
        }
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for (p, s) in streams.enumerated() {
                            group.addTask { for try await o in s { continuation.yield((p * n + o.index, o)) } }
                        }
                        try await group.waitForAll()
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Takes in one output.
    func observe(_ index: Int, _ out: RequestOutput) {
        let now = ContinuousClock.now
        guard choices.indices.contains(index) else { return }
        if out.index == 0 { cachedTokens[index / n] = out.cachedPromptTokenCount }
        if let q = out.queueSeconds { serving.metrics.queueTime(q) }
        if !out.newTokens.isEmpty {
            if firstTokenAt == nil { firstTokenAt = now }
            if let last = choices[index].lastTokenAt { serving.metrics.interTokenLatency(Self.seconds(now - last)) }
            choices[index].lastTokenAt = now
        }
        choices[index].text += out.text
        choices[index].tokenCount += out.newTokens.count
        if out.finished {
            choices[index].finishReason = out.finishReason ?? .stop
            choices[index].stopReason = out.stopReason
        }
    }

    /// Whether every choice has finished.
    var allFinished: Bool { choices.allSatisfy { $0.finishReason != nil } }

    /// Token counts so far.
    var usage: Usage {
        Usage(promptTokens: prompts.reduce(0) { $0 + $1.count }, completionTokens: choices.reduce(0) { $0 + $1.tokenCount },
              cachedTokens: cachedTokens.reduce(0, +))
    }

    /// Stops the request in the engine (its client is gone or it failed) and records it.
    func abort() {
        for id in requestIds { backend.abort(requestId: id) }
        finish(aborted: true)
    }

    /// Records metrics, writes the request's log line and frees its admission slot (once).
    func finish(aborted: Bool = false) {
        guard !done else { return }
        done = true
        slot.release()
        let total = Self.seconds(ContinuousClock.now - start)
        let ttft = firstTokenAt.map { Self.seconds($0 - start) }
        let reasons = choices.map { $0.finishReason?.rawValue ?? "abort" }
        let u = usage
        serving.metrics.requestFinished(reasons: reasons, promptTokens: u.promptTokens, outputTokens: u.completionTokens,
                                        ttft: ttft, e2e: total)
        let ttftText = ttft.map { String(format: "%.3f s", $0) } ?? "-"
        serving.logger.info(
            "\(id): prompt \(u.promptTokens) tokens (cached \(u.cachedTokens)), output \(u.completionTokens) tokens, TTFT \(ttftText), total \(String(format: "%.3f s", total)), finish \(Set(reasons).sorted().joined(separator: ","))\(aborted ? " (aborted)" : "")")
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
