import Foundation
import Hummingbird
import HummingbirdTesting
@testable import PagewiseServer
import Testing

/// The chat page at `/`: served as HTML, self-contained, and open while /v1 keeps its API key.
@Suite struct ChatPageTests {
    @Test func rootAndIndexServeTheSelfContainedPage() async throws {
        try await Harness.app(try ScriptedBackend()).test(.router) { client in
            for path in ["/", "/index.html"] {
                let r = try await Harness.get(client, path)
                #expect(r.status == .ok, "\(path)")
                #expect(r.headers[.contentType] == "text/html; charset=utf-8", "\(path)")
                let csp = try #require(r.headers[.contentSecurityPolicy])
                #expect(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"), "\(csp)")
                let html = String(buffer: r.body)
                #expect(html.hasPrefix("<!DOCTYPE html>"))
                #expect(html.hasSuffix("</html>\n"))
                // Everything it needs is inline: no URL to another host, no external script, style or image.
                #expect(html.range(of: #"(?i)https?:|//[a-z0-9.-]+\.[a-z]{2,}/"#, options: .regularExpression) == nil)
                #expect(html.range(of: #"(?i)<(script|img|iframe)[^>]*\ssrc=|<link\b|@import"#, options: .regularExpression) == nil)
                // What the page is for: streamed chat through this server, a stop button, the settings.
                for needle in ["fetch(\"v1/chat/completions\"", "fetch(\"v1/models\"", "getReader()", "new AbortController()",
                               "id=\"stop\"", "id=\"system\"", "id=\"temperature\"", "id=\"top_p\"", "id=\"max_tokens\"",
                               "id=\"key\"", "localStorage", "tok/s"] {
                    #expect(html.contains(needle), "page lacks \(needle)")
                }
                // Model text goes into the DOM only as text.
                #expect(!html.contains("innerHTML") && !html.contains("insertAdjacentHTML") && !html.contains("document.write"))
            }
        }
    }

    @Test func thePageIsOpenWhileV1NeedsTheKey() async throws {
        let app = Harness.app(try ScriptedBackend()) { $0.apiKey = "sekrit" }
        try await app.test(.router) { client in
            let page = try await Harness.get(client, "/")
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains("<title>Pagewise chat</title>"))
            let health = try await Harness.get(client, "/health")
            #expect(health.status == .ok)
            try Harness.expectError(try await Harness.get(client, "/v1/models"), .unauthorized)
            var wrong = HTTPFields()
            wrong[.authorization] = "Bearer nope"
            try Harness.expectError(try await Harness.get(client, "/v1/models", headers: wrong), .unauthorized)
            var right = HTTPFields()
            right[.authorization] = "Bearer sekrit"
            let models = try await Harness.get(client, "/v1/models", headers: right)
            #expect(models.status == .ok)
        }
    }

    @Test func otherPathsAreStill404() async throws {
        try await Harness.app(try ScriptedBackend()).test(.router) { client in
            let near = try await Harness.get(client, "/index.htm")
            #expect(near.status == .notFound)
            let bare = try await Harness.get(client, "/v1")
            #expect(bare.status == .notFound)
        }
    }
}
