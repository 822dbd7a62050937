import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// Memory read bandwidth: the ceiling for decoding, which reads every weight once per token.
public enum BandwidthProbe {
    /// Bytes per second read by `threads` threads streaming through disjoint parts of a
    /// `bytes`-byte buffer (large enough to defeat the caches), best of `repetitions`.
    public static func readBandwidth(threads: Int, bytes: Int = 512 << 20, repetitions: Int = 5) -> Double {
        let size = bytes / (64 * max(1, threads)) * 64 * max(1, threads)
        guard let raw = aligned_alloc(64, size) else { return 0 }
        defer { free(raw) }
        memset(raw, 0x5A, size) // touch every page before timing
        let pool = ThreadPool(threadCount: threads)
        let chunk = size / max(1, threads)
        let base = UnsafeRawPointer(raw)
        var best = 0.0
        var sink: UInt64 = 0
        for _ in 0 ..< repetitions {
            var sums = [UInt64](repeating: 0, count: threads)
            var start = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            sums.withUnsafeMutableBufferPointer { out in
                pool.run(threads) { i in out[i] = ck_read_stream(base + i * chunk, chunk) }
            }
            var end = timespec()
            clock_gettime(CLOCK_MONOTONIC, &end)
            let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
            best = max(best, Double(size) / seconds)
            sink ^= sums.reduce(0, ^)
        }
        // Keep the checksum alive so the reads are not optimized out.
        if sink == 0x1234_5678_9ABC_DEF0 { best += 0 }
        return best
    }
}
