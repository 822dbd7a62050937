import Foundation
import Hummingbird
import HummingbirdTesting
import Pagewise
@testable import PagewiseServer
import Testing
import TestSupport

/// `/metrics` of a server around the real engine carries every metric the Gateway API Inference Extension's
/// endpoint picker reads with its vLLM mapping, with the type and labels it expects. The list is
/// Fixtures/kubernetes/epp-vllm-metrics.json, made by scripts/gen_k8s_schema_fixtures.py from the picker's source.
@Suite(.serialized) struct EndpointPickerMetricsTests {
    struct Expected: Decodable {
        let role: String
        let name: String
        let type: String
        let required: Bool
        let labels: [String]?
        let integer_labels: [String]?
        let value: Double?
        let range: [Double]?
    }

    struct Fixture: Decodable { let metrics: [Expected] }

    static func fixture() throws -> [Expected] {
        let url = try #require(Bundle.module.url(forResource: "epp-vllm-metrics", withExtension: "json",
                                                 subdirectory: "Fixtures/kubernetes"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url)).metrics
    }

    @Test func thePickersMetricsHaveTheirTypesAndLabels() async throws {
        let expected = try Self.fixture()
        #expect(expected.count >= 4)
        var c = EngineConfig(modelPath: try TestModels.path("smollm2-135m-instruct"), threads: 2)
        c.maxModelLen = 256
        c.numBlocks = 96
        c.blockSize = 16
        let engine = try AsyncEngine(config: c)
        defer { engine.shutdown() }
        try await Harness.app(engine).test(.router) { client in
            let r = try await Harness.post(client, "/v1/completions", #"{"prompt":"Hello","max_tokens":2,"temperature":0}"#)
            #expect(r.status == .ok)
            let text = String(buffer: try await Harness.get(client, "/metrics").body)
            let exposition = try PrometheusExposition(text)
            for m in expected {
                let samples = exposition.samples[m.name] ?? []
                if samples.isEmpty {
                    #expect(!m.required, "\(m.name) (the picker's \(m.role)) is missing from /metrics")
                    if m.required { continue }
                    // The LoRA metric belongs to servers that serve adapters; Pagewise does not.
                    #expect(exposition.types[m.name] == nil, "\(m.name) has a TYPE line but no sample")
                    continue
                }
                #expect(exposition.types[m.name] == m.type, "\(m.name): TYPE \(exposition.types[m.name] ?? "none"), expected \(m.type)")
                for s in samples {
                    for label in m.labels ?? [] {
                        #expect(s.labels[label] != nil, "\(m.name) has no label \(label): \(s.labels)")
                    }
                    if m.labels?.contains("model_name") == true {
                        #expect(s.labels["model_name"] == Harness.modelName)
                    }
                    for label in m.integer_labels ?? [] {
                        #expect(Int(s.labels[label] ?? "") != nil, "\(m.name): label \(label) must be an integer, got \(s.labels)")
                    }
                    if let v = m.value { #expect(s.value == v, "\(m.name) = \(s.value)") }
                    if let range = m.range, range.count == 2 {
                        #expect(s.value >= range[0] && s.value <= range[1], "\(m.name) = \(s.value)")
                    }
                }
                if m.role == "cache_info", let s = samples.first {
                    #expect(s.labels["block_size"] == "16")
                    #expect(s.labels["num_gpu_blocks"] == String(engine.stats().numBlocks))
                    #expect(engine.stats().numBlocks == 96)
                }
            }
        }
    }

    @Test func theParserReadsLabelsValuesAndTypes() throws {
        let e = try PrometheusExposition("""
        # HELP a_b Help with "quotes".
        # TYPE a_b gauge
        a_b{x="1",y="a \\"q\\" \\\\ b"} 2.5
        c_total 3
        """)
        #expect(e.types == ["a_b": "gauge"])
        #expect(e.samples["a_b"]?.first?.labels == ["x": "1", "y": #"a "q" \ b"#])
        #expect(e.samples["a_b"]?.first?.value == 2.5)
        #expect(e.samples["c_total"]?.first?.value == 3)
        #expect(throws: PrometheusExposition.Malformed.self) { try PrometheusExposition("a_b{x=\"1\" 2") }
    }
}

/// The Prometheus text format (version 0.0.4), as much as the endpoint picker's parser needs: TYPE lines and
/// samples with labels.
struct PrometheusExposition {
    struct Sample { let labels: [String: String]; let value: Double }
    struct Malformed: Error { let line: String }

    var types: [String: String] = [:]
    var samples: [String: [Sample]] = [:]

    init(_ text: String) throws {
        for raw in text.split(separator: "\n") {
            let line = String(raw)
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4 else { throw Malformed(line: line) }
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") || line.isEmpty { continue }
            var chars = Substring(line)
            let name = String(chars.prefix { $0 != "{" && $0 != " " })
            chars = chars.dropFirst(name.count)
            var labels: [String: String] = [:]
            if chars.first == "{" {
                chars = chars.dropFirst()
                while chars.first != "}" {
                    let key = String(chars.prefix { $0 != "=" })
                    chars = chars.dropFirst(key.count)
                    guard chars.hasPrefix("=\"") else { throw Malformed(line: line) }
                    chars = chars.dropFirst(2)
                    var value = ""
                    while let ch = chars.first, ch != "\"" {
                        chars = chars.dropFirst()
                        if ch == "\\", let next = chars.first {
                            chars = chars.dropFirst()
                            value.append(next == "n" ? "\n" : next)
                        } else {
                            value.append(ch)
                        }
                    }
                    guard chars.first == "\"" else { throw Malformed(line: line) }
                    chars = chars.dropFirst()
                    labels[key] = value
                    if chars.first == "," { chars = chars.dropFirst() }
                    guard !chars.isEmpty else { throw Malformed(line: line) }
                }
                chars = chars.dropFirst()
            }
            let fields = chars.split(separator: " ")
            guard let first = fields.first, let value = Double(first) else { throw Malformed(line: line) }
            samples[name, default: []].append(Sample(labels: labels, value: value))
        }
    }
}
