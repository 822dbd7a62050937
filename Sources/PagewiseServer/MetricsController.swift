import Hummingbird

/// `GET /metrics`: Prometheus text exposition of vLLM's metrics.
struct MetricsController: Sendable {
    let serving: Serving

    func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("metrics") { _, _ in scrape() }
    }

    func scrape() -> Response {
        let text = serving.metrics.render(stats: serving.host.model?.backend.servingStats())
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
