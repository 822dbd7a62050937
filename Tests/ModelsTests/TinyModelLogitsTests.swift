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

    /// Runs `tokens` through `model` in chunks of `chunk`, K/V in blocks of `blockSize` placed at
    /// scattered physical blocks, and returns all logits.
    static func run(_ model: TransformerModel, _ tokens: [Int32], chunk: Int, blockSize: Int) throws -> [[Float]] {
        let nBlocks = (tokens.count + blockSize - 1) / blockSize
        let cache = KVCacheStorage(config: model.config, numBlocks: nBlocks * 3, blockSize: blockSize)
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

    // F32 weights: the only differences from llama.cpp are summation order and float rounding,
    // a few ulps per dot product growing through the layers; 1e-3 of the logit scale bounds it
    // with margin. Quantized weights: both engines quantize activations to 8 bits per block, but
    // round differently (llama.cpp stores activation scales as F16), so logits move by up to ~1%
    // of their scale; 2e-2 bounds that while still catching any wrong block layout or formula
    // (those give errors of the order of the logits themselves).
    @Test(arguments: [
        ("llama-f32", Float(1e-3)), ("llama3-ropefreqs", 1e-3), ("qwen2", 1e-3), ("qwen3", 1e-3), ("gemma3", 1e-3),
        ("llama-q8_0", 2e-2), ("llama-q4_0", 2e-2), ("llama-q4_1", 2e-2), ("llama-q5_0", 2e-2), ("gemma3-q8_0", 2e-2),
    ])
    func logitsMatchLlamaCpp(model name: String, relativeTolerance: Float) throws {
        let (model, ref) = try Self.load(name)
        #expect(model.config.vocabSize == ref.n_vocab)
        let ours = try Self.run(model, ref.tokens, chunk: ref.tokens.count, blockSize: 16)
        let scale = ref.logits.joined().map(abs).max() ?? 1
        var worst: Float = 0
        var sameArgmax = 0
        for (a, b) in zip(ours, ref.logits) {
            for (x, y) in zip(a, b) { worst = max(worst, abs(x - y)) }
            if a.indices.max(by: { a[$0] < a[$1] }) == b.indices.max(by: { b[$0] < b[$1] }) { sameArgmax += 1 }
        }
        #expect(worst <= relativeTolerance * scale, "\(name): max |Δlogit| \(worst) vs scale \(scale)")
        #expect(sameArgmax >= ref.tokens.count - 1, "\(name): same argmax at \(sameArgmax)/\(ref.tokens.count)")
    }

    /// A row's logits do not depend on how the sequence was chunked or on the block size:
    /// prefill in one pass, in chunks of 5, and token by token agree bit for bit.
    @Test(arguments: ["llama-q4_1", "gemma3", "qwen2"])
    func chunkingAndBlockSizeDoNotChangeLogits(model name: String) throws {
        let (model, ref) = try Self.load(name)
        let whole = try Self.run(model, ref.tokens, chunk: ref.tokens.count, blockSize: 16)
        let chunked = try Self.run(model, ref.tokens, chunk: 5, blockSize: 4)
        let stepwise = try Self.run(model, ref.tokens, chunk: 1, blockSize: 1)
        #expect(whole == chunked)
        #expect(whole == stepwise)
    }
}
