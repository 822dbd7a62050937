import Foundation
import Testing
import Kernels

/// The Q8_0 KV cache: rows quantized as gguf-py / ggml do, and paged attention over them.
@Suite struct PagedAttentionQ8Tests {
    /// `quantizeKVQ8_0` gives gguf-py's Q8_0 bytes for rows with edge cases (all zeros, -0, one large
    /// value, a negative max, exact and near rounding ties, ties of the unrounded scale, an F16-subnormal
    /// and an F16-overflowing scale) and typical K/V values.
    /// Fixture: `/work/tools/venv/bin/python scripts/gen_kv_q8_0_fixture.py`.
    @Test func quantizationMatchesGGUFPy() throws {
        let dir = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let xData = try Data(contentsOf: dir.appendingPathComponent("kv_q8_0_rows.f32"))
        let expected = [UInt8](try Data(contentsOf: dir.appendingPathComponent("kv_q8_0_rows.q8")))
        let x = xData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(x.count / 32 * 34 == expected.count && x.count == 14 * 64)
        var got = [UInt8](repeating: 0xAA, count: expected.count)
        got.withUnsafeMutableBytes { quantizeKVQ8_0(x, $0.baseAddress!, count: x.count) }
        for r in 0 ..< x.count / 64 {
            #expect(Array(got[(r * 68) ..< (r * 68 + 68)]) == Array(expected[(r * 68) ..< (r * 68 + 68)]), "row \(r)")
        }
    }

    typealias Shape = PagedAttentionF16Tests.Shape

    /// The F16 tests' shapes whose head dim is a multiple of 32 (the AVX-512 group kernels at 64, 128,
    /// 256), and head dim 96 for the generic AVX-512 path.
    static let shapes: [Shape] = PagedAttentionF16Tests.shapes.filter { $0.headDim % 32 == 0 } + [
        Shape(headDim: 96, blockSize: 8, nHeads: 6, kvHeads: 2, windowStart: 16, contextLen: 48),
        Shape(headDim: 32, blockSize: 3, nHeads: 5, kvHeads: 5, windowStart: 0, contextLen: 40),
    ]

    static let levels = PagedAttentionF16Tests.levels

    /// A random cache for `s` behind a shuffled block table: Q8_0 bytes, the same values dequantized, and q.
    struct Case {
        let s: Shape
        let table: [Int32]
        let k8: [UInt8], v8: [UInt8]
        let kDeq: [Float], vDeq: [Float]
        let q: [Float]
        let scale: Float

        /// Dequantizes ggml Q8_0 blocks: Float(q) * Float(F16 d), written independently of the kernel.
        static func dequantize(_ b: [UInt8]) -> [Float] {
            var out: [Float] = []
            out.reserveCapacity(b.count / 34 * 32)
            for blk in stride(from: 0, to: b.count, by: 34) {
                let d = Float(Float16(bitPattern: UInt16(b[blk]) | UInt16(b[blk + 1]) << 8))
                for j in 0 ..< 32 { out.append(Float(Int8(bitPattern: b[blk + 2 + j])) * d) }
            }
            return out
        }

        init(_ s: Shape, seed: UInt64) {
            self.s = s
            var rng = TestRNG(seed: seed)
            let (table, k, v) = PagedAttentionF16Tests.randomCache(s, &rng)
            self.table = table
            let count = k.count
            var k8 = [UInt8](repeating: 0, count: count / 32 * 34), v8 = k8
            k8.withUnsafeMutableBytes { quantizeKVQ8_0(k, $0.baseAddress!, count: count) }
            v8.withUnsafeMutableBytes { quantizeKVQ8_0(v, $0.baseAddress!, count: count) }
            (self.k8, self.v8) = (k8, v8)
            (kDeq, vDeq) = (Self.dequantize(k8), Self.dequantize(v8))
            q = rng.floats(s.nHeads * s.headDim, scale: 1)
            scale = 1 / Float(s.headDim).squareRoot()
        }

        func run(q8: Bool, level: KernelDispatch.Level, heads: Range<Int>? = nil) -> [Float] {
            let range = heads ?? 0 ..< s.nHeads
            guard q8 else {
                return PagedAttentionF16Tests.runFloat(s, table: table, q: q, scale: scale, k: kDeq, v: vDeq, level: level, heads: range)
            }
            var out = [Float](repeating: .nan, count: s.nHeads * s.headDim)
            k8.withUnsafeBytes { kb in
                v8.withUnsafeBytes { vb in
                    pagedAttentionQ8_0(q: q, kCache: kb.baseAddress!, vCache: vb.baseAddress!, blockTable: table,
                                       blockSize: s.blockSize, windowStart: s.windowStart, contextLen: s.contextLen,
                                       nHeads: s.nHeads, kvHeads: s.kvHeads, headDim: s.headDim, scale: scale, out: &out,
                                       heads: range, level: level)
                }
            }
            return out
        }

        /// Softmax attention in Double over the dequantized K/V, straight from the definition.
        func reference() -> [Double] { PagedAttentionF16Tests.reference(s, table: table, q: q, scale: scale, k: kDeq, v: vDeq) }
    }

    /// Every level against a Double softmax over the dequantized values (the F16 tests' tolerance);
    /// a head range gives the same bits for its heads as the whole call.
    @Test(arguments: shapes)
    func matchesDoubleReference(_ shape: Shape) {
        let c = Case(shape, seed: UInt64(shape.headDim * 1000 + shape.blockSize))
        PagedAttentionF16Tests.checkAgainstReference(shape, c.reference()) { c.run(q8: true, level: $0, heads: $1) }
    }

    /// The Q8_0 kernel is the Float32 kernel on the dequantized values: bit for bit at every level.
    /// Across levels the results agree to the tolerance the Float32 kernel's levels meet.
    @Test(arguments: shapes)
    func levelsAgreeAndEqualFloatKernelOnDequantizedValues(_ shape: Shape) {
        let c = Case(shape, seed: UInt64(shape.contextLen * 7 + shape.nHeads))
        PagedAttentionF16Tests.checkLevels(compact: { c.run(q8: true, level: $0) }, float: { c.run(q8: false, level: $0) })
    }
}
