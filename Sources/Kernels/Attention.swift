import CKernels

/// Paged attention for one query token over a sequence's cached K/V, with an online softmax
/// (running max / running sum): no score matrix is materialized.
///
/// Cache layout per layer: K and V each `[numBlocks][blockSize][kvHeads][headDim]` Float32.
/// `blockTable[i]` is the physical block of logical block i. Attends positions
/// `windowStart..<contextLen` (contextLen includes the query itself). GQA: query head h uses
/// kv head h / (nHeads/kvHeads). `out` receives nHeads*headDim floats.
public func pagedAttention(q: UnsafePointer<Float>, kCache: UnsafePointer<Float>, vCache: UnsafePointer<Float>,
                           blockTable: UnsafePointer<Int32>, blockSize: Int, windowStart: Int, contextLen: Int,
                           nHeads: Int, kvHeads: Int, headDim: Int, scale: Float, out: UnsafeMutablePointer<Float>) {
    precondition(kvHeads > 0 && nHeads % kvHeads == 0, "pagedAttention: nHeads must be a multiple of kvHeads")
    ck_paged_attention(ck_active_isa(), q, kCache, vCache, blockTable, Int32(blockSize), Int32(windowStart),
                       Int32(contextLen), Int32(nHeads), Int32(kvHeads), Int32(headDim), scale, out)
}
