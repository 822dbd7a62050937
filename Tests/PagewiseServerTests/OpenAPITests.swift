import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
@testable import PagewiseServer
import Testing

/// `/openapi.json` documents exactly the routes the router has.
@Suite struct OpenAPITests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        let router = buildRouter(host: ModelHost(), configuration: ServerConfiguration(), metrics: ServerMetrics(modelName: "m"),
                                 logger: Logger(label: "test"))
        let routed = Set(router.routes.map { "\($0.method.rawValue) \(Self.normalize($0.path.description))" })
        let doc = try #require(JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        #expect((doc["openapi"] as? String)?.hasPrefix("3.") == true)
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        var documented = Set<String>()
        for (path, ops) in paths {
            for method in ops.keys { documented.insert("\(method.uppercased()) \(path)") }
        }
        #expect(routed == documented, "router only: \(routed.subtracting(documented)); document only: \(documented.subtracting(routed))")
        #expect(Set(OpenAPIDocument.routes.map { "\($0.method) \($0.path)" }) == documented)
    }

    @Test func theDocumentIsServed() async throws {
        try await Harness.app(nil).test(.router) { client in
            let r = try await Harness.get(client, "/openapi.json")
            #expect(r.status == .ok)
            let o = try Harness.object(r)
            #expect(o["paths"] is [String: Any])
        }
    }

    static func normalize(_ p: String) -> String { p.hasPrefix("/") ? p : "/" + p }
}
