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

@inline(__always) private func checkHeads(nHeads: Int, kvHeads: Int, heads: Range<Int>) {
    precondition(kvHeads > 0 && nHeads % kvHeads == 0, "pagedAttention: nHeads must be a multiple of kvHeads")
    precondition(heads.lowerBound >= 0 && heads.upperBound <= nHeads, "pagedAttention: head range out of bounds")
}
