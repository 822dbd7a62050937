import ArgumentParser
import Foundation
import Kernels
import Pagewise

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Prompt-processing and generation speed (like llama-bench pp/tg).")

    @OptionGroup var options: ModelOptions
    @Option(name: .long, help: "Prompt tokens for the pp test.") var promptTokens: Int = 512
    @Option(name: .long, help: "Tokens for the tg test.") var genTokens: Int = 128
    @Option(name: .long, help: "Timed repetitions of each test.") var repetitions: Int = 5
    @Flag(name: .long, help: "Print one JSON object.") var json = false
    @Option(name: .long, help: "Serving benchmark: comma-separated numbers of concurrent requests (e.g. 1,4,16,64).")
    var concurrency: String?
    @Option(name: .long, help: "Serving benchmark: tokens of a prompt prefix shared by every request.")
    var sharedPrefix: Int = 0
    @Option(name: .long, help: "Serving benchmark: rounds over all the levels, interleaved; each level reports its median round and its median scaling against the first level.")
    var rounds: Int = 1
    @Option(name: .long, help: "Serving benchmark: greedy, full (penalties + top-k/top-p/min-p + logprobs=5 on every request), or both (interleaved, same run).")
    var sampling: String = "greedy"
    @OptionGroup var engine: EngineOptions
    @Option(name: .long, help: "With --speculative (and no --concurrency): single-stream workloads to time with speculation off and on: edit, code, chat (comma-separated).")
    var specWorkloads: String = "edit,code,chat"
    @Flag(name: .long, help: "Only measure memory read bandwidth with 1…--threads threads.") var bandwidth = false
    @Flag(name: .long, help: "Skip the bandwidth measurement in the pp/tg benchmark.") var noBandwidth = false

    func run() throws {
        let start = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        try reportingErrors {
            guard promptTokens >= 0, genTokens >= 0, repetitions >= 1 else {
                throw ValidationError("token counts must be ≥ 0 and --repetitions ≥ 1")
            }
            if bandwidth {
                var rows: [[String: Double]] = []
                for t in 1 ... options.threads {
                    let gbs = BandwidthProbe.readBandwidth(threads: t) / 1e9
                    rows.append(["threads": Double(t), "bandwidth_gbs": (gbs * 10).rounded() / 10])
                    if !json { print(String(format: "read bandwidth, %d thread%@: %6.1f GB/s", t, t == 1 ? "" : "s", gbs)) }
                }
                if json { print(jsonLine(rows)) }
                return
            }
            if let list = concurrency {
                let levels = list.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !levels.isEmpty, levels.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--concurrency takes positive integers, e.g. 1,4,16") }
                try runServing(levels)
                return
            }
            if engine.speculation.speculative != nil {
                try runSpeculative()
                return
            }
            let session = try options.session(context: max(promptTokens, genTokens, 16), kvCacheDType: engine.kvCache.kvCacheDType)
            let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds) / 1e9 - start
            let startup = try session.startupFigures(since: start)
            let name = NamedModel.named(options.model)?.name ?? URL(fileURLWithPath: options.model).lastPathComponent
            var r = try session.benchmark(modelName: name, promptTokens: promptTokens, genTokens: genTokens, repetitions: repetitions,
                                          measureBandwidth: !noBandwidth)
            r.loadSeconds = loadSeconds
            r.firstTokenSeconds = startup.firstTokenSeconds
            r.rssBytes = startup.rssBytes
            r.fileBytes = startup.fileBytes
            r.kvBytes = startup.kvBytes
            r.rssOverFilePlusKV = startup.rssBytes.map { Double($0) / Double(startup.fileBytes + startup.kvBytes) }
            if json {
                print(jsonLine(r))
            } else {
                print("model \(r.model), \(r.threads) threads")
                print(String(format: "pp%d: %8.1f tok/s", r.ppTokens, r.ppTPS))
                print(String(format: "tg%d: %8.1f tok/s", r.tgTokens, r.tgTPS))
                print(String(format: "start-up: model loaded in %.2f s, first token at %.2f s; resident %.0f MiB = %@ × (file %.0f MiB + KV %.0f MiB)",
                             loadSeconds, startup.firstTokenSeconds, Double(startup.rssBytes ?? 0) / 1_048_576,
                             r.rssOverFilePlusKV.map { String(format: "%.2f", $0) } ?? "?",
                             Double(startup.fileBytes) / 1_048_576, Double(startup.kvBytes) / 1_048_576))
                if let b = r.bandwidthGBs, let f = r.tgFractionOfCeiling {
                    print(String(format: "read bandwidth %.1f GB/s; %.1f MB of weights per token; decode at %.0f%% of the %.0f tok/s ceiling",
                                 b, Double(r.weightBytesPerToken) / 1e6, f * 100, b * 1e9 / Double(r.weightBytesPerToken)))
                }
            }
        }
    }

    func runServing(_ levels: [Int]) throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be ≥ 1") }
        let modes: [SamplingParams]
        switch sampling {
        case "greedy": modes = [.greedy]
        case "full": modes = [ServingBenchmarkResult.fullSampling]
        case "both": modes = [.greedy, ServingBenchmarkResult.fullSampling]
        default: throw ValidationError("--sampling takes greedy, full or both")
        }
        var config = try engine.config(modelPath: options.resolvedPath(), threads: options.threads)
        if config.maxModelLen == nil { config.maxModelLen = sharedPrefix + promptTokens + genTokens + 1 }
        let e = try LLMEngine(config: config)
        var all: [[ServingBenchmarkResult]] = []
        for round in 0 ..< rounds {
            var results: [ServingBenchmarkResult] = []
            for n in levels {
                for (m, mode) in modes.enumerated() {
                    // A different random stream every round and mode, so prompts are never cache hits
                    // for a later run (the engine, and its prefix cache, live across rounds).
                    let r = try e.benchmarkServing(concurrency: n, promptTokens: promptTokens, outputTokens: genTokens,
                                                   sharedPrefixTokens: sharedPrefix,
                                                   seed: 7 &+ UInt64(round * modes.count + m) &* 7_919, sampling: mode)
                    results.append(r)
                    if !json {
                        print((rounds > 1 ? "round \(round + 1) " : "") + line(r))
                    }
                }
            }
            all.append(results)
        }
        let results = rounds > 1 ? ServingBenchmarkResult.summarize(all) : all[0]
        if json {
            struct Out: Encodable { let results: [ServingBenchmarkResult] }
            print(jsonLine(Out(results: results)))
        } else if rounds > 1 {
            print("medians over \(rounds) rounds:")
            for r in results {
                print(line(r) + String(format: "  ×%.3f of the first row (median per round)", r.scalingVsFirst ?? 0))
            }
        }
    }

    private func line(_ r: ServingBenchmarkResult) -> String {
        (sampling == "both" ? "\(r.sampling ?? "") " : "") + String(format: "concurrency %3d: %8.1f output tok/s  TTFT p50 %7.1f ms p99 %7.1f ms  ITL p50 %6.1f ms p99 %6.1f ms  KV waste %.3f  peak util %.2f  preemptions %d  prefix hits %d",
               r.concurrency, r.outputTPS, r.ttftP50Ms, r.ttftP99Ms, r.itlP50Ms, r.itlP99Ms, r.kvWasteFrac, r.kvUtilizationPeak,
               r.preemptions, r.prefixHitTokens)
    }
}
