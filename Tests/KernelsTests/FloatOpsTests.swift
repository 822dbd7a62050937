import Foundation
import Testing
import Kernels

private func close(_ a: Float, _ b: Double, rel: Double = 1e-5, abs absTol: Double = 1e-6) -> Bool {
    Swift.abs(Double(a) - b) <= absTol + rel * Swift.abs(b)
}

@Suite struct FloatOpsTests {
    @Test func rmsNormMatchesFormula() {
        var rng = TestRNG(seed: 1)
        for count in [1, 7, 64, 131] {
            let x = rng.floats(count, scale: 3)
            let w = rng.floats(count)
            var out = [Float](repeating: 0, count: count)
            rmsNorm(x, weight: w, count: count, eps: 1e-6, &out)
            let ms = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(count)
            let s = 1 / (ms + 1e-6).squareRoot()
            for i in 0..<count { #expect(close(out[i], Double(x[i]) * s * Double(w[i]))) }
            // in place, no weight
            var y = x
            y.withUnsafeMutableBufferPointer { rmsNorm($0.baseAddress!, weight: nil, count: count, eps: 1e-6, $0.baseAddress!) }
            for i in 0..<count { #expect(close(y[i], Double(x[i]) * s)) }
        }
    }

    @Test func activations() {
        var rng = TestRNG(seed: 2)
        let n = 53
        var g = rng.floats(n, scale: 6)
        g[0] = -30; g[1] = 30; g[2] = 0; g[3] = -90; g[4] = 95
        let u = rng.floats(n, scale: 2)
        // the SIMD level in use, then the portable one (process-wide switch; every level is accurate)
        for portable in [false, true] {
            if portable { KernelDispatch.forcePortable = true }
            defer { if portable { KernelDispatch.forcePortable = false } }
            var a = [Float](repeating: 0, count: n), b = a, c = a, d = a
            silu(g, count: n, out: &a)
            geluTanh(g, count: n, out: &b)
            siluMul(gate: g, up: u, count: n, out: &c)
            geluTanhMul(gate: g, up: u, count: n, out: &d)
            for i in 0..<n {
                let x = Double(g[i])
                let si = x / (1 + exp(-x))
                let ge = 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
                #expect(close(a[i], si, rel: 2e-6, abs: 1e-30), "silu(\(x)) portable=\(portable)")
                #expect(close(b[i], ge, rel: 2e-6, abs: 1e-30), "gelu(\(x)) portable=\(portable)")
                #expect(close(c[i], si * Double(u[i]), rel: 3e-6, abs: 1e-30))
                #expect(close(d[i], ge * Double(u[i]), rel: 3e-6, abs: 1e-30))
            }
            var sm = rng.floats(77, scale: 20)
            sm[5] = -.infinity
            let ref = sm.map { Double($0) }
            let m = ref.max()!
            let e = ref.map { exp($0 - m) }
            let s = e.reduce(0, +)
            softmax(&sm, count: sm.count)
            for i in 0..<sm.count { #expect(close(sm[i], e[i] / s, rel: 1e-5, abs: 1e-30)) }
        }
    }

    /// argmax = the first index of the largest value, NaN never chosen, 0 when nothing beats
    /// -inf — checked against a plain loop, on sizes around the 16-lane width, with ties.
    @Test func argmaxIsFirstLargest() {
        var rng = TestRNG(seed: 11)
        func reference(_ x: [Float]) -> Int {
            var best = 0, value = -Float.infinity
            for (i, v) in x.enumerated() where v > value { value = v; best = i }
            return best
        }
        for n in [1, 2, 15, 16, 17, 33, 49152, 49153] {
            for trial in 0..<6 {
                var x = rng.floats(n, scale: 4).map { ($0 * 8).rounded() / 8 }   // coarse values: ties
                if trial == 1 { x[n / 2] = .nan }
                if trial == 2 { for i in stride(from: 0, to: n, by: 3) { x[i] = .nan } }
                if trial == 3 { x = x.map { _ in -.infinity } }
                if trial == 4 { x = x.map { _ in .nan } }
                if trial == 5, n > 1 { x[n - 1] = 100; x[n / 3] = 100 }
                let want = reference(x)
                x.withUnsafeBufferPointer { xb in
                    for level in KernelDispatch.Level.allCases where level <= KernelDispatch.detected {
                        #expect(argmax(xb, level: level) == want, "n=\(n) trial=\(trial) \(level)")
                    }
                }
            }
        }
    }

    @Test func softmaxMatchesFormula() {
        var x: [Float] = [1, 2, 3, -1000, 50, 50.5, 0]
        let ref = x.map { Double($0) }
        let m = ref.max()!
        let e = ref.map { exp($0 - m) }
        let s = e.reduce(0, +)
        softmax(&x, count: x.count)
        for i in 0..<x.count { #expect(close(x[i], e[i] / s, rel: 1e-5, abs: 1e-7)) }
    }

    @Test(arguments: [RoPEStyle.normal, .neox])
    func ropeMatchesFormula(style: RoPEStyle) {
        let headDim = 16, ropeDim = 12, heads = 3, pos = 37
        let base: Float = 10000
        let factors: [Float] = [1, 1, 2, 4, 8, 8]
        let rope = RoPE(headDim: headDim, ropeDim: ropeDim, base: base, style: style, freqFactors: factors, freqScale: 0.5)
        var rng = TestRNG(seed: 3)
        let x = rng.floats(heads * headDim)
        var y = x
        y.withUnsafeMutableBufferPointer { rope.apply($0.baseAddress!, heads: heads, position: pos) }
        let half = ropeDim / 2
        for h in 0..<heads {
            for i in 0..<half {
                let theta = 0.5 * pow(Double(base), -2.0 * Double(i) / Double(ropeDim)) / Double(factors[i])
                let a = Double(pos) * theta
                let (j0, j1) = style == .normal ? (2 * i, 2 * i + 1) : (i, i + half)
                let x0 = Double(x[h * headDim + j0]), x1 = Double(x[h * headDim + j1])
                #expect(close(y[h * headDim + j0], x0 * cos(a) - x1 * sin(a), rel: 1e-5, abs: 1e-6))
                #expect(close(y[h * headDim + j1], x0 * sin(a) + x1 * cos(a), rel: 1e-5, abs: 1e-6))
            }
            for j in ropeDim..<headDim { #expect(y[h * headDim + j] == x[h * headDim + j]) }
        }
    }

    /// Paged attention over a shuffled block table vs a naive full softmax over the logical sequence.
    @Test(arguments: [(0, 37, 8), (10, 37, 64), (0, 1, 64), (16, 48, 80), (3, 70, 128), (0, 20, 256)])
    func pagedAttentionMatchesNaive(windowStart: Int, contextLen: Int, headDim: Int) {
        let blockSize = headDim == 128 ? 32 : (headDim == 80 ? 8 : 16), nHeads = 6, kvHeads = 2
        let numLogical = (contextLen + blockSize - 1) / blockSize
        let numBlocks = numLogical + 3
        var rng = TestRNG(seed: 5)
        // logical -> physical: a shuffled permutation
        var phys = Array(0..<numBlocks)
        for i in stride(from: phys.count - 1, to: 0, by: -1) { phys.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        let table = phys.prefix(numLogical).map { Int32($0) }
        let perPos = kvHeads * headDim
        let kCache = rng.floats(numBlocks * blockSize * perPos, scale: 1)
        let vCache = rng.floats(numBlocks * blockSize * perPos, scale: 2)
        let q = rng.floats(nHeads * headDim, scale: 1)
        let scale = 1 / Float(headDim).squareRoot()
        for level in [KernelDispatch.Level.portable, .avx512] where level <= KernelDispatch.detected {
            var out = [Float](repeating: .nan, count: nHeads * headDim)
            pagedAttention(q: q, kCache: kCache, vCache: vCache, blockTable: table, blockSize: blockSize,
                           windowStart: windowStart, contextLen: contextLen, nHeads: nHeads, kvHeads: kvHeads,
                           headDim: headDim, scale: scale, out: &out, heads: 0..<nHeads, level: level)
            // a head range gives the same values for its heads
            var part = [Float](repeating: .nan, count: nHeads * headDim)
            pagedAttention(q: q, kCache: kCache, vCache: vCache, blockTable: table, blockSize: blockSize,
                           windowStart: windowStart, contextLen: contextLen, nHeads: nHeads, kvHeads: kvHeads,
                           headDim: headDim, scale: scale, out: &part, heads: 2..<5, level: level)
            #expect(Array(part[(2 * headDim)..<(5 * headDim)]) == Array(out[(2 * headDim)..<(5 * headDim)]))
            for h in 0..<nHeads {
                let kvh = h / (nHeads / kvHeads)
                func at(_ cache: [Float], _ p: Int, _ d: Int) -> Double {
                    let base = (Int(table[p / blockSize]) * blockSize + p % blockSize) * perPos + kvh * headDim
                    return Double(cache[base + d])
                }
                let positions = Array(windowStart..<contextLen)
                let scores = positions.map { p in
                    (0..<headDim).reduce(0.0) { $0 + Double(q[h * headDim + $1]) * at(kCache, p, $1) } * Double(scale)
                }
                let m = scores.max()!
                let e = scores.map { exp($0 - m) }
                let s = e.reduce(0, +)
                for d in 0..<headDim {
                    var ref = 0.0
                    for (j, p) in positions.enumerated() { ref += e[j] / s * at(vCache, p, d) }
                    #expect(close(out[h * headDim + d], ref, rel: 1e-4, abs: 1e-5), "\(level) h=\(h) d=\(d)")
                }
            }
        }
    }
}
