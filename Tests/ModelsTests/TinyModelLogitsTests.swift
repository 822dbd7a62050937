import Foundation
import GGUF
import Kernels
import Models
import Testing

/// Tiny random-weight models written with the `gguf` package, compared with llama.cpp's logits
/// (scripts/make_tiny_models.py, scripts/gen_model_fixtures.py).
struct TinyModelLogitsTests {
    struct Reference: Decodable {
        let tokens: [Int32]
        let n_vocab: Int
        let logits: [[Float]]
    }

    static func fixture(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/tiny"))
    }

    static func load(_ model: String) throws -> (TransformerModel, Reference) {
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: fixture("\(model).logits.json")))
        let m = try TransformerModel(file: GGUFFile(path: fixture("\(model).gguf").path), pool: ThreadPool(threadCount: 2))
        return (m, ref)
    }

    /// Runs `tokens` through `model` in chunks of `chunk`, K/V (as `kvCacheDType`) in blocks of
    /// `blockSize` placed at scattered physical blocks, and returns all logits. F32 unless told
    /// otherwise: the llama.cpp fixtures were made with an F32 cache.
    static func run(_ model: TransformerModel, _ tokens: [Int32], chunk: Int, blockSize: Int,
                    kvCacheDType: KVCacheDType = .f32) throws -> [[Float]] {
        let nBlocks = (tokens.count + blockSize - 1) / blockSize
        let cache = KVCacheStorage(config: model.config, numBlocks: nBlocks * 3, blockSize: blockSize, dtype: kvCacheDType)
        // A deliberately non-contiguous block table.
        let table = (0 ..< nBlocks).map { Int32(($0 * 7 + 2) % (nBlocks * 3)) }
        var out: [[Float]] = []
        var start = 0
        let v = model.config.vocabSize
        while start < tokens.count {
            let end = min(tokens.count, start + chunk)
            var batch = ForwardBatch()
            batch.append(tokens: tokens[start ..< end], startPosition: start, blockTable: table, wantLogits: .all)
            let logits = try model.forward(batch, cache: cache)
            for r in 0 ..< end - start { out.append(Array(logits[r * v ..< (r + 1) * v])) }
            start = end
        }
        return out
    }

    /// F32 weights: the only differences from llama.cpp are summation order and float rounding, a few
    /// ulps per dot product growing through the layers; 1e-3 of the largest logit bounds that with margin
    /// (a numpy float64 forward agrees with llama.cpp to 3.5e-6 on these models, 6e-4 for Gemma 3
    /// whose GELU llama.cpp takes from an F16 table).
    @Test(arguments: ["llama-f32", "llama3-ropefreqs", "qwen2", "qwen3", "gemma3"])
    func floatModelLogitsMatchLlamaCpp(model name: String) throws {
        let (model, ref) = try Self.load(name)
        #expect(model.config.vocabSize == ref.n_vocab)
        let ours = try Self.run(model, ref.tokens, chunk: ref.tokens.count, blockSize: 16)
        let scale = ref.logits.joined().map(abs).max() ?? 1
        let (worst, _, sameArgmax) = Self.compare(ours, ref.logits)
        #expect(worst <= 1e-3 * scale, "\(name): max |Δlogit| \(worst) vs scale \(scale)")
        #expect(sameArgmax == ref.tokens.count)
    }

    struct Noise: Decodable { let max_abs: Float; let mean_abs: Float }

    /// Quantized weights: both engines quantize activations to 8 bits per block before the integer
    /// dot product, rounding slightly differently, and on 2-layer random models one flipped rounding
    /// moves logits by ~1%. The yardstick is llama.cpp's own distance from an exact-float forward
    /// over the same dequantized weights (scripts/tiny_float_reference.py,
    /// activation-quant-noise.json): our distance from llama.cpp must stay within it, and our
    /// distance from the exact-float reference within 1.5× llama.cpp's. A wrong block layout or
    /// formula gives errors of the order of the logits themselves.
    @Test(arguments: ["llama-q8_0", "llama-q4_0", "llama-q4_1", "llama-q5_0", "gemma3-q8_0"])
    func quantizedModelLogitsMatchLlamaCpp(model name: String) throws {
        let (model, ref) = try Self.load(name)
        let exact = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Self.fixture("\(name).float-logits.json")))
        let noise = try #require(try JSONDecoder().decode([String: Noise].self,
                                                          from: Data(contentsOf: Self.fixture("activation-quant-noise.json")))[name])
        let ours = try Self.run(model, ref.tokens, chunk: ref.tokens.count, blockSize: 16)
        let (worst, mean, sameArgmax) = Self.compare(ours, ref.logits)
        #expect(worst <= noise.max_abs, "\(name): max |Δ| vs llama.cpp \(worst), llama.cpp vs float \(noise.max_abs)")
        #expect(mean <= noise.mean_abs, "\(name): mean |Δ| vs llama.cpp \(mean), llama.cpp vs float \(noise.mean_abs)")
        let (worstExact, meanExact, _) = Self.compare(ours, exact.logits)
        #expect(worstExact <= 1.5 * noise.max_abs && meanExact <= 1.5 * noise.mean_abs,
                "\(name): vs float reference max \(worstExact) mean \(meanExact)")
        #expect(sameArgmax >= ref.tokens.count * 9 / 10)
    }

    /// (max |Δ|, mean |Δ|, positions with the same argmax).
    static func compare(_ a: [[Float]], _ b: [[Float]]) -> (Float, Float, Int) {
        var worst: Float = 0
        var sum: Double = 0
        var n = 0
        var same = 0
        for (x, y) in zip(a, b) {
            for (u, v) in zip(x, y) { worst = max(worst, abs(u - v)); sum += Double(abs(u - v)); n += 1 }
            if x.indices.max(by: { x[$0] < x[$1] }) == y.indices.max(by: { y[$0] < y[$1] }) { same += 1 }
        }
        return (worst, Float(sum / Double(max(n, 1))), same)
    }

    /// A row's logits do not depend on how the sequence was chunked: prefill in one pass, in chunks
    /// of 5, and token by token agree bit for bit (for a fixed block size, as in one engine). A
    /// different page size changes where the attention kernel's online softmax rescales, so there
    /// the results agree to float rounding only. The same holds with an F16 or a Q8_0 KV cache (Q8_0
    /// needs head dims that are multiples of 32: of these tiny models only qwen3's, 32, are; the others'
    /// are 16).
    @Test(arguments: ["llama-q4_1", "gemma3", "qwen2", "qwen3"], KVCacheDType.allCases)
    func chunkingDoesNotChangeLogits(model name: String, kvCacheDType: KVCacheDType) throws {
        let (model, ref) = try Self.load(name)
        guard kvCacheDType.supports(model.config) else {
            #expect(kvCacheDType == .q8_0 && model.config.headDim % 32 != 0)
            return
        }
        for blockSize in [16, 4] {
            let whole = try Self.run(model, ref.tokens, chunk: ref.tokens.count, blockSize: blockSize, kvCacheDType: kvCacheDType)
            let chunked = try Self.run(model, ref.tokens, chunk: 5, blockSize: blockSize, kvCacheDType: kvCacheDType)
            let stepwise = try Self.run(model, ref.tokens, chunk: 1, blockSize: blockSize, kvCacheDType: kvCacheDType)
            #expect(whole == chunked, "block size \(blockSize)")
            #expect(whole == stepwise, "block size \(blockSize)")
        }
        let a = try Self.run(model, ref.tokens, chunk: 7, blockSize: 16, kvCacheDType: kvCacheDType)
        let b = try Self.run(model, ref.tokens, chunk: 7, blockSize: 1, kvCacheDType: kvCacheDType)
        let scale = a.joined().map(abs).max() ?? 1
        #expect(Self.compare(a, b).0 <= 1e-4 * scale)
    }
}

/// Gemma 3's sliding-window layers with the hybrid KV layout (`KVLayout.hybrid`): one block table
/// per group of layers, and a sliding group's pages that fell out of its window given back.
struct HybridKVLayoutTests {
    /// The tiny Gemma 3 (layers 0–4 sliding with a window of 8, layer 5 global) in pages of 4
    /// tokens: after every step each sliding group's pages that lie wholly before the next token's
    /// window are dropped from its table (-1) and filled with NaN bit patterns, so a read of one
    /// would poison the logits. The logits still match llama.cpp's (as the one-table layout's do,
    /// `floatModelLogitsMatchLlamaCpp`), and are bit for bit the one-table layout's.
    @Test(arguments: [1, 5], [KVCacheDType.f32, .f16])
    func givenBackPagesAreNeverRead(chunk: Int, kvCacheDType: KVCacheDType) throws {
        let (model, ref) = try TinyModelLogitsTests.load("gemma3")
        let c = model.config
        let layout = KVLayout.hybrid(c)
        #expect(layout.groupCount == 6 && layout.groupSize == 1)
        #expect(layout.groupWindows.filter { $0 == 8 }.count == 5 && layout.groupWindows.filter { $0 == 0 }.count == 1)
        #expect(layout.memberOfLayer == [0, 0, 0, 0, 0, 0] && Set(layout.groupOfLayer).count == 6)

        let blockSize = 4
        let tokens = ref.tokens
        let perTable = (tokens.count + blockSize - 1) / blockSize
        let numBlocks = perTable * layout.groupCount + 3
        let cache = KVCacheStorage(config: c, numBlocks: numBlocks, blockSize: blockSize, dtype: kvCacheDType, layout: layout)
        // Distinct, scattered pages for every group.
        let pages = (0 ..< numBlocks).map { Int32(($0 * 11 + 5) % numBlocks) }
        var tables = (0 ..< layout.groupCount).map { g in Array(pages[g * perTable ..< (g + 1) * perTable]) }
        var out: [[Float]] = []
        var given = 0
        var start = 0
        while start < tokens.count {
            let end = min(tokens.count, start + chunk)
            var batch = ForwardBatch()
            batch.append(tokens: tokens[start ..< end], startPosition: start, blockTables: tables, wantLogits: .all)
            let logits = try model.forward(batch, cache: cache)
            for r in 0 ..< end - start { out.append(Array(logits[r * c.vocabSize ..< (r + 1) * c.vocabSize])) }
            start = end
            // Give back what the next token (at `start`) cannot read.
            for g in 0 ..< layout.groupCount where layout.groupWindows[g] > 0 {
                let first = KVLayout.windowStart(position: start, window: layout.groupWindows[g]) / blockSize
                for j in 0 ..< min(first, tables[g].count) where tables[g][j] >= 0 {
                    cache.fillBlock(Int(tables[g][j]), byte: 0xFF)
                    tables[g][j] = -1
                    given += 1
                }
            }
        }
        // 40 tokens, window 8, pages of 4: the first 8 of each sliding table's 10 pages go back.
        #expect(given == 5 * 8)
        if kvCacheDType == .f32 { // the llama.cpp fixture's cache type
            let scale = ref.logits.joined().map(abs).max() ?? 1
            let (worst, _, sameArgmax) = TinyModelLogitsTests.compare(out, ref.logits)
            #expect(worst <= 1e-3 * scale, "max |Δlogit| vs llama.cpp \(worst), scale \(scale)")
            #expect(sameArgmax == tokens.count)
        }
        let single = try TinyModelLogitsTests.run(model, tokens, chunk: chunk, blockSize: blockSize, kvCacheDType: kvCacheDType)
        #expect(out == single)
    }

    /// Pages a sequence holds at most, against a count of the positions each group's step reads.
    @Test func pagesPerSequenceCountsWindowAndStep() throws {
        // Gemma 3 270M's shape: 3 global + 15 sliding layers (window 512) in 6 groups of 3.
        let layout = KVLayout(groupSize: 3, groupOfLayer: [], memberOfLayer: [], groupWindows: [0, 512, 512, 512, 512, 512])
        // 4096 tokens in pages of 16, steps of up to 512: the global group 256 pages; a sliding
        // group reads ≤ 511 + 512 = 1023 consecutive positions, which touch at most 65 pages.
        #expect(layout.pagesPerSequence(tokens: 4096, blockSize: 16, chunk: 512) == 256 + 5 * 65)
        // One token per step: 512 positions → 33 pages (32 when aligned, one more when not).
        #expect(layout.pagesPerSequence(tokens: 4096, blockSize: 16, chunk: 1) == 256 + 5 * 33)
        // Shorter than the window: every group holds every page.
        #expect(layout.pagesPerSequence(tokens: 100, blockSize: 16, chunk: 512) == 6 * 7)
        // Brute force over starting positions: the most pages a run of `span` positions touches.
        for (window, chunk, bs) in [(8, 1, 4), (8, 5, 4), (512, 512, 16), (7, 3, 5), (1, 1, 1)] {
            let span = window - 1 + chunk
            let most = (0 ..< 3 * bs).map { s in (s + span - 1) / bs - s / bs + 1 }.max()!
            let l = KVLayout(groupSize: 1, groupOfLayer: [], memberOfLayer: [], groupWindows: [window])
            #expect(l.pagesPerSequence(tokens: 100_000, blockSize: bs, chunk: chunk) == most, "\(window) \(chunk) \(bs)")
        }
        #expect(layout.longestSequence(pages: 256 + 5 * 65, blockSize: 16, chunk: 512, limit: 8192) == 4096)
        // No sliding layers: one group of every layer.
        let llama = try TinyModelLogitsTests.load("llama-f32").0.config
        #expect(KVLayout.hybrid(llama) == .single(layers: llama.layerCount))
    }
}
