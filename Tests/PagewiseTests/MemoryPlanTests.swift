import Foundation
import GGUF
import Kernels
import Models
import Testing
import TestSupport
import Pagewise

/// Memory planning against independent figures: gguf-py's tensor byte counts and the KV cache
/// sizes llama.cpp logs for an F32 K/V cache at n_ctx = 4096 (scripts/gen_plan_fixtures.py).
@Suite(.serialized)
struct MemoryPlanTests {
    struct Fixture: Decodable {
        struct Weights: Decodable {
            let bytes_by_type: [String: Int]
            let tensors_by_type: [String: Int]
            let bytes: Int
        }
        struct Cache: Decodable {
            let kind: String
            let size_mib: Double
            let cells: Int
            let layers: Int
            let k_type: String
            let k_mib: Double
            let v_type: String
            let v_mib: Double
        }
        struct Run: Decodable {
            let n_swa: Int
            let n_ubatch: Int?
            let swa_full: Bool
            let caches: [Cache]
        }
        struct Reference: Decodable { let swa_pad_cells: Int }
        let n_ctx: Int
        let weights: Weights
        let llama_cpp: [String: Run]
        let reference: Reference
    }

    static func fixture(_ model: String) throws -> Fixture {
        let url = try #require(Bundle.module.url(forResource: "plan-\(model)", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    static func load(_ model: String) throws -> (GGUFFile, ModelConfig) {
        let file = try GGUFFile(path: TestModels.path(model))
        return (file, try ModelConfig(gguf: file))
    }

    static let mib = 1_048_576.0

    /// llama.cpp prints MiB with two decimals: equal within half of the last digit.
    static func sameMiB(_ bytes: Int, _ mib: Double) -> Bool { abs(Double(bytes) / Self.mib - mib) <= 0.005 }

    @Test(arguments: ["smollm2-135m-instruct", "gemma3-270m"])
    func weightBytesByTypeMatchGGUFPy(model: String) throws {
        let ref = try Self.fixture(model)
        let (file, config) = try Self.load(model)
        let plan = MemoryPlan.make(file: file, config: config, context: 4096, concurrency: 1, blockSize: 16,
                                   maxBatchedTokens: 512, budgetBytes: 1 << 40)
        #expect(plan.weightBytesByType == ref.weights.bytes_by_type)
        #expect(plan.tensorCountByType == ref.weights.tensors_by_type)
        #expect(plan.weightBytes == ref.weights.bytes)
        // Interleaved copies (AVX2 and AVX-512): every matrix of a 32-block type with an interleaved
        // layout — in both models all of their Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 tensors (2-D, rows a
        // multiple of 16), per gguf-py's byte counts — and exactly what loading allocates.
        // K-quant matrices (2-D, rows a multiple of 16) get one too, with their 6-bit
        // scales unpacked: 2368 / 2880 bytes per 16 rows x 256 columns for Q4_K / Q5_K instead of
        // 16 blocks of 144 / 176 (Q6_K has none).
        if KernelDispatch.detected >= .avx2 {
            let copied = ["Q4_K": (2368, 2304), "Q5_K": (2880, 2816)]
            var want = copied.reduce(0) {
                $0 + (ref.weights.bytes_by_type[$1.key] ?? 0) / $1.value.1 * $1.value.0
            }
            want += ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"].reduce(0) { $0 + (ref.weights.bytes_by_type[$1] ?? 0) }
            #expect(plan.interleavedWeightBytes == want)
            let model = try TransformerModel(file: file, pool: ThreadPool(threadCount: 1))
            let w = model.weights
            var mats: [WeightMatrix] = [w.tokenEmbedding]
            for l in w.layers { mats += [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown] }
            if w.output.data != w.tokenEmbedding.data { mats.append(w.output) }
            var allocated = 0
            for m in mats where m.interleaved != nil { allocated += m.interleavedByteCount }
            #expect(allocated == plan.interleavedWeightBytes)
        } else {
            #expect(plan.interleavedWeightBytes == 0)
        }
        #expect(plan.totalBytes == plan.weightBytes + plan.interleavedWeightBytes + plan.kvBytes + plan.scratchBytes)
    }

    /// (The fixture's llama.cpp caches are F32, so the plans here are made for F32.)
    @Test func llamaFamilyKVMatchesLlamaCpp() throws {
        let ref = try Self.fixture("smollm2-135m-instruct")
        let (file, config) = try Self.load("smollm2-135m-instruct")
        let run = try #require(ref.llama_cpp["default"])
        #expect(run.caches.count == 1)
        let cache = try #require(run.caches.first)
        #expect(cache.cells == ref.n_ctx && cache.layers == config.layerCount)
        #expect(cache.k_type == "f32" && cache.v_type == "f32")
        let plan = MemoryPlan.make(file: file, config: config, context: ref.n_ctx, concurrency: 1, blockSize: 16,
                                   maxBatchedTokens: 512, budgetBytes: 1 << 40, kvCacheDType: .f32)
        #expect(plan.kvBytesPerTokenByLayerKind == ["global": plan.kvBytesPerToken])
        #expect(plan.kvBytesPerToken == KVCacheStorage.bytesPerToken(config, dtype: .f32))
        #expect(Self.sameMiB(plan.kvBytesPerSequence, cache.size_mib), "\(plan.kvBytesPerSequence) vs \(cache.size_mib) MiB")
        #expect(Self.sameMiB((plan.kvBytesPerTokenByTensor["K"] ?? 0) * ref.n_ctx, cache.k_mib))
        #expect(Self.sameMiB((plan.kvBytesPerTokenByTensor["V"] ?? 0) * ref.n_ctx, cache.v_mib))
        // No sliding layers: the window-limited figure is the plain one.
        #expect(plan.windowLimitedKVBytesPerSequence == plan.kvBytesPerSequence)
        // The real allocation agrees with the plan.
        let storage = KVCacheStorage(config: config, numBlocks: plan.blocksPerSequence, blockSize: 16, dtype: .f32)
        #expect(storage.byteCount == plan.kvBytesPerSequence)
    }

    @Test func gemma3GlobalAndSlidingKVMatchLlamaCpp() throws {
        let ref = try Self.fixture("gemma3-270m")
        let (file, config) = try Self.load("gemma3-270m")
        // Full-length pages for every layer (the engine's --disable-hybrid-kv-cache-manager).
        let plan = MemoryPlan.make(file: file, config: config, context: ref.n_ctx, concurrency: 1, blockSize: 16,
                                   maxBatchedTokens: 512, budgetBytes: 1 << 40, kvCacheDType: .f32, hybridKVCache: false)
        #expect(plan.kvGroups == 1 && plan.layersPerKVGroup == 18 && plan.slidingKVGroups == 0)
        #expect(plan.layerCountByKind == ["global": 3, "sliding": 15])
        let global = try #require(plan.kvBytesPerTokenByLayerKind["global"])
        let sliding = try #require(plan.kvBytesPerTokenByLayerKind["sliding"])
        #expect(global + sliding == plan.kvBytesPerToken)

        // llama-cpp-python's default keeps a full-size SWA cache: then both caches hold every cell,
        // and their sum is Pagewise's uniform pool.
        let full = try #require(ref.llama_cpp["default"])
        #expect(full.swa_full)
        let fullGlobal = try #require(full.caches.first { $0.kind == "non-SWA" })
        let fullSWA = try #require(full.caches.first { $0.kind == "SWA" })
        #expect(fullGlobal.layers == 3 && fullSWA.layers == 15 && fullSWA.cells == ref.n_ctx)
        #expect(Self.sameMiB(global * ref.n_ctx, fullGlobal.size_mib))
        #expect(Self.sameMiB(sliding * ref.n_ctx, fullSWA.size_mib))
        #expect(Self.sameMiB(plan.kvBytesPerSequence, fullGlobal.size_mib + fullSWA.size_mib))

        // With swa_full off, llama.cpp keeps min(n_ctx, PAD(n_swa + n_ubatch, 256)) SWA cells.
        for name in ["swa_window", "swa_window_ubatch1"] {
            let run = try #require(ref.llama_cpp[name])
            #expect(!run.swa_full)
            let g = try #require(run.caches.first { $0.kind == "non-SWA" })
            let s = try #require(run.caches.first { $0.kind == "SWA" })
            #expect(g.cells == ref.n_ctx && Self.sameMiB(global * ref.n_ctx, g.size_mib))
            #expect(run.n_swa == config.slidingWindow)
            let ubatch = try #require(run.n_ubatch)
            let cells = MemoryPlan.windowLimitedTokens(window: config.slidingWindow, context: ref.n_ctx,
                                                       batchTokens: ubatch, granularity: ref.reference.swa_pad_cells)
            #expect(cells == s.cells, "\(name): \(cells) vs llama.cpp \(s.cells) cells")
            #expect(Self.sameMiB(sliding * s.cells, s.size_mib))
        }

        // Our window-limited figure (block granularity 16, steps of 512) is llama.cpp's SWA cache
        // at n_ubatch = 512: 512 + 512 = 1024 is already a multiple of 256, so the padding adds
        // nothing there (with n_ubatch = 1 llama.cpp pads 513 cells to 768; we would keep 528).
        let window = try #require(ref.llama_cpp["swa_window"])
        let swa = try #require(window.caches.first { $0.kind == "SWA" })
        #expect(plan.windowLimitedSlidingTokensPerSequence == swa.cells)
        let g = try #require(window.caches.first { $0.kind == "non-SWA" })
        #expect(Self.sameMiB(plan.windowLimitedKVBytesPerSequence, g.size_mib + swa.size_mib))
        #expect(MemoryPlan.windowLimitedTokens(window: 512, context: 4096, batchTokens: 1, granularity: 16) == 528)
        // A context shorter than the window + step keeps the whole context.
        #expect(MemoryPlan.windowLimitedTokens(window: 512, context: 600, batchTokens: 512, granularity: 16) == 608)

        // What the engine allocates by default (hybrid layout): 6 groups of 3 layers, the 5 sliding
        // ones holding only the pages their window and one step reach. That is llama.cpp's
        // window-limited SWA cache to within one page per sliding group (pages need not start at
        // a window's first position; llama.cpp's ring need not align to pages).
        let hybrid = MemoryPlan.make(file: file, config: config, context: ref.n_ctx, concurrency: 1, blockSize: 16,
                                     maxBatchedTokens: 512, budgetBytes: 1 << 40, kvCacheDType: .f32)
        #expect(hybrid.kvGroups == 6 && hybrid.layersPerKVGroup == 3 && hybrid.slidingKVGroups == 5)
        #expect(hybrid.kvBytesPerBlock == 16 * 3 * sliding / 15)
        let llamaWindowed = (g.size_mib + swa.size_mib) * Self.mib
        let extra = Double(hybrid.kvBytesPerSequence) - llamaWindowed
        #expect(extra >= -0.005 * Self.mib && extra <= Double(5 * hybrid.kvBytesPerBlock) + 0.005 * Self.mib,
                "hybrid \(hybrid.kvBytesPerSequence) B vs llama.cpp \(llamaWindowed) B")
        // …and about a fifth of the full-length layout at this context.
        #expect(hybrid.kvBytesPerSequence * 2 < plan.kvBytesPerSequence)
        // The engine's pool is sized with the same pages.
        let storage = KVCacheStorage(config: config, numBlocks: hybrid.blocksPerSequence, blockSize: 16, dtype: .f32,
                                     layout: .hybrid(config))
        #expect(storage.byteCount == hybrid.kvBytesPerSequence)
    }

    @Test func fullContextSequencesThatFitArithmetic() throws {
        let (file, config) = try Self.load("smollm2-135m-instruct")
        let budget = try #require(MemoryPlan.parseBytes("1GiB"))
        let plan = MemoryPlan.make(file: file, config: config, context: 4000, concurrency: 3, blockSize: 16,
                                   maxBatchedTokens: 512, budgetBytes: budget, kvCacheDType: .f32)
        // F32 KV: 4000 tokens = 250 blocks of 16; 30 layers × 3 KV heads × (64 + 64) × 4 bytes = 46,080 B per token.
        #expect(plan.kvBytesPerToken == 46080)
        #expect(plan.blocksPerSequence == 250)
        #expect(plan.kvBytesPerSequence == 250 * 16 * 46080)
        #expect(plan.kvBytes == 3 * plan.kvBytesPerSequence)
        #expect(plan.totalBytes == plan.weightBytes + plan.interleavedWeightBytes + plan.kvBytes + plan.scratchBytes)
        #expect(plan.budgetBytes == 1_073_741_824 && plan.budgetSource == "--memory")
        let expected = (1_073_741_824 - plan.weightBytes - plan.interleavedWeightBytes - plan.scratchBytes) / (250 * 16 * 46080)
        #expect(plan.fullContextSequencesThatFit == expected)
        // 96.6 MB of weights, and on AVX2 / AVX-512 CPUs as much again in interleaved copies.
        #expect(expected == (KernelDispatch.detected >= .avx2 ? 4 : 5))
        // Rounding up to blocks: 4001 tokens take 251 blocks.
        let odd = MemoryPlan.make(file: file, config: config, context: 4001, concurrency: 1, blockSize: 16,
                                  maxBatchedTokens: 512, budgetBytes: budget, kvCacheDType: .f32)
        #expect(odd.kvBytesPerSequence == 251 * 16 * 46080)
        // A budget below the weights fits nothing (and does not go negative).
        let tiny = MemoryPlan.make(file: file, config: config, context: 4096, concurrency: 1, blockSize: 16,
                                   maxBatchedTokens: 512, budgetBytes: 1000, kvCacheDType: .f32)
        #expect(tiny.fullContextSequencesThatFit == 0 && tiny.windowLimitedSequencesThatFit == 0)
        // Scratch: workspace for 512 tokens + one logits row (hidden + 49,152 vocabulary logits).
        #expect(plan.scratchBytes == MemoryPlan.scratchBytes(config: config, tokens: 512, logitRows: 3))
        #expect(plan.scratchBytes > 3 * 49152 * 4)
    }

    /// An F16 pool: half the bytes per token everywhere the plan counts them, the allocation agrees,
    /// and the engine's pool holds twice the blocks in the same budget.
    @Test func f16KVHalvesThePlanAndDoublesThePool() throws {
        let (file, config) = try Self.load("smollm2-135m-instruct")
        let budget = try #require(MemoryPlan.parseBytes("1GiB"))
        let f32 = MemoryPlan.make(file: file, config: config, context: 4000, concurrency: 3, blockSize: 16,
                                  maxBatchedTokens: 512, budgetBytes: budget, kvCacheDType: .f32)
        let f16 = MemoryPlan.make(file: file, config: config, context: 4000, concurrency: 3, blockSize: 16,
                                  maxBatchedTokens: 512, budgetBytes: budget, kvCacheDType: .f16)
        // 30 layers × 3 KV heads × (64 + 64) × 2 bytes.
        #expect(f16.kvDType == "F16" && f32.kvDType == "F32")
        #expect(f16.kvBytesPerToken == 23040 && f32.kvBytesPerToken == 46080)
        #expect(f16.kvBytesPerTokenByTensor == ["K": 11520, "V": 11520])
        #expect(f16.kvBytesPerTokenByLayerKind == ["global": 23040])
        #expect(f16.kvBytesPerTokenByDType == f32.kvBytesPerTokenByDType)
        #expect(f16.kvBytesPerTokenByDType["F16"] == 23040 && f16.kvBytesPerTokenByDType["F32"] == 46080)
        #expect(f16.kvBytesPerSequence == 250 * 16 * 23040 && f16.kvBytes == 3 * f16.kvBytesPerSequence)
        #expect(f16.totalBytes == f16.weightBytes + f16.interleavedWeightBytes + f16.kvBytes + f16.scratchBytes)
        #expect(f16.fullContextSequencesThatFit
                == (budget - f16.weightBytes - f16.interleavedWeightBytes - f16.scratchBytes) / (250 * 16 * 23040))
        #expect(KVCacheStorage.bytesPerToken(config, dtype: .f16) == 23040)
        let storage = KVCacheStorage(config: config, numBlocks: f16.blocksPerSequence, blockSize: 16, dtype: .f16)
        #expect(storage.byteCount == f16.kvBytesPerSequence)

        let perBlockF32 = 46080 * 16
        #expect(try MemoryPlan.kvPoolBlocks(config: config, blockSize: 16, context: 4096, kvCacheMemory: 1000 * perBlockF32,
                                            memoryFraction: 0.9, weightBytes: 0, scratchBytes: 0, kvCacheDType: .f16) == 2000)
        // 128 F32 blocks' worth is too small for 4096 F32 tokens but enough in F16.
        #expect(throws: MemoryPlanError.self) {
            try MemoryPlan.kvPoolBlocks(config: config, blockSize: 16, context: 4096, kvCacheMemory: 128 * perBlockF32,
                                        memoryFraction: 0.9, weightBytes: 0, scratchBytes: 0, kvCacheDType: .f32)
        }
        #expect(try MemoryPlan.kvPoolBlocks(config: config, blockSize: 16, context: 4096, kvCacheMemory: 128 * perBlockF32,
                                            memoryFraction: 0.9, weightBytes: 0, scratchBytes: 0, availableBytes: 0,
                                            kvCacheDType: .f16) == 256)

        // The engine sizes its pool with the same code.
        var blocks: [KVCacheDType: Int] = [:]
        for dtype in KVCacheDType.allCases {
            var c = EngineConfig(modelPath: try TestModels.path("smollm2-135m-instruct"), threads: 2)
            c.kvCacheMemory = 64 << 20
            c.maxModelLen = 1024
            c.kvCacheDType = dtype
            let e = try LLMEngine(config: c)
            #expect(e.cache.dtype == dtype)
            #expect(e.cache.byteCount <= 64 << 20)
            blocks[dtype] = e.blocks.numBlocks
        }
        #expect(blocks[.f32] == (64 << 20) / perBlockF32 && blocks[.f16] == (64 << 20) / (perBlockF32 / 2))
        #expect(blocks[.q8_0] == (64 << 20) / (perBlockF32 / 32 / 4 * 34))
    }

    /// A Q8_0 pool: 34 bytes per 32 values everywhere the plan counts them (the figure plans
    /// reported for comparison before Q8_0 was stored), the allocation agrees, and the engine sizes
    /// its pool with it.
    @Test func q8KVPlansWith34BytesPer32Values() throws {
        let (file, config) = try Self.load("smollm2-135m-instruct")
        let budget = try #require(MemoryPlan.parseBytes("1GiB"))
        let q8 = MemoryPlan.make(file: file, config: config, context: 4000, concurrency: 3, blockSize: 16,
                                 maxBatchedTokens: 512, budgetBytes: budget, kvCacheDType: .q8_0)
        // 30 layers × 3 KV heads × (64 + 64) values / 32 × 34 bytes.
        let perToken = 30 * 3 * 128 / 32 * 34
        #expect(perToken == 12240)
        #expect(q8.kvDType == "Q8_0" && q8.kvBytesPerToken == perToken)
        #expect(q8.kvBytesPerTokenByDType["Q8_0"] == config.layerCount * config.kvHeadCount * (config.headDim + config.valueDim) / 32 * 34)
        #expect(q8.kvBytesPerTokenByDType == ["F32": 46080, "F16": 23040, "Q8_0": perToken])
        #expect(q8.kvBytesPerTokenByTensor == ["K": perToken / 2, "V": perToken / 2])
        #expect(q8.kvBytesPerTokenByLayerKind == ["global": perToken])
        #expect(q8.kvBytesPerSequence == 250 * 16 * perToken && q8.kvBytes == 3 * q8.kvBytesPerSequence)
        #expect(q8.fullContextSequencesThatFit
                == (budget - q8.weightBytes - q8.interleavedWeightBytes - q8.scratchBytes) / (250 * 16 * perToken))
        #expect(KVCacheStorage.bytesPerToken(config, dtype: .q8_0) == perToken)
        let storage = KVCacheStorage(config: config, numBlocks: q8.blocksPerSequence, blockSize: 16, dtype: .q8_0)
        #expect(storage.byteCount == q8.kvBytesPerSequence)
        #expect(try MemoryPlan.kvPoolBlocks(config: config, blockSize: 16, context: 4096, kvCacheMemory: 1000 * perToken * 16,
                                            memoryFraction: 0.9, weightBytes: 0, scratchBytes: 0, kvCacheDType: .q8_0) == 1000)

        var c = EngineConfig(modelPath: try TestModels.path("smollm2-135m-instruct"), threads: 2)
        c.kvCacheMemory = 64 << 20
        c.maxModelLen = 1024
        c.kvCacheDType = .q8_0
        let e = try LLMEngine(config: c)
        #expect(e.cache.dtype == .q8_0 && e.blocks.numBlocks == (64 << 20) / (perToken * 16))
        #expect(e.cache.byteCount == e.blocks.numBlocks * perToken * 16)
    }

    /// Q8_0 needs head dims that are multiples of 32: a model without them gets a typed error.
    @Test func q8KVRejectsHeadDimsNotMultiplesOf32() {
        #expect(KVCacheDType.q8_0.supports(keyDim: 64, valueDim: 256))
        #expect(!KVCacheDType.q8_0.supports(keyDim: 16, valueDim: 16))
        #expect(KVCacheDType.f16.supports(keyDim: 16, valueDim: 16) && KVCacheDType.f32.supports(keyDim: 80, valueDim: 80))
        #expect(KVCacheDType(rawValue: "q8_0") == .q8_0 && KVCacheDType.q8_0.name == "Q8_0")
    }

    @Test func parseBytesCases() {
        let cases: [(String, Int?)] = [
            ("0", 0), ("1073741824", 1_073_741_824), ("8GiB", 8 << 30), ("8 GiB", 8 << 30), ("8gib", 8 << 30),
            ("512MiB", 512 << 20), ("2GB", 2_000_000_000), ("2G", 2_000_000_000), ("4Gi", 4 << 30),
            ("1.5GiB", 3 << 29), ("100KiB", 102_400), ("100kB", 100_000), ("3TiB", 3 << 40), ("10B", 10),
            (" 64MiB ", 64 << 20),
            ("", nil), ("GiB", nil), ("-1", nil), ("-1GiB", nil), ("8XB", nil), ("1.2.3GB", nil), (".", nil),
            ("abc", nil), ("99999999999999999999", nil), ("99999999999TiB", nil), ("1e9", nil),
        ]
        for (s, want) in cases {
            #expect(MemoryPlan.parseBytes(s) == want, "parseBytes(\"\(s)\")")
        }
    }

    @Test func kvPoolBlocks() throws {
        let (_, config) = try Self.load("smollm2-135m-instruct")
        let perBlock = 46080 * 16 // F32 K and V
        // Explicit KV budget: exactly what fits, regardless of the machine.
        #expect(try MemoryPlan.kvPoolBlocks(config: config, blockSize: 16, context: 4096, kvCacheMemory: 1000 * perBlock + 5,
                                            memoryFraction: 0.9, weightBytes: 0, scratchBytes: 0, kvCacheDType: .f32) == 1000)
        // From the available memory: fraction × available − weights − scratch.
        let avail = 4 << 30
        let blocks = try MemoryPlan.kvPoolBlocks(config: config, blockSize: 16, context: 4096, kvCacheMemory: nil,
                                                 memoryFraction: 0.5, weightBytes: 100 << 20, scratchBytes: 20 << 20,
                                                 availableBytes: avail, kvCacheDType: .f32)
        #expect(blocks == ((2 << 30) - (120 << 20)) / perBlock)
        // Exactly one full-context sequence is enough.
        #expect(try MemoryPlan.kvPoolBlocks(config: config, blockSize: 16, context: 4096, kvCacheMemory: 256 * perBlock,
                                            memoryFraction: 0.9, weightBytes: 0, scratchBytes: 0, kvCacheDType: .f32) == 256)
        // One block short: a clear error naming what is needed and what to do.
        do {
            _ = try MemoryPlan.kvPoolBlocks(config: config, blockSize: 16, context: 4096, kvCacheMemory: 255 * perBlock,
                                            memoryFraction: 0.9, weightBytes: 0, scratchBytes: 0, kvCacheDType: .f32)
            Issue.record("expected kvBudgetTooSmall")
        } catch let e as MemoryPlanError {
            guard case let .kvBudgetTooSmall(budget, needed, context, _, _) = e else { Issue.record("\(e)"); return }
            #expect(budget == 255 * perBlock && needed == 256 * perBlock && context == 4096)
            let text = "\(e)"
            #expect(text.contains("4096 tokens") && text.contains("180.00 MiB") && text.contains("--kv-cache-memory"), "\(text)")
        }
        // Weights alone exceed the fraction of available memory.
        #expect(throws: MemoryPlanError.self) {
            try MemoryPlan.kvPoolBlocks(config: config, blockSize: 16, context: 4096, kvCacheMemory: nil, memoryFraction: 0.9,
                                        weightBytes: 1 << 30, scratchBytes: 0, availableBytes: 1 << 30, kvCacheDType: .f32)
        }
        #expect(throws: MemoryPlanError.self) {
            try MemoryPlan.kvPoolBlocks(config: config, blockSize: 16, context: 4096, kvCacheMemory: nil, memoryFraction: 1.5,
                                        weightBytes: 0, scratchBytes: 0, availableBytes: 1 << 30, kvCacheDType: .f32)
        }
    }

    @Test func availableMemory() {
        let text = "MemTotal:       32768000 kB\nMemFree:         1000000 kB\nMemAvailable:   24210472 kB\n"
        #expect(MemoryPlan.memAvailable(in: text) == 24_210_472 * 1024)
        #expect(MemoryPlan.memAvailable(in: "MemTotal: 1 kB\n") == nil)
        #expect(MemoryPlan.availableMemoryBytes() > 0)
    }

    @Test func planCommandJSON() throws {
        let model = try TestModels.path("gemma3-270m")
        let r = try CLITests.run(["plan", "--model", model, "--context", "4096", "--concurrency", "2", "--memory", "2GiB",
                                  "--kv-cache-dtype", "f32", "--json", "--disable-hybrid-kv-cache-manager"])
        #expect(r.status == 0, "\(r.stderr)")
        let plan = try JSONDecoder().decode(MemoryPlan.self, from: Data(r.stdout.utf8))
        let ref = try Self.fixture("gemma3-270m")
        #expect(plan.weightBytesByType == ref.weights.bytes_by_type)
        #expect(plan.budgetBytes == 2 << 30 && plan.kvBytes == 2 * 4096 * 36864)
        // By default: the 3 global layers at full length, the 15 sliding ones 65 pages of 16 tokens each.
        let hybrid = try CLITests.run(["plan", "--model", model, "--context", "4096", "--concurrency", "2", "--memory", "2GiB",
                                       "--kv-cache-dtype", "f32", "--json"])
        let hybridPlan = try JSONDecoder().decode(MemoryPlan.self, from: Data(hybrid.stdout.utf8))
        #expect(hybridPlan.blocksPerSequence == 256 + 5 * 65)
        #expect(hybridPlan.kvBytes == 2 * (4096 * 3 + 65 * 16 * 15) * (36864 / 18))
        let human = try CLITests.run(["plan", "--model", model, "--context", "4096", "--memory", "2GiB"])
        #expect(human.status == 0)
        #expect(human.stdout.contains("gives back their pages") && human.stdout.contains("full-context sequences that fit"))
        let bad = try CLITests.run(["plan", "--model", model, "--memory", "lots"])
        #expect(bad.status != 0 && bad.stderr.contains("--memory"))
        let f16 = try CLITests.run(["plan", "--model", model, "--context", "4096", "--concurrency", "2", "--memory", "2GiB",
                                    "--kv-cache-dtype", "f16", "--json", "--disable-hybrid-kv-cache-manager"])
        #expect(f16.status == 0, "\(f16.stderr)")
        let half = try JSONDecoder().decode(MemoryPlan.self, from: Data(f16.stdout.utf8))
        #expect(half.kvDType == "F16" && half.kvBytes == 2 * 4096 * 36864 / 2)
        let q8 = try CLITests.run(["plan", "--model", model, "--context", "4096", "--concurrency", "2", "--memory", "2GiB",
                                   "--kv-cache-dtype", "q8_0", "--json", "--disable-hybrid-kv-cache-manager"])
        #expect(q8.status == 0, "\(q8.stderr)")
        let q8Plan = try JSONDecoder().decode(MemoryPlan.self, from: Data(q8.stdout.utf8))
        #expect(q8Plan.kvDType == "Q8_0" && q8Plan.kvBytes == 2 * 4096 * (36864 / 4 / 32 * 34))
        let badType = try CLITests.run(["plan", "--model", model, "--kv-cache-dtype", "q4"])
        #expect(badType.status != 0 && badType.stderr.contains("--kv-cache-dtype"))
    }
}
