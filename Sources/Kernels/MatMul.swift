import CKernels

/// Reusable buffers for `matmul` (quantized activations). They grow only when needed, so a
/// steady-state decode loop allocates nothing. Not thread-safe: one scratch per caller.
public final class MatMulScratch {
    private var raw: UnsafeMutableRawPointer?
    private var capacity = 0

    public init() {}

    deinit { raw?.deallocate() }

    /// A buffer of at least `bytes` bytes, 64-byte aligned.
    func buffer(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > capacity || raw == nil {
            raw?.deallocate()
            capacity = max(bytes, capacity * 3 / 2, 4096)
            raw = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        }
        return raw!
    }
}

/// One quantized product's work split, read by `gemmJobTask` on every worker.
private struct GemmJob {
    let isa: Int32, type: Int32
    let w: UnsafeRawPointer
    let wx: UnsafeRawPointer?
    let rowBytes: Int, rows: Int, cols: Int
    let act: UnsafePointer<ck_act>
    let nTokens: Int
    let y: UnsafeMutablePointer<Float>
    let ldy: Int, nr: Int, rowChunk: Int, tokChunk: Int
}

/// Task `task` of a `GemmJob`: row chunk task % nr, token chunk task / nr.
private let gemmJobTask: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { ctx, task in
    let j = ctx.unsafelyUnwrapped.assumingMemoryBound(to: GemmJob.self)
    let rc = task % j.pointee.nr, tc = task / j.pointee.nr
    let r0 = rc * j.pointee.rowChunk, r1 = min(j.pointee.rows, r0 + j.pointee.rowChunk)
    let t0 = tc * j.pointee.tokChunk, t1 = min(j.pointee.nTokens, t0 + j.pointee.tokChunk)
    ck_gemm_qx(j.pointee.isa, j.pointee.type, j.pointee.w, j.pointee.wx, Int32(j.pointee.rows), j.pointee.rowBytes, Int32(r0), Int32(r1),
              Int32(j.pointee.cols), j.pointee.act, Int32(t0), Int32(t1), j.pointee.y, j.pointee.ldy)
}

@inline(__always) private func align64(_ n: Int) -> Int { (n + 63) & ~63 }

/// Work split: rows in chunks of a multiple of 32 (whole pairs of 16-row groups of the
/// interleaved layout, which the kernel does in one pass), about 8 chunks per thread, x tokens
/// in chunks of 64. Never splits a dot product. `MatMulDispatch.run` hands each thread a
/// contiguous range of chunks, and a thread whose range is done takes half of another's, so a
/// few chunks per thread balance; fewer, larger chunks keep the per-chunk claim (an atomic)
/// small against the work, which for one token is only a few microseconds per matrix.
@inline(__always) private func workSplit(rows: Int, nTokens: Int, threads: Int) -> (rowChunk: Int, tokChunk: Int) {
    (max(32, (rows / (threads * 8) + 31) & ~31), min(nTokens, 64))
}

/// Per-token work that produces a product's input rows (a norm, a residual add), run for tokens
/// [t0, t1) by `fn(context, t0, t1)`. Given to `matmulFused` / `matmulGLU`, it runs inside their
/// dispatch, each thread on the tokens it then quantizes, instead of on the caller alone before it.
public struct TokenPrologue {
    public let fn: @convention(c) (UnsafeMutableRawPointer?, Int, Int) -> Void
    public let context: UnsafeMutableRawPointer

    public init(_ fn: @convention(c) (UnsafeMutableRawPointer?, Int, Int) -> Void, context: UnsafeMutableRawPointer) {
        self.fn = fn
        self.context = context
    }

    @inline(__always) func run(_ t0: Int, _ t1: Int) { fn(context, t0, t1) }
}

/// Up to three quantized products over the same activations, run as one pool dispatch.
private struct FusedJob {
    var jobs: (GemmJob, GemmJob, GemmJob)
    /// Tasks of job 0, of jobs 0 and 1, of all three.
    var ends: (Int, Int, Int)
}

private let fusedJobTask: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { ctx, task in
    let f = ctx.unsafelyUnwrapped.assumingMemoryBound(to: FusedJob.self)
    if task < f.pointee.ends.0 {
        withUnsafeMutablePointer(to: &f.pointee.jobs.0) { gemmJobTask(UnsafeMutableRawPointer($0), task) }
    } else if task < f.pointee.ends.1 {
        withUnsafeMutablePointer(to: &f.pointee.jobs.1) { gemmJobTask(UnsafeMutableRawPointer($0), task - f.pointee.ends.0) }
    } else {
        withUnsafeMutablePointer(to: &f.pointee.jobs.2) { gemmJobTask(UnsafeMutableRawPointer($0), task - f.pointee.ends.1) }
    }
}

/// Two or three products of the same activations (q, k, v; or gate, up): the activations are
/// quantized once and all products run in one pool dispatch. Each output is bitwise what a
/// separate `matmul` gives (same kernels, same per-(row, token) order). Falls back to separate
/// calls unless every matrix has the same type and width and an integer kernel. `prologue` (if
/// any) first writes the rows of x (see `TokenPrologue`).
public func matmulFused(_ w0: WeightMatrix, _ y0: UnsafeMutablePointer<Float>, ldy0: Int,
                        _ w1: WeightMatrix, _ y1: UnsafeMutablePointer<Float>, ldy1: Int,
                        _ w2: WeightMatrix?, _ y2: UnsafeMutablePointer<Float>?, ldy2: Int,
                        x: UnsafePointer<Float>, ldx: Int, nTokens: Int, pool: ThreadPool, scratch: MatMulScratch,
                        prologue: TokenPrologue? = nil) {
    let sameShape = w1.type == w0.type && w1.cols == w0.cols && (w2.map { $0.type == w0.type && $0.cols == w0.cols } ?? true)
    let type = Int32(w0.type.rawValue)
    guard nTokens > 0, sameShape, ck_type_act_block(type) > 0, w0.rows > 0, w1.rows > 0, (w2?.rows ?? 1) > 0 else {
        if nTokens > 0 { prologue?.run(0, nTokens) }
        matmul(w0, x, ldx: ldx, nTokens: nTokens, y0, ldy: ldy0, pool: pool, scratch: scratch)
        matmul(w1, x, ldx: ldx, nTokens: nTokens, y1, ldy: ldy1, pool: pool, scratch: scratch)
        if let w2, let y2 { matmul(w2, x, ldx: ldx, nTokens: nTokens, y2, ldy: ldy2, pool: pool, scratch: scratch) }
        return
    }
    let isa = KernelDispatch.active.rawValue
    let threads = pool.threadCount
    let parts = packParts(w0) | packParts(w1) | (w2.map { packParts($0) } ?? 0)
    quantizedActivations(type: type, isa: isa, x: x, ldx: ldx, cols: w0.cols, nTokens: nTokens, packParts: parts, threads: threads,
                         pool: pool, scratch: scratch, prologue: prologue) { ap, dispatch in
        func job(_ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>, _ ldy: Int) -> (GemmJob, Int) {
            let (rc, tc) = workSplit(rows: w.rows, nTokens: nTokens, threads: threads)
            let nr = (w.rows + rc - 1) / rc
            let nt = (nTokens + tc - 1) / tc
            return (GemmJob(isa: isa, type: type, w: w.data, wx: w.interleaved, rowBytes: w.rowBytes, rows: w.rows, cols: w.cols, act: ap,
                            nTokens: nTokens, y: y, ldy: ldy, nr: nr, rowChunk: rc, tokChunk: tc), nr * nt)
        }
        let (j0, n0) = job(w0, y0, ldy0)
        let (j1, n1) = job(w1, y1, ldy1)
        var j2 = j0
        var n2 = 0
        if let w2, let y2 { (j2, n2) = job(w2, y2, ldy2) }
        var fused = FusedJob(jobs: (j0, j1, j2), ends: (n0, n0 + n1, n0 + n1 + n2))
        withUnsafeMutablePointer(to: &fused) { fp in
            dispatch.run(n0 + n1 + n2, context: UnsafeMutableRawPointer(fp), fusedJobTask)
        }
    }
}

/// A gate/up pair and its gated activation as one dispatch: each task computes the same rows of
/// both products for its tokens, then applies the activation to that tile.
private struct GLUJob {
    var gate: GemmJob
    var up: GemmJob
    let out: UnsafeMutablePointer<Float>
    let kind: Int32
    let actISA: Int32
}

private let gluJobTask: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { ctx, task in
    let g = ctx.unsafelyUnwrapped.assumingMemoryBound(to: GLUJob.self)
    withUnsafeMutablePointer(to: &g.pointee.gate) { gemmJobTask(UnsafeMutableRawPointer($0), task) }
    withUnsafeMutablePointer(to: &g.pointee.up) { gemmJobTask(UnsafeMutableRawPointer($0), task) }
    let j = g.pointee.gate
    let rc = task % j.nr, tc = task / j.nr
    let r0 = rc * j.rowChunk, r1 = min(j.rows, r0 + j.rowChunk)
    let t0 = tc * j.tokChunk, t1 = min(j.nTokens, t0 + j.tokChunk)
    for t in t0..<t1 {
        let gp = j.y + t * j.ldy + r0, upp = g.pointee.up.y + t * g.pointee.up.ldy + r0
        ck_activation(g.pointee.actISA, g.pointee.kind, gp, upp, Int32(r1 - r0), g.pointee.out + t * j.ldy + r0)
    }
}

/// The gated feed-forward input: out[t*ldy + r] = act(gate_r · x_t) * (up_r · x_t), with act SiLU
/// or GELU (tanh). The activations are quantized once and each task computes the same rows of
/// both products and applies the activation to them while they are in cache. Bitwise what
/// `matmulFused` followed by `siluMul` / `geluTanhMul` gives. `gateOut` and `upOut` receive the
/// two products (`out` may be `gateOut`).
public func matmulGLU(gate: WeightMatrix, up: WeightMatrix, x: UnsafePointer<Float>, ldx: Int, nTokens: Int,
                      gateOut: UnsafeMutablePointer<Float>, upOut: UnsafeMutablePointer<Float>,
                      out: UnsafeMutablePointer<Float>, ldy: Int, gelu: Bool, pool: ThreadPool, scratch: MatMulScratch,
                      prologue: TokenPrologue? = nil) {
    let type = Int32(gate.type.rawValue)
    let kind: Int32 = gelu ? 1 : 0
    guard nTokens > 0, gate.rows > 0, up.type == gate.type, up.rows == gate.rows, up.cols == gate.cols,
          ck_type_act_block(type) > 0 else {
        matmulFused(gate, gateOut, ldy0: ldy, up, upOut, ldy1: ldy, nil, nil, ldy2: 0,
                    x: x, ldx: ldx, nTokens: nTokens, pool: pool, scratch: scratch, prologue: prologue)
        for t in 0..<nTokens {
            ck_activation(ck_active_isa(), kind, gateOut + t * ldy, upOut + t * ldy, Int32(gate.rows), out + t * ldy)
        }
        return
    }
    let isa = KernelDispatch.active.rawValue
    let threads = pool.threadCount
    let parts = packParts(gate) | packParts(up)
    quantizedActivations(type: type, isa: isa, x: x, ldx: ldx, cols: gate.cols, nTokens: nTokens, packParts: parts,
                         threads: threads, pool: pool, scratch: scratch, prologue: prologue) { ap, dispatch in
        let (rc, tc) = workSplit(rows: gate.rows, nTokens: nTokens, threads: threads)
        let nr = (gate.rows + rc - 1) / rc
        let nt = (nTokens + tc - 1) / tc
        func job(_ w: WeightMatrix, _ y: UnsafeMutablePointer<Float>) -> GemmJob {
            GemmJob(isa: isa, type: type, w: w.data, wx: w.interleaved, rowBytes: w.rowBytes, rows: w.rows, cols: w.cols,
                    act: ap, nTokens: nTokens, y: y, ldy: ldy, nr: nr, rowChunk: rc, tokChunk: tc)
        }
        var glu = GLUJob(gate: job(gate, gateOut), up: job(up, upOut), out: out, kind: kind, actISA: ck_active_isa())
        withUnsafeMutablePointer(to: &glu) { gp in
            dispatch.run(nr * nt, context: UnsafeMutableRawPointer(gp), gluJobTask)
        }
    }
}

/// What the kernels need besides the quantized activations for `w`: the block sums for the
/// row-interleaved layout (not for Q4_1 / Q5_1, whose weights are unsigned), else the
/// token-interleaved copy.
@inline(__always) private func packParts(_ w: WeightMatrix) -> Int32 {
    guard w.interleaved != nil else { return Int32(CK_PACK_COPY) }
    return w.type == .q4_1 || w.type == .q5_1 ? 0 : Int32(CK_PACK_SUMS)
}

/// Quantization of a token range, run as the first phase of a matmul dispatch.
private struct QuantPhase {
    let isa: Int32, actBlock: Int32
    let x: UnsafePointer<Float>
    let ldx: Int, cols: Int32, nTokens: Int, perTask: Int
    var act: ck_act
    let sums: UnsafeMutablePointer<Int32>?
    let prologue: TokenPrologue?
}

private let quantPhaseTask: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { ctx, task in
    let q = ctx.unsafelyUnwrapped.assumingMemoryBound(to: QuantPhase.self)
    let t0 = task * q.pointee.perTask, t1 = min(q.pointee.nTokens, t0 + q.pointee.perTask)
    q.pointee.prologue?.run(t0, t1)
    withUnsafePointer(to: q.pointee.act) { ap in   // a copy: tasks run at once, none writes it
        ck_quantize_act_range(q.pointee.isa, q.pointee.actBlock, q.pointee.x, q.pointee.ldx, q.pointee.cols,
                              Int32(t0), Int32(t1), ap, q.pointee.sums)
    }
}

/// Runs a matmul's tasks; when the activations still have to be quantized, that happens in the
/// same dispatch as a first phase (every thread quantizes some tokens, then all multiply).
private struct MatMulDispatch {
    let pool: ThreadPool
    let phase: UnsafeMutablePointer<QuantPhase>?
    let phaseTasks: Int

    /// Runs units 0..<n of `fn` in contiguous ranges, one per thread (`ThreadPool.runRanged`):
    /// a thread's units are adjacent rows, so its weight reads form one stream instead of pieces
    /// interleaved with the other threads'.
    func run(_ n: Int, context: UnsafeMutableRawPointer, _ fn: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void) {
        if let phase {
            pool.runPhasedRanged(phaseTasks, context: UnsafeMutableRawPointer(phase), quantPhaseTask, then: n, context: context, fn)
        } else {
            pool.runRanged(n, context: context, fn)
        }
    }
}

/// Lays out quantized activations for `nTokens` rows of x in `scratch` and hands their
/// description to `body` with the dispatcher to run the products with. With several threads and
/// tokens, and no token-interleaved copy needed, the quantization itself (and the block sums)
/// is the first phase of that dispatch; otherwise it is done here first (and packed).
private func quantizedActivations(type: Int32, isa: Int32, x: UnsafePointer<Float>, ldx: Int, cols: Int, nTokens: Int,
                                  packParts: Int32, threads: Int, pool: ThreadPool, scratch: MatMulScratch,
                                  prologue: TokenPrologue? = nil,
                                  _ body: (UnsafePointer<ck_act>, MatMulDispatch) -> Void) {
    let actBlock = Int(ck_type_act_block(type))
    let nb = cols / actBlock
    let qStride = align64(cols)
    let dStride = nb
    let bStride = actBlock == 256 ? nb * 16 : 0
    let qBytes = align64(qStride * nTokens)
    let dBytes = align64(dStride * nTokens * 4)
    let sBytes = actBlock == 32 ? dBytes : 0
    let bBytes = align64(bStride * nTokens * 2)
    // The token-interleaved copy, then the block sums (each 0 bytes when not wanted at this level).
    let copyBytes = actBlock == 32 ? ck_pack_act32_bytes(isa, Int32(cols), Int32(nTokens), packParts & Int32(CK_PACK_COPY)) : 0
    let sumsBytes = actBlock == 32 ? ck_pack_act32_bytes(isa, Int32(cols), Int32(nTokens), packParts & Int32(CK_PACK_SUMS)) : 0
    let base = scratch.buffer(qBytes + dBytes + sBytes + bBytes + copyBytes + sumsBytes)
    let q = base.assumingMemoryBound(to: Int8.self)
    let d = (base + qBytes).assumingMemoryBound(to: Float.self)
    let s = (base + qBytes + dBytes).assumingMemoryBound(to: Float.self)
    let bs = (base + qBytes + dBytes + sBytes).assumingMemoryBound(to: Int16.self)
    let copyBase = base + qBytes + dBytes + sBytes + bBytes
    let sums = sumsBytes > 0 ? (copyBase + copyBytes).assumingMemoryBound(to: Int32.self) : nil
    var act = ck_act(q: UnsafePointer(q), d: UnsafePointer(d), s: UnsafePointer(s), bsums: UnsafePointer(bs),
                     qStride: qStride, dStride: dStride, bStride: bStride, pq: nil, pd: nil, ps: nil, pn: 0,
                     asum: sums.map { UnsafePointer($0) })

    if threads > 1 && nTokens >= 4 && copyBytes == 0 {
        let perTask = max(1, min(8, nTokens / (2 * threads)))
        var phase = QuantPhase(isa: isa, actBlock: Int32(actBlock), x: x, ldx: ldx, cols: Int32(cols), nTokens: nTokens,
                               perTask: perTask, act: act, sums: sums, prologue: prologue)
        withUnsafeMutablePointer(to: &phase) { pp in
            withUnsafePointer(to: &act) { ap in
                body(ap, MatMulDispatch(pool: pool, phase: pp, phaseTasks: (nTokens + perTask - 1) / perTask))
            }
        }
        return
    }
    prologue?.run(0, nTokens)
    withUnsafePointer(to: &act) { ap in
        ck_quantize_act_range(isa, Int32(actBlock), x, ldx, Int32(cols), 0, Int32(nTokens), ap, sums)
    }
    if copyBytes > 0 {
        ck_pack_act32(isa, &act, Int32(cols), Int32(nTokens), copyBase)
    }
    withUnsafePointer(to: &act) { body($0, MatMulDispatch(pool: pool, phase: nil, phaseTasks: 0)) }
}

/// y[t*ldy + r] = dot(w.row(r), x[t*ldx ..< t*ldx+cols]) for t in 0..<nTokens, r in 0..<w.rows.
///
/// Quantized weights: activations are first quantized per block to 8 bits (blocks of 32 for
/// the 32-element formats, blocks of 256 with per-16 sums for K-quants), integer dot products
/// accumulate exactly in Int32 per block, then are scaled and summed in Float in one fixed
/// order. Each output depends only on its own row and token: results are bitwise identical
/// whatever nTokens, thread count or kernel level.
/// F32/F16/BF16 weights use a float dot with the same fixed 16-lane order.
public func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, ldx: Int, nTokens: Int,
                   _ y: UnsafeMutablePointer<Float>, ldy: Int, pool: ThreadPool, scratch: MatMulScratch) {
    matmul(w, x, ldx: ldx, nTokens: nTokens, y, ldy: ldy, pool: pool, scratch: scratch, level: KernelDispatch.active)
}

/// `matmul` with an explicit kernel level (capped to what the CPU supports). All levels give
/// bitwise-identical results; this exists for tests and benchmarks.
public func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, ldx: Int, nTokens: Int,
                   _ y: UnsafeMutablePointer<Float>, ldy: Int, pool: ThreadPool, scratch: MatMulScratch,
                   level: KernelDispatch.Level) {
    guard nTokens > 0, w.rows > 0 else { return }
    precondition(w.type.isSupportedForCompute, "matmul: \(w.type) weights are not supported")
    let isa = min(level, KernelDispatch.detected).rawValue
    let type = Int32(w.type.rawValue)
    let rows = w.rows, cols = w.cols, rowBytes = w.rowBytes
    let threads = pool.threadCount

    let (rowChunk, tokChunk) = workSplit(rows: rows, nTokens: nTokens, threads: threads)
    let nr = (rows + rowChunk - 1) / rowChunk
    let nt = (nTokens + tokChunk - 1) / tokChunk

    if ck_type_act_block(type) > 0 {
        quantizedActivations(type: type, isa: isa, x: x, ldx: ldx, cols: cols, nTokens: nTokens, packParts: packParts(w), threads: threads,
                             pool: pool, scratch: scratch) { ap, dispatch in
            var job = GemmJob(isa: isa, type: type, w: w.data, wx: w.interleaved, rowBytes: rowBytes, rows: rows, cols: cols,
                              act: ap, nTokens: nTokens, y: y, ldy: ldy, nr: nr, rowChunk: rowChunk, tokChunk: tokChunk)
            withUnsafeMutablePointer(to: &job) { jp in
                dispatch.run(nr * nt, context: UnsafeMutableRawPointer(jp), gemmJobTask)
            }
        }
        return
    }

    switch w.type {
    case .f32, .f16, .bf16:
        pool.run(nr * nt) { task in
            let rc = task % nr, tc = task / nr
            let r0 = rc * rowChunk, r1 = min(rows, r0 + rowChunk)
            let t0 = tc * tokChunk, t1 = min(nTokens, t0 + tokChunk)
            ck_gemm_f(isa, type, w.data, rowBytes, Int32(r0), Int32(r1), Int32(cols), x, ldx,
                      Int32(t0), Int32(t1), y, ldy)
        }
    default:
        // Formats without an integer kernel: dequantize each row, then the canonical float dot.
        pool.run(nr * nt) { task in
            let rc = task % nr, tc = task / nr
            let r0 = rc * rowChunk, r1 = min(rows, r0 + rowChunk)
            let t0 = tc * tokChunk, t1 = min(nTokens, t0 + tokChunk)
            let tmp = UnsafeMutablePointer<Float>.allocate(capacity: cols)
            defer { tmp.deallocate() }
            for r in r0..<r1 {
                dequantizeRow(w, row: r, into: tmp)
                for t in t0..<t1 {
                    y[t * ldy + r] = ck_dot_f32(isa, tmp, x + t * ldx, Int32(cols))
                }
            }
        }
    }
}
