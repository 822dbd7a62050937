import Foundation
import Pagewise
import Prometheus

/// vLLM's Prometheus metrics (names, types and the `model_name` label as vLLM v1 exports them),
/// kept in a registry of this server's own so that several servers in one process (tests) do not mix.
public final class ServerMetrics: @unchecked Sendable {
    /// The registry `/metrics` prints.
    public let registry = PrometheusCollectorRegistry()
    private let labels: [(String, String)]
    private let lock = NSLock()
    private var last = ServingStats()

    private let running: Gauge
    private let waiting: Gauge
    private let kvUsage: Gauge
    private let prefixQueries: Counter
    private let prefixHits: Counter
    private let preemptions: Counter
    private let promptTokens: Counter
    private let generationTokens: Counter
    private let ttft: ValueHistogram
    private let itl: ValueHistogram
    private let e2e: ValueHistogram
    private let queueTime: ValueHistogram
    private var cacheConfigShown = false
    private let specDecode: SpecDecodeMetrics

    /// vLLM's buckets.
    static let ttftBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]
    static let itlBuckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0]
    static let requestBuckets = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0]

    /// Registers every metric for `modelName`.
    public init(modelName: String) {
        labels = [("model_name", modelName)]
        func d(_ name: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
        }
        let r = registry
        running = r.makeGauge(descriptor: d("vllm:num_requests_running", "Number of requests in model execution batches."), labels: labels)
        waiting = r.makeGauge(descriptor: d("vllm:num_requests_waiting", "Number of requests waiting to be processed."), labels: labels)
        kvUsage = r.makeGauge(descriptor: d("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage."), labels: labels)
        prefixQueries = r.makeCounter(descriptor: d("vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens."), labels: labels)
        prefixHits = r.makeCounter(descriptor: d("vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens."), labels: labels)
        preemptions = r.makeCounter(descriptor: d("vllm:num_preemptions_total", "Cumulative number of preemption from the engine."), labels: labels)
        promptTokens = r.makeCounter(descriptor: d("vllm:prompt_tokens_total", "Number of prefill tokens processed."), labels: labels)
        generationTokens = r.makeCounter(descriptor: d("vllm:generation_tokens_total", "Number of generation tokens processed."), labels: labels)
        ttft = r.makeValueHistogram(descriptor: d("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds."),
                                    labels: labels, buckets: Self.ttftBuckets)
        itl = r.makeValueHistogram(descriptor: d("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds."),
                                   labels: labels, buckets: Self.itlBuckets)
        e2e = r.makeValueHistogram(descriptor: d("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds."),
                                   labels: labels, buckets: Self.requestBuckets)
        queueTime = r.makeValueHistogram(descriptor: d("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request."),
                                         labels: labels, buckets: Self.requestBuckets)
        specDecode = SpecDecodeMetrics(registry: r, labels: labels)
        for reason in ["stop", "length", "abort"] { success(reason).increment(by: Int64(0)) }
    }

    private func success(_ reason: String) -> Counter {
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "vllm:request_success_total", unitName: "",
                                                              helpText: "Count of successfully processed requests."),
                             labels: labels + [("finished_reason", reason)])
    }

    /// Records a finished request.
    func requestFinished(reasons: [String], promptTokens prompt: Int, outputTokens: Int, ttft first: Double?, e2e total: Double) {
        promptTokens.increment(by: Int64(prompt))
        generationTokens.increment(by: Int64(outputTokens))
        if let first { ttft.record(first) }
        e2e.record(total)
        for r in reasons { success(r).increment() }
    }

    /// Records the gap between two tokens of one sequence.
    func interTokenLatency(_ seconds: Double) { itl.record(seconds) }

    /// Records the time a request waited before it was scheduled.
    func queueTime(_ seconds: Double) { queueTime.record(seconds) }

    /// vLLM's `vllm:cache_config_info`: a gauge set to 1 whose labels carry the KV pool's shape (the
    /// endpoint picker's prefix scorer reads `block_size` and `num_gpu_blocks`). Called under `lock`.
    private func showCacheConfig(_ s: ServingStats) {
        let descriptor = MetricNameDescriptor(metricName: "vllm:cache_config_info", unitName: "",
                                              helpText: "Information of the LLMEngine CacheConfig")
        let info = [("block_size", String(s.blockSize)), ("engine", "0"), ("num_gpu_blocks", String(s.numBlocks))]
        registry.makeGauge(descriptor: descriptor, labels: info).set(Double(1))
        cacheConfigShown = true
    }

    /// Brings the gauges and the engine's counters up to `stats`, then prints the registry.
    func render(stats: ServingStats?) -> String {
        if let s = stats {
            lock.withLock {
                running.set(Double(s.running))
                waiting.set(Double(s.waiting))
                kvUsage.set(s.kvUtilization)
                prefixQueries.increment(by: Int64(max(0, s.prefixQueryTokens - last.prefixQueryTokens)))
                prefixHits.increment(by: Int64(max(0, s.prefixHitTokens - last.prefixHitTokens)))
                preemptions.increment(by: Int64(max(0, s.preemptions - last.preemptions)))
                specDecode.update(s)
                last = s
                if !cacheConfigShown, s.numBlocks > 0 { showCacheConfig(s) }
            }
        }
        return registry.emitToString()
    }
}
