import Foundation
import GGUF
import Kernels
import Models

/// Why a memory plan cannot be honoured.
public enum MemoryPlanError: Error, Equatable, CustomStringConvertible {
    /// The KV budget cannot hold the blocks of even one full-context sequence.
    case kvBudgetTooSmall(budgetBytes: Int, neededBytes: Int, context: Int, blockSize: Int, source: String)
    /// A planning input is out of range (a non-positive context, block size …).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .kvBudgetTooSmall(budget, needed, context, blockSize, source):
            return "the KV cache budget (\(MemoryPlan.formatBytes(budget)), \(source)) cannot hold one sequence of "
                + "\(context) tokens, which needs \(MemoryPlan.formatBytes(needed)) (in blocks of "
                + "\(blockSize) tokens); lower the context length, or give the KV cache more memory "
                + "(--kv-cache-memory, or a larger --memory-fraction)"
        case let .invalidArgument(message):
            return message
        }
    }
}

/// How much memory a model needs to serve a given load, and how much KV cache fits in a budget.
///
/// The figures are what Pagewise itself allocates: weights stay in the mapped file (counted in
/// full, as they are all read on every step), the KV pool stores K and V in the planned element
/// type (`kvDType`, `--kv-cache-dtype`) in pages of `blockSize` tokens of one KV group's layers
/// (`KVLayout`), and the activation workspace is sized for a step of `maxBatchedTokens` tokens.
/// Without sliding-window layers a page holds every layer and a sequence holds a page per
/// `blockSize` tokens. With them (Gemma 3; unless `hybridKVCache` is off, as with
/// `--disable-hybrid-kv-cache-manager`) sliding-window groups hold only the pages their window and
/// one step reach (`KVLayout.pagesPerSequence`); `windowLimited*` report how llama.cpp sizes its
/// SWA cache for the same case, for comparison.
public struct MemoryPlan: Sendable, Codable, Equatable {
    /// `general.architecture` of the model.
    public var architecture: String
    /// Tokens per sequence planned for.
    public var context: Int
    /// Sequences held at once.
    public var concurrency: Int
    /// Tokens per KV block.
    public var blockSize: Int
    /// Tokens one engine step processes at most (sizes the activation workspace).
    public var maxBatchedTokens: Int

    /// Bytes of tensor data per ggml type name ("Q4_K", "F32" …).
    public var weightBytesByType: [String: Int]
    /// Tensors per ggml type name.
    public var tensorCountByType: [String: Int]
    /// Bytes of all tensor data.
    public var weightBytes: Int
    /// Bytes of the row-interleaved copies of the weight matrices that the AVX2 and AVX-512 kernels
    /// read (allocated at load; 0 on CPUs without AVX2). The mapped file's pages of those tensors
    /// are read once to make them and are reclaimable afterwards.
    public var interleavedWeightBytes: Int

    /// Element type of the KV pool ("F32" or "F16").
    public var kvDType: String
    /// K+V bytes for one token over all layers, as stored by `KVCacheStorage` (K and V in `kvDType`).
    public var kvBytesPerToken: Int
    /// `kvBytesPerToken` split by layer kind: "global" (full attention) and "sliding"
    /// (sliding-window layers; absent for models without them).
    public var kvBytesPerTokenByLayerKind: [String: Int]
    /// Layers of each kind ("global" / "sliding").
    public var layerCountByKind: [String: Int]
    /// K bytes and V bytes of one token over all layers ("K" / "V").
    public var kvBytesPerTokenByTensor: [String: Int]
    /// What one token's K+V over all layers takes in each element type Pagewise can store for this
    /// model ("F32", "F16", and "Q8_0" when the head dims are multiples of 32); `kvDType` is the one planned.
    public var kvBytesPerTokenByDType: [String: Int]
    /// KV groups of the pool's layout (1: every page holds every layer).
    public var kvGroups: Int
    /// Layers whose K/V one page holds.
    public var layersPerKVGroup: Int
    /// KV groups of sliding-window layers, which give back pages that fell out of the window.
    public var slidingKVGroups: Int
    /// Bytes of one KV block (page: `blockSize` tokens of `layersPerKVGroup` layers).
    public var kvBytesPerBlock: Int
    /// Blocks one sequence of `context` tokens holds at most (`KVLayout.pagesPerSequence`: every
    /// group's pages for the context rounded up to blocks, a sliding group's only for its window
    /// and one step).
    public var blocksPerSequence: Int
    /// KV bytes of one full-context sequence.
    public var kvBytesPerSequence: Int
    /// KV bytes of `concurrency` full-context sequences.
    public var kvBytes: Int

    /// Sliding window of the model in tokens (0 = none).
    public var slidingWindow: Int
    /// Tokens a sliding layer keeps per sequence in a window-sized ring, as llama.cpp sizes its
    /// SWA cache: `min(context, window + maxBatchedTokens)` rounded up to blocks (llama.cpp pads
    /// to 256 cells). Equals the full context when there are no sliding layers. For comparison:
    /// Pagewise's own figure is `blocksPerSequence`.
    public var windowLimitedSlidingTokensPerSequence: Int
    /// KV bytes of one sequence with that window-limited ring (global layers full length).
    public var windowLimitedKVBytesPerSequence: Int

    /// Activation workspace: per-token buffers for `maxBatchedTokens` tokens, the 8-bit
    /// activation copies of the quantized matrix products, and logit rows (one per sequence).
    public var scratchBytes: Int
    /// weights + interleaved copies + KV for `concurrency` full-context sequences + scratch.
    public var totalBytes: Int

    /// The memory budget the fit is computed against.
    public var budgetBytes: Int
    /// Where the budget came from ("--memory" / "MemAvailable").
    public var budgetSource: String
    /// `(budget − weights − interleaved copies − scratch) / kvBytesPerSequence` (0 when nothing fits).
    public var fullContextSequencesThatFit: Int
    /// The same with the window-limited layout.
    public var windowLimitedSequencesThatFit: Int

    /// Plans for `concurrency` sequences of `context` tokens with K/V stored as `kvCacheDType`.
    /// `budgetBytes` nil: the budget is the available memory of the machine (`/proc/meminfo` MemAvailable).
    public static func make(file: GGUFFile, config: ModelConfig, context: Int, concurrency: Int, blockSize: Int,
                            maxBatchedTokens: Int, budgetBytes: Int?, kvCacheDType: KVCacheDType = .default,
                            hybridKVCache: Bool = true) -> MemoryPlan {
        let context = max(context, 1), concurrency = max(concurrency, 1)
        let blockSize = max(blockSize, 1), maxBatchedTokens = max(maxBatchedTokens, 1)
        var bytesByType: [String: Int] = [:], countByType: [String: Int] = [:]
        for t in file.tensors {
            bytesByType[t.type.name, default: 0] += t.byteCount
            countByType[t.type.name, default: 0] += 1
        }
        let weightBytes = bytesByType.values.reduce(0, +)
        let interleaved = interleavedWeightBytes(file: file)

        let c = config
        let slidingLayers = c.isSlidingLayer.filter { $0 }.count
        let globalLayers = c.layerCount - slidingLayers
        let perLayer = kvCacheDType.byteCount(values: c.kvHeadCount * c.headDim) + kvCacheDType.byteCount(values: c.kvHeadCount * c.valueDim)
        var byKind = ["global": globalLayers * perLayer]
        var countByKind = ["global": globalLayers]
        if slidingLayers > 0 {
            byKind["sliding"] = slidingLayers * perLayer
            countByKind["sliding"] = slidingLayers
        }
        let perToken = KVCacheStorage.bytesPerToken(c, dtype: kvCacheDType)
        let kPerToken = c.layerCount * kvCacheDType.byteCount(values: c.kvHeadCount * c.headDim)
        let vPerToken = c.layerCount * kvCacheDType.byteCount(values: c.kvHeadCount * c.valueDim)
        var byDType: [String: Int] = [:]
        // Q8_0 (34 bytes per 32 values) only where the head dims are multiples of 32.
        for t in KVCacheDType.allCases where t.supports(c) { byDType[t.name] = KVCacheStorage.bytesPerToken(c, dtype: t) }

        let layout = KVLayout(c, hybrid: hybridKVCache)
        let blocks = layout.pagesPerSequence(tokens: context, blockSize: blockSize, chunk: maxBatchedTokens)
        let perBlock = KVCacheStorage.bytesPerBlock(c, dtype: kvCacheDType, blockSize: blockSize, layout: layout)
        let perSequence = perBlock * blocks
        let slidingTokens = slidingLayers > 0
            ? windowLimitedTokens(window: c.slidingWindow, context: context, batchTokens: maxBatchedTokens, granularity: blockSize)
            : ceilDiv(context, blockSize) * blockSize
        let windowPerSequence = (byKind["global"] ?? 0) * ceilDiv(context, blockSize) * blockSize
            + (byKind["sliding"] ?? 0) * slidingTokens

        let scratch = scratchBytes(config: c, tokens: maxBatchedTokens, logitRows: min(concurrency, maxBatchedTokens))
        let budget = budgetBytes ?? availableMemoryBytes()
        let free = budget - weightBytes - interleaved - scratch
        return MemoryPlan(
            architecture: c.architecture.rawValue, context: context, concurrency: concurrency, blockSize: blockSize,
            maxBatchedTokens: maxBatchedTokens,
            weightBytesByType: bytesByType, tensorCountByType: countByType, weightBytes: weightBytes,
            interleavedWeightBytes: interleaved,
            kvDType: kvCacheDType.name, kvBytesPerToken: perToken, kvBytesPerTokenByLayerKind: byKind, layerCountByKind: countByKind,
            kvBytesPerTokenByTensor: ["K": kPerToken, "V": vPerToken], kvBytesPerTokenByDType: byDType,
            kvGroups: layout.groupCount, layersPerKVGroup: layout.groupSize,
            slidingKVGroups: layout.slidingGroupCount,
            kvBytesPerBlock: perBlock, blocksPerSequence: blocks, kvBytesPerSequence: perSequence,
            kvBytes: perSequence * concurrency,
            slidingWindow: c.slidingWindow, windowLimitedSlidingTokensPerSequence: slidingTokens,
            windowLimitedKVBytesPerSequence: windowPerSequence,
            scratchBytes: scratch, totalBytes: weightBytes + interleaved + perSequence * concurrency + scratch,
            budgetBytes: budget, budgetSource: budgetBytes == nil ? "MemAvailable" : "--memory",
            fullContextSequencesThatFit: free > 0 ? free / perSequence : 0,
            windowLimitedSequencesThatFit: free > 0 ? free / max(windowPerSequence, 1) : 0
        )
    }

    /// Bytes of the row-interleaved weight copies a model load makes on this CPU: one per 2-D
    /// tensor (every 2-D tensor of the supported architectures is a weight matrix) whose type
    /// and shape have an interleaved layout.
    public static func interleavedWeightBytes(file: GGUFFile) -> Int {
        var total = 0
        for t in file.tensors where t.dimensions.count == 2 {
            guard let q = QuantType(rawValue: t.type.rawValue) else { continue }
            total += WeightMatrix.interleavedByteCount(type: q, rows: t.dimensions[1], cols: t.dimensions[0])
        }
        return total
    }

    /// Tokens a sliding-window layer must keep per sequence when it holds only a ring of its
    /// window plus the tokens of one step: `min(context, window + batchTokens)`, each rounded
    /// up to `granularity` (the block size; llama.cpp pads its SWA cell count to 256).
    public static func windowLimitedTokens(window: Int, context: Int, batchTokens: Int, granularity: Int) -> Int {
        let g = max(granularity, 1)
        return min(ceilDiv(context, g) * g, ceilDiv(window + batchTokens, g) * g)
    }

    /// Bytes of the activation workspace for a step of `tokens` tokens with `logitRows` rows of
    /// logits: the model's per-token F32 buffers (residual, norm, Q, K, V, attention output,
    /// gate, up, output), one 8-bit copy of the widest activation row with its per-32 scales
    /// (quantized matrix products), and per logit row its hidden state and vocabulary logits.
    public static func scratchBytes(config c: ModelConfig, tokens: Int, logitRows: Int) -> Int {
        let f32 = MemoryLayout<Float>.size
        let perToken = 3 * c.embeddingLength + c.headCount * c.headDim + c.kvHeadCount * (c.headDim + c.valueDim)
            + c.headCount * c.valueDim + 2 * c.feedForwardLength
        let widest = max(c.embeddingLength, c.headCount * c.valueDim, c.feedForwardLength)
        let actQuant = (widest + 63) / 64 * 64 + ceilDiv(widest, 32) * 2 * f32
        return tokens * (perToken * f32 + actQuant) + logitRows * (c.embeddingLength + c.vocabSize) * f32
    }

    /// KV pool size in blocks of `kvCacheDType` K/V for the engine: from an explicit byte budget for
    /// the KV cache (`--kv-cache-memory`) if given, else `memoryFraction` × MemAvailable minus
    /// weights and scratch. Throws `MemoryPlanError.kvBudgetTooSmall` when that cannot hold the
    /// blocks of one full-context sequence.
    public static func kvPoolBlocks(config: ModelConfig, blockSize: Int, context: Int, kvCacheMemory: Int?,
                                    memoryFraction: Double, weightBytes: Int, scratchBytes: Int,
                                    kvCacheDType: KVCacheDType = .default, layout: KVLayout? = nil,
                                    maxBatchedTokens: Int = 1) throws -> Int {
        try kvPoolBlocks(config: config, blockSize: blockSize, context: context, kvCacheMemory: kvCacheMemory,
                         memoryFraction: memoryFraction, weightBytes: weightBytes, scratchBytes: scratchBytes,
                         availableBytes: kvCacheMemory == nil ? availableMemoryBytes() : 0, kvCacheDType: kvCacheDType,
                         layout: layout, maxBatchedTokens: maxBatchedTokens)
    }

    /// `kvPoolBlocks` with the available memory given (for tests and callers that measured it).
    /// A block is a page of `layout` (`KVCacheStorage.bytesPerBlock`; nil: `KVLayout.single`, all
    /// layers), and one sequence of `context` tokens needs `layout.pagesPerSequence` of them with
    /// steps of at most `maxBatchedTokens` tokens.
    public static func kvPoolBlocks(config: ModelConfig, blockSize: Int, context: Int, kvCacheMemory: Int?,
                                    memoryFraction: Double, weightBytes: Int, scratchBytes: Int,
                                    availableBytes: Int, kvCacheDType: KVCacheDType = .default,
                                    layout: KVLayout? = nil, maxBatchedTokens: Int = 1) throws -> Int {
        guard blockSize > 0 else { throw MemoryPlanError.invalidArgument("block size must be positive (got \(blockSize))") }
        guard context > 0 else { throw MemoryPlanError.invalidArgument("context must be positive (got \(context))") }
        let budget: Int
        let source: String
        if let kv = kvCacheMemory {
            budget = kv
            source = "--kv-cache-memory"
        } else {
            guard memoryFraction > 0, memoryFraction <= 1 else {
                throw MemoryPlanError.invalidArgument("memory fraction must be in (0, 1] (got \(memoryFraction))")
            }
            budget = Int(Double(availableBytes) * memoryFraction) - weightBytes - scratchBytes
            source = "\(memoryFraction) × \(formatBytes(availableBytes)) available, less \(formatBytes(weightBytes)) weights "
                + "and \(formatBytes(scratchBytes)) scratch"
        }
        let layout = layout ?? .single(layers: config.layerCount)
        let perBlock = KVCacheStorage.bytesPerBlock(config, dtype: kvCacheDType, blockSize: blockSize, layout: layout)
        let needed = layout.pagesPerSequence(tokens: context, blockSize: blockSize, chunk: maxBatchedTokens)
        let blocks = budget > 0 ? budget / perBlock : 0
        guard blocks >= needed else {
            throw MemoryPlanError.kvBudgetTooSmall(budgetBytes: max(budget, 0), neededBytes: needed * perBlock,
                                                   context: context, blockSize: blockSize, source: source)
        }
        return blocks
    }

    /// Memory the kernel says is available for new work without swapping (`MemAvailable` in
    /// `/proc/meminfo`), in bytes; the physical memory where that file cannot be read.
    public static func availableMemoryBytes() -> Int {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8), let n = memAvailable(in: text) {
            return n
        }
        return Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }

    /// The `MemAvailable:` line of a `/proc/meminfo` text, in bytes.
    public static func memAvailable(in meminfo: String) -> Int? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kb = Int(fields[1]) else { return nil }
            let unit = fields.count >= 3 ? fields[2].lowercased() : "b"
            return unit == "kb" ? kb * 1024 : kb
        }
        return nil
    }

    /// Parses a byte count: a plain integer ("1073741824"), or a number with a unit —
    /// binary "KiB", "MiB", "GiB", "TiB" (also "Ki", "Mi", "Gi", "Ti") or decimal "kB"/"K",
    /// "MB"/"M", "GB"/"G", "TB"/"T", "B". Case-insensitive, an optional space before the unit,
    /// a fraction allowed with a unit ("1.5GiB"). Nil for anything else, negatives, or overflow.
    public static func parseBytes(_ s: String) -> Int? {
        let text = s.trimmingCharacters(in: .whitespaces)
        guard let unitStart = text.firstIndex(where: { !($0.isASCII && ($0.isNumber || $0 == ".")) }) else {
            return Int(text).flatMap { $0 >= 0 ? $0 : nil }
        }
        let number = String(text[..<unitStart])
        let unit = text[unitStart...].trimmingCharacters(in: .whitespaces).lowercased()
        let multipliers: [String: Int] = [
            "b": 1,
            "k": 1000, "kb": 1000, "m": 1_000_000, "mb": 1_000_000, "g": 1_000_000_000, "gb": 1_000_000_000,
            "t": 1_000_000_000_000, "tb": 1_000_000_000_000,
            "ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20, "gi": 1 << 30, "gib": 1 << 30,
            "ti": 1 << 40, "tib": 1 << 40,
        ]
        guard !number.isEmpty, let mult = multipliers[unit] else { return nil }
        if let whole = Int(number) {
            let (r, overflow) = whole.multipliedReportingOverflow(by: mult)
            return overflow ? nil : r
        }
        guard number.filter({ $0 == "." }).count == 1, number != ".", let x = Double(number) else { return nil }
        let r = (x * Double(mult)).rounded(.down)
        guard r.isFinite, r >= 0, r < 9.2e18 else { return nil }
        return Int(r)
    }

    /// "1.50 GiB", "512.00 MiB", "12 B".
    public static func formatBytes(_ n: Int) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), i = -1
        while abs(v) >= 1024, i < units.count - 1 { v /= 1024; i += 1 }
        return i < 0 ? "\(n) B" : String(format: "%.2f", v) + " " + units[i]
    }

    static func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
}
