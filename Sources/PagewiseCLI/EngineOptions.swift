import ArgumentParser
import Pagewise

/// Options that shape the serving engine (vLLM's names).
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: "Tokens per KV page (1–128).") var blockSize: Int = 16
    @Option(name: .long, help: "Token budget of one engine step.") var maxNumBatchedTokens: Int = 512
    @Option(name: .long, help: "Most sequences running at once.") var maxNumSeqs: Int = 64
    @Option(name: .long, help: "Longest sequence (prompt + output).") var maxModelLen: Int?
    @Flag(name: .long, help: "Turn off prefix caching.") var noPrefixCaching = false
    @Option(name: .long, help: "fcfs or priority.") var schedulingPolicy: String = "fcfs"
    @Option(name: .long, help: "KV pool size, e.g. 2GiB (default: --memory-fraction of available RAM).") var kvCacheMemory: String?
    @Option(name: .long, help: "Share of available RAM for the KV pool.") var memoryFraction: Double = 0.5
    @Flag(name: .long, help: "Keep every position of sliding-window layers (Gemma 3) instead of giving back their pages that fell out of the window.")
    var disableHybridKVCacheManager = false
    @OptionGroup var kvCache: KVCacheOptions
    @OptionGroup var speculation: SpeculativeOptions

    func config(modelPath: String, threads: Int) throws -> EngineConfig {
        var c = EngineConfig(modelPath: modelPath, threads: threads)
        c.blockSize = blockSize
        c.maxNumBatchedTokens = maxNumBatchedTokens
        c.maxNumSeqs = maxNumSeqs
        c.maxModelLen = maxModelLen
        c.enablePrefixCaching = !noPrefixCaching
        guard let policy = SchedulingPolicy(rawValue: schedulingPolicy) else {
            throw ValidationError("--scheduling-policy must be fcfs or priority")
        }
        c.schedulingPolicy = policy
        if let s = kvCacheMemory {
            guard let bytes = MemoryPlan.parseBytes(s), bytes > 0 else { throw ValidationError("--kv-cache-memory: cannot read '\(s)' as a size (e.g. 512MiB, 2GiB)") }
            c.kvCacheMemory = bytes
        }
        c.memoryFraction = memoryFraction
        c.kvCacheDType = kvCache.kvCacheDType
        c.disableHybridKVCacheManager = disableHybridKVCacheManager
        try speculation.apply(to: &c)
        return c
    }
}

