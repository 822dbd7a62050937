import Pagewise
import Tokenization

/// What the server needs from an engine: generation streams, aborts and counters.
/// `AsyncEngine` is the real one; tests may put a scripted one in its place.
public protocol GenerationBackend: AnyObject, Sendable {
    /// The model's tokenizer.
    var tokenizer: Tokenizer { get }
    /// Longest sequence (prompt + output).
    var maxModelLen: Int { get }
    /// Starts a request; its outputs (all `n` sequences) arrive on the stream, which ends when all finished.
    func generate(promptTokens: [Int32], params: SamplingParams, n: Int, priority: Int,
                  requestId: String?) -> AsyncThrowingStream<RequestOutput, any Error>
    /// Stops a request and frees its blocks.
    func abort(requestId: String)
    /// Counters as of the last step.
    func stats() -> EngineStats
    /// Stops the engine.
    func shutdown()
}

extension AsyncEngine: GenerationBackend {}
