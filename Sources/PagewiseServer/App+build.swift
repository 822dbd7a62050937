import Foundation
import GGUF
import Hummingbird
import Logging
import Pagewise
import ServiceLifecycle

/// Everything `pagewise serve` decides: the engine, the HTTP side, the chat template.
public struct ServeArguments: Sendable {
    /// The engine (model path, KV pool, scheduler limits).
    public var engine: EngineConfig
    /// The HTTP side.
    public var server: ServerConfiguration
    /// `--chat-template`: a built-in name or a file (nil: the model's own).
    public var chatTemplate: String?

    /// Bundles the arguments.
    public init(engine: EngineConfig, server: ServerConfiguration, chatTemplate: String? = nil) {
        self.engine = engine
        self.server = server
        self.chatTemplate = chatTemplate
    }
}

/// Loads the model: GGUF metadata (for the chat template), then the engine.
public enum ModelLoader {
    /// Loads everything `arguments` names; blocks while the weights are mapped and the pool is made.
    public static func load(_ arguments: ServeArguments) throws -> LoadedModel {
        let file = try GGUFFile(path: arguments.engine.modelPath)
        let source = try ChatTemplateSource.resolve(option: arguments.chatTemplate, metadata: file.metadata,
                                                    architecture: file.architecture)
        let engine = try AsyncEngine(config: arguments.engine)
        let renderer = try source.map { try ChatTemplateSource.renderer(source: $0, tokenizer: engine.tokenizer) }
        return LoadedModel(backend: engine, renderer: renderer, name: arguments.server.servedModelName)
    }
}

/// Loads the model when the service group starts (the server answers 503 meanwhile) and stops the
/// engine after the HTTP server has drained.
struct EngineService: Service {
    let host: ModelHost
    let logger: Logger
    let load: @Sendable () throws -> LoadedModel

    func run() async throws {
        let load = load
        let model: LoadedModel
        do {
            model = try await Task.detached { try load() }.value
        } catch {
            host.fail("\(error)")
            throw error
        }
        host.set(model)
        logger.info("model \(model.name) ready (max model len \(model.backend.maxModelLen))")
        try? await gracefulShutdown()
        model.backend.shutdown()
    }
}

/// The router: OpenAI's /v1 routes (behind the API key when there is one), vLLM's tokenizer,
/// health, version, metrics and OpenAPI routes, and the chat page at `/` (open; it sends the key itself).
public func buildRouter(host: ModelHost, configuration: ServerConfiguration, metrics: ServerMetrics,
                        logger: Logger) -> Router<ServerRequestContext> {
    let serving = Serving(host: host, config: configuration, metrics: metrics,
                          admission: Admission(limit: configuration.admissionLimit), logger: logger)
    let router = Router(context: ServerRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    let v1 = router.group("v1")
    if let key = configuration.apiKey { v1.add(middleware: APIKeyMiddleware(key: key)) }
    CompletionsController(serving: serving).addRoutes(to: v1)
    ChatController(serving: serving).addRoutes(to: v1)
    ModelsController(serving: serving).addRoutes(to: v1)
    TokenizeController(serving: serving).addRoutes(to: router)
    HealthController(serving: serving).addRoutes(to: router)
    MetricsController(serving: serving).addRoutes(to: router)
    ChatPageController().addRoutes(to: router)
    return router
}

/// The application around a host whose model is (or will be) set by `services`.
public func buildApplication(host: ModelHost, configuration: ServerConfiguration, services: [any Service] = [],
                             logger: Logger,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
    let metrics = ServerMetrics(modelName: configuration.servedModelName)
    let router = buildRouter(host: host, configuration: configuration, metrics: metrics, logger: logger)
    return Application(
        router: router,
        server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionWatchHandler()])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "pagewise"),
        services: services,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}

/// The `pagewise serve` application: the engine loads in the background while the server already
/// answers (503 on /health until the model is ready).
public func buildApplication(_ arguments: ServeArguments, logger: Logger,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
    let host = ModelHost()
    let engine = EngineService(host: host, logger: logger) { try ModelLoader.load(arguments) }
    return buildApplication(host: host, configuration: arguments.server, services: [engine], logger: logger,
                            onServerRunning: onServerRunning)
}

/// Runs the server until SIGTERM or SIGINT: it then stops accepting, lets in-flight requests finish
/// within the grace period (then cancels them, which aborts them in the engine) and returns.
public func runServer(_ arguments: ServeArguments, logger: Logger,
                      onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
    let app = buildApplication(arguments, logger: logger, onServerRunning: onServerRunning)
    var config = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    config.maximumGracefulShutdownDuration = .milliseconds(Int64(arguments.server.gracePeriodSeconds * 1000))
    config.maximumCancellationDuration = .seconds(5)
    try await ServiceGroup(configuration: config).run()
}
