import Hummingbird

/// `GET /v1/models`.
struct ModelsController: Sendable {
    let serving: Serving

    func addRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("models") { _, _ in try list() }
    }

    func list() throws -> Response {
        let m = try serving.host.ready()
        let card = ModelCard(id: m.name, created: m.created, root: m.name, maxModelLen: m.backend.maxModelLen)
        return try Serving.json(ModelList(data: [card]))
    }
}
