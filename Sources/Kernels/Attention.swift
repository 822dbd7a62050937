import CKernels

/// Paged attention for one query token over a sequence's cached K/V, with an online softmax
/// (running max / running sum): no score matrix is materialized.
///
/// Cache layout per layer: K and V each `[numBlocks][blockSize][kvHeads][headDim]` Float32
/// (the overloads taking `UInt16` pointers read the same layout in F16).
/// `blockTable[i]` is the physical block of logical block i. Attends positions
/// `windowStart..<contextLen` (contextLen includes the query itself). GQA: query head h uses
/// kv head h / (nHeads/kvHeads). `out` receives nHeads*headDim floats.
public func pagedAttention(q: UnsafePointer<Float>, kCache: UnsafePointer<Float>, vCache: UnsafePointer<Float>,
                           blockTable: UnsafePointer<Int32>, blockSize: Int, windowStart: Int, contextLen: Int,
                           nHeads: Int, kvHeads: Int, headDim: Int, scale: Float, out: UnsafeMutablePointer<Float>) {
    pagedAttention(q: q, kCache: kCache, vCache: vCache, blockTable: blockTable, blockSize: blockSize,
                   windowStart: windowStart, contextLen: contextLen, nHeads: nHeads, kvHeads: kvHeads,
                   headDim: headDim, scale: scale, out: out, heads: 0..<nHeads)
}

/// `pagedAttention` for the query heads in `heads` only (their slices of `out` are written):
/// lets a caller spread one token's heads over a `ThreadPool`. Each head's result is the
/// same whichever range it is computed in.
public func pagedAttention(q: UnsafePointer<Float>, kCache: UnsafePointer<Float>, vCache: UnsafePointer<Float>,
                           blockTable: UnsafePointer<Int32>, blockSize: Int, windowStart: Int, contextLen: Int,
                           nHeads: Int, kvHeads: Int, headDim: Int, scale: Float, out: UnsafeMutablePointer<Float>,
                           heads: Range<Int>, level: KernelDispatch.Level = KernelDispatch.active) {
    checkHeads(nHeads: nHeads, kvHeads: kvHeads, heads: heads)
    ck_paged_attention_heads(min(level, KernelDispatch.detected).rawValue, q, kCache, vCache, blockTable,
                             Int32(blockSize), Int32(windowStart), Int32(contextLen), Int32(nHeads), Int32(kvHeads),
                             Int32(headDim), scale, out, Int32(heads.lowerBound), Int32(heads.upperBound))
}

/// `pagedAttention` over an F16 cache: `kCache` and `vCache` hold IEEE binary16 bit patterns
/// (as `convertToF16` writes them) in the same layout. Each value is widened to Float exactly and
/// then goes through the Float32 kernel's arithmetic, so the result is, bit for bit, that of the
/// Float32 overload over a cache holding the widened values (at the same level).
public func pagedAttention(q: UnsafePointer<Float>, kCache: UnsafePointer<UInt16>, vCache: UnsafePointer<UInt16>,
                           blockTable: UnsafePointer<Int32>, blockSize: Int, windowStart: Int, contextLen: Int,
                           nHeads: Int, kvHeads: Int, headDim: Int, scale: Float, out: UnsafeMutablePointer<Float>,
                           heads: Range<Int>, level: KernelDispatch.Level = KernelDispatch.active) {
    checkHeads(nHeads: nHeads, kvHeads: kvHeads, heads: heads)
    ck_paged_attention_heads_f16(min(level, KernelDispatch.detected).rawValue, q, kCache, vCache, blockTable,
                                 Int32(blockSize), Int32(windowStart), Int32(contextLen), Int32(nHeads), Int32(kvHeads),
                                 Int32(headDim), scale, out, Int32(heads.lowerBound), Int32(heads.upperBound))
}

/// `pagedAttention` over a Q8_0 cache: each position's `kvHeads * headDim` values (`headDim` a
/// multiple of 32) stored as ggml Q8_0 blocks (an F16 scale d, then 32 int8 q; 34 bytes per 32 values,
/// as `quantizeKVQ8_0` writes them), the positions laid out as in the Float32 cache. Each value is
/// dequantized to `Float(q) * Float(d)` (exact) and then goes through the Float32 kernel's
/// arithmetic, so the result is, bit for bit, that of the Float32 overload over a cache holding the
/// dequantized values (at the same level).
public func pagedAttentionQ8_0(q: UnsafePointer<Float>, kCache: UnsafeRawPointer, vCache: UnsafeRawPointer,
                               blockTable: UnsafePointer<Int32>, blockSize: Int, windowStart: Int, contextLen: Int,
                               nHeads: Int, kvHeads: Int, headDim: Int, scale: Float, out: UnsafeMutablePointer<Float>,
                               heads: Range<Int>, level: KernelDispatch.Level = KernelDispatch.active) {
    checkHeads(nHeads: nHeads, kvHeads: kvHeads, heads: heads)
    precondition(headDim % 32 == 0, "pagedAttentionQ8_0: headDim must be a multiple of 32")
    ck_paged_attention_heads_q8_0(min(level, KernelDispatch.detected).rawValue, q, kCache, vCache, blockTable,
                                  Int32(blockSize), Int32(windowStart), Int32(contextLen), Int32(nHeads), Int32(kvHeads),
                                  Int32(headDim), scale, out, Int32(heads.lowerBound), Int32(heads.upperBound))
}

/// How a paged K/V cache stores its values (for `pagedAttentionMulti`).
public enum PagedKVType: Int32, Sendable {
    /// Float32.
    case f32 = 0
    /// IEEE binary16 bit patterns.
    case f16 = 1
    /// ggml Q8_0 blocks (`headDim` a multiple of 32).
    case q8_0 = 2
}

/// Attention for `count` query tokens of one sequence that share its block table and
/// `windowStart` (consecutive prompt tokens): query i (all `nHeads` heads at `q + i * qStride`)
/// attends positions `windowStart..<contextLens[i]` and writes `nHeads * headDim` floats at
/// `out + i * outStride`. Each query's result is, bit for bit, that of `pagedAttention` (or its
/// F16 / Q8_0 form) for it alone at the same level; the K/V rows several queries read are loaded
/// and widened once for all of them.
public func pagedAttentionMulti(q: UnsafePointer<Float>, qStride: Int, count: Int, contextLens: UnsafePointer<Int32>,
                                kCache: UnsafeRawPointer, vCache: UnsafeRawPointer, kvType: PagedKVType,
                                blockTable: UnsafePointer<Int32>, blockSize: Int, windowStart: Int,
                                nHeads: Int, kvHeads: Int, headDim: Int, scale: Float, out: UnsafeMutablePointer<Float>,
                                outStride: Int, level: KernelDispatch.Level = KernelDispatch.active) {
    checkHeads(nHeads: nHeads, kvHeads: kvHeads, heads: 0 ..< nHeads)
    precondition(kvType != .q8_0 || headDim % 32 == 0, "pagedAttentionMulti: Q8_0 needs headDim a multiple of 32")
    ck_paged_attention_multi(min(level, KernelDispatch.detected).rawValue, kvType.rawValue, q, qStride, Int32(count),
                             contextLens, kCache, vCache, blockTable, Int32(blockSize), Int32(windowStart),
                             Int32(nHeads), Int32(kvHeads), Int32(headDim), scale, out, outStride)
}

/// The canonical partitions of a query's attention over `windowStart..<contextLen`: positions
/// are taken in partitions of 512 fixed, absolute positions (`k * 512 ..< (k + 1) * 512`, cut by
/// the window and the context), each in one online-softmax pass, and the partitions are folded in
/// order. Every attention entry point computes this, so a long context's partitions can be split
/// across threads (`pagedAttentionPartition`, then `mergeAttentionPartitions`) with the same
/// result bit for bit. Returns the absolute indices of the partitions the range spans (one for an
/// empty range).
public func attentionPartitions(windowStart: Int, contextLen: Int) -> Range<Int> {
    var first: Int32 = 0
    let n = ck_attention_partitions(Int32(windowStart), Int32(contextLen), &first)
    return Int(first) ..< Int(first) + Int(n)
}

/// Partition `partition` (from `attentionPartitions`) of query heads `heads` of one query: each
/// head's normalized output at `out + (h - heads.lowerBound) * headDim`, and its running max and
/// sum at `ml + 2 * (h - heads.lowerBound)` (sum 0: nothing attended).
public func pagedAttentionPartition(q: UnsafePointer<Float>, kCache: UnsafeRawPointer, vCache: UnsafeRawPointer,
                                    kvType: PagedKVType, blockTable: UnsafePointer<Int32>, blockSize: Int,
                                    windowStart: Int, contextLen: Int, partition: Int, nHeads: Int, kvHeads: Int,
                                    headDim: Int, scale: Float, out: UnsafeMutablePointer<Float>,
                                    ml: UnsafeMutablePointer<Float>, heads: Range<Int>,
                                    level: KernelDispatch.Level = KernelDispatch.active) {
    checkHeads(nHeads: nHeads, kvHeads: kvHeads, heads: heads)
    precondition(kvType != .q8_0 || headDim % 32 == 0, "pagedAttentionPartition: Q8_0 needs headDim a multiple of 32")
    ck_paged_attention_partition(min(level, KernelDispatch.detected).rawValue, kvType.rawValue, q, kCache, vCache,
                                 blockTable, Int32(blockSize), Int32(windowStart), Int32(contextLen), Int32(partition),
                                 Int32(nHeads), Int32(kvHeads), Int32(headDim), scale, out, ml,
                                 Int32(heads.lowerBound), Int32(heads.upperBound))
}

/// Folds `parts` partition results of `nHeads` heads (partition k's outputs at
/// `outs + k * outStride`, its (max, sum) pairs at `mls + k * mlStride`) in order into `out`: bit
/// for bit what `pagedAttention` gives for those heads.
public func mergeAttentionPartitions(nHeads: Int, headDim: Int, parts: Int, outs: UnsafePointer<Float>, outStride: Int,
                                     mls: UnsafePointer<Float>, mlStride: Int, out: UnsafeMutablePointer<Float>) {
    precondition(parts >= 1, "mergeAttentionPartitions: at least one partition")
    ck_attention_merge(Int32(nHeads), Int32(headDim), Int32(parts), outs, outStride, mls, mlStride, out)
}

/// Quantizes `count` floats (a multiple of 32) to `count / 32` ggml Q8_0 blocks at `dst`
/// (34 bytes each: the F16 scale, then 32 int8), exactly as ggml's `quantize_row_q8_0_ref` and
/// gguf-py's `gguf.quants.Q8_0`: d = amax / 127, q = roundf(x * (1 / d)) (all 0 when amax is 0).
public func quantizeKVQ8_0(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
    precondition(count % 32 == 0, "quantizeKVQ8_0: count must be a multiple of 32")
    ck_quantize_kv_q8_0(src, dst.assumingMemoryBound(to: UInt8.self), count)
}

@inline(__always) private func checkHeads(nHeads: Int, kvHeads: Int, heads: Range<Int>) {
    precondition(kvHeads > 0 && nHeads % kvHeads == 0, "pagedAttention: nHeads must be a multiple of kvHeads")
    precondition(heads.lowerBound >= 0 && heads.upperBound <= nHeads, "pagedAttention: head range out of bounds")
}

/// Asks the caches for the K and V rows of positions `positions` of a sequence (rows of
/// `keyRowBytes` / `valueRowBytes` bytes, pages of `blockSize` through `blockTable`): prefetch
/// instructions only, nothing is read architecturally and no result changes.
@inline(__always)
public func prefetchKVRows(kCache: UnsafeRawPointer, vCache: UnsafeRawPointer, keyRowBytes: Int, valueRowBytes: Int,
                           blockTable: UnsafePointer<Int32>, blockSize: Int, positions: Range<Int>) {
    ck_prefetch_kv_rows(kCache, vCache, keyRowBytes, valueRowBytes, blockTable, Int32(blockSize),
                        Int32(positions.lowerBound), Int32(positions.upperBound))
}
