import Pagewise
import Prometheus

/// vLLM's speculative-decoding counters (`vllm:spec_decode_*`), advanced from the engine's own
/// totals: drafts (verifications with at least one draft token), draft tokens, accepted tokens, and
/// accepted tokens per draft position (label `position`, 0-based, as vLLM's `…_per_pos`). They stay
/// at 0 while speculation is off. Used under `ServerMetrics`'s lock.
final class SpecDecodeMetrics {
    private let registry: PrometheusCollectorRegistry
    private let labels: [(String, String)]
    private let drafts: Counter
    private let draftTokens: Counter
    private let acceptedTokens: Counter
    private var perPosition: [Counter] = []
    private var last = ServingStats()

    init(registry: PrometheusCollectorRegistry, labels: [(String, String)]) {
        self.registry = registry
        self.labels = labels
        drafts = registry.makeCounter(descriptor: Self.name("vllm:spec_decode_num_drafts_total", "Number of spec decoding drafts."),
                                      labels: labels)
        draftTokens = registry.makeCounter(descriptor: Self.name("vllm:spec_decode_num_draft_tokens_total", "Number of draft tokens."),
                                           labels: labels)
        acceptedTokens = registry.makeCounter(descriptor: Self.name("vllm:spec_decode_num_accepted_tokens_total", "Number of accepted tokens."),
                                              labels: labels)
    }

    private static func name(_ metric: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: metric, unitName: "", helpText: help)
    }

    /// Brings the counters up to the engine's totals in `s`.
    func update(_ s: ServingStats) {
        drafts.increment(by: Int64(max(0, s.specDrafts - last.specDrafts)))
        draftTokens.increment(by: Int64(max(0, s.specDraftTokens - last.specDraftTokens)))
        acceptedTokens.increment(by: Int64(max(0, s.specAcceptedTokens - last.specAcceptedTokens)))
        while perPosition.count < s.specAcceptedPerPosition.count {
            let descriptor = Self.name("vllm:spec_decode_num_accepted_tokens_per_pos", "Accepted tokens per draft position.")
            perPosition.append(registry.makeCounter(descriptor: descriptor, labels: labels + [("position", "\(perPosition.count)")]))
        }
        for (j, n) in s.specAcceptedPerPosition.enumerated() {
            let before = j < last.specAcceptedPerPosition.count ? last.specAcceptedPerPosition[j] : 0
            perPosition[j].increment(by: Int64(max(0, n - before)))
        }
        last = s
    }
}
