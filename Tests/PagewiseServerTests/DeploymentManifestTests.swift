import Foundation
import Testing

/// deploy/kubernetes against the Kubernetes 1.37 OpenAPI and the InferencePool, Gateway, HTTPRoute and PodMonitor
/// CRDs (scripts/validate_k8s_manifests.py with the fixtures of scripts/gen_k8s_schema_fixtures.py), and copies
/// broken on purpose, each of which must be refused with a message naming the fault.
@Suite struct DeploymentManifestTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let manifests = root.appendingPathComponent("deploy/kubernetes")

    /// `$PAGEWISE_PYTHON` or tools/venv/bin/python, if it has PyYAML and jsonschema (.ci/run installs them).
    static let python: String? = {
        let candidates: [String?] = [ProcessInfo.processInfo.environment["PAGEWISE_PYTHON"], root.appendingPathComponent("tools/venv/bin/python").path]
        for case let c? in candidates where FileManager.default.isExecutableFile(atPath: c) {
            if (try? ScriptRunner.exec(c, ["-c", "import yaml, jsonschema"]).status) == 0 { return c }
        }
        return nil
    }()

    static func validate(_ directory: URL) throws -> (status: Int32, output: String) {
        try ScriptRunner.run(try #require(python), script: "validate_k8s_manifests.py", arguments: [directory.path])
    }

    @Test(.enabled(if: python != nil, "needs a Python with pyyaml and jsonschema: tools/venv (see .ci/run) or $PAGEWISE_PYTHON"))
    func theManifestsAreValid() throws {
        let r = try Self.validate(Self.manifests)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("7 documents"), "\(r.output)")
    }

    /// One fault put into a copy of deploy/kubernetes: the first `find` in `file` becomes `replace`.
    struct Fault: Sendable, CustomTestStringConvertible {
        let file: String, find: String, replace: String, message: String
        var testDescription: String { "\(file): \(find.trimmingCharacters(in: .whitespacesAndNewlines)) → \(replace.trimmingCharacters(in: .whitespacesAndNewlines))" }
    }

    static let faults = [
        Fault(file: "deployment.yaml", find: "  replicas: 2", replace: "  replicaz: 2", message: "'replicaz' was unexpected"),
        Fault(file: "deployment.yaml", find: "containerPort: 8000", replace: "containerPort: 8001", message: "serve --port 8000 is not a containerPort"),
        Fault(file: "deployment.yaml", find: "terminationGracePeriodSeconds: 90", replace: "terminationGracePeriodSeconds: 60",
              message: "terminationGracePeriodSeconds 60 < preStop 10 + --grace-period 60"),
        Fault(file: "deployment.yaml", find: "path: /health", replace: "path: /healthz", message: "startupProbe must GET /health"),
        Fault(file: "deployment.yaml", find: "memory: 3584Mi", replace: "memory: [3584Mi]", message: "resources/requests/memory"),
        Fault(file: "service.yaml", find: "port: 8000", replace: "port: eight", message: "'eight' is not of type 'integer'"),
        Fault(file: "inferencepool.yaml", find: "failureMode: FailOpen", replace: "failureMode: Open", message: "'Open' is not one of"),
        Fault(file: "inferencepool.yaml", find: "      app: pagewise", replace: "      app: other", message: "does not select the Deployment's pods"),
        Fault(file: "httproute.yaml", find: "timeouts:", replace: "timeoutz:", message: "'timeoutz' was unexpected"),
        Fault(file: "httproute.yaml", find: "kind: InferencePool", replace: "kind: Service", message: "is not the InferencePool"),
        Fault(file: "gateway.yaml", find: "protocol: HTTP", replace: "protocl: HTTP", message: "'protocol' is a required property"),
        Fault(file: "podmonitor.yaml", find: "  labels:", replace: "  labelz:", message: "'labelz' was unexpected"),
        Fault(file: "kustomization.yaml", find: "  - httproute.yaml\n", replace: "", message: "httproute.yaml (HTTPRoute) is not in resources"),
        Fault(file: "endpoint-picker/values.yaml", find: "number: 8000", replace: "number: 8080", message: "targetPorts differ"),
    ]

    @Test(.enabled(if: python != nil, "needs a Python with pyyaml and jsonschema: tools/venv (see .ci/run) or $PAGEWISE_PYTHON"),
          arguments: faults)
    func aBrokenCopyIsRefused(_ fault: Fault) throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("pw-k8s-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.manifests, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        let file = copy.appendingPathComponent(fault.file)
        let text = try String(contentsOf: file, encoding: .utf8)
        let range = try #require(text.range(of: fault.find), "the fault no longer applies to \(fault.file)")
        try text.replacingCharacters(in: range, with: fault.replace).write(to: file, atomically: true, encoding: .utf8)
        let r = try Self.validate(copy)
        #expect(r.status == 1, "\(r.output)")
        #expect(r.output.contains(fault.message), "\(r.output)")
    }
}
