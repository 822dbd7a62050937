import Foundation
import Testing
import Kernels

/// `pagedAttentionMulti`: several queries of one sequence at once (prefill) must give each query
/// exactly the bits of the one-query kernel, for every cache type and level.
@Suite struct PagedAttentionMultiTests {
    /// The one-query shape (its context length the longest query's), and each query's context
    /// length (positions windowStart..<len).
    struct Shape: CustomTestStringConvertible, Sendable {
        let base: PagedAttentionF16Tests.Shape
        let lens: [Int]

        init(headDim: Int, blockSize: Int, nHeads: Int, kvHeads: Int, windowStart: Int, lens: [Int]) {
            base = .init(headDim: headDim, blockSize: blockSize, nHeads: nHeads, kvHeads: kvHeads,
                         windowStart: windowStart, contextLen: lens.max()!)
            self.lens = lens
        }

        var testDescription: String {
            "hd \(base.headDim), block \(base.blockSize), \(base.nHeads)/\(base.kvHeads) heads, from \(base.windowStart), \(lens.count) queries"
        }
    }

    /// Consecutive prompt tokens (lengths one apart, crossing chunk and page boundaries), more
    /// queries than one pass holds (20), lengths out of order and repeated, a query with nothing
    /// to attend (length at the window start), one query, GQA groups of 1, 2, 3, 4 and 18 query
    /// heads (tiles of every width), and the shapes of both real models.
    static let shapes: [Shape] = [
        Shape(headDim: 64, blockSize: 16, nHeads: 9, kvHeads: 3, windowStart: 0, lens: Array(1 ... 20)),
        Shape(headDim: 64, blockSize: 5, nHeads: 6, kvHeads: 2, windowStart: 0, lens: [70, 3, 33, 33, 16, 17, 48]),
        Shape(headDim: 128, blockSize: 32, nHeads: 8, kvHeads: 2, windowStart: 7, lens: [7, 8, 40, 41, 100]),
        Shape(headDim: 256, blockSize: 16, nHeads: 4, kvHeads: 1, windowStart: 0, lens: Array(60 ..< 77)),
        Shape(headDim: 64, blockSize: 1, nHeads: 4, kvHeads: 4, windowStart: 2, lens: [25]),
        Shape(headDim: 64, blockSize: 16, nHeads: 4, kvHeads: 4, windowStart: 0, lens: [5, 17, 18, 40]),
        Shape(headDim: 128, blockSize: 16, nHeads: 18, kvHeads: 9, windowStart: 0, lens: [30, 31, 32, 33]),
        Shape(headDim: 64, blockSize: 7, nHeads: 18, kvHeads: 1, windowStart: 0, lens: [12, 29, 29, 50]),
        Shape(headDim: 80, blockSize: 8, nHeads: 6, kvHeads: 2, windowStart: 0, lens: [9, 30, 31]),
        // Across the 512-position partitions of long contexts: consecutive tokens on both sides of
        // a boundary, lengths in several partitions out of order, a window start inside one.
        Shape(headDim: 64, blockSize: 16, nHeads: 9, kvHeads: 3, windowStart: 0, lens: Array(505 ... 520)),
        Shape(headDim: 64, blockSize: 5, nHeads: 6, kvHeads: 2, windowStart: 0, lens: [1100, 3, 600, 513, 512, 1025, 514]),
        Shape(headDim: 256, blockSize: 16, nHeads: 4, kvHeads: 1, windowStart: 600, lens: Array(1018 ... 1030) + [1100]),
        Shape(headDim: 80, blockSize: 8, nHeads: 6, kvHeads: 2, windowStart: 0, lens: [600, 700]),
    ]

    static let levels = [KernelDispatch.Level.portable, .avx2, .avx512].filter { $0 <= KernelDispatch.detected }

    @Test(arguments: shapes)
    func everyQueryEqualsTheOneQueryKernel(_ shape: Shape) {
        let s = shape.base
        var rng = TestRNG(seed: UInt64(s.headDim * 31 + shape.lens.count))
        let (table, k, v) = PagedAttentionF16Tests.randomCache(s, &rng)
        var k16 = [UInt16](repeating: 0, count: k.count), v16 = k16
        convertToF16(k, &k16, count: k.count, level: .portable)
        convertToF16(v, &v16, count: v.count, level: .portable)
        let n = shape.lens.count, width = s.nHeads * s.headDim
        // Query rows a little apart (qStride > width), outputs likewise.
        let qStride = width + 16, outStride = width + 8
        let q = rng.floats(n * qStride, scale: 1)
        let scale = 1 / Float(s.headDim).squareRoot()
        let lens = shape.lens.map { Int32($0) }
        let q8 = s.headDim % 32 == 0
        var k8 = [UInt8](), v8 = [UInt8]()
        if q8 {
            k8 = [UInt8](repeating: 0, count: k.count / 32 * 34)
            v8 = k8
            k8.withUnsafeMutableBytes { quantizeKVQ8_0(k, $0.baseAddress!, count: k.count) }
            v8.withUnsafeMutableBytes { quantizeKVQ8_0(v, $0.baseAddress!, count: v.count) }
        }
        for level in Self.levels {
            for type in [PagedKVType.f32, .f16, .q8_0] where type != .q8_0 || q8 {
                var multi = [Float](repeating: .nan, count: n * outStride)
                func caches<R>(_ body: (UnsafeRawPointer, UnsafeRawPointer) -> R) -> R {
                    switch type {
                    case .f32: k.withUnsafeBytes { kb in v.withUnsafeBytes { vb in body(kb.baseAddress!, vb.baseAddress!) } }
                    case .f16: k16.withUnsafeBytes { kb in v16.withUnsafeBytes { vb in body(kb.baseAddress!, vb.baseAddress!) } }
                    case .q8_0: k8.withUnsafeBytes { kb in v8.withUnsafeBytes { vb in body(kb.baseAddress!, vb.baseAddress!) } }
                    }
                }
                caches { kc, vc in
                    pagedAttentionMulti(q: q, qStride: qStride, count: n, contextLens: lens, kCache: kc, vCache: vc,
                                        kvType: type, blockTable: table, blockSize: s.blockSize,
                                        windowStart: s.windowStart, nHeads: s.nHeads, kvHeads: s.kvHeads,
                                        headDim: s.headDim, scale: scale, out: &multi, outStride: outStride,
                                        level: level)
                }
                for i in 0 ..< n {
                    var one = [Float](repeating: .nan, count: width)
                    let qi = Array(q[i * qStride ..< i * qStride + width])
                    caches { kc, vc in
                        let args = (table: table, bs: s.blockSize, ws: s.windowStart, len: shape.lens[i])
                        switch type {
                        case .f32:
                            pagedAttention(q: qi, kCache: kc.assumingMemoryBound(to: Float.self),
                                           vCache: vc.assumingMemoryBound(to: Float.self), blockTable: args.table,
                                           blockSize: args.bs, windowStart: args.ws, contextLen: args.len,
                                           nHeads: s.nHeads, kvHeads: s.kvHeads, headDim: s.headDim,
                                           scale: scale, out: &one, heads: 0 ..< s.nHeads, level: level)
                        case .f16:
                            pagedAttention(q: qi, kCache: kc.assumingMemoryBound(to: UInt16.self),
                                           vCache: vc.assumingMemoryBound(to: UInt16.self), blockTable: args.table,
                                           blockSize: args.bs, windowStart: args.ws, contextLen: args.len,
                                           nHeads: s.nHeads, kvHeads: s.kvHeads, headDim: s.headDim,
                                           scale: scale, out: &one, heads: 0 ..< s.nHeads, level: level)
                        case .q8_0:
                            pagedAttentionQ8_0(q: qi, kCache: kc, vCache: vc, blockTable: args.table, blockSize: args.bs,
                                               windowStart: args.ws, contextLen: args.len, nHeads: s.nHeads,
                                               kvHeads: s.kvHeads, headDim: s.headDim, scale: scale, out: &one,
                                               heads: 0 ..< s.nHeads, level: level)
                        }
                    }
                    let got = Array(multi[i * outStride ..< i * outStride + width])
                    #expect(got.map(\.bitPattern) == one.map(\.bitPattern),
                            "query \(i) (length \(shape.lens[i])), \(type), level \(level)")
                    // The gaps between output rows are left alone.
                    let gapUntouched = multi[i * outStride + width ..< (i + 1) * outStride].allSatisfy { $0.isNaN }
                    #expect(gapUntouched)
                }
            }
        }
    }
}
