import Foundation
import StructuredOutput
import Tokenization

/// The engine for concurrent callers: an `LLMEngine` stepping on its own thread, fed by
/// `generate` calls from any task. Each call gets an `AsyncThrowingStream` of incremental outputs;
/// when the consumer stops listening (or its task is cancelled) the request is aborted and its
/// blocks are freed before the next step.
public final class AsyncEngine: @unchecked Sendable {
    private let engine: LLMEngine
    private let condition = NSCondition()
    private var pendingAdds: [PendingAdd] = []
    private struct PendingAdd {
        let id: String, prompt: [Int32], params: SamplingParams, n: Int, priority: Int
        let grammar: CompiledGrammar?
        let sink: OutputSink
    }
    /// Compiles structured-output constraints off the engine's thread (a slow compile never stalls
    /// other requests' steps).
    private let compileQueue = DispatchQueue(label: "pagewise.grammar-compile", qos: .userInitiated, attributes: .concurrent)
    private var pendingAborts: [String] = []
    private var stopping = false
    private var snapshot = EngineStats()
    private var thread: Thread?
    private var nextId = 0

    /// The tokenizer of the loaded model.
    public let tokenizer: Tokenizer
    /// Longest sequence (prompt + output).
    public let maxModelLen: Int

    public init(config: EngineConfig) throws {
        engine = try LLMEngine(config: config)
        tokenizer = engine.tokenizer
        maxModelLen = engine.maxModelLen
        snapshot = engine.statistics() // the pool's size is known before the first step
        let t = Thread { [unowned self] in self.loop() }
        t.name = "pagewise-engine"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    deinit { shutdown() }

    /// Stops the step loop (pending requests end with an error).
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Tokenizes `prompt` (special-token text parsed, BOS as the model says) and generates.
    public func generate(prompt: String, params: SamplingParams, n: Int = 1, priority: Int = 0,
                         requestId: String? = nil) -> AsyncThrowingStream<RequestOutput, any Error> {
        generate(promptTokens: tokenizer.encode(prompt, addSpecial: true, parseSpecial: true), params: params, n: n,
                 priority: priority, requestId: requestId)
    }

    /// Generates from token ids. Outputs of all `n` sequences arrive on the one stream (see `index`);
    /// it ends after every sequence has finished.
    public func generate(promptTokens: [Int32], params: SamplingParams, n: Int = 1, priority: Int = 0,
                         requestId: String? = nil) -> AsyncThrowingStream<RequestOutput, any Error> {
        let id = requestId ?? makeId()
        return AsyncThrowingStream { continuation in
            let remaining = Counter(params.beamSearch?.width ?? max(1, n))
            let sink: OutputSink = { result in
                switch result {
                case let .success(out):
                    continuation.yield(out)
                    if out.finished, remaining.decrement() == 0 { continuation.finish() }
                case let .failure(error):
                    continuation.finish(throwing: error)
                }
            }
            let cancelled = CancelFlag()
            continuation.onTermination = { [weak self] termination in
                if case .cancelled = termination {
                    cancelled.set()
                    self?.abort(requestId: id)
                }
            }
            guard let constraint = params.constraint else {
                enqueue(PendingAdd(id: id, prompt: promptTokens, params: params, n: n, priority: priority, grammar: nil, sink: sink))
                return
            }
            compileQueue.async { [weak self] in
                guard let self else { return }
                do {
                    let g = try self.engine.grammarCompiler().compile(constraint, precomputeTokenSets: true)
                    // Cancelled while compiling: the abort has already passed; never start it.
                    guard !cancelled.isSet else { return }
                    self.enqueue(PendingAdd(id: id, prompt: promptTokens, params: params, n: n, priority: priority, grammar: g, sink: sink))
                } catch {
                    sink(.failure(error))
                }
            }
        }
    }

    private func enqueue(_ add: PendingAdd) {
        condition.lock()
        pendingAdds.append(add)
        condition.signal()
        condition.unlock()
    }

    /// Aborts a request by id.
    public func abort(requestId: String) {
        condition.lock()
        pendingAborts.append(requestId)
        condition.signal()
        condition.unlock()
    }

    /// Counters as of the last step.
    public func stats() -> EngineStats {
        condition.lock()
        defer { condition.unlock() }
        return snapshot
    }

    private func makeId() -> String {
        condition.lock()
        defer { condition.unlock() }
        nextId += 1
        return "req-\(nextId)"
    }

    private func loop() {
        while true {
            condition.lock()
            while !stopping && pendingAdds.isEmpty && pendingAborts.isEmpty && !engine.hasUnfinishedRequests {
                condition.wait()
            }
            if stopping {
                let adds = pendingAdds
                pendingAdds.removeAll()
                condition.unlock()
                for a in adds { a.sink(.failure(RequestError.invalidRequest("the engine is shutting down"))) }
                return
            }
            let adds = pendingAdds
            let aborts = pendingAborts
            pendingAdds.removeAll()
            pendingAborts.removeAll()
            condition.unlock()

            for a in adds {
                do {
                    try engine.addRequest(id: a.id, prompt: a.prompt, params: a.params, n: a.n, priority: a.priority,
                                          grammar: a.grammar, sink: a.sink)
                } catch {
                    a.sink(.failure(error))
                }
            }
            // After the adds, so a request cancelled before it was admitted is removed too.
            for id in aborts { engine.abort(id: id) }
            engine.step()
            let s = engine.statistics()
            condition.lock()
            snapshot = s
            condition.unlock()
        }
    }
}

/// Set once, read from any thread.
final class CancelFlag: @unchecked Sendable {
    private var value = false
    private let lock = NSLock()
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

/// A small thread-safe countdown.
final class Counter: @unchecked Sendable {
    private var value: Int
    private let lock = NSLock()
    init(_ v: Int) { value = v }
    func decrement() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value -= 1
        return value
    }
}
