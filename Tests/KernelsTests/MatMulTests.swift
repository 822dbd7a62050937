import Testing
import CKernels
import Kernels

private let computeFixtures = Fixture.all.filter { $0.type.isSupportedForCompute }.map(\.name)

/// Runs matmul of the fixture matrix with `nTokens` tokens of x (token stride ldx = cols + 3).
private func run(_ f: Fixture, x: [Float], nTokens: Int, threads: Int,
                 level: KernelDispatch.Level = KernelDispatch.detected) -> [Float] {
    let pool = ThreadPool(threadCount: threads)
    let scratch = MatMulScratch()
    let ldx = f.cols + 3, ldy = f.rows + 1
    var y = [Float](repeating: .nan, count: nTokens * ldy)
    f.withMatrix { w in
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                matmul(w, xb.baseAddress!, ldx: ldx, nTokens: nTokens, yb.baseAddress!, ldy: ldy,
                       pool: pool, scratch: scratch, level: level)
            }
        }
    }
    return y
}

/// Byte offsets of a block's F16 scale (and min), which random test blocks set to modest values.
private func scaleOffsets(_ type: QuantType) -> [Int] {
    switch type {
    case .q2_K: return [80, 82]
    case .q3_K: return [108]
    case .q6_K: return [208]
    case .q4_K, .q5_K, .q4_1, .q5_1: return [0, 2]
    default: return [0]
    }
}

private func inputs(_ f: Fixture, nTokens: Int, seed: UInt64) -> [Float] {
    var rng = TestRNG(seed: seed)
    return rng.floats((f.cols + 3) * nTokens, scale: 2)
}

@Suite struct MatMulTests {
    /// Against the float dot of gguf-dequantized weights. Activations are quantized to 8 bits
    /// per block of B (32, or 256 for K-quants) with step d = amax/127, so each activation moves
    /// by at most d/2: |error| <= sum_b d_b/2 * sum_{i in b} |w_i|, plus float rounding
    /// (bounded by 1e-5 * sum |w_i x_i|). Float weights: rounding only.
    @Test(arguments: computeFixtures, [1, 3, 17])
    func matchesDequantizedReference(name: String, nTokens: Int) {
        let f = Fixture.named(name)
        let x = inputs(f, nTokens: nTokens, seed: 7)
        let y = run(f, x: x, nTokens: nTokens, threads: 2)
        let B = f.type.hasIntegerKernel ? (f.type.blockElements == 256 ? 256 : 32) : 0
        for t in 0..<nTokens {
            let xt = Array(x[(t * (f.cols + 3))..<(t * (f.cols + 3) + f.cols)])
            for r in 0..<f.rows {
                let wr = Array(f.expected[(r * f.cols)..<((r + 1) * f.cols)])
                var ref = 0.0, absSum = 0.0, bound = 0.0
                for i in 0..<f.cols { ref += Double(wr[i]) * Double(xt[i]); absSum += abs(Double(wr[i]) * Double(xt[i])) }
                if B > 0 {
                    for b in 0..<(f.cols / B) {
                        var amax: Float = 0, wabs = 0.0
                        for i in (b * B)..<((b + 1) * B) { amax = max(amax, abs(xt[i])); wabs += abs(Double(wr[i])) }
                        bound += Double(amax) / 127 / 2 * wabs
                    }
                }
                bound += 1e-5 * absSum + 1e-6
                let got = Double(y[t * (f.rows + 1) + r])
                #expect(abs(got - ref) <= bound, "\(name) t=\(t) r=\(r): got \(got) ref \(ref) bound \(bound)")
            }
        }
    }

    /// Every kernel level gives bitwise the same result as the portable one.
    @Test(arguments: computeFixtures)
    func simdEqualsPortable(name: String) {
        let f = Fixture.named(name)
        let x = inputs(f, nTokens: 9, seed: 11)
        let ref = run(f, x: x, nTokens: 9, threads: 1, level: .portable)
        for level in [KernelDispatch.Level.avx2, .avx512] where level <= KernelDispatch.detected {
            let y = run(f, x: x, nTokens: 9, threads: 2, level: level)
            #expect(y.map(\.bitPattern) == ref.map(\.bitPattern), "\(name) level \(level)")
        }
    }

    /// Result for a token alone equals the same token inside a batch of 9, with 1 or 2 threads.
    @Test(arguments: computeFixtures)
    func batchInvariance(name: String) {
        let f = Fixture.named(name)
        let n = 9
        let x = inputs(f, nTokens: n, seed: 23)
        let batch1 = run(f, x: x, nTokens: n, threads: 1)
        let batch2 = run(f, x: x, nTokens: n, threads: 2)
        #expect(batch1.map(\.bitPattern) == batch2.map(\.bitPattern))
        for t in [0, 4, 8] {
            let xt = Array(x[(t * (f.cols + 3))..<((t + 1) * (f.cols + 3))])
            let single = run(f, x: xt, nTokens: 1, threads: 2)
            for r in 0..<f.rows {
                #expect(single[r].bitPattern == batch1[t * (f.rows + 1) + r].bitPattern, "\(name) t=\(t) r=\(r)")
            }
        }
    }

    /// A larger shape that exercises full 4x4 tiles, several row chunks and token chunks.
    @Test func largeShapeInvariance() {
        var rng = TestRNG(seed: 99)
        for type in [QuantType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .f16] {
            let rows = 70, cols = 512
            // random blocks with small f16 scales (bytes content irrelevant for invariance)
            var raw = (0..<(type.rowBytes(cols) * rows)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let nBlocks = raw.count / type.blockBytes
            for b in 0..<nBlocks {
                let o = b * type.blockBytes
                for s in scaleOffsets(type) { raw[o + s] = 0x00; raw[o + s + 1] = 0x20 } // f16 0.0078125
            }
            let n = 70
            let x = rng.floats(cols * n)
            func go(_ nTok: Int, _ xs: [Float], threads: Int) -> [Float] {
                var y = [Float](repeating: 0, count: nTok * rows)
                let pool = ThreadPool(threadCount: threads)
                raw.withUnsafeBytes { buf in
                    let w = WeightMatrix(data: buf.baseAddress!, type: type, rows: rows, cols: cols)
                    xs.withUnsafeBufferPointer { xb in
                        y.withUnsafeMutableBufferPointer { yb in
                            matmul(w, xb.baseAddress!, ldx: cols, nTokens: nTok, yb.baseAddress!, ldy: rows,
                                   pool: pool, scratch: MatMulScratch())
                        }
                    }
                }
                return y
            }
            let all = go(n, x, threads: 2)
            func atLevel(_ level: KernelDispatch.Level) -> [Float] {
                var y = [Float](repeating: 0, count: n * rows)
                raw.withUnsafeBytes { buf in
                    let w = WeightMatrix(data: buf.baseAddress!, type: type, rows: rows, cols: cols)
                    x.withUnsafeBufferPointer { xb in
                        y.withUnsafeMutableBufferPointer { yb in
                            matmul(w, xb.baseAddress!, ldx: cols, nTokens: n, yb.baseAddress!, ldy: rows,
                                   pool: ThreadPool(threadCount: 1), scratch: MatMulScratch(), level: level)
                        }
                    }
                }
                return y
            }
            let allPortable = atLevel(.portable)
            #expect(all.map(\.bitPattern) == allPortable.map(\.bitPattern), "\(type) simd vs portable")
            if KernelDispatch.detected >= .avx2 {
                #expect(atLevel(.avx2).map(\.bitPattern) == allPortable.map(\.bitPattern), "\(type) avx2 vs portable")
            }
            for t in [0, 33, 69] {
                let single = go(1, Array(x[(t * cols)..<((t + 1) * cols)]), threads: 1)
                #expect(single.map(\.bitPattern) == Array(all[(t * rows)..<((t + 1) * rows)]).map(\.bitPattern), "\(type) t=\(t)")
            }
        }
    }

    /// Every batch size (the batched kernels cut tokens into groups of 16, 8, 4, 2 and 1, and
    /// rows into fours; the K-quant kernel on the stored rows into blocks of 16, tiles of 2 rows
    /// x 4 tokens and the remainders) gives, for each token, bitwise the portable single-token result.
    @Test(arguments: [QuantType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K])
    func everyBatchSizeMatchesPortable(type: QuantType) {
        var rng = TestRNG(seed: 1234)
        let rows = 11, cols = 8 * 32 * 3 + (type.blockElements == 256 ? 0 : 32)
        var raw = (0..<(type.rowBytes(cols) * rows)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for b in 0..<(raw.count / type.blockBytes) {
            let o = b * type.blockBytes
            for s in scaleOffsets(type) { raw[o + s] = UInt8(truncatingIfNeeded: rng.next()); raw[o + s + 1] = 0x20 | UInt8(truncatingIfNeeded: rng.next() & 0x3) }
        }
        let maxTokens = 70
        let x = rng.floats(cols * maxTokens, scale: 3)
        func go(_ nTok: Int, _ xs: ArraySlice<Float>, threads: Int, level: KernelDispatch.Level) -> [Float] {
            var y = [Float](repeating: .nan, count: nTok * rows)
            raw.withUnsafeBytes { buf in
                let w = WeightMatrix(data: buf.baseAddress!, type: type, rows: rows, cols: cols)
                Array(xs).withUnsafeBufferPointer { xb in
                    y.withUnsafeMutableBufferPointer { yb in
                        matmul(w, xb.baseAddress!, ldx: cols, nTokens: nTok, yb.baseAddress!, ldy: rows,
                               pool: ThreadPool(threadCount: threads), scratch: MatMulScratch(), level: level)
                    }
                }
            }
            return y
        }
        let ref = go(maxTokens, x[...], threads: 1, level: .portable)
        for n in [2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15, 16, 17, 19, 24, 31, 32, 33, 47, 64, 65, 70] {
            let off = (n * 7) % (maxTokens - n + 1)
            let y = go(n, x[(off * cols)..<((off + n) * cols)], threads: 2, level: KernelDispatch.detected)
            #expect(y.map(\.bitPattern) == Array(ref[(off * rows)..<((off + n) * rows)]).map(\.bitPattern), "\(type) n=\(n)")
        }
    }

    /// Random 32-block rows of `type` whose F16 scales (and mins) are modest normal numbers.
    func randomBlocks(_ type: QuantType, rows: Int, cols: Int, _ rng: inout TestRNG) -> [UInt8] {
        var raw = (0..<(type.rowBytes(cols) * rows)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for b in 0..<(raw.count / type.blockBytes) {
            let o = b * type.blockBytes
            for s in (type == .q4_1 || type == .q5_1 ? [0, 2] : [0]) {
                raw[o + s] = UInt8(truncatingIfNeeded: rng.next())
                raw[o + s + 1] = 0x20 | UInt8(truncatingIfNeeded: rng.next() & 0x3)
            }
        }
        return raw
    }

    /// The row-interleaved copy (16 rows per load on AVX-512, 8 on AVX2) gives, for every token count, thread
    /// count and width (fewer and more than 16 blocks), bitwise the portable result on the
    /// original layout.
    @Test(arguments: [QuantType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0])
    func interleavedCopyMatchesPortable(type: QuantType) {
        var rng = TestRNG(seed: 77)
        for (rows, cols) in [(48, 96), (64, 576), (32, 1536)] {
            let raw = randomBlocks(type, rows: rows, cols: cols, &rng)
            let maxTokens = 40
            let x = rng.floats(cols * maxTokens, scale: 3)
            raw.withUnsafeBytes { buf in
                let plain = WeightMatrix(data: buf.baseAddress!, type: type, rows: rows, cols: cols)
                let inter = plain.withInterleavedCopy()
                if KernelDispatch.detected >= .avx2 {
                    #expect(inter.interleaved != nil, "\(type) \(rows)x\(cols) has an interleaved copy")
                }
                func go(_ w: WeightMatrix, _ n: Int, threads: Int, level: KernelDispatch.Level) -> [Float] {
                    var y = [Float](repeating: .nan, count: n * (rows + 5))
                    x.withUnsafeBufferPointer { xb in
                        y.withUnsafeMutableBufferPointer { yb in
                            matmul(w, xb.baseAddress!, ldx: cols, nTokens: n, yb.baseAddress!, ldy: rows + 5,
                                   pool: ThreadPool(threadCount: threads), scratch: MatMulScratch(), level: level)
                        }
                    }
                    return y
                }
                let ref = go(plain, maxTokens, threads: 1, level: .portable)
                for n in [1, 2, 3, 4, 5, 8, 15, 16, 17, 31, 33, 40] {
                    for threads in [1, 2] {
                        let y = go(inter, n, threads: threads, level: KernelDispatch.detected)
                        #expect(y.map(\.bitPattern) == Array(ref[0..<(n * (rows + 5))]).map(\.bitPattern),
                                "\(type) \(rows)x\(cols) n=\(n) threads=\(threads)")
                    }
                }
            }
        }
    }

    /// The interleaved kernel on any range of whole 16-row groups (a range may start in the middle
    /// of a pair, or end on a lone last group): bitwise the portable kernel on the original layout.
    @Test(arguments: [QuantType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0])
    func interleavedKernelOnGroupRanges(type: QuantType) {
        var rng = TestRNG(seed: 91)
        let cols = 96, nb = cols / 32, maxTokens = 17
        for rows in [48, 64, 80] {
            let raw = randomBlocks(type, rows: rows, cols: cols, &rng)
            let x = rng.floats(cols * maxTokens, scale: 3)
            var q = [Int8](repeating: 0, count: cols * maxTokens)
            var d = [Float](repeating: 0, count: nb * maxTokens), sc = d
            var sums = [Int32](repeating: 0, count: nb * maxTokens)
            raw.withUnsafeBytes { buf in
                let plain = WeightMatrix(data: buf.baseAddress!, type: type, rows: rows, cols: cols)
                let inter = plain.withInterleavedCopy()
                guard let wx = inter.interleaved else { return }   // no AVX2: no copy to test
                q.withUnsafeMutableBufferPointer { qb in d.withUnsafeMutableBufferPointer { db in
                sc.withUnsafeMutableBufferPointer { sb in sums.withUnsafeMutableBufferPointer { ab in
                    var act = ck_act(q: qb.baseAddress!, d: db.baseAddress!, s: sb.baseAddress!, bsums: nil, qStride: cols,
                                     dStride: nb, bStride: 0, pq: nil, pd: nil, ps: nil, pn: 0, asum: ab.baseAddress!)
                    x.withUnsafeBufferPointer { xb in
                        ck_quantize_act_range(Int32(KernelDispatch.Level.portable.rawValue), 32, xb.baseAddress!, cols, Int32(cols),
                                              0, Int32(maxTokens), &act, ab.baseAddress!)
                    }
                    for (r0, r1) in [(0, rows), (16, rows), (16, 32), (rows - 16, rows), (16, rows - 16), (32, rows)] where r0 < r1 {
                        for n in [1, 5, maxTokens] {
                            var want = [Float](repeating: .nan, count: n * rows), got = want
                            ck_gemm_q(Int32(KernelDispatch.Level.portable.rawValue), Int32(type.rawValue), buf.baseAddress!,
                                      type.rowBytes(cols), Int32(r0), Int32(r1), Int32(cols), &act, 0, Int32(n), &want, rows)
                            ck_gemm_qx(Int32(KernelDispatch.detected.rawValue), Int32(type.rawValue), buf.baseAddress!, wx,
                                       Int32(rows), type.rowBytes(cols), Int32(r0), Int32(r1), Int32(cols), &act, 0, Int32(n), &got, rows)
                            #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "\(type) rows \(rows) [\(r0),\(r1)) n=\(n)")
                        }
                    }
                }}}}
            }
        }
    }

    /// Random K-quant super-blocks whose F16 scales (and mins) are modest normal numbers; every
    /// other byte (6-bit scales, quants, high bits) random.
    func randomKBlocks(_ type: QuantType, rows: Int, cols: Int, _ rng: inout TestRNG) -> [UInt8] {
        var raw = (0..<(type.rowBytes(cols) * rows)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for b in 0..<(raw.count / type.blockBytes) {
            let o = b * type.blockBytes
            for s in (type == .q6_K ? [208] : [0, 2]) {
                raw[o + s] = UInt8(truncatingIfNeeded: rng.next())
                raw[o + s + 1] = 0x14 | UInt8(truncatingIfNeeded: rng.next() & 0x3)
            }
        }
        return raw
    }

    /// K-quants on their row-interleaved copy (AVX2 and AVX-512 CPUs): for every token count
    /// (token groups of 4 and their remainders, chunks of 16), thread count, width (1 to 8
    /// super-blocks) and row count (a copy is made for rows a multiple of 16; ranges that cut
    /// groups are in the next test), bitwise the portable result on the original layout, at every
    /// level the CPU has.
    @Test(arguments: [QuantType.q4_K, .q5_K, .q6_K])
    func interleavedKCopyMatchesPortable(type: QuantType) {
        var rng = TestRNG(seed: 78)
        for (rows, cols) in [(16, 256), (48, 768), (64, 2048)] {
            let raw = randomKBlocks(type, rows: rows, cols: cols, &rng)
            let maxTokens = 37
            let x = rng.floats(cols * maxTokens, scale: 3)
            raw.withUnsafeBytes { buf in
                let plain = WeightMatrix(data: buf.baseAddress!, type: type, rows: rows, cols: cols)
                let inter = plain.withInterleavedCopy()
                // Q6_K has no copy (the stored-row kernel serves every batch).
                if KernelDispatch.detected >= .avx2 && type != .q6_K {
                    #expect(inter.interleaved != nil, "\(type) \(rows)x\(cols) has an interleaved copy")
                    let rec = ["q4_K": 2368, "q5_K": 2880]["\(type)"]!
                    #expect(inter.interleavedByteCount == rows / 16 * cols / 256 * rec)
                } else {
                    #expect(inter.interleaved == nil && inter.interleavedByteCount == 0, "\(type) has no copy at this level")
                }
                func go(_ w: WeightMatrix, _ n: Int, threads: Int, level: KernelDispatch.Level) -> [Float] {
                    var y = [Float](repeating: .nan, count: n * (rows + 5))
                    x.withUnsafeBufferPointer { xb in
                        y.withUnsafeMutableBufferPointer { yb in
                            matmul(w, xb.baseAddress!, ldx: cols, nTokens: n, yb.baseAddress!, ldy: rows + 5,
                                   pool: ThreadPool(threadCount: threads), scratch: MatMulScratch(), level: level)
                        }
                    }
                    return y
                }
                let ref = go(plain, maxTokens, threads: 1, level: .portable)
                for level in [KernelDispatch.Level.avx2, .avx512] where level <= KernelDispatch.detected {
                    for n in [1, 2, 3, 4, 5, 7, 8, 16, 17, 21, 37] {
                        for threads in [1, 2] {
                            let y = go(inter, n, threads: threads, level: level)
                            #expect(y.map(\.bitPattern) == Array(ref[0..<(n * (rows + 5))]).map(\.bitPattern),
                                    "\(type) \(rows)x\(cols) n=\(n) threads=\(threads) level \(level)")
                        }
                    }
                }
            }
        }
    }

    /// The K-quant interleaved kernel on any row range (whole groups, ranges that start or end
    /// inside a group): bitwise the portable kernel on the original layout.
    @Test(arguments: [QuantType.q4_K, .q5_K, .q6_K])
    func interleavedKKernelOnRowRanges(type: QuantType) {
        var rng = TestRNG(seed: 92)
        let cols = 512, maxTokens = 9
        for rows in [48, 64] {
            let raw = randomKBlocks(type, rows: rows, cols: cols, &rng)
            let x = rng.floats(cols * maxTokens, scale: 3)
            var q = [Int8](repeating: 0, count: cols * maxTokens)
            var d = [Float](repeating: 0, count: cols / 256 * maxTokens)
            var bs = [Int16](repeating: 0, count: cols / 16 * maxTokens)
            raw.withUnsafeBytes { buf in
                let inter = WeightMatrix(data: buf.baseAddress!, type: type, rows: rows, cols: cols).withInterleavedCopy()
                guard let wx = inter.interleaved else { return }   // no AVX2: no copy to test
                q.withUnsafeMutableBufferPointer { qb in d.withUnsafeMutableBufferPointer { db in
                bs.withUnsafeMutableBufferPointer { bb in
                    var act = ck_act(q: qb.baseAddress!, d: db.baseAddress!, s: nil, bsums: bb.baseAddress!, qStride: cols,
                                     dStride: cols / 256, bStride: cols / 16, pq: nil, pd: nil, ps: nil, pn: 0, asum: nil)
                    x.withUnsafeBufferPointer { xb in
                        ck_quantize_act_range(Int32(KernelDispatch.Level.portable.rawValue), 256, xb.baseAddress!, cols, Int32(cols),
                                              0, Int32(maxTokens), &act, nil)
                    }
                    for level in [KernelDispatch.Level.avx2, .avx512] where level <= KernelDispatch.detected {
                        for (r0, r1) in [(0, rows), (16, rows), (16, 32), (rows - 16, rows), (5, rows - 3), (3, 14), (32, rows)] where r0 < r1 {
                            for n in [1, 4, 6, maxTokens] {
                                var want = [Float](repeating: .nan, count: n * rows), got = want
                                ck_gemm_q(Int32(KernelDispatch.Level.portable.rawValue), Int32(type.rawValue), buf.baseAddress!,
                                          type.rowBytes(cols), Int32(r0), Int32(r1), Int32(cols), &act, 0, Int32(n), &want, rows)
                                ck_gemm_qx(Int32(level.rawValue), Int32(type.rawValue), buf.baseAddress!, wx,
                                           Int32(rows), type.rowBytes(cols), Int32(r0), Int32(r1), Int32(cols), &act, 0, Int32(n), &got, rows)
                                #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "\(type) rows \(rows) [\(r0),\(r1)) n=\(n) \(level)")
                            }
                        }
                    }
                }}}
            }
        }
    }

    /// Activation quantization gives the same bytes, scales and sums at every level, for widths
    /// below, at and above the 16 blocks the AVX-512 path does at once, with blocks of zeros, of
    /// values too small for a normal scale, of huge values and of mixed magnitudes.
    @Test func activationQuantizationIsTheSameAtEveryLevel() {
        var rng = TestRNG(seed: 5)
        let levels = [KernelDispatch.Level.portable, .avx2, .avx512].filter { $0 <= KernelDispatch.detected }
        for nb in [1, 15, 16, 17, 18, 33, 48] {
            let cols = 32 * nb
            for trial in 0 ..< 20 {
                var x = rng.floats(cols, scale: 4)
                for b in 0 ..< nb {
                    let kind = (b + trial) % 6
                    for i in 0 ..< 32 {
                        switch kind {
                        case 0: x[32 * b + i] = 0
                        case 1: x[32 * b + i] *= 1e-39          // scale below the normal range
                        case 2: x[32 * b + i] *= 1e30
                        case 3: x[32 * b + i] *= i % 7 == 0 ? 1e4 : 1e-3
                        default: break
                        }
                    }
                }
                func run(_ level: KernelDispatch.Level) -> ([Int8], [Float], [Float], [Int32]) {
                    var q = [Int8](repeating: 0, count: cols), d = [Float](repeating: .nan, count: nb), sc = d
                    var sums = [Int32](repeating: -1, count: nb)
                    ck_quantize_act32(Int32(level.rawValue), x, Int32(cols), &q, &d, &sc, &sums)
                    return (q, d, sc, sums)
                }
                let ref = run(.portable)
                #expect(ref.3.enumerated().allSatisfy { b, sum in Int(sum) == ref.0[(32 * b) ..< (32 * b + 32)].reduce(0) { $0 + Int($1) } })
                for level in levels.dropFirst() {
                    let got = run(level)
                    #expect(got.0 == ref.0, "\(level) nb \(nb) trial \(trial): bytes")
                    #expect(got.1.map(\.bitPattern) == ref.1.map(\.bitPattern), "\(level) nb \(nb) trial \(trial): scales")
                    #expect(got.2.map(\.bitPattern) == ref.2.map(\.bitPattern), "\(level) nb \(nb) trial \(trial): sums")
                    #expect(got.3 == ref.3, "\(level) nb \(nb) trial \(trial): integer sums")
                }
            }
        }
    }
}
