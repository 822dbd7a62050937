import Foundation
import GGUF
import Pagewise
import PagewiseServer
import TestSupport
import Tokenization

/// A stand-in engine for route tests: the real SmolLM2 tokenizer, and outputs that follow a script
/// (a fixed reply, token by token), so that every shape and error path can be checked without
/// running the model.
final class ScriptedBackend: GenerationBackend, @unchecked Sendable {
    enum Behaviour {
        /// Each sequence produces `reply`'s tokens (up to max_tokens), one output per token.
        case reply(String)
        /// The stream fails at once.
        case fail(any Error)
        /// The first output, then a failure.
        case failAfterFirst(any Error)
        /// Never produces anything until aborted.
        case hang
    }

    let tokenizer: Tokenizer
    let maxModelLen: Int
    var behaviour: Behaviour
    private let lock = NSLock()
    private var _aborted: [String] = []
    private var _requests: [(tokens: [Int32], params: SamplingParams, n: Int)] = []
    private var continuations: [String: AsyncThrowingStream<RequestOutput, any Error>.Continuation] = [:]

    init(behaviour: Behaviour = .reply(" Hello there, friend."), maxModelLen: Int = 256) throws {
        tokenizer = try Self.sharedTokenizer()
        self.maxModelLen = maxModelLen
        self.behaviour = behaviour
    }

    nonisolated(unsafe) private static var cached: Tokenizer?
    private static let cacheLock = NSLock()
    static func sharedTokenizer() throws -> Tokenizer {
        try cacheLock.withLock {
            if let t = cached { return t }
            let t = try Tokenizer(gguf: GGUFFile(path: TestModels.path("smollm2-135m-instruct")))
            cached = t
            return t
        }
    }

    var aborted: [String] { lock.withLock { _aborted } }
    var requests: [(tokens: [Int32], params: SamplingParams, n: Int)] { lock.withLock { _requests } }

    func generate(promptTokens: [Int32], params: SamplingParams, n: Int, priority: Int,
                  requestId: String?) -> AsyncThrowingStream<RequestOutput, any Error> {
        let id = requestId ?? "req"
        lock.withLock { _requests.append((promptTokens, params, n)) }
        let behaviour = self.behaviour
        let tokenizer = self.tokenizer
        return AsyncThrowingStream { continuation in
            continuation.onTermination = { [weak self] t in
                if case .cancelled = t { self?.abort(requestId: id) }
            }
            switch behaviour {
            case let .fail(e):
                continuation.finish(throwing: e)
            case .hang:
                self.lock.withLock { self.continuations[id] = continuation }
            case .reply, .failAfterFirst:
                var text = " Hi there"
                var failure: (any Error)?
                if case let .reply(t) = behaviour { text = t }
                if case let .failAfterFirst(e) = behaviour { failure = e }
                let tokens = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
                let count = min(tokens.count, params.maxTokens)
                for seq in 0 ..< n {
                    for k in 0 ..< count {
                        let t = tokens[k]
                        let last = k == count - 1
                        var out = RequestOutput(requestId: id, index: seq, newTokens: [t], text: tokenizer.decode([t]),
                                                finished: last, finishReason: last ? (count < params.maxTokens ? .stop : .length) : nil,
                                                promptTokenCount: promptTokens.count, cachedPromptTokenCount: 0)
                        if let lp = params.logprobs {
                            let top = (0 ..< lp).map { TokenLogprob(token: Int32(100 + $0), logprob: -Float($0 + 1)) }
                            out.logprobs = [PositionLogprobs(token: t, logprob: -0.5, rank: 1, top: top)]
                        }
                        if k == 0, let pk = params.promptLogprobs {
                            out.promptLogprobs = promptTokens.indices.map { i in
                                i == 0 ? nil : PositionLogprobs(token: promptTokens[i], logprob: -1, rank: 1,
                                                                top: (0 ..< pk).map { TokenLogprob(token: Int32(200 + $0), logprob: -2) })
                            }
                        }
                        continuation.yield(out)
                        if let failure {
                            continuation.finish(throwing: failure)
                            return
                        }
                    }
                }
                continuation.finish()
            }
        }
    }

    func abort(requestId: String) {
        let c = lock.withLock { () -> AsyncThrowingStream<RequestOutput, any Error>.Continuation? in
            _aborted.append(requestId)
            return continuations.removeValue(forKey: requestId)
        }
        c?.finish()
    }

    /// Ends every hanging request.
    func abortAll() {
        let all = lock.withLock { () -> [AsyncThrowingStream<RequestOutput, any Error>.Continuation] in
            defer { continuations.removeAll() }
            return Array(continuations.values)
        }
        for c in all { c.finish() }
    }

    func servingStats() -> ServingStats { ServingStats() }

    func shutdown() {}
}
