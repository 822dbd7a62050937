import Hummingbird

/// `GET /` and `GET /index.html`: the chat page. It is open (no API key): the page asks for the key
/// and sends it on its own /v1 calls, which the key middleware guards as before.
struct ChatPageController: Sendable {
    func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/") { _, _ in Self.page() }
        router.get("index.html") { _, _ in Self.page() }
    }

    static func page() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        // Everything is inline and the page talks only to this server: the policy says so to the browser.
        headers[.contentSecurityPolicy] = ChatPage.contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: ChatPage.html)))
    }
}
