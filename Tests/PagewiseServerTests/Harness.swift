import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Pagewise
@testable import PagewiseServer
import Testing

/// Builds applications around a scripted (or real) backend and reads their answers.
enum Harness {
    static let modelName = "test-model"

    static func config(_ edit: (inout ServerConfiguration) -> Void = { _ in }) -> ServerConfiguration {
        var c = ServerConfiguration()
        c.servedModelName = modelName
        c.port = 0
        c.abortOnDisconnect = false
        edit(&c)
        return c
    }

    static func host(_ backend: (any GenerationBackend)?, renderer: (any ChatRenderer)? = ChatMLRenderer()) -> ModelHost {
        guard let backend else { return ModelHost() }
        return ModelHost(LoadedModel(backend: backend, renderer: renderer, name: modelName))
    }

    static func app(_ backend: (any GenerationBackend)?, renderer: (any ChatRenderer)? = ChatMLRenderer(),
                    _ edit: (inout ServerConfiguration) -> Void = { _ in }) -> some ApplicationProtocol {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return buildApplication(host: host(backend, renderer: renderer), configuration: config(edit), logger: logger)
    }

    static func json(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

    static var jsonHeaders: HTTPFields {
        var h = HTTPFields()
        h[.contentType] = "application/json"
        return h
    }

    static func post(_ client: some TestClientProtocol, _ uri: String, _ body: String,
                     headers: HTTPFields = jsonHeaders) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { $0 }
    }

    static func postBytes(_ client: some TestClientProtocol, _ uri: String, _ body: [UInt8]) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, headers: jsonHeaders, body: ByteBuffer(bytes: body)) { $0 }
    }

    static func get(_ client: some TestClientProtocol, _ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: headers) { $0 }
    }

    /// The body as a JSON object.
    static func object(_ r: TestResponse) throws -> [String: Any] {
        let any = try JSONSerialization.jsonObject(with: Data(r.body.readableBytesView))
        return try #require(any as? [String: Any])
    }

    /// Checks OpenAI's error shape, the status and (when given) the named parameter.
    static func expectError(_ r: TestResponse, _ status: HTTPResponse.Status, param: String? = nil,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(r.status == status, "status \(r.status), body \(String(buffer: r.body))", sourceLocation: sourceLocation)
        let o = try object(r)
        let e = try #require(o["error"] as? [String: Any], sourceLocation: sourceLocation)
        #expect(e["message"] is String, sourceLocation: sourceLocation)
        #expect(e["type"] is String, sourceLocation: sourceLocation)
        #expect(e["code"] as? Int == Int(status.code), sourceLocation: sourceLocation)
        #expect(e.keys.contains("param"), sourceLocation: sourceLocation)
        if let param {
            #expect(e["param"] as? String == param, "param \(String(describing: e["param"])), message \(e["message"] ?? "")",
                    sourceLocation: sourceLocation)
        }
    }

    /// The `data:` payloads of an event stream, checking the framing on the way.
    static func events(_ body: ByteBuffer, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        let text = String(buffer: body)
        var out: [String] = []
        let frames = text.components(separatedBy: "\n\n")
        #expect(frames.last == "", "a stream ends with a blank line", sourceLocation: sourceLocation)
        for frame in frames.dropLast() {
            #expect(frame.hasPrefix("data: "), "frame \(frame)", sourceLocation: sourceLocation)
            #expect(!frame.contains("\n"), "one line per event", sourceLocation: sourceLocation)
            out.append(String(frame.dropFirst(6)))
        }
        return out
    }

    static func parse(_ s: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])
    }
}
