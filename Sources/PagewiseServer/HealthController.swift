import Hummingbird

/// `GET /health` (503 until the model is loaded), `GET /version` and `GET /openapi.json`.
struct HealthController: Sendable {
    let serving: Serving

    func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("health") { _, _ in try health() }
        router.get("version") { _, _ in try Serving.json(VersionResponse(version: PagewiseVersion.string)) }
        router.get("openapi.json") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
    }

    func health() throws -> Response {
        _ = try serving.host.ready()
        return Response(status: .ok)
    }
}
