#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
@testable import PagewiseServer
import Testing

/// A live server: a client that hangs up mid-request aborts its request in the engine, and the
/// server keeps serving; a client that stays keeps its connection for its next request.
@Suite struct DisconnectTests {
    /// Opens a loopback connection, sends `request`, and returns the socket.
    static func send(port: Int, _ request: String) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(ok == 0)
        write(fd, request)
        return fd
    }

    static func write(_ fd: Int32, _ request: String) {
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
    }

    /// A live server with the disconnect watch on, over `backend`.
    static func liveApp(_ backend: ScriptedBackend) -> some ApplicationProtocol {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return buildApplication(host: Harness.host(backend), configuration: Harness.config { $0.abortOnDisconnect = true },
                                logger: logger)
    }

    static func post(_ body: String) -> String {
        "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// Reads one HTTP/1.1 response with a Content-Length body from `fd`: (status line, body), or nil
    /// when the server closed the connection first.
    static func readResponse(_ fd: Int32) -> (status: String, body: String)? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = bytes.indices.dropLast(3).first(where: { bytes[$0 ..< $0 + 4] == [13, 10, 13, 10] }) {
                let head = String(decoding: bytes[..<end], as: UTF8.self)
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if bytes.count >= end + 4 + length {
                    let status = String(head.split(separator: "\r\n")[0])
                    return (status, String(decoding: bytes[(end + 4) ..< (end + 4 + length)], as: UTF8.self))
                }
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            bytes += buffer[..<n]
        }
    }

    /// Keep-alive under the disconnect watch: three requests, one after another, on one connection
    /// all get their answer (the watch must not close the connection after a response).
    @Test func aClientThatStaysKeepsItsConnection() async throws {
        let backend = try ScriptedBackend(behaviour: .reply(" kept"))
        try await Self.liveApp(backend).test(.live) { client in
            let port = try #require(client.port)
            let request = Self.post(#"{"prompt":"x","max_tokens":5}"#)
            let fd = try Self.send(port: port, request)
            defer { close(fd) }
            for i in 0 ..< 3 {
                if i > 0 { Self.write(fd, request) }
                let r = try #require(Self.readResponse(fd), "response \(i + 1) came back on the same connection")
                #expect(r.status == "HTTP/1.1 200 OK")
                #expect(r.body.contains(" kept"))
            }
            #expect(backend.aborted.isEmpty)
        }
    }

    @Test(arguments: [false, true]) func hangingUpAbortsTheRequest(stream: Bool) async throws {
        let backend = try ScriptedBackend(behaviour: .hang)
        try await Self.liveApp(backend).test(.live) { client in
            let port = try #require(client.port)
            let fd = try Self.send(port: port, Self.post(#"{"prompt":"x","max_tokens":5,"stream":\#(stream)}"#))
            for _ in 0 ..< 500 where backend.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            #expect(backend.requests.count == 1)
            close(fd)
            for _ in 0 ..< 500 where backend.aborted.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            #expect(backend.aborted.count == 1, "the engine was told to abort")
            backend.behaviour = .reply(" still here")
            let r = try await client.execute(uri: "/v1/completions", method: .post, headers: Harness.jsonHeaders,
                                             body: ByteBuffer(string: #"{"prompt":"x"}"#)) { $0 }
            #expect(r.status == .ok)
        }
    }
}
