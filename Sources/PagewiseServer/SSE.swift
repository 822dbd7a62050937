import Foundation
import Hummingbird
import Pagewise

/// Server-sent events as OpenAI streams them: `data: {json}\n\n` … `data: [DONE]\n\n`.
public enum SSE {
    /// One event carrying `json`.
    public static func event(_ json: Data) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeString("data: ")
        b.writeBytes(json)
        b.writeString("\n\n")
        return b
    }

    /// The end of the stream.
    public static let done = ByteBuffer(string: "data: [DONE]\n\n")

    /// Headers of an event stream.
    static var headers: HTTPFields {
        var h = HTTPFields()
        h[.contentType] = "text/event-stream"
        h[.cacheControl] = "no-cache"
        return h
    }

    static func encode<T: Encodable>(_ value: T) -> ByteBuffer {
        event((try? Serving.encoder.encode(value)) ?? Data("{}".utf8))
    }
}

/// An iterator moved from the handler into the response body writer (only one task uses it at a time).
final class IteratorBox: @unchecked Sendable {
    var iterator: AsyncThrowingStream<(Int, RequestOutput), any Error>.AsyncIterator
    init(_ stream: AsyncThrowingStream<(Int, RequestOutput), any Error>) { iterator = stream.makeAsyncIterator() }
    func next() async throws -> (Int, RequestOutput)? { try await iterator.next() }
}
