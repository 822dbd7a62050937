import Foundation
import Testing
import Kernels

/// Paged attention over an F16 K/V cache (IEEE binary16 bit patterns).
@Suite struct PagedAttentionF16Tests {
    struct Shape: CustomTestStringConvertible, Sendable {
        let headDim: Int
        let blockSize: Int
        let nHeads: Int
        let kvHeads: Int
        let windowStart: Int
        let contextLen: Int
        var testDescription: String {
            "hd \(headDim), block \(blockSize), \(nHeads)/\(kvHeads) heads, positions \(windowStart)..<\(contextLen)"
        }
    }

    /// Head dims 64/128/256 (the AVX-512 group kernels) and 80 (the generic one), GQA groups of
    /// 1 to 18 query heads per kv head (more than 16 splits a group), blocks of 1 to 128 tokens
    /// (longer than the kernels' 64-position chunks), sliding-window starts.
    static let shapes: [Shape] = [
        Shape(headDim: 64, blockSize: 16, nHeads: 9, kvHeads: 3, windowStart: 0, contextLen: 70),
        Shape(headDim: 64, blockSize: 1, nHeads: 4, kvHeads: 4, windowStart: 0, contextLen: 21),
        Shape(headDim: 64, blockSize: 5, nHeads: 18, kvHeads: 1, windowStart: 3, contextLen: 50),
        Shape(headDim: 128, blockSize: 32, nHeads: 8, kvHeads: 2, windowStart: 5, contextLen: 100),
        Shape(headDim: 128, blockSize: 16, nHeads: 2, kvHeads: 2, windowStart: 0, contextLen: 1),
        Shape(headDim: 256, blockSize: 16, nHeads: 4, kvHeads: 1, windowStart: 30, contextLen: 75),
        Shape(headDim: 256, blockSize: 128, nHeads: 8, kvHeads: 2, windowStart: 0, contextLen: 200),
        Shape(headDim: 80, blockSize: 8, nHeads: 6, kvHeads: 2, windowStart: 16, contextLen: 48),
        // Contexts over several 512-position partitions (folded in order), a one-position last
        // partition, and windows that start inside a partition.
        Shape(headDim: 64, blockSize: 16, nHeads: 9, kvHeads: 3, windowStart: 0, contextLen: 1100),
        Shape(headDim: 128, blockSize: 32, nHeads: 8, kvHeads: 2, windowStart: 0, contextLen: 1025),
        Shape(headDim: 256, blockSize: 16, nHeads: 4, kvHeads: 1, windowStart: 700, contextLen: 1300),
        Shape(headDim: 80, blockSize: 8, nHeads: 6, kvHeads: 2, windowStart: 100, contextLen: 700),
    ]

    /// Long contexts split across threads: each partition of each kv head's query heads computed
    /// on its own (`pagedAttentionPartition`), then folded (`mergeAttentionPartitions`), gives the
    /// whole call's bits at every level.
    @Test(arguments: shapes.filter { $0.contextLen > 512 })
    func partitionsComputedApartFoldToTheSameBits(_ shape: Shape) {
        let c = Case(shape, seed: UInt64(shape.contextLen + 5))
        let s = shape, width = s.nHeads * s.headDim
        let parts = attentionPartitions(windowStart: s.windowStart, contextLen: s.contextLen)
        #expect(parts.count == (s.contextLen - 1) / 512 - s.windowStart / 512 + 1 && parts.count > 1)
        let group = s.nHeads / s.kvHeads
        for level in Self.levels {
            let whole = c.run(f16: true, level: level)
            var outs = [Float](repeating: .nan, count: parts.count * width)
            var mls = [Float](repeating: .nan, count: parts.count * 2 * s.nHeads)
            // Partitions in reverse, kv head by kv head: the order of the work does not matter.
            for (k, p) in parts.enumerated().reversed() {
                for kv in 0 ..< s.kvHeads {
                    let heads = kv * group ..< (kv + 1) * group
                    c.k16.withUnsafeBytes { kb in
                        c.v16.withUnsafeBytes { vb in
                            outs.withUnsafeMutableBufferPointer { o in
                                mls.withUnsafeMutableBufferPointer { m in
                                    pagedAttentionPartition(q: c.q, kCache: kb.baseAddress!, vCache: vb.baseAddress!, kvType: .f16,
                                                            blockTable: c.table, blockSize: s.blockSize,
                                                            windowStart: s.windowStart, contextLen: s.contextLen,
                                                            partition: p, nHeads: s.nHeads, kvHeads: s.kvHeads,
                                                            headDim: s.headDim, scale: c.scale,
                                                            out: o.baseAddress! + k * width + heads.lowerBound * s.headDim,
                                                            ml: m.baseAddress! + k * 2 * s.nHeads + 2 * heads.lowerBound,
                                                            heads: heads, level: level)
                                }
                            }
                        }
                    }
                }
            }
            var merged = [Float](repeating: .nan, count: width)
            mergeAttentionPartitions(nHeads: s.nHeads, headDim: s.headDim, parts: parts.count, outs: outs, outStride: width,
                                     mls: mls, mlStride: 2 * s.nHeads, out: &merged)
            #expect(merged.map(\.bitPattern) == whole.map(\.bitPattern), "\(level)")
        }
    }

    static let levels = [KernelDispatch.Level.portable, .avx2, .avx512].filter { $0 <= KernelDispatch.detected }

    /// A random cache for `s` behind a shuffled block table: F16 bits, the same values widened, and q.
    struct Case {
        let s: Shape
        let table: [Int32]
        let k16: [UInt16], v16: [UInt16]
        let kWide: [Float], vWide: [Float]
        let q: [Float]
        let scale: Float

        init(_ s: Shape, seed: UInt64) {
            self.s = s
            var rng = TestRNG(seed: seed)
            let (table, k, v) = PagedAttentionF16Tests.randomCache(s, &rng)
            self.table = table
            let count = k.count
            var k16 = [UInt16](repeating: 0, count: count), v16 = k16
            convertToF16(k, &k16, count: count, level: .portable)
            convertToF16(v, &v16, count: count, level: .portable)
            var kWide = [Float](repeating: 0, count: count), vWide = kWide
            convertFromF16(k16, &kWide, count: count, level: .portable)
            convertFromF16(v16, &vWide, count: count, level: .portable)
            (self.k16, self.v16, self.kWide, self.vWide) = (k16, v16, kWide, vWide)
            q = rng.floats(s.nHeads * s.headDim, scale: 1)
            scale = 1 / Float(s.headDim).squareRoot()
        }

        func run(f16: Bool, level: KernelDispatch.Level, heads: Range<Int>? = nil) -> [Float] {
            let range = heads ?? 0 ..< s.nHeads
            guard f16 else {
                return PagedAttentionF16Tests.runFloat(s, table: table, q: q, scale: scale, k: kWide, v: vWide, level: level, heads: range)
            }
            var out = [Float](repeating: .nan, count: s.nHeads * s.headDim)
            pagedAttention(q: q, kCache: k16, vCache: v16, blockTable: table, blockSize: s.blockSize,
                           windowStart: s.windowStart, contextLen: s.contextLen, nHeads: s.nHeads, kvHeads: s.kvHeads,
                           headDim: s.headDim, scale: scale, out: &out, heads: range, level: level)
            return out
        }

        /// Softmax attention in Double over the F16-rounded K/V, straight from the definition.
        func reference() -> [Double] { PagedAttentionF16Tests.reference(s, table: table, q: q, scale: scale, k: kWide, v: vWide) }
    }

    /// A shuffled block table for `s` (its logical blocks among 3 more physical ones) and random K
    /// and V for every physical position: K with a spread of magnitudes (large scores make the
    /// softmax peaky), V in [-2, 2).
    static func randomCache(_ s: Shape, _ rng: inout TestRNG) -> (table: [Int32], k: [Float], v: [Float]) {
        let numLogical = (s.contextLen + s.blockSize - 1) / s.blockSize
        let numBlocks = numLogical + 3
        var phys = Array(0 ..< numBlocks)
        for i in stride(from: phys.count - 1, to: 0, by: -1) { phys.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        let count = numBlocks * s.blockSize * s.kvHeads * s.headDim
        let k = rng.floats(count, scale: 4), v = rng.floats(count, scale: 2)
        return (phys.prefix(numLogical).map { Int32($0) }, k, v)
    }

    /// The Float32 kernel over `k` / `v` for the heads in `heads`.
    static func runFloat(_ s: Shape, table: [Int32], q: [Float], scale: Float, k: [Float], v: [Float],
                         level: KernelDispatch.Level, heads: Range<Int>) -> [Float] {
        var out = [Float](repeating: .nan, count: s.nHeads * s.headDim)
        pagedAttention(q: q, kCache: k, vCache: v, blockTable: table, blockSize: s.blockSize,
                       windowStart: s.windowStart, contextLen: s.contextLen, nHeads: s.nHeads, kvHeads: s.kvHeads,
                       headDim: s.headDim, scale: scale, out: &out, heads: heads, level: level)
        return out
    }

    /// Softmax attention in Double over Float K/V (layout `[block][pos][kvHeads][headDim]` behind
    /// `table`), straight from the definition.
    static func reference(_ s: Shape, table: [Int32], q: [Float], scale: Float, k: [Float], v: [Float]) -> [Double] {
        let hd = s.headDim, perPos = s.kvHeads * hd
        var out = [Double](repeating: 0, count: s.nHeads * hd)
        for h in 0 ..< s.nHeads {
            let kvh = h / (s.nHeads / s.kvHeads)
            func at(_ cache: [Float], _ p: Int, _ d: Int) -> Double {
                Double(cache[(Int(table[p / s.blockSize]) * s.blockSize + p % s.blockSize) * perPos + kvh * hd + d])
            }
            let positions = Array(s.windowStart ..< s.contextLen)
            let scores = positions.map { p in
                (0 ..< hd).reduce(0.0) { $0 + Double(q[h * hd + $1]) * at(k, p, $1) } * Double(scale)
            }
            let m = scores.max()!
            let e = scores.map { exp($0 - m) }
            let sum = e.reduce(0, +)
            for d in 0 ..< hd {
                for (j, p) in positions.enumerated() { out[h * hd + d] += e[j] / sum * at(v, p, d) }
            }
        }
        return out
    }

    /// Same tolerance as the Float32 kernel's test against its naive reference (FloatOpsTests).
    static func close(_ a: Float, _ b: Double) -> Bool { abs(Double(a) - b) <= 1e-5 + 1e-4 * abs(b) }

    /// Every level against a Double softmax over the F16-rounded values; a head range gives the
    /// same bits for its heads as the whole call.
    @Test(arguments: shapes)
    func matchesDoubleReference(_ shape: Shape) {
        let c = Case(shape, seed: UInt64(shape.headDim * 1000 + shape.blockSize))
        Self.checkAgainstReference(shape, c.reference()) { c.run(f16: true, level: $0, heads: $1) }
    }

    /// The F16 kernel is the Float32 kernel on exactly widened values: bit for bit at every level.
    /// Across levels the results agree to the tolerance the Float32 kernel's levels meet.
    @Test(arguments: shapes)
    func levelsAgreeAndEqualFloatKernelOnWidenedValues(_ shape: Shape) {
        let c = Case(shape, seed: UInt64(shape.contextLen * 7 + shape.nHeads))
        Self.checkLevels(compact: { c.run(f16: true, level: $0) }, float: { c.run(f16: false, level: $0) })
    }

    /// For a cache kept in a compact form (F16, Q8_0): at every level, `run(level, heads)` (the
    /// compact kernel) is within tolerance of the Double reference, and a head range gives the
    /// same bits for its heads as the whole call.
    static func checkAgainstReference(_ shape: Shape, _ ref: [Double],
                                      _ run: (KernelDispatch.Level, Range<Int>?) -> [Float]) {
        for level in levels {
            let out = run(level, nil)
            var bad = 0
            for i in out.indices where !close(out[i], ref[i]) { bad += 1 }
            #expect(bad == 0, "\(level): \(bad) of \(out.count) values off")
            let lo = shape.nHeads / 3, hi = max(lo + 1, 2 * shape.nHeads / 3)
            let part = run(level, lo ..< hi)
            #expect(Array(part[(lo * shape.headDim) ..< (hi * shape.headDim)]) == Array(out[(lo * shape.headDim) ..< (hi * shape.headDim)]))
        }
    }

    /// The compact kernel equals the Float32 kernel over the expanded values bit for bit at every
    /// level, and every level is within tolerance of the portable one.
    static func checkLevels(compact: (KernelDispatch.Level) -> [Float], float: (KernelDispatch.Level) -> [Float]) {
        let portable = compact(.portable)
        for level in levels {
            let c = compact(level)
            #expect(c.map(\.bitPattern) == float(level).map(\.bitPattern), "\(level)")
            var bad = 0
            for i in c.indices where !close(c[i], Double(portable[i])) { bad += 1 }
            #expect(bad == 0, "\(level) vs portable: \(bad) of \(c.count) values off")
        }
    }
}
