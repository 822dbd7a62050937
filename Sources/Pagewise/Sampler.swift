#if canImport(Glibc)
import Glibc
#endif
import Kernels

/// xoshiro256** seeded through SplitMix64: fast, reproducible across platforms.
public struct SamplingRNG: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }
}

/// Picks next tokens from logits: greedy at temperature 0, else top-k → top-p → min-p → temperature → draw.
public struct Sampler: Sendable {
    public let params: SamplingParams
    private var rng: SamplingRNG
    private var candidates: [(id: Int32, logit: Float)] = []
    private var probs: [Double] = []

    public init(params: SamplingParams) {
        self.params = params
        rng = SamplingRNG(seed: params.seed ?? UInt64.random(in: 0 ... .max))
    }

    /// Index of the largest logit (the lowest index among equals).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        Int32(Kernels.argmax(logits))
    }

    /// Candidate order: higher logit first, lower id among equals.
    private static func before(_ a: (id: Int32, logit: Float), _ b: (id: Int32, logit: Float)) -> Bool {
        a.logit > b.logit || (a.logit == b.logit && a.id < b.id)
    }

    /// Fills `candidates` with the k best tokens (all of them when top-k is off), best first.
    /// With a cut, a min-heap of size k keeps the pass O(V log k) instead of sorting the vocabulary.
    private mutating func selectCandidates(_ logits: UnsafeBufferPointer<Float>) {
        candidates.removeAll(keepingCapacity: true)
        let k = params.topK > 0 ? min(params.topK, logits.count) : logits.count
        if k == logits.count {
            for i in 0 ..< logits.count { candidates.append((Int32(i), logits[i])) }
        } else {
            // candidates[0] is the worst of the kept ones (heap order by `before`, reversed).
            func siftDown(_ start: Int) {
                var i = start
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var worst = i
                    if l < candidates.count, Self.before(candidates[worst], candidates[l]) { worst = l }
                    if r < candidates.count, Self.before(candidates[worst], candidates[r]) { worst = r }
                    if worst == i { return }
                    candidates.swapAt(i, worst)
                    i = worst
                }
            }
            for i in 0 ..< k { candidates.append((Int32(i), logits[i])) }
            for i in stride(from: k / 2 - 1, through: 0, by: -1) { siftDown(i) }
            for i in k ..< logits.count where Self.before((Int32(i), logits[i]), candidates[0]) {
                candidates[0] = (Int32(i), logits[i])
                siftDown(0)
            }
        }
        candidates.sort(by: Self.before)
    }

    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        if params.temperature == 0 { return Self.argmax(logits) }
        selectCandidates(logits)
        // Probabilities at temperature 1 for the top-p / min-p cuts.
        let maxLogit = candidates[0].logit
        probs.removeAll(keepingCapacity: true)
        for c in candidates { probs.append(Double(expf(c.logit - maxLogit))) }
        let total = probs.reduce(0, +)
        var keep = candidates.count
        if params.topP < 1 {
            var cumulative = 0.0
            for i in 0 ..< probs.count {
                cumulative += probs[i] / total
                if cumulative >= Double(params.topP) { keep = i + 1; break }
            }
        }
        if params.minP > 0 {
            let threshold = Double(params.minP) * probs[0]
            var m = 1
            while m < keep, probs[m] >= threshold { m += 1 }
            keep = m
        }
        // Temperature, then draw.
        var tempered = 0.0
        for i in 0 ..< keep {
            probs[i] = Double(expf((candidates[i].logit - maxLogit) / params.temperature))
            tempered += probs[i]
        }
        var r = rng.nextUnit() * tempered
        for i in 0 ..< keep {
            r -= probs[i]
            if r < 0 { return candidates[i].id }
        }
        return candidates[keep - 1].id
    }
}
