import Foundation
import GGUF
import Kernels
import Models
import Testing

/// Random-weight models of real shapes written by `scripts/make-synthetic-model` (Python and
/// llama-quantize, so not made here): a test runs only where the file is in the cache. The
/// smallest, `tiny-q4_k_m.gguf` (`scripts/make-synthetic-model --tiny`), is a Llama with
/// SmolLM2's tokenizer, quantized to Q4_K_M by llama.cpp (Q4_K and Q6_K matrices).
struct SyntheticModelTests {
    static var cacheDir: String {
        ProcessInfo.processInfo.environment["PAGEWISE_CACHE"]
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/pagewise")
    }

    static func path(_ name: String) -> String { (cacheDir as NSString).appendingPathComponent("synthetic/\(name).gguf") }

    static var tinyPresent: Bool { FileManager.default.fileExists(atPath: path("tiny-q4_k_m")) }

    /// The file loads, its logits are finite, and a prompt run as one batch gives the same logits
    /// at every position as the same prompt run one token at a time (batch invariance through the K-quant kernels).
    @Test(.enabled(if: tinyPresent, "scripts/make-synthetic-model --tiny has not been run"))
    func tinyQ4KMLoadsAndRuns() throws {
        let model = try TransformerModel(file: GGUFFile(path: Self.path("tiny-q4_k_m")), pool: ThreadPool(threadCount: 2))
        #expect(model.config.vocabSize == 49152)
        let tokens: [Int32] = [1, 504, 2713, 30, 17, 900, 12, 7, 4004, 331, 28, 9, 1000, 45, 2, 77, 9000]
        let batched = try TinyModelLogitsTests.run(model, tokens, chunk: tokens.count, blockSize: 16)
        let stepwise = try TinyModelLogitsTests.run(model, tokens, chunk: 1, blockSize: 16)
        let finite = batched.joined().allSatisfy { $0.isFinite }
        #expect(finite)
        #expect(batched.count == stepwise.count)
        for (i, (b, s)) in zip(batched, stepwise).enumerated() {
            #expect(b.map(\.bitPattern) == s.map(\.bitPattern), "position \(i)")
        }
    }
}
