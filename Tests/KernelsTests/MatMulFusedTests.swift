import Kernels
import Testing

/// `matmulFused` (q/k/v or gate/up sharing one activation quantization and one dispatch) must give
/// exactly what separate `matmul` calls give.
struct MatMulFusedTests {
    /// Random Q8_0 rows: an F16 scale (0.01) and 32 random int8 values per block.
    static func q8Matrix(rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        var bytes: [UInt8] = []
        for _ in 0 ..< rows * cols / 32 {
            bytes += [0x1F, 0x21] // 0.0100098 as F16, little-endian
            for _ in 0 ..< 32 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                bytes.append(UInt8(truncatingIfNeeded: state >> 33))
            }
        }
        return bytes
    }

    @Test(arguments: [1, 3, 5, 16, 33])
    func fusedEqualsSeparate(nTokens: Int) {
        let cols = 96
        let shapes = [40, 12, 12]
        let mats = shapes.enumerated().map { Self.q8Matrix(rows: $0.element, cols: cols, seed: UInt64($0.offset + 1)) }
        let x = (0 ..< nTokens * cols).map { Float(($0 * 37) % 101) / 50 - 1 }
        let pool = ThreadPool(threadCount: 2)
        let scratch = MatMulScratch()
        mats[0].withUnsafeBytes { m0 in mats[1].withUnsafeBytes { m1 in mats[2].withUnsafeBytes { m2 in
            let w = [m0, m1, m2].enumerated().map {
                WeightMatrix(data: $0.element.baseAddress!, type: .q8_0, rows: shapes[$0.offset], cols: cols)
            }
            var separate = shapes.map { [Float](repeating: 0, count: $0 * nTokens) }
            var f0 = separate[0], f1 = separate[1], f2 = separate[2]
            x.withUnsafeBufferPointer { xp in
                for i in 0 ..< 3 {
                    separate[i].withUnsafeMutableBufferPointer {
                        matmul(w[i], xp.baseAddress!, ldx: cols, nTokens: nTokens, $0.baseAddress!, ldy: shapes[i], pool: pool, scratch: scratch)
                    }
                }
                f0.withUnsafeMutableBufferPointer { y0 in f1.withUnsafeMutableBufferPointer { y1 in
                    f2.withUnsafeMutableBufferPointer { y2 in
                        matmulFused(w[0], y0.baseAddress!, ldy0: shapes[0], w[1], y1.baseAddress!, ldy1: shapes[1],
                                    w[2], y2.baseAddress!, ldy2: shapes[2], x: xp.baseAddress!, ldx: cols, nTokens: nTokens,
                                    pool: pool, scratch: scratch)
                    }
                } }
            }
            let fused = [f0, f1, f2]
            #expect(fused == separate)
            #expect(separate[0].contains { $0 != 0 })
        } } }
    }

    /// `matmulGLU` (gate and up rows of a task, then the activation on that tile) equals
    /// separate `matmul` calls followed by `siluMul` / `geluTanhMul`, bit for bit — with and
    /// without the interleaved weight layout, and through the fallback for mismatched types.
    @Test(arguments: [1, 4, 16, 33])
    func gluEqualsSeparate(nTokens: Int) {
        let cols = 96, rows = 48
        let g = Self.q8Matrix(rows: rows, cols: cols, seed: 7), u = Self.q8Matrix(rows: rows, cols: cols, seed: 8)
        let x = (0 ..< nTokens * cols).map { Float(($0 * 53) % 97) / 40 - 1.2 }
        let pool = ThreadPool(threadCount: 2)
        let scratch = MatMulScratch()
        var uF32 = [Float](repeating: 0, count: rows * cols)
        for i in 0 ..< uF32.count { uF32[i] = Float((i * 29) % 61) / 300 - 0.1 }
        g.withUnsafeBytes { gb in u.withUnsafeBytes { ub in uF32.withUnsafeBytes { ufb in
            let gate = WeightMatrix(data: gb.baseAddress!, type: .q8_0, rows: rows, cols: cols)
            let up = WeightMatrix(data: ub.baseAddress!, type: .q8_0, rows: rows, cols: cols)
            let upF32 = WeightMatrix(data: ufb.baseAddress!, type: .f32, rows: rows, cols: cols)
            for gelu in [false, true] {
                for (gw, uw) in [(gate, up), (gate.withInterleavedCopy(), up.withInterleavedCopy()), (gate, upF32)] {
                    var gs = [Float](repeating: 0, count: rows * nTokens), us = gs
                    var go = gs, uo = gs
                    x.withUnsafeBufferPointer { xp in
                        gs.withUnsafeMutableBufferPointer { gp in us.withUnsafeMutableBufferPointer { up in
                            matmul(gw, xp.baseAddress!, ldx: cols, nTokens: nTokens, gp.baseAddress!, ldy: rows, pool: pool, scratch: scratch)
                            matmul(uw, xp.baseAddress!, ldx: cols, nTokens: nTokens, up.baseAddress!, ldy: rows, pool: pool, scratch: scratch)
                            for t in 0 ..< nTokens {
                                let a = gp.baseAddress! + t * rows, b = up.baseAddress! + t * rows
                                if gelu { geluTanhMul(gate: a, up: b, count: rows, out: a) } else { siluMul(gate: a, up: b, count: rows, out: a) }
                            }
                        } }
                        go.withUnsafeMutableBufferPointer { gp in uo.withUnsafeMutableBufferPointer { up in
                            matmulGLU(gate: gw, up: uw, x: xp.baseAddress!, ldx: cols, nTokens: nTokens, gateOut: gp.baseAddress!,
                                      upOut: up.baseAddress!, out: gp.baseAddress!, ldy: rows, gelu: gelu, pool: pool, scratch: scratch)
                        } }
                    }
                    #expect(go.map(\.bitPattern) == gs.map(\.bitPattern), "gelu=\(gelu) \(uw.type)")
                    #expect(gs.contains { $0 != 0 })
                }
            }
        } } }
    }

    /// A `TokenPrologue` writes each token's input row exactly once, before that token is
    /// quantized, on the serial path (one thread, or few tokens) and inside the dispatch's first
    /// phase (several threads and tokens): the products equal those of the precomputed rows.
    @Test(arguments: [1, 3, 4, 17, 40])
    func prologueWritesEveryRowOnceFirst(nTokens: Int) {
        let cols = 96, rows = [48, 16]
        let mats = rows.enumerated().map { Self.q8Matrix(rows: $0.element, cols: cols, seed: UInt64($0.offset + 7)) }
        let want = (0 ..< nTokens * cols).map { Float(($0 * 53) % 97) / 40 - 1 }
        struct Ctx { let src: UnsafePointer<Float>; let dst: UnsafeMutablePointer<Float>; let runs: UnsafeMutablePointer<Int>; let cols: Int }
        let fill: @convention(c) (UnsafeMutableRawPointer?, Int, Int) -> Void = { ctx, t0, t1 in
            let c = ctx!.assumingMemoryBound(to: Ctx.self).pointee
            for t in t0 ..< t1 {
                (c.dst + t * c.cols).update(from: c.src + t * c.cols, count: c.cols)
                c.runs[t] += 1
            }
        }
        // Both matrices interleaved (AVX-512): quantization is the dispatch's first phase; one not:
        // the token-interleaved copy is needed, and everything runs before the dispatch.
        for threads in [1, 2, 3] { for bothInterleaved in [true, false] {
            let pool = ThreadPool(threadCount: threads)
            mats[0].withUnsafeBytes { m0 in mats[1].withUnsafeBytes { m1 in
                let w0 = WeightMatrix(data: m0.baseAddress!, type: .q8_0, rows: rows[0], cols: cols).withInterleavedCopy()
                let plain1 = WeightMatrix(data: m1.baseAddress!, type: .q8_0, rows: rows[1], cols: cols)
                let w1 = bothInterleaved ? plain1.withInterleavedCopy() : plain1
                var ref0 = [Float](repeating: 0, count: rows[0] * nTokens), ref1 = [Float](repeating: 0, count: rows[1] * nTokens)
                var out0 = ref0, out1 = ref1
                var x = [Float](repeating: .nan, count: nTokens * cols)
                var runs = [Int](repeating: 0, count: nTokens)
                want.withUnsafeBufferPointer { wp in
                    matmulFused(w0, &ref0, ldy0: rows[0], w1, &ref1, ldy1: rows[1], nil, nil, ldy2: 0, x: wp.baseAddress!, ldx: cols,
                                nTokens: nTokens, pool: pool, scratch: MatMulScratch())
                    x.withUnsafeMutableBufferPointer { xp in runs.withUnsafeMutableBufferPointer { rp in
                        var ctx = Ctx(src: wp.baseAddress!, dst: xp.baseAddress!, runs: rp.baseAddress!, cols: cols)
                        withUnsafeMutablePointer(to: &ctx) { cp in
                            matmulFused(w0, &out0, ldy0: rows[0], w1, &out1, ldy1: rows[1], nil, nil, ldy2: 0, x: xp.baseAddress!,
                                        ldx: cols, nTokens: nTokens, pool: pool, scratch: MatMulScratch(),
                                        prologue: TokenPrologue(fill, context: UnsafeMutableRawPointer(cp)))
                        }
                    } }
                }
                #expect(runs == [Int](repeating: 1, count: nTokens), "threads \(threads) \(bothInterleaved)")
                #expect(out0 == ref0 && out1 == ref1, "threads \(threads) \(bothInterleaved)")
                #expect(ref0.contains { $0 != 0 })
            } }
        } }
    }
}
