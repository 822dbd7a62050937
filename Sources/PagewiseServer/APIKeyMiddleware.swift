import Hummingbird

/// With `--api-key`, every /v1 route wants `Authorization: Bearer <key>` (401 otherwise).
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let given = request.headers[.authorization]
        guard let given, given.hasPrefix("Bearer "), Self.constantTimeEqual(String(given.dropFirst(7)), key) else {
            throw OpenAIError(status: .unauthorized, message: "missing or wrong API key; send Authorization: Bearer <key>")
        }
        return try await next(request, context)
    }

    /// Compares without stopping at the first difference.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
