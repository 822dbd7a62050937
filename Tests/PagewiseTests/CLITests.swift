import Foundation
import Testing
import TestSupport

/// End-to-end runs of the `pagewise` executable that `swift test` builds next to the test bundle.
/// Expected ids come from llama.cpp (the greedy fixture's tokenization of the same prompt).
@Suite(.serialized)
struct CLITests {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func binary() throws -> URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0 ..< 4 {
            let candidate = dir.appendingPathComponent("pagewise")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        let build = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for config in ["release", "debug"] {
            let candidate = build.appendingPathComponent(".build/\(config)/pagewise")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw CLIError.notBuilt
    }

    enum CLIError: Error { case notBuilt }

    static func run(_ args: [String]) throws -> Run {
        let p = Process()
        p.executableURL = try binary()
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func fixture(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")).path
    }

    struct GreedyReference: Decodable {
        let prompt: String
        let prompt_tokens: [Int32]
        let tokens: [Int32]
    }

    static func greedyReference() throws -> [GreedyReference] {
        try JSONDecoder().decode([GreedyReference].self, from: Data(contentsOf: URL(fileURLWithPath: fixture("smollm2-135m-instruct.greedy.json"))))
    }

    @Test func generateJSONGreedy() throws {
        let model = try TestModels.path("smollm2-135m-instruct")
        let ref = try Self.greedyReference()[0]
        let r = try Self.run(["generate", "--model", model, "--temperature", "0", "--max-tokens", "6", "--threads", "2", "--json", ref.prompt])
        #expect(r.status == 0, "\(r.stderr)")
        struct Out: Decodable { let prompt_tokens: [Int32]; let tokens: [Int32]; let text: String; let finish_reason: String }
        let out = try JSONDecoder().decode(Out.self, from: Data(r.stdout.utf8))
        #expect(out.prompt_tokens == ref.prompt_tokens)
        // Either 6 tokens ("length") or an end-of-generation token earlier ("stop").
        #expect((out.finish_reason == "length" && out.tokens.count == 6) || (out.finish_reason == "stop" && out.tokens.count <= 6))
        #expect(!out.text.isEmpty)
    }

    @Test func tokenizeMatchesLlamaCpp() throws {
        let model = try TestModels.path("smollm2-135m-instruct")
        for ref in try Self.greedyReference().prefix(5) {
            let r = try Self.run(["tokenize", "--model", model, "--json", ref.prompt])
            #expect(r.status == 0)
            struct Out: Decodable { let tokens: [Int32] }
            #expect(try JSONDecoder().decode(Out.self, from: Data(r.stdout.utf8)).tokens == ref.prompt_tokens)
        }
        // Special-token text is the special token unless --no-parse-special.
        let special = try Self.run(["tokenize", "--model", model, "--json", "<|im_start|>"])
        #expect(special.stdout.contains("[1]"))
        let plain = try Self.run(["tokenize", "--model", model, "--json", "--no-parse-special", "<|im_start|>"])
        #expect(!plain.stdout.contains("[1]") && plain.status == 0)
    }

    @Test func perplexityJSONLastLine() throws {
        let model = try TestModels.path("smollm2-135m-instruct")
        let r = try Self.run(["perplexity", "--model", model, "--context", "128", "--chunks", "2", "--json", Self.fixture("ppl-text.txt")])
        #expect(r.status == 0, "\(r.stderr)")
        struct Out: Decodable { let ppl: Double; let tokens_scored: Int }
        let last = try #require(r.stdout.split(separator: "\n").last)
        let out = try JSONDecoder().decode(Out.self, from: Data(last.utf8))
        #expect(out.tokens_scored == 2 * (128 - 1 - 64))
        #expect(out.ppl > 1 && out.ppl < 200)
    }

    @Test func inspectDescribesTheModel() throws {
        let model = try TestModels.path("gemma3-270m")
        let r = try Self.run(["inspect", model])
        #expect(r.status == 0)
        for fragment in ["architecture:  gemma3", "layers:        18", "Q4_K", "Q6_K", "Q8_0", "window 512", "tokenizer:     llama"] {
            #expect(r.stdout.contains(fragment), "missing \(fragment)")
        }
    }

    /// The JSON shapes that scripts/bench-vs-llamacpp and BENCHMARKS.md rely on (speed itself is not asserted).
    @Test func benchJSONShapes() throws {
        let model = try TestModels.path("smollm2-135m-instruct")
        let r = try Self.run(["bench", "--model", model, "--threads", "2", "--prompt-tokens", "32", "--gen-tokens", "8",
                              "--repetitions", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        for key in ["model", "threads", "pp_tokens", "pp_tps", "tg_tokens", "tg_tps", "bandwidth_gbs", "tg_fraction_of_ceiling"] {
            #expect(obj[key] != nil, "missing \(key)")
        }
        #expect(obj["pp_tokens"] as? Int == 32 && obj["tg_tokens"] as? Int == 8 && obj["threads"] as? Int == 2)
        #expect((obj["pp_tps"] as? Double ?? 0) > 0 && (obj["tg_tps"] as? Double ?? 0) > 0)
        // Start-up figures: the file's size as the file system reports it, load before first token,
        // and resident memory within file + KV + 100 MiB (the runtime, scratch and thread stacks take
        // ≈ 45 MiB here; a second resident copy of SmolLM2's 94 MiB of weights would break it).
        let size = try #require(try FileManager.default.attributesOfItem(atPath: model)[.size] as? Int)
        #expect(obj["file_bytes"] as? Int == size)
        let load = try #require(obj["load_seconds"] as? Double), first = try #require(obj["first_token_seconds"] as? Double)
        #expect(load > 0 && first >= load)
        let rss = try #require(obj["rss_bytes"] as? Int), kv = try #require(obj["kv_bytes"] as? Int)
        #expect(kv > 0 && rss > 0)
        let ratio = try #require(obj["rss_over_file_plus_kv"] as? Double)
        #expect(abs(ratio - Double(rss) / Double(size + kv)) < 1e-9)
        #expect(rss < size + kv + 100 << 20, "resident \(rss >> 20) MiB, file \(size >> 20) MiB, KV \(kv >> 20) MiB")

        let s = try Self.run(["bench", "--model", model, "--threads", "2", "--concurrency", "1,3", "--prompt-tokens", "8",
                              "--gen-tokens", "4", "--json", "--kv-cache-memory", "64MiB"])
        #expect(s.status == 0, "\(s.stderr)")
        let serving = try #require(try JSONSerialization.jsonObject(with: Data(s.stdout.utf8)) as? [String: Any])
        let rows = try #require(serving["results"] as? [[String: Any]])
        #expect(rows.map { $0["concurrency"] as? Int } == [1, 3])
        for row in rows {
            for key in ["output_tps", "ttft_p50_ms", "ttft_p99_ms", "itl_p50_ms", "itl_p99_ms", "kv_waste_frac", "preemptions"] {
                #expect(row[key] != nil, "missing \(key)")
            }
        }

        // Rounds: every round's figure and the per-round scaling are reported, and no round's
        // prompts are prefix-cache hits for a later one (the engine lives across rounds).
        let m = try Self.run(["bench", "--model", model, "--threads", "2", "--concurrency", "1,3", "--prompt-tokens", "40",
                              "--gen-tokens", "2", "--rounds", "3", "--json", "--kv-cache-memory", "64MiB"])
        #expect(m.status == 0, "\(m.stderr)")
        let multi = try #require(try JSONSerialization.jsonObject(with: Data(m.stdout.utf8)) as? [String: Any])
        let mrows = try #require(multi["results"] as? [[String: Any]])
        #expect(mrows.map { $0["concurrency"] as? Int } == [1, 3])
        for row in mrows {
            #expect((row["output_tps_rounds"] as? [Double])?.count == 3)
            #expect(row["scaling_vs_first"] is Double)
            #expect(row["prefix_hit_tokens"] as? Int == 0)
        }
        #expect(mrows.first?["scaling_vs_first"] as? Double == 1)
    }

    /// The commands that build a KV cache take `--kv-cache-dtype`.
    @Test func kvCacheDTypeOption() throws {
        let model = try TestModels.path("smollm2-135m-instruct")
        let ref = try Self.greedyReference()[0]
        for dtype in ["f32", "f16", "q8_0"] {
            let g = try Self.run(["generate", "--model", model, "--temperature", "0", "--max-tokens", "4", "--threads", "2",
                                  "--kv-cache-dtype", dtype, "--json", ref.prompt])
            #expect(g.status == 0, "\(g.stderr)")
            let p = try Self.run(["perplexity", "--model", model, "--context", "64", "--chunks", "1", "--json", "--kv-cache-dtype", dtype,
                                  Self.fixture("ppl-text.txt")])
            #expect(p.status == 0, "\(p.stderr)")
            let b = try Self.run(["bench", "--model", model, "--threads", "2", "--prompt-tokens", "8", "--gen-tokens", "4",
                                  "--repetitions", "1", "--no-bandwidth", "--json", "--kv-cache-dtype", dtype])
            #expect(b.status == 0, "\(b.stderr)")
            let s = try Self.run(["bench", "--model", model, "--threads", "2", "--concurrency", "2", "--prompt-tokens", "8",
                                  "--gen-tokens", "4", "--json", "--kv-cache-memory", "16MiB", "--kv-cache-dtype", dtype])
            #expect(s.status == 0, "\(s.stderr)")
        }
        let bad = try Self.run(["generate", "--model", model, "--kv-cache-dtype", "bf16", "hi"])
        #expect(bad.status != 0 && bad.stderr.contains("--kv-cache-dtype"), "\(bad.stderr)")
    }

    @Test func badInputGivesClearErrors() throws {
        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("pagewise-garbage-\(getpid()).gguf")
        try Data("this is not a model at all, just some text padding it out".utf8).write(to: garbage)
        defer { try? FileManager.default.removeItem(at: garbage) }
        let cases: [([String], String)] = [
            (["generate", "--model", garbage.path, "hi"], "not a GGUF file"),
            (["generate", "--model", try Self.fixture("unknown-arch.gguf"), "hi"], "architecture 'mamba' is not supported"),
            (["generate", "--model", "no-such-model", "hi"], "is neither a GGUF file, a known model name"),
            (["generate", "--model", "/nonexistent/x.gguf", "hi"], "no such file"),
            (["generate", "--temperature=-1", "hi"], "temperature must be ≥ 0"),
            (["generate", "--top-p", "0", "hi"], "top_p"),
            (["generate", "--threads", "0", "hi"], "--threads"),
            (["generate", "--context", "8", String(repeating: "long prompt ", count: 20)], "but the context holds"),
        ]
        for (args, message) in cases {
            let r = try Self.run(args)
            #expect(r.status != 0, "\(args) should fail")
            #expect(r.stderr.contains(message), "\(args): stderr was \(r.stderr)")
            #expect(!r.stderr.contains("Fatal error"), "\(args) crashed")
        }
    }
}
