import GGUF
import Kernels
import Models
import Tokenization

/// A smaller model with the target's vocabulary drafting greedily (so its draft is a point mass and
/// verification keeps outputs identical, sampled ones included). It runs on the target's worker
/// threads with its own small paged KV pool (one full-attention table per sequence); each
/// sequence's draft K/V is kept across steps and cut back to what the target accepted.
public final class DraftModelProposer: DraftSource {
    /// The draft model (sharing the target's worker threads).
    public let model: TransformerModel
    let cache: KVCacheStorage
    let blocks: BlockManager
    private var batch = ForwardBatch()

    /// One sequence's draft cache: its block table and the tokens whose K/V it holds.
    final class State {
        let blocks: BlockManager
        var table: [Int32] = []
        var fed: [Int32] = []
        init(blocks: BlockManager) { self.blocks = blocks }
        deinit { blocks.release(&table) }
    }

    /// Loads the draft model; throws `SpeculativeError.vocabularyMismatch` when its vocabulary is not
    /// the target's token for token.
    /// - Parameters:
    ///   - numBlocks: pages of the draft's KV pool (`blockSize` tokens each).
    public init(path: String, target: Tokenizer, pool: ThreadPool, blockSize: Int, numBlocks: Int) throws {
        let file = try GGUFFile(path: path)
        let tokenizer = try Tokenizer(gguf: file)
        if let detail = Self.vocabularyDifference(tokenizer, target) {
            throw SpeculativeError.vocabularyMismatch(draft: path, detail: detail)
        }
        model = try TransformerModel(file: file, pool: pool)
        guard model.config.vocabSize == target.vocabSize else {
            throw SpeculativeError.vocabularyMismatch(draft: path, detail: "output rows \(model.config.vocabSize), target vocabulary \(target.vocabSize)")
        }
        let layout = KVLayout.single(layers: model.config.layerCount)
        cache = KVCacheStorage(config: model.config, numBlocks: numBlocks, blockSize: blockSize, dtype: .default, layout: layout)
        blocks = BlockManager(numBlocks: numBlocks, blockSize: blockSize, prefixCaching: false, groupWindows: layout.groupWindows)
    }

    /// Nil when both vocabularies hold the same pieces under the same ids, else what differs.
    static func vocabularyDifference(_ a: Tokenizer, _ b: Tokenizer) -> String? {
        guard a.vocabSize == b.vocabSize else { return "\(a.vocabSize) tokens against \(b.vocabSize)" }
        for id in 0 ..< Int32(a.vocabSize) where a.tokenPiece(id) != b.tokenPiece(id) {
            return "token \(id) is '\(a.tokenText(id) ?? "?")' against '\(b.tokenText(id) ?? "?")'"
        }
        return nil
    }

    public func propose(_ tokens: [Int32], promptCount: Int, k: Int, state: inout AnyObject?) -> [Int32] {
        guard k > 0, !tokens.isEmpty else { return [] }
        let st = (state as? State) ?? State(blocks: blocks)
        state = st
        // Keep the K/V of the tokens the target kept (at least the last token is fed again).
        var common = 0
        let limit = min(st.fed.count, tokens.count - 1)
        while common < limit, st.fed[common] == tokens[common] { common += 1 }
        st.fed.removeLast(st.fed.count - common)
        guard blocks.ensureCapacity(&st.table, tokens: tokens.count + k - 1) else {
            // The draft pool is full: this sequence drafts nothing (and holds nothing) for now.
            blocks.release(&st.table)
            st.fed = []
            return []
        }
        var out: [Int32] = []
        var feed = Array(tokens[common...])
        while out.count < k {
            batch.reset()
            batch.append(tokens: feed, startPosition: st.fed.count, blockTable: st.table, wantLogits: .last)
            guard let logits = try? model.forward(batch, cache: cache) else { break }
            st.fed += feed
            let next = Sampler.argmax(logits)
            out.append(next)
            feed = [next]
        }
        return out
    }
}
