import CKernels

// Measured on the development machine (AMD EPYC, 2 cores, AVX-512 VNNI), per-call p10, weights
// streamed from DRAM (256 MiB working set) unless noted:
//   matvec  Q4_1 1536x576: 16.7 GB/s (1 thread), 24.2 GB/s (2); in cache 30 / 40 GB/s
//           Q8_0 1536x576: 18.1 / 30.1 GB/s;  Q4_K 2048x2048: 26.8 / 37.0 GB/s;  Q6_K 2048x2048: 34.9 / 37.9 GB/s
//   matmul  Q4_1 576 cols x 1536 rows, 128 tokens: 146 GFLOP/s (1 thread), 251 GFLOP/s (2)
//           Q4_1 1536 cols x 576 rows, 128 tokens: 152 / 266 GFLOP/s
// The machine is shared; 2-thread numbers vary with other load.

/// Result of a kernel micro-benchmark.
public struct KernelBenchmarkResult: Sendable, CustomStringConvertible {
    public let type: QuantType
    public let rows: Int
    public let cols: Int
    public let nTokens: Int
    public let threads: Int
    /// Seconds per matmul call: the 10th percentile of per-call times (robust to other load
    /// on a shared machine; see `medianSeconds`).
    public let secondsPerCall: Double
    /// Median seconds per call.
    public let medianSeconds: Double
    /// Weight bytes streamed per second.
    public var gigabytesPerSecond: Double { Double(type.rowBytes(cols) * rows) / secondsPerCall / 1e9 }
    /// 2*rows*cols*nTokens per second.
    public var gflops: Double { 2 * Double(rows) * Double(cols) * Double(nTokens) / secondsPerCall / 1e9 }

    public var description: String {
        func f(_ v: Double, _ digits: Int) -> String {
            let p = Double([1, 10, 100, 1000][digits])
            return "\((v * p).rounded() / p)"
        }
        return "\(type) \(rows)x\(cols) tokens=\(nTokens) threads=\(threads): \(f(secondsPerCall * 1e6, 1)) us/call "
            + "(median \(f(medianSeconds * 1e6, 1))), \(f(gigabytesPerSecond, 2)) GB/s, \(f(gflops, 1)) GFLOP/s"
    }
}

/// Fills `count` bytes of `type` blocks with random content and small valid f16 scales.
func fillRandomBlocks(_ type: QuantType, _ p: UnsafeMutableRawPointer, bytes: Int, seed: UInt64) {
    var s = seed | 1
    let u8 = p.assumingMemoryBound(to: UInt8.self)
    for i in 0..<bytes {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17
        u8[i] = UInt8(truncatingIfNeeded: s)
    }
    let scaleOffsets: [Int]
    switch type {
    case .f32:
        let f = p.assumingMemoryBound(to: Float.self)
        for i in 0..<(bytes / 4) { f[i] = Float(Int(u8[i * 4]) - 128) / 128 }
        return
    case .f16, .bf16:
        for i in 0..<(bytes / 2) { u8[2 * i + 1] &= 0x3B }
        return
    case .q4_0, .q5_0, .q8_0: scaleOffsets = [0]
    case .q4_1, .q5_1, .q4_K, .q5_K: scaleOffsets = [0, 2]
    case .q6_K: scaleOffsets = [208]
    case .q2_K: scaleOffsets = [80, 82]
    case .q3_K: scaleOffsets = [108]
    default: scaleOffsets = []
    }
    let bb = type.blockBytes
    for b in 0..<(bytes / bb) {
        for o in scaleOffsets { u8[b * bb + o] = 0x00; u8[b * bb + o + 1] = 0x20 }
    }
}

/// Times `matmul` on a random `rows` x `cols` matrix of `type` with `nTokens` activations.
/// For small matrices, many copies are cycled through (at least `minWorkingSetBytes` in all) so
/// that weights stream from memory as in a real decode step instead of staying in cache.
public func benchmarkMatVec(type: QuantType, rows: Int, cols: Int, nTokens: Int = 1, threads: Int,
                            minDuration: Double = 0.5, minWorkingSetBytes: Int = 256 << 20) -> KernelBenchmarkResult {
    let matBytes = type.rowBytes(cols) * rows
    let copies = max(1, minWorkingSetBytes / max(matBytes, 1))
    let buf = UnsafeMutableRawPointer.allocate(byteCount: matBytes * copies, alignment: 64)
    defer { buf.deallocate() }
    fillRandomBlocks(type, buf, bytes: matBytes, seed: 0x1234_5678)
    for c in 1..<max(copies, 1) { (buf + c * matBytes).copyMemory(from: buf, byteCount: matBytes) }
    let x = UnsafeMutablePointer<Float>.allocate(capacity: cols * nTokens)
    defer { x.deallocate() }
    for i in 0..<(cols * nTokens) { x[i] = Float((i * 7919) % 1000) / 500 - 1 }
    let y = UnsafeMutablePointer<Float>.allocate(capacity: rows * nTokens)
    defer { y.deallocate() }
    let pool = ThreadPool(threadCount: threads)
    let scratch = MatMulScratch()
    let mats = (0..<copies).map { WeightMatrix(data: buf + $0 * matBytes, type: type, rows: rows, cols: cols).withInterleavedCopy() }
    // warm up
    for m in mats.prefix(4) { matmul(m, x, ldx: cols, nTokens: nTokens, y, ldy: rows, pool: pool, scratch: scratch) }
    var i = 0
    let times = timeCalls(minDuration: minDuration) {
        matmul(mats[i], x, ldx: cols, nTokens: nTokens, y, ldy: rows, pool: pool, scratch: scratch)
        i = (i + 1) % mats.count
    }
    return KernelBenchmarkResult(type: type, rows: rows, cols: cols, nTokens: nTokens, threads: threads,
                                 secondsPerCall: times.p10, medianSeconds: times.median)
}

/// Times `matmul` on a given matrix (e.g. a tensor of a loaded model).
public func benchmarkMatMul(_ w: WeightMatrix, nTokens: Int, pool: ThreadPool, minDuration: Double = 0.5) -> KernelBenchmarkResult {
    let x = UnsafeMutablePointer<Float>.allocate(capacity: w.cols * nTokens)
    defer { x.deallocate() }
    for i in 0..<(w.cols * nTokens) { x[i] = Float((i * 7919) % 1000) / 500 - 1 }
    let y = UnsafeMutablePointer<Float>.allocate(capacity: w.rows * nTokens)
    defer { y.deallocate() }
    let scratch = MatMulScratch()
    matmul(w, x, ldx: w.cols, nTokens: nTokens, y, ldy: w.rows, pool: pool, scratch: scratch)
    let times = timeCalls(minDuration: minDuration) {
        matmul(w, x, ldx: w.cols, nTokens: nTokens, y, ldy: w.rows, pool: pool, scratch: scratch)
    }
    return KernelBenchmarkResult(type: w.type, rows: w.rows, cols: w.cols, nTokens: nTokens, threads: pool.threadCount,
                                 secondsPerCall: times.p10, medianSeconds: times.median)
}

/// Times single calls of `body` until `minDuration` has passed; returns percentiles in seconds.
func timeCalls(minDuration: Double, _ body: () -> Void) -> (p10: Double, median: Double) {
    var samples: [Double] = []
    let start = ck_now_ns()
    var last = start
    repeat {
        body()
        let now = ck_now_ns()
        samples.append(Double(now - last) / 1e9)
        last = now
    } while Double(last - start) / 1e9 < minDuration || samples.count < 5
    samples.sort()
    return (samples[samples.count / 10], samples[samples.count / 2])
}
