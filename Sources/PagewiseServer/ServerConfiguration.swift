/// How the HTTP side behaves (the engine's own options live in `EngineConfig`).
public struct ServerConfiguration: Sendable {
    /// Address to listen on.
    public var host = "127.0.0.1"
    /// Port (0 picks a free one).
    public var port = 8000
    /// The name clients put in `model`; requests naming another model get 404.
    public var servedModelName = "pagewise"
    /// When set, every /v1 route wants `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// Most requests accepted beyond those the engine runs at once (`runningCapacity`); more get 429.
    public var maxQueue: Int?
    /// Requests the engine runs at once (its `maxNumSeqs`); with `maxQueue` sets the 429 threshold.
    public var runningCapacity = 0
    /// Largest request body in bytes; larger ones get 413.
    public var maxBodyBytes = 4 << 20
    /// Seconds in-flight requests may take to finish after SIGTERM before they are aborted.
    public var gracePeriodSeconds = 30.0
    /// Abort a non-streaming request when its client closes the connection (off for in-process
    /// router tests, whose requests have no connection).
    public var abortOnDisconnect = true
    /// `system_fingerprint` of responses.
    public var systemFingerprint = "pagewise-" + PagewiseVersion.string

    /// The defaults (vLLM's port 8000 on loopback).
    public init() {}

    /// The most generation requests in flight at once, or nil for no limit.
    var admissionLimit: Int? { maxQueue.map { runningCapacity + max(0, $0) } }
}

/// The server's version (`GET /version`, `system_fingerprint`).
public enum PagewiseVersion {
    /// Semantic version of this build.
    public static let string = "0.1.0"
}
