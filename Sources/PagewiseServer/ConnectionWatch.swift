import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// Whether a client connection is still there: set once its inbound side closes (the client hung
/// up or half-closed) or the connection drops. Generation for a client that left is aborted.
///
/// Hummingbird's own `consumeWithCancellationOnInboundClose` reads the connection's request stream
/// while the handler runs, so the connection cannot carry a next request: it is closed after every
/// response, without `Connection: close`, and a keep-alive client (the `openai` package) that sends
/// its next request in that moment gets "server disconnected without sending a response". This
/// watch reads nothing: a pipeline handler only observes the close, so connections stay alive.
final class ConnectionWatch: Sendable {
    private struct State {
        var closed = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextId = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Marks the connection closed and wakes every waiter (once).
    func markClosed() {
        let waiters = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            guard !s.closed else { return [] }
            s.closed = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for w in waiters { w.resume() }
    }

    /// Returns when the connection closes or the calling task is cancelled.
    func waitUntilClosed() async {
        let id = state.withLockedValue { s -> Int in
            s.nextId += 1
            return s.nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLockedValue { s -> Bool in
                    if s.closed || Task.isCancelled { return true }
                    s.waiters[id] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Runs `operation`, cancelling it when the connection closes first (then throws `CancellationError`).
    func cancelling<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await self.waitUntilClosed()
                return nil
            }
            group.addTask { try await operation() }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw CancellationError() }
            return value
        }
    }
}

/// The pipeline handler behind a connection's `ConnectionWatch`: it passes every part on and only
/// notes the inbound close (`ChannelEvent.inputClosed`, allowed by the server's remote half-closure)
/// and the connection's end.
final class ConnectionWatchHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    // The HTTP request parts pass through untouched, never unwrapped.
    typealias InboundIn = NIOAny

    let watch = ConnectionWatch()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed { watch.markClosed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        watch.markClosed()
        context.fireChannelInactive()
    }
}

/// The server's request context: Hummingbird's core context plus the connection, so a handler can
/// find the connection's watch.
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: (any Channel)?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The connection's watch; nil where the pipeline has none (the router-only test mode).
    func connectionWatch() async -> ConnectionWatch? {
        guard let channel else { return nil }
        return try? await channel.pipeline.handler(type: ConnectionWatchHandler.self).map(\.watch).get()
    }
}
