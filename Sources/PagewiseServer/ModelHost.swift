import Foundation
import Pagewise
import Tokenization

/// A model ready to serve: its engine, chat renderer and the name clients use.
public struct LoadedModel: Sendable {
    /// The engine.
    public let backend: any GenerationBackend
    /// The chat template, or nil when the model has none (chat then answers 400).
    public let renderer: (any ChatRenderer)?
    /// The served model name.
    public let name: String
    /// Unix time the model was loaded (`created` of `/v1/models`).
    public let created: Int

    /// Wraps a loaded engine.
    public init(backend: any GenerationBackend, renderer: (any ChatRenderer)?, name: String,
                created: Int = Int(Date().timeIntervalSince1970)) {
        self.backend = backend
        self.renderer = renderer
        self.name = name
        self.created = created
    }

    var tokenizer: Tokenizer { backend.tokenizer }
}

/// Holds the model while it loads and after: routes that need it answer 503 until it is ready.
public final class ModelHost: @unchecked Sendable {
    private enum State {
        case loading
        case ready(LoadedModel)
        case failed(String)
    }

    private let lock = NSLock()
    private var state = State.loading

    /// A host whose model is still loading.
    public init() {}

    /// A host with a model already loaded.
    public init(_ model: LoadedModel) { state = .ready(model) }

    /// Marks the model ready.
    public func set(_ model: LoadedModel) {
        lock.withLock { state = .ready(model) }
    }

    /// Marks loading as failed.
    public func fail(_ message: String) {
        lock.withLock { state = .failed(message) }
    }

    /// The model, if it is ready.
    public var model: LoadedModel? {
        lock.withLock { if case let .ready(m) = state { m } else { nil } }
    }

    /// The model, or 503 while it loads (or after it failed to).
    func ready() throws(OpenAIError) -> LoadedModel {
        let s = lock.withLock { state }
        switch s {
        case let .ready(m): return m
        case .loading: throw OpenAIError(status: .serviceUnavailable, message: "the model is still loading; retry shortly")
        case let .failed(m): throw OpenAIError(status: .serviceUnavailable, message: "the model failed to load: \(m)")
        }
    }

    /// Checks the request's `model` field against the served name (nil means the served model).
    func ready(named name: String?) throws(OpenAIError) -> LoadedModel {
        let m = try ready()
        if let name, name != m.name {
            throw OpenAIError(status: .notFound, message: "The model `\(name)` does not exist; this server serves `\(m.name)`",
                              param: "model")
        }
        return m
    }
}
