import Foundation
import Kernels
import Models

/// Prompt-processing and generation speed, measured like llama-bench's pp/tg tests.
public struct BenchmarkResult: Sendable, Codable {
    public var model: String
    public var threads: Int
    public var ppTokens: Int
    public var ppTPS: Double
    public var tgTokens: Int
    public var tgTPS: Double
    /// Each repetition's tokens/s, for spread.
    public var ppSamples: [Double]
    public var tgSamples: [Double]
    /// Measured memory read bandwidth with the same thread count, GB/s.
    public var bandwidthGBs: Double?
    /// Bytes of weights read per decoded token (every tensor once; a tied embedding once).
    public var weightBytesPerToken: Int
    /// tg tokens/s over the bandwidth ceiling (bandwidth / weight bytes per token).
    public var tgFractionOfCeiling: Double?
    /// Start-up, filled by the command that loaded the model: seconds from the command's start to a
    /// loaded model, and to the first token's logits (one token through the fresh model, which faults
    /// the mapped weights in); resident memory then, the model file's and the KV pool's sizes, and
    /// resident memory over file + KV (the budget: ≤ 1.10).
    public var loadSeconds: Double?
    public var firstTokenSeconds: Double?
    public var rssBytes: Int?
    public var fileBytes: Int?
    public var kvBytes: Int?
    public var rssOverFilePlusKV: Double?

    enum CodingKeys: String, CodingKey {
        case model, threads, ppTokens = "pp_tokens", ppTPS = "pp_tps", tgTokens = "tg_tokens", tgTPS = "tg_tps"
        case ppSamples = "pp_samples", tgSamples = "tg_samples", bandwidthGBs = "bandwidth_gbs"
        case weightBytesPerToken = "weight_bytes_per_token", tgFractionOfCeiling = "tg_fraction_of_ceiling"
        case loadSeconds = "load_seconds", firstTokenSeconds = "first_token_seconds", rssBytes = "rss_bytes"
        case fileBytes = "file_bytes", kvBytes = "kv_bytes", rssOverFilePlusKV = "rss_over_file_plus_kv"
    }
}

/// The process's own memory figures.
public enum ProcessMemory {
    /// Resident set size from /proc/self/status (VmRSS), or nil where there is none.
    public static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
            return kb.map { $0 * 1024 }
        }
        return nil
    }
}

extension InferenceSession {
    /// Start-up figures for a session just made (`start`: the command's start, uptime seconds): runs one
    /// token through it, then reads the process's resident memory (Linux; nil elsewhere).
    public func startupFigures(since start: Double) throws
        -> (firstTokenSeconds: Double, rssBytes: Int?, fileBytes: Int, kvBytes: Int) {
        try evaluate([tokenizer.bosId], logitsFrom: 0) { _, _ in }
        let first = Double(DispatchTime.now().uptimeNanoseconds) / 1e9 - start
        return (first, ProcessMemory.residentBytes(), model.file.fileSize, cache.byteCount)
    }

    /// pp: `promptTokens` random tokens in one fresh sequence (chunked by `maxBatchTokens`);
    /// tg: `genTokens` single-token steps from an empty cache. One warm-up run of each, then
    /// `repetitions` timed runs; the reported figure is the median.
    public func benchmark(modelName: String, promptTokens: Int, genTokens: Int, repetitions: Int,
                          measureBandwidth: Bool = true) throws -> BenchmarkResult {
        var rng = SamplingRNG(seed: 1234)
        let vocab = UInt64(config.vocabSize)
        let prompt = (0 ..< promptTokens).map { _ in Int32(rng.next() % vocab) }
        func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

        func runPP() throws -> Double {
            let t0 = now()
            try evaluate(prompt, logitsFrom: max(0, prompt.count - 1)) { _, _ in }
            return Double(promptTokens) / (now() - t0)
        }
        func runTG() throws -> Double {
            var table = try reserveTable(tokens: genTokens)
            defer { blocks.release(&table) }
            var token = prompt.first ?? 1
            var batch = ForwardBatch()
            let t0 = now()
            for pos in 0 ..< genTokens {
                batch.reset()
                batch.append(tokens: CollectionOfOne(token), startPosition: pos, blockTable: table, wantLogits: .last)
                let logits = try model.forward(batch, cache: cache)
                token = Sampler.argmax(logits)
            }
            return Double(genTokens) / (now() - t0)
        }
        func median(_ xs: [Double]) -> Double {
            let s = xs.sorted()
            return s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
        }
        var pp: [Double] = []
        var tg: [Double] = []
        if promptTokens > 0 {
            _ = try runPP()
            for _ in 0 ..< repetitions { pp.append(try runPP()) }
        }
        if genTokens > 0 {
            _ = try runTG()
            for _ in 0 ..< repetitions { tg.append(try runTG()) }
        }
        let bytesPerToken = model.file.tensors.reduce(0) { $0 + $1.byteCount }
        var bandwidth: Double?
        var fraction: Double?
        if measureBandwidth {
            let b = BandwidthProbe.readBandwidth(threads: model.pool.threadCount) / 1e9
            bandwidth = b
            if !tg.isEmpty { fraction = median(tg) * Double(bytesPerToken) / (b * 1e9) }
        }
        return BenchmarkResult(model: modelName, threads: model.pool.threadCount, ppTokens: promptTokens, ppTPS: median(pp),
                               tgTokens: genTokens, tgTPS: median(tg), ppSamples: pp, tgSamples: tg, bandwidthGBs: bandwidth,
                               weightBytesPerToken: bytesPerToken, tgFractionOfCeiling: fraction)
    }
}
