import GGUF
import Kernels

/// A decoder-only transformer (Llama family or Gemma 3) whose weights live in a mapped GGUF file.
///
/// `forward` runs every token of a batch (many sequences, variable lengths) in one pass: the
/// weights are read once per step, K/V are written to and read from the paged pool through each
/// sequence's block table. It is not reentrant: one engine thread drives it.
public final class TransformerModel: @unchecked Sendable {
    public let file: GGUFFile
    public let config: ModelConfig
    public let weights: ModelWeights
    public let pool: ThreadPool
    private let ropeGlobal: RoPE
    private let ropeSliding: RoPE
    private let workspace = Workspace()
    private let scratch = MatMulScratch()

    /// Loads a model from a GGUF file; `threads` sizes the kernel worker pool.
    public convenience init(path: String, threads: Int) throws {
        try self.init(file: GGUFFile(path: path), pool: ThreadPool(threadCount: threads))
    }

    public init(file: GGUFFile, pool: ThreadPool) throws {
        self.file = file
        config = try ModelConfig(gguf: file)
        weights = try ModelWeights(file: file, config: config)
        self.pool = pool
        let c = config
        ropeGlobal = RoPE(headDim: c.headDim, ropeDim: c.ropeDim, base: c.ropeBase, style: c.ropeStyle,
                          freqFactors: weights.ropeFreqFactors, freqScale: c.ropeFreqScale)
        ropeSliding = RoPE(headDim: c.headDim, ropeDim: c.ropeDim, base: c.ropeBaseSliding, style: c.ropeStyle,
                           freqFactors: weights.ropeFreqFactors, freqScale: 1)
    }

    /// Runs one step. Returns logits for `batch.logitIndices`, row after row (`vocabSize` each);
    /// the buffer is reused by the next call.
    public func forward(_ batch: ForwardBatch, cache: KVCacheStorage) throws -> UnsafeBufferPointer<Float> {
        let c = config
        let n = batch.tokens.count
        let nRows = batch.logitIndices.count
        guard n > 0 else { return UnsafeBufferPointer(start: workspace.logits, count: 0) }
        for t in batch.tokens where t < 0 || Int(t) >= c.vocabSize {
            throw ModelError.tokenOutOfRange(token: t, vocabSize: c.vocabSize)
        }
        for p in batch.positions where Int(p) >= c.contextLength {
            throw ModelError.contextOverflow(position: Int(p), contextLength: c.contextLength)
        }
        workspace.reserve(tokens: n, logitRows: nRows, config: c)
        let ws = workspace
        let d = c.embeddingLength
        let qDim = c.headCount * c.headDim
        let kDim = c.kvHeadCount * c.headDim
        let vDim = c.kvHeadCount * c.valueDim
        let aDim = c.headCount * c.valueDim
        let ff = c.feedForwardLength

        // Embeddings.
        for i in 0 ..< n {
            let row = ws.x + i * d
            dequantizeRow(weights.tokenEmbedding, row: Int(batch.tokens[i]), into: row)
            if c.embeddingScale != 1 { for j in 0 ..< d { row[j] *= c.embeddingScale } }
        }

        // Per KV group (`cache.layout`): the slot of every token in the paged pool, and where its
        // sequence's block table is (group g's at slot + g * n, seqOf + g * n).
        let bs = cache.blockSize
        let kvGroups = cache.layout.groupCount
        ws.reserveGroupSlots(tokens: n, groups: kvGroups)
        let slot = ws.slot
        let seqOf = ws.seqOf
        ws.reserveTables(batch.sequences.reduce(0) { $0 + $1.blockTables.reduce(0) { $0 + $1.count } })
        var tableOffset = 0
        for seq in batch.sequences {
            precondition(seq.blockTables.count == kvGroups, "a sequence has \(seq.blockTables.count) block tables, the cache \(kvGroups) groups")
            for (g, table) in seq.blockTables.enumerated() {
                for (j, b) in table.enumerated() { ws.tables[tableOffset + j] = b }
                for i in seq.tokenStart ..< seq.tokenStart + seq.tokenCount {
                    let pos = Int(batch.positions[i])
                    let logical = pos / bs
                    precondition(logical < table.count && table[logical] >= 0, "block table \(g) does not cover position \(pos)")
                    slot[g * n + i] = Int(table[logical]) * bs + pos % bs
                    seqOf[g * n + i] = tableOffset
                }
                tableOffset += table.count
            }
        }

        for i in 0 ..< n { ws.contextLens[i] = batch.positions[i] + 1 }
        let oneTokenEach = batch.sequences.allSatisfy { $0.tokenCount == 1 }
        // How a layer's attention is cut into tasks (`attentionTiles`, `planSplitAttention`) depends
        // only on its window: cut again only when that differs from the layer before's.
        var tiles = 0, splitUnits = 0, splitSub = 1, planWindow = -1

        // RoPE angles once per token (global and sliding bases), shared by q, k and every layer.
        let rd = c.ropeDim
        for i in 0 ..< n {
            let pos = Int(batch.positions[i])
            ropeGlobal.angles(position: pos, into: ws.angles + i * 2 * rd)
            if c.slidingWindow > 0 { ropeSliding.angles(position: pos, into: ws.angles + i * 2 * rd + rd) }
        }

        for (l, w) in weights.layers.enumerated() {
            let sliding = c.isSlidingLayer[l]
            let rope = sliding ? ropeSliding : ropeGlobal
            let angleOffset = sliding ? rd : 0
            // The previous layer's feed-forward residual, then this layer's input norm: per token, run
            // by the Q/K/V dispatch on the tokens each thread quantizes.
            var norm1 = NormPrologue(x: ws.x, o: ws.o, h: ws.h, d: d, eps: c.rmsEps, weight: w.attnNorm.pointer,
                                     post: l > 0 ? weights.layers[l - 1].postFFNNorm?.pointer : nil, residual: l > 0)
            withUnsafeMutablePointer(to: &norm1) { np in
                matmulFused(w.wq, ws.q, ldy0: qDim, w.wk, ws.k, ldy1: kDim, w.wv, ws.v, ldy2: vDim,
                            x: ws.h, ldx: d, nTokens: n, pool: pool, scratch: scratch,
                            prologue: TokenPrologue(normPrologueTask, context: UnsafeMutableRawPointer(np)))
            }
            // Per token: biases, QK-norm, RoPE and the K/V write — the first phase of the attention
            // dispatch (attention of a token may read K/V written by earlier tokens of its sequence
            // in this batch, so every token's phase-1 task finishes first).
            // Attention: each token over its own sequence's cache (causal: up to its own position).
            // Few tokens (decode): split each token's heads across the workers too. Every head is
            // computed the same way whatever the split, so results do not depend on it.
            let groups = n >= pool.threadCount * 2 ? 1 : min(c.headCount, pool.threadCount * 2)
            // Decode of many sequences (one token each): a token's attention reads only its own
            // sequence's K/V, so each task prepares its token and goes straight on to its attention,
            // with no barrier between the two.
            let fused = groups == 1 && oneTokenEach
            let prepPerTask = fused ? 1 : max(1, n / (pool.threadCount * 8))
            let window = sliding ? c.slidingWindow : 0
            let kvGroup = cache.layout.groupOfLayer[l]
            let (keyCache, valueCache) = cache.arrays(layer: l)
            let groupSlot = slot + kvGroup * n, groupSeqOf = seqOf + kvGroup * n
            batch.positions.withUnsafeBufferPointer { positions in
                if window != planWindow {
                    if groups == 1 {
                        tiles = attentionTiles(n: n, seqOf: groupSeqOf, positions: positions.baseAddress!, window: window,
                                               tileStart: ws.tileStart)
                    } else {
                        // Few tokens whose context spans several 512-position attention partitions
                        // (a long context, one to a few sequences): the partitions are split across
                        // the threads and folded after; the same bits as one pass over each token.
                        (splitUnits, splitSub) = planSplitAttention(positions: positions, window: window,
                                                                    threads: pool.threadCount, ws: ws)
                    }
                    planWindow = window
                }
                var prep = TokenPrepJob(bq: w.bq?.pointer, bk: w.bk?.pointer, bv: w.bv?.pointer,
                                        qNorm: w.qNorm?.pointer, kNorm: w.kNorm?.pointer,
                                        ropeDim: rope.ropeDim, neox: rope.style == .neox,
                                        angles: ws.angles + angleOffset, angleStride: 2 * rd, slot: groupSlot,
                                        q: ws.q, k: ws.k, v: ws.v, qDim: qDim, kDim: kDim, vDim: vDim,
                                        heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, eps: c.rmsEps,
                                        keyCache: keyCache, valueCache: valueCache, dtype: cache.dtype,
                                        tokens: n, perTask: prepPerTask)
                var job = AttentionJob(q: ws.q, kCache: keyCache, vCache: valueCache, dtype: cache.dtype,
                                       out: ws.att, tables: ws.tables,
                                       tableOffset: groupSeqOf, positions: positions.baseAddress!, groups: groups,
                                       perGroup: (c.headCount + groups - 1) / groups, heads: c.headCount,
                                       kvHeads: c.kvHeadCount, headDim: c.headDim, qDim: qDim, outDim: aDim,
                                       blockSize: bs, window: window, scale: c.attentionScale,
                                       tokens: n, keyRowBytes: cache.dtype.byteCount(values: kDim),
                                       valueRowBytes: cache.dtype.byteCount(values: vDim),
                                       tileStart: ws.tileStart, contextLens: ws.contextLens,
                                       split: splitUnits > 0, splitSub: splitSub, partSlot: ws.partSlot,
                                       partOut: ws.partOut, partML: ws.partML)
                withUnsafeMutablePointer(to: &prep) { pp in
                    withUnsafeMutablePointer(to: &job) { jp in
                        if fused {
                            // one token per tile: tile t is token t
                            var both = PrepThenAttention(prep: UnsafeMutableRawPointer(pp), attention: UnsafeMutableRawPointer(jp))
                            withUnsafeMutablePointer(to: &both) { bp in
                                pool.runRanged(n, context: UnsafeMutableRawPointer(bp), prepThenAttentionTask)
                            }
                            return
                        }
                        // Prep tasks of several tokens (a task claim is an atomic on a line both
                        // threads write: per token, prefill spent more on claims than on the work);
                        // attention in contiguous ranges, so a thread stays on one sequence's K/V.
                        pool.runPhasedRanged((n + prepPerTask - 1) / prepPerTask, context: UnsafeMutableRawPointer(pp),
                                             tokenPrepTask, then: groups == 1 ? tiles : splitUnits > 0 ? splitUnits : n * groups,
                                             context: UnsafeMutableRawPointer(jp), attentionTask)
                    }
                }
            }
            if splitUnits > 0 {
                for i in 0 ..< n {
                    let slot = Int(ws.partSlot[i])
                    mergeAttentionPartitions(nHeads: c.headCount, headDim: c.headDim, parts: Int(ws.partSlot[i + 1]) - slot,
                                             outs: ws.partOut + slot * aDim, outStride: aDim,
                                             mls: ws.partML + slot * 2 * c.headCount, mlStride: 2 * c.headCount,
                                             out: ws.att + i * aDim)
                }
            }
            matmul(w.wo, ws.att, ldx: aDim, nTokens: n, ws.o, ldy: d, pool: pool, scratch: scratch)
            // The attention residual and the feed-forward norm, inside the gate/up dispatch.
            var norm2 = NormPrologue(x: ws.x, o: ws.o, h: ws.h, d: d, eps: c.rmsEps, weight: w.ffnNorm.pointer,
                                     post: w.postAttnNorm?.pointer, residual: true)
            withUnsafeMutablePointer(to: &norm2) { np in
                matmulGLU(gate: w.wGate, up: w.wUp, x: ws.h, ldx: d, nTokens: n, gateOut: ws.gate, upOut: ws.up,
                          out: ws.gate, ldy: ff, gelu: c.usesGELU, pool: pool, scratch: scratch,
                          prologue: TokenPrologue(normPrologueTask, context: UnsafeMutableRawPointer(np)))
            }
            matmul(w.wDown, ws.gate, ldx: ff, nTokens: n, ws.o, ldy: d, pool: pool, scratch: scratch)
            // (its residual is added by the next layer's first dispatch, or below after the last)
        }
        if let last = weights.layers.last {
            for i in 0 ..< n { addResidual(ws.x + i * d, ws.o + i * d, d: d, post: last.postFFNNorm?.pointer, eps: c.rmsEps) }
        }

        guard nRows > 0 else { return UnsafeBufferPointer(start: ws.logits, count: 0) }
        for (r, i) in batch.logitIndices.enumerated() {
            rmsNorm(ws.x + i * d, weight: weights.outputNorm.pointer, count: d, eps: c.rmsEps, ws.rows + r * d)
        }
        matmul(weights.output, ws.rows, ldx: d, nTokens: nRows, ws.logits, ldy: c.vocabSize, pool: pool, scratch: scratch)
        return UnsafeBufferPointer(start: ws.logits, count: nRows * c.vocabSize)
    }

    /// The split attention of a few-token step: each token's attention partitions
    /// (`attentionPartitions`) get slots `ws.partSlot[i] ..< ws.partSlot[i + 1]`; when some token's
    /// context spans several, each (token, partition, head unit) becomes a unit of its own (folded
    /// after the dispatch) and this returns the unit count and the head units per kv group: whole
    /// kv groups (their query heads share each K/V row), cut in halves, quarters … while there are
    /// fewer than two units per thread. Units go partition by partition, so the threads split a
    /// sequence's K/V by position and each streams whole rows. Otherwise (0, 1).
    private func planSplitAttention(positions: UnsafeBufferPointer<Int32>, window: Int, threads: Int,
                                    ws: Workspace) -> (units: Int, sub: Int) {
        let c = config
        let n = positions.count
        ws.reservePartitions(slots: 0, tokens: n, heads: c.headCount, headDim: c.headDim)
        var slots = 0, split = false
        for i in 0 ..< n {
            let count = partitions(position: Int(positions[i]), window: window).count
            ws.partSlot[i] = Int32(slots)
            slots += count
            split = split || count > 1
        }
        ws.partSlot[n] = Int32(slots)
        ws.reservePartitions(slots: slots, tokens: n, heads: c.headCount, headDim: c.headDim)
        guard split else { return (0, 1) }
        let group = c.headCount / c.kvHeadCount
        var sub = 1
        while sub < group, slots * c.kvHeadCount * sub < 2 * threads { sub *= 2 }
        sub = min(sub, group)
        return (slots * c.kvHeadCount * sub, sub)
    }
}

/// x += o (o first normed by `post` when given: Gemma's post-attention / post-FFN norms).
@inline(__always) private func addResidual(_ x: UnsafeMutablePointer<Float>, _ o: UnsafeMutablePointer<Float>, d: Int,
                                           post: UnsafePointer<Float>?, eps: Float) {
    if let pn = post { rmsNorm(o, weight: pn, count: d, eps: eps, o) }
    for j in 0 ..< d { x[j] += o[j] }
}

/// A norm before a product, as a `TokenPrologue`: per token, optionally the residual
/// (`addResidual` of o into x), then h = rmsNorm(x) * weight.
private struct NormPrologue {
    let x: UnsafeMutablePointer<Float>
    let o: UnsafeMutablePointer<Float>
    let h: UnsafeMutablePointer<Float>
    let d: Int
    let eps: Float
    let weight: UnsafePointer<Float>
    let post: UnsafePointer<Float>?
    let residual: Bool
}

private let normPrologueTask: @convention(c) (UnsafeMutableRawPointer?, Int, Int) -> Void = { ctx, t0, t1 in
    let j = ctx.unsafelyUnwrapped.assumingMemoryBound(to: NormPrologue.self).pointee
    for i in t0 ..< t1 {
        let x = j.x + i * j.d
        if j.residual { addResidual(x, j.o + i * j.d, d: j.d, post: j.post, eps: j.eps) }
        rmsNorm(x, weight: j.weight, count: j.d, eps: j.eps, j.h + i * j.d)
    }
}

/// One layer's per-token work between the Q/K/V products and attention, for the pool: plain
/// pointers and values only, so a task copies nothing reference-counted.
private struct TokenPrepJob {
    let bq: UnsafePointer<Float>?, bk: UnsafePointer<Float>?, bv: UnsafePointer<Float>?
    let qNorm: UnsafePointer<Float>?, kNorm: UnsafePointer<Float>?
    let ropeDim: Int
    let neox: Bool
    let angles: UnsafeMutablePointer<Float>
    let angleStride: Int
    let slot: UnsafeMutablePointer<Int>
    let q: UnsafeMutablePointer<Float>
    let k: UnsafeMutablePointer<Float>
    let v: UnsafeMutablePointer<Float>
    let qDim: Int, kDim: Int, vDim: Int
    let heads: Int, kvHeads: Int, headDim: Int
    let eps: Float
    let keyCache: UnsafeMutableRawPointer, valueCache: UnsafeMutableRawPointer
    let dtype: KVCacheDType
    let tokens: Int, perTask: Int
}

/// The two jobs of a decode step's attention dispatch (one token per sequence).
private struct PrepThenAttention {
    let prep: UnsafeMutableRawPointer
    let attention: UnsafeMutableRawPointer
}

/// Task `t`: token t's preparation (`tokenPrepTask`, one token per task), then its attention
/// (`attentionTask`, whose tile t is token t).
private let prepThenAttentionTask: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { ctx, t in
    let j = ctx.unsafelyUnwrapped.assumingMemoryBound(to: PrepThenAttention.self).pointee
    tokenPrepTask(j.prep, t)
    attentionTask(j.attention, t)
}

/// Task `t`: for tokens t*perTask ..< (t+1)*perTask, the biases, QK-norm, RoPE, and the K/V
/// stored at the token's slot.
private let tokenPrepTask: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { ctx, t in
    let j = ctx.unsafelyUnwrapped.assumingMemoryBound(to: TokenPrepJob.self).pointee
    for i in t * j.perTask ..< min(j.tokens, (t + 1) * j.perTask) { prepareToken(j, i) }
}

@inline(__always) private func prepareToken(_ j: TokenPrepJob, _ i: Int) {
    let hd = j.headDim
    let q = j.q + i * j.qDim, k = j.k + i * j.kDim, v = j.v + i * j.vDim
    if let b = j.bq { for x in 0 ..< j.qDim { q[x] += b[x] } }
    if let b = j.bk { for x in 0 ..< j.kDim { k[x] += b[x] } }
    if let b = j.bv { for x in 0 ..< j.vDim { v[x] += b[x] } }
    if let qn = j.qNorm, let kn = j.kNorm {
        for h in 0 ..< j.heads { rmsNorm(q + h * hd, weight: qn, count: hd, eps: j.eps, q + h * hd) }
        for h in 0 ..< j.kvHeads { rmsNorm(k + h * hd, weight: kn, count: hd, eps: j.eps, k + h * hd) }
    }
    let angles = j.angles + i * j.angleStride
    RoPE.apply(q, heads: j.heads, headDim: hd, ropeDim: j.ropeDim, neox: j.neox, angles: angles)
    RoPE.apply(k, heads: j.kvHeads, headDim: hd, ropeDim: j.ropeDim, neox: j.neox, angles: angles)
    KVCacheStorage.store(dtype: j.dtype, keys: j.keyCache, values: j.valueCache, slot: j.slot[i],
                         keyCount: j.kDim, valueCount: j.vDim, key: k, value: v)
}

/// One layer's attention work for the pool, passed by address so dispatch allocates nothing.
private struct AttentionJob {
    let q: UnsafeMutablePointer<Float>
    /// The layer's K/V: Float, F16 bit patterns or Q8_0 blocks (`dtype`).
    let kCache: UnsafeMutableRawPointer
    let vCache: UnsafeMutableRawPointer
    let dtype: KVCacheDType
    let out: UnsafeMutablePointer<Float>
    let tables: UnsafeMutablePointer<Int32>
    let tableOffset: UnsafeMutablePointer<Int>
    let positions: UnsafePointer<Int32>
    let groups: Int
    let perGroup: Int
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    let qDim: Int
    let outDim: Int
    let blockSize: Int
    /// Sliding window length, or 0 for full attention.
    let window: Int
    let scale: Float
    let tokens: Int
    let keyRowBytes: Int
    let valueRowBytes: Int
    /// groups == 1: task t = tokens tileStart[t] ..< tileStart[t + 1], consecutive tokens of one
    /// sequence with the same window start (`contextLens`: each token's position + 1).
    let tileStart: UnsafePointer<Int32>
    let contextLens: UnsafePointer<Int32>
    /// Split into (token, partition, head unit) units: token i's partitions fill slots
    /// partSlot[i] ..< partSlot[i + 1] of partOut (a token's output width each) and partML ((max,
    /// sum) per head).
    let split: Bool
    /// Head units per kv group in a split attention (each ⌈group / splitSub⌉ query heads).
    let splitSub: Int
    let partSlot: UnsafePointer<Int32>
    let partOut: UnsafeMutablePointer<Float>
    let partML: UnsafeMutablePointer<Float>
}

/// Unit `u` of a split attention: token i has kvHeads × splitSub head units per partition; its
/// units run partition by partition (slot partSlot[i] + k), head unit by head unit.
private func splitAttentionUnit(_ j: AttentionJob, _ u: Int) {
    let perPart = j.kvHeads * j.splitSub
    let slot = u / perPart, unit = u % perPart
    var i = 0
    while Int(j.partSlot[i + 1]) <= slot { i += 1 }
    let group = j.heads / j.kvHeads, per = (group + j.splitSub - 1) / j.splitSub
    let kv = unit / j.splitSub, lo = kv * group + (unit % j.splitSub) * per
    let heads = lo ..< min(lo + per, (kv + 1) * group)
    guard !heads.isEmpty else { return }
    let pos = Int(j.positions[i])
    pagedAttentionPartition(q: j.q + i * j.qDim, kCache: j.kCache, vCache: j.vCache, kvType: j.dtype.paged,
                            blockTable: j.tables + j.tableOffset[i], blockSize: j.blockSize,
                            windowStart: KVLayout.windowStart(position: pos, window: j.window), contextLen: pos + 1,
                            partition: partitions(position: pos, window: j.window).lowerBound + slot - Int(j.partSlot[i]),
                            nHeads: j.heads,
                            kvHeads: j.kvHeads, headDim: j.headDim, scale: j.scale,
                            out: j.partOut + slot * j.outDim + heads.lowerBound * j.headDim,
                            ml: j.partML + slot * 2 * j.heads + 2 * heads.lowerBound, heads: heads)
}

/// The attention partitions of a token at `position` in a layer with sliding window `window` (0: full).
@inline(__always) private func partitions(position: Int, window: Int) -> Range<Int> {
    attentionPartitions(windowStart: KVLayout.windowStart(position: position, window: window), contextLen: position + 1)
}

/// Tokens [0, n) cut into tiles for the attention dispatch: runs of at most 16 consecutive tokens
/// of one sequence with the same window start (prefill: their K/V rows are read once for the
/// tile); a token of a sequence decoding alone is a tile of one. Returns the number of tiles;
/// `tileStart[0 ... count]` are their bounds.
private func attentionTiles(n: Int, seqOf: UnsafePointer<Int>, positions: UnsafePointer<Int32>, window: Int,
                            tileStart: UnsafeMutablePointer<Int32>) -> Int {
    @inline(__always) func start(_ i: Int) -> Int { KVLayout.windowStart(position: Int(positions[i]), window: window) }
    var count = 0, i = 0
    while i < n {
        tileStart[count] = Int32(i)
        count += 1
        var e = i + 1
        while e < n, e - i < 16, seqOf[e] == seqOf[i], start(e) == start(i) { e += 1 }
        i = e
    }
    tileStart[count] = Int32(n)
    return count
}

/// groups == 1: task t = tile t (see `AttentionJob.tileStart`); otherwise task t = (token t / groups,
/// head group t % groups).
private let attentionTask: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { ctx, task in
    let j = ctx.unsafelyUnwrapped.assumingMemoryBound(to: AttentionJob.self).pointee
    if j.split { splitAttentionUnit(j, task); return }
    var i = task / j.groups, next = task + 1
    if j.groups == 1 {
        i = Int(j.tileStart[task])
        next = Int(j.tileStart[task + 1])
        if next - i > 1 {
            let start = KVLayout.windowStart(position: Int(j.positions[i]), window: j.window)
            pagedAttentionMulti(q: j.q + i * j.qDim, qStride: j.qDim, count: next - i, contextLens: j.contextLens + i,
                                kCache: j.kCache, vCache: j.vCache, kvType: j.dtype.paged, blockTable: j.tables + j.tableOffset[i],
                                blockSize: j.blockSize, windowStart: start, nHeads: j.heads, kvHeads: j.kvHeads,
                                headDim: j.headDim, scale: j.scale, out: j.out + i * j.outDim, outStride: j.outDim)
            return
        }
    }
    let g = task % j.groups
    let range = (g * j.perGroup) ..< min(j.heads, (g + 1) * j.perGroup)
    guard !range.isEmpty else { return }
    let pos = Int(j.positions[i])
    let start = KVLayout.windowStart(position: pos, window: j.window)
    // Whole tokens per task (decode of many sequences): the next task, usually this thread's next
    // (tasks run in contiguous ranges), is another sequence's whose K/V is not in cache yet —
    // ask for its first 80 positions now (the kernel itself prefetches only one 16-position chunk
    // ahead), so they arrive while this one computes. More would push this token's rows out of
    // L1/L2 on long contexts. (Tokens of the same sequence, as in prefill, share their
    // rows: nothing to do.)
    if j.groups == 1, next < j.tokens, j.tableOffset[next] != j.tableOffset[i] {
        let p2 = Int(j.positions[next])
        let s2 = KVLayout.windowStart(position: p2, window: j.window)
        prefetchKVRows(kCache: j.kCache, vCache: j.vCache, keyRowBytes: j.keyRowBytes, valueRowBytes: j.valueRowBytes,
                       blockTable: j.tables + j.tableOffset[next], blockSize: j.blockSize,
                       positions: s2 ..< min(p2 + 1, s2 + 80))
    }
    switch j.dtype {
    case .q8_0:
        pagedAttentionQ8_0(q: j.q + i * j.qDim, kCache: j.kCache, vCache: j.vCache, blockTable: j.tables + j.tableOffset[i],
                           blockSize: j.blockSize, windowStart: start, contextLen: pos + 1, nHeads: j.heads, kvHeads: j.kvHeads,
                           headDim: j.headDim, scale: j.scale, out: j.out + i * j.outDim, heads: range)
    case .f16:
        pagedAttention(q: j.q + i * j.qDim, kCache: j.kCache.assumingMemoryBound(to: UInt16.self),
                       vCache: j.vCache.assumingMemoryBound(to: UInt16.self), blockTable: j.tables + j.tableOffset[i],
                       blockSize: j.blockSize, windowStart: start, contextLen: pos + 1, nHeads: j.heads, kvHeads: j.kvHeads,
                       headDim: j.headDim, scale: j.scale, out: j.out + i * j.outDim, heads: range)
    case .f32:
        pagedAttention(q: j.q + i * j.qDim, kCache: j.kCache.assumingMemoryBound(to: Float.self),
                       vCache: j.vCache.assumingMemoryBound(to: Float.self), blockTable: j.tables + j.tableOffset[i],
                       blockSize: j.blockSize, windowStart: start, contextLen: pos + 1, nHeads: j.heads, kvHeads: j.kvHeads,
                       headDim: j.headDim, scale: j.scale, out: j.out + i * j.outDim, heads: range)
    }
}
