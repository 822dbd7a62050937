import ArgumentParser
import Foundation
import GGUF
import Models
import Pagewise

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "How much memory a model needs for a context and concurrency, and how many sequences fit.",
        discussion: """
        BYTES is a plain integer or a number with a unit: KiB, MiB, GiB, TiB (binary) or kB, MB, GB, TB \
        (decimal), for example 8GiB, 512MiB, 2GB.
        """
    )

    @Option(name: .long, help: "A .gguf path or a model name (\(NamedModel.all.map(\.name).joined(separator: ", "))).")
    var model: String = ModelStore.defaultModelName

    @Option(name: .long, help: "Tokens per sequence (default: the model's context length).")
    var context: Int?

    @Option(name: .long, help: "Sequences held at once.")
    var concurrency: Int = 1

    @Option(name: .long, help: ArgumentHelp("Memory budget (default: MemAvailable from /proc/meminfo).", valueName: "BYTES"))
    var memory: String?

    @Option(name: .long, help: "Tokens per KV block.")
    var blockSize: Int = 16

    @Option(name: .long, help: "Tokens one engine step processes at most (sizes the activation workspace).")
    var maxBatchedTokens: Int = 512

    @OptionGroup var kvCache: KVCacheOptions

    @Flag(name: .long, help: "Plan full-length pages for sliding-window layers too (as the engine's flag of that name).")
    var disableHybridKVCacheManager = false

    @Flag(name: .long, help: "Print the plan as one JSON object.")
    var json = false

    func validate() throws {
        if let context, context < 1 { throw ValidationError("--context must be at least 1") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard blockSize >= 1, blockSize <= 1 << 16 else { throw ValidationError("--block-size must be between 1 and 65536") }
        guard maxBatchedTokens >= 1 else { throw ValidationError("--max-batched-tokens must be at least 1") }
        if let memory, MemoryPlan.parseBytes(memory) == nil {
            throw ValidationError("--memory '\(memory)' is not a byte count (use an integer or a unit: 8GiB, 512MiB, 2GB)")
        }
    }

    func run() throws {
        try reportingErrors {
            let path = try ModelStore().resolve(model) { Stderr.print($0) }
            let file = try GGUFFile(path: path)
            let config = try ModelConfig(gguf: file)
            let ctx = context ?? config.contextLength
            if ctx > config.contextLength {
                throw MemoryPlanError.invalidArgument("--context \(ctx) exceeds the model's context length \(config.contextLength)")
            }
            guard kvCache.kvCacheDType.supports(config) else {
                throw KVCacheError.unsupportedHeadDim(dtype: kvCache.kvCacheDType, keyDim: config.headDim, valueDim: config.valueDim)
            }
            let plan = MemoryPlan.make(file: file, config: config, context: ctx, concurrency: concurrency,
                                       blockSize: blockSize, maxBatchedTokens: maxBatchedTokens,
                                       budgetBytes: memory.flatMap(MemoryPlan.parseBytes), kvCacheDType: kvCache.kvCacheDType,
                                       hybridKVCache: !disableHybridKVCacheManager)
            if json {
                print(jsonLine(plan))
            } else {
                printHuman(plan, path: path)
            }
        }
    }

    private func printHuman(_ p: MemoryPlan, path: String) {
        let fmt = MemoryPlan.formatBytes
        func row(_ label: String, _ bytes: Int, _ note: String = "") -> String {
            label.padding(toLength: 34, withPad: " ", startingAt: 0) + fmt(bytes).leftPad(12) + "  " + String(bytes).leftPad(14)
                + (note.isEmpty ? "" : "  " + note)
        }
        print("model:        \(path) (\(p.architecture))")
        print("request:      \(p.concurrency) × \(p.context) tokens, KV blocks of \(p.blockSize) tokens, steps of up to \(p.maxBatchedTokens) tokens")
        print("")
        print("weights (mapped from the file, all read every step)")
        for (type, bytes) in p.weightBytesByType.sorted(by: { $0.value > $1.value }) {
            print(row("  \(type) (\(p.tensorCountByType[type] ?? 0) tensors)", bytes))
        }
        print(row("  total", p.weightBytes))
        if p.interleavedWeightBytes > 0 {
            print(row("  + row-interleaved copies", p.interleavedWeightBytes, "(made at load for the AVX2 / AVX-512 kernels)"))
        }
        print("")
        print("KV cache per token (\(p.kvDType) K and V, as Pagewise stores it)")
        for kind in ["global", "sliding"] {
            guard let b = p.kvBytesPerTokenByLayerKind[kind] else { continue }
            print(row("  \(kind) layers (\(p.layerCountByKind[kind] ?? 0))", b))
        }
        print(row("  K", p.kvBytesPerTokenByTensor["K"] ?? 0))
        print(row("  V", p.kvBytesPerTokenByTensor["V"] ?? 0))
        print(row("  all layers", p.kvBytesPerToken))
        let others = p.kvBytesPerTokenByDType.filter { $0.key != p.kvDType }.sorted { $0.value > $1.value }
        let stored = Set(KVCacheDType.allCases.map(\.name))
        print("  (stored as " + others.map { "\($0.key): \(fmt($0.value))" + (stored.contains($0.key) ? "" : " — not implemented") }
            .joined(separator: ", ") + "; --kv-cache-dtype chooses)")
        let layers = p.kvGroups == 1 ? "all layers" : "\(p.layersPerKVGroup) layers"
        print(row("  one block (\(p.blockSize) tokens, \(layers))", p.kvBytesPerBlock))
        print(row("  one sequence (\(p.blocksPerSequence) blocks)", p.kvBytesPerSequence))
        print(row("  \(p.concurrency) sequence\(p.concurrency == 1 ? "" : "s")", p.kvBytes))
        if p.slidingKVGroups > 0 {
            print("  (\(p.kvGroups) KV groups of \(p.layersPerKVGroup) layers; the \(p.slidingKVGroups) of sliding-window layers keep")
            let globalBlocks = (p.kvGroups - p.slidingKVGroups) * ((p.context + p.blockSize - 1) / p.blockSize)
            print("   only the blocks of their \(p.slidingWindow)-token window and one step: at most "
                + "\((p.blocksPerSequence - globalBlocks) / p.slidingKVGroups) blocks each)")
        }
        print("")
        print(row("scratch (activations, logits)", p.scratchBytes))
        print(row("total for the request", p.totalBytes, "weights + KV + scratch"))
        print("")
        print(row("budget (\(p.budgetSource))", p.budgetBytes))
        print("full-context sequences that fit: \(p.fullContextSequencesThatFit)"
            + "  ((budget − weights − scratch) / one sequence's KV)")
        if p.slidingWindow > 0, p.kvBytesPerTokenByLayerKind["sliding"] != nil {
            print("")
            print("Sliding-window layers attend to the last \(p.slidingWindow) tokens only. "
                + (p.slidingKVGroups > 0 ? "Pagewise gives back their pages that fell out of the"
                    : "With --disable-hybrid-kv-cache-manager Pagewise"))
            print(p.slidingKVGroups > 0 ? "window (vLLM's hybrid KV cache manager); llama.cpp keeps a window-sized SWA ring instead:"
                : "keeps every position of them; llama.cpp keeps a window-sized SWA ring instead:")
            print("  sliding-layer tokens kept per sequence: \(p.windowLimitedSlidingTokensPerSequence)"
                + " (min(context, window + step tokens), in whole blocks; llama.cpp pads to 256)")
            print(row("  KV per sequence", p.windowLimitedKVBytesPerSequence))
            print("  full-context sequences that would fit: \(p.windowLimitedSequencesThatFit)")
        }
    }
}
