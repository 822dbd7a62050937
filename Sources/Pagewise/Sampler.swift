#if canImport(Glibc)
import Glibc
#endif
import Kernels
import StructuredOutput
import Tokenization

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

/// Buffers one engine thread reuses for every row it samples (so steady sampling allocates nothing).
public final class SamplerScratch {
    /// The processed copy of a row of logits.
    var row: [Float] = []
    var candidates: [(id: Int32, logit: Float)] = []
    var weights: [Double] = []
    /// A structured-output mask (one bit per token).
    var mask: [UInt32] = []

    public init() {}

    func reserve(vocab: Int) {
        if row.count < vocab { row = [Float](repeating: 0, count: vocab) }
    }
}

/// One request's sampler: the logits processors of `SamplingParams` in vLLM v1's order, then the
/// draw from the request's own random stream (one draw per sampled token, so a seeded request gives
/// the same tokens in any batch).
///
/// Order (as vLLM v1's `Sampler.forward`):
/// 1. `allowedTokenIds` (every other token → −∞) and `badWords`;
/// 2. `minTokens` (end-of-generation and stop tokens → −∞ until reached), `logitBias` (±100);
/// 3. penalties: repetition (prompt + output), frequency, presence (output);
/// 4. temperature 0 (or below 1e-5, as vLLM): the argmax of the processed logits;
/// 5. otherwise divide by the temperature; `minP` (on the tempered probabilities), `topK`, `topP`
///    (on what top-k kept, renormalized); draw.
public struct Sampler: Sendable {
    public let params: SamplingParams
    private var rng: SamplingRNG
    /// Generated tokens → how many times (frequency / presence penalties).
    private var outputCounts: [Int32: Int32] = [:]
    /// Distinct tokens of prompt and output, for the repetition penalty.
    private var seen: Set<Int32> = []
    /// Banned sequences (token ids): the last is banned after the others were just generated.
    private let badSequences: [[Int32]]
    /// Tokens banned while fewer than `minTokens` were generated.
    private let endTokens: [Int32]
    private var generated = 0

    /// Below this a temperature means greedy (vLLM's `_SAMPLING_EPS`).
    public static let greedyEpsilon: Float = 1e-5

    /// - Parameters:
    ///   - prompt: the request's prompt (for the repetition penalty).
    ///   - badWords: token sequences never to complete (already tokenized).
    ///   - endOfGeneration: the model's end-of-generation ids (banned with `stopTokenIds` under `minTokens`).
    public init(params: SamplingParams, prompt: some Collection<Int32> = [], badWords: [[Int32]] = [],
                endOfGeneration: Set<Int32> = []) {
        self.params = params
        rng = SamplingRNG(seed: params.seed ?? UInt64.random(in: 0 ... .max))
        badSequences = badWords + params.badWordsTokenIds
        var ends = params.stopTokenIds
        if !params.ignoreEOS { ends += endOfGeneration.sorted() }
        endTokens = ends
        if params.repetitionPenalty != 1 { seen = Set(prompt) }
    }

    /// Starts a new random stream (a forked sequence of an n > 1 request).
    public mutating func reseed(_ seed: UInt64?) {
        rng = SamplingRNG(seed: seed ?? UInt64.random(in: 0 ... .max))
    }

    /// vLLM's tokenization of `bad_words`: each word without and with a leading space (the second
    /// only when it gives a different first token and as many tokens).
    public static func badWordSequences(_ words: [String], tokenizer: Tokenizer) -> [[Int32]] {
        var out: [[Int32]] = []
        for word in words {
            let bare = String(word.trimmingPrefixSpaces())
            let plain = tokenizer.encode(bare, addSpecial: false, parseSpecial: false)
            if !plain.isEmpty { out.append(plain) }
            let spaced = tokenizer.encode(" " + bare, addSpecial: false, parseSpecial: false)
            if !spaced.isEmpty, spaced.count == plain.count, spaced.first != plain.first { out.append(spaced) }
        }
        return out
    }

    /// Records a token appended to the sequence (the penalties' and `minTokens`' state).
    public mutating func observe(_ token: Int32) {
        generated += 1
        if params.frequencyPenalty != 0 || params.presencePenalty != 0 { outputCounts[token, default: 0] += 1 }
        if params.repetitionPenalty != 1 { seen.insert(token) }
    }

    /// Index of the largest logit (the lowest index among equals).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        Int32(Kernels.argmax(logits))
    }

    /// Whether sampling is the argmax of the raw logits.
    var isGreedy: Bool { params.temperature < Self.greedyEpsilon }

    /// Picks the next token from one row of raw logits. `output` is what the sequence generated so
    /// far (for bad words); `mask` is a structured-output constraint's allowed tokens (bit i%32 of
    /// word i/32), applied after the other processors. Throws when nothing is allowed.
    public mutating func sample(_ raw: UnsafeBufferPointer<Float>, output: ArraySlice<Int32> = [],
                                mask: UnsafeBufferPointer<UInt32>? = nil, scratch: SamplerScratch) throws -> Int32 {
        if isGreedy && !params.hasLogitsProcessors && mask == nil { return Self.argmax(raw) }
        let vocab = raw.count
        scratch.reserve(vocab: vocab)
        return try scratch.row.withUnsafeMutableBufferPointer { buf -> Int32 in
            let row = UnsafeMutableBufferPointer(rebasing: buf[0 ..< vocab])
            let logits: UnsafeBufferPointer<Float>
            if params.hasLogitsProcessors || mask != nil {
                applyProcessors(raw, into: row, output: output)
                if let mask { TokenBitmask.apply(mask, to: row) }
                logits = UnsafeBufferPointer(row)
            } else {
                logits = raw
            }
            let best = Self.argmax(logits)
            guard logits[Int(best)] > -Float.infinity else {
                throw SamplingError.noAllowedToken(mask == nil
                    ? "every token is banned by this request's allowed_token_ids, bad_words, logit_bias or min_tokens"
                    : "the structured-output constraint allows no token that the other parameters allow")
            }
            if isGreedy { return best }
            return draw(logits, maxLogit: logits[Int(best)], scratch: scratch)
        }
    }

    /// Steps 1–3 into `row`.
    func applyProcessors(_ raw: UnsafeBufferPointer<Float>, into row: UnsafeMutableBufferPointer<Float>, output: ArraySlice<Int32>) {
        let vocab = raw.count
        if let allowed = params.allowedTokenIds {
            for i in 0 ..< vocab { row[i] = -.infinity }
            for t in allowed where Int(t) < vocab { row[Int(t)] = raw[Int(t)] }
        } else {
            _ = row.initialize(from: raw)
        }
        for seq in badSequences {
            let prefix = seq.dropLast()
            guard let last = seq.last, Int(last) < vocab, prefix.count <= output.count else { continue }
            if prefix.isEmpty || output.suffix(prefix.count).elementsEqual(prefix) { row[Int(last)] = -.infinity }
        }
        if generated < params.minTokens {
            for t in endTokens where Int(t) < vocab { row[Int(t)] = -.infinity }
        }
        for (t, bias) in params.logitBias where Int(t) < vocab {
            row[Int(t)] += min(100, max(-100, bias))
        }
        let rp = params.repetitionPenalty
        if rp != 1 {
            for t in seen where Int(t) < vocab {
                let v = row[Int(t)]
                row[Int(t)] = v > 0 ? v / rp : v * rp
            }
        }
        let fp = params.frequencyPenalty, pp = params.presencePenalty
        if fp != 0 || pp != 0 {
            for (t, count) in outputCounts where Int(t) < vocab {
                row[Int(t)] -= fp * Float(count) + pp
            }
        }
    }

    /// Step 5 without the draw: fills `scratch.weights` with the unnormalized probabilities of the
    /// kept tokens. Returns nil when every token of the (min-p filtered) vocabulary is a candidate in
    /// id order (weights indexed by id, 0 where filtered), else how many of `scratch.candidates`
    /// (best first) are kept.
    private func filter(_ logits: UnsafeBufferPointer<Float>, maxLogit: Float, scratch: SamplerScratch) -> Int? {
        let t = Double(params.temperature)
        // min-p on the tempered distribution: p_i / p_max = exp((l_i - max) / T) ≥ min_p.
        let threshold: Float = params.minP > 0 ? maxLogit + Float(t * log(Double(params.minP))) : -.infinity
        let vocab = logits.count
        let topK = params.topK > 0 && params.topK < vocab ? params.topK : 0
        scratch.weights.removeAll(keepingCapacity: true)
        if topK == 0 && params.topP >= 1 {
            for i in 0 ..< vocab {
                scratch.weights.append(logits[i] >= threshold ? exp(Double(logits[i] - maxLogit) / t) : 0)
            }
            return nil
        }
        // Candidates best first: the top-k, or (top-p alone) a growing top list until it holds the nucleus.
        var total = 0.0
        if topK > 0 {
            Self.selectTop(logits, k: topK, threshold: threshold, into: &scratch.candidates)
            for c in scratch.candidates { total += exp(Double(c.logit - maxLogit) / t) }
        } else {
            for i in 0 ..< vocab where logits[i] >= threshold { total += exp(Double(logits[i] - maxLogit) / t) }
            var k = 64
            while true {
                Self.selectTop(logits, k: min(k, vocab), threshold: threshold, into: &scratch.candidates)
                var mass = 0.0
                for c in scratch.candidates { mass += exp(Double(c.logit - maxLogit) / t) }
                if mass >= Double(params.topP) * total || scratch.candidates.count < min(k, vocab) || k >= vocab { break }
                k *= 4
            }
        }
        for c in scratch.candidates { scratch.weights.append(exp(Double(c.logit - maxLogit) / t)) }
        var keep = scratch.candidates.count
        if params.topP < 1 {
            // Keep a token while the mass of the more likely ones is below p (vLLM's rule).
            let limit = Double(params.topP) * total
            var cumulative = 0.0
            for i in 0 ..< keep {
                if i > 0 && cumulative >= limit { keep = i; break }
                cumulative += scratch.weights[i]
            }
        }
        return keep
    }

    /// Step 5: filter, then one draw from the request's stream.
    private mutating func draw(_ logits: UnsafeBufferPointer<Float>, maxLogit: Float, scratch: SamplerScratch) -> Int32 {
        let keep = filter(logits, maxLogit: maxLogit, scratch: scratch)
        let n = keep ?? scratch.weights.count
        var total = 0.0
        for i in 0 ..< n { total += scratch.weights[i] }
        var r = rng.nextUnit() * total
        var last = 0
        for i in 0 ..< n where scratch.weights[i] > 0 {
            r -= scratch.weights[i]
            last = i
            if r < 0 { break }
        }
        return keep == nil ? Int32(last) : scratch.candidates[last].id
    }

    /// The logits after steps 1–3 (allowed ids, bad words, min tokens, bias, penalties), for
    /// inspection and tests.
    public func processedLogits(_ raw: [Float], output: [Int32] = []) -> [Float] {
        var row = raw
        raw.withUnsafeBufferPointer { r in
            row.withUnsafeMutableBufferPointer { applyProcessors(r, into: $0, output: output[...]) }
        }
        return row
    }

    /// The exact distribution `sample` draws from for these raw logits (one probability per token;
    /// a one-hot vector when greedy). Throws as `sample` does when no token is allowed.
    public func distribution(_ raw: [Float], output: [Int32] = []) throws -> [Double] {
        let logits = params.hasLogitsProcessors ? processedLogits(raw, output: output) : raw
        var probs = [Double](repeating: 0, count: raw.count)
        try logits.withUnsafeBufferPointer { l in
            let best = Self.argmax(l)
            guard l[Int(best)] > -Float.infinity else {
                throw SamplingError.noAllowedToken("every token is banned by this request's allowed_token_ids, bad_words, logit_bias or min_tokens")
            }
            if isGreedy { probs[Int(best)] = 1; return }
            let scratch = SamplerScratch()
            let keep = filter(l, maxLogit: l[Int(best)], scratch: scratch)
            let n = keep ?? scratch.weights.count
            let total = scratch.weights[0 ..< n].reduce(0, +)
            for i in 0 ..< n {
                let id = keep == nil ? i : Int(scratch.candidates[i].id)
                probs[id] = scratch.weights[i] / total
            }
        }
        return probs
    }

    /// Candidate order: higher logit first, lower id among equals.
    @inline(__always)
    static func before(_ a: (id: Int32, logit: Float), _ b: (id: Int32, logit: Float)) -> Bool {
        a.logit > b.logit || (a.logit == b.logit && a.id < b.id)
    }

    /// The (at most) k best tokens at or above `threshold`, best first, with a min-heap of size k:
    /// O(V log k), never a sort of the vocabulary.
    static func selectTop(_ logits: UnsafeBufferPointer<Float>, k: Int, threshold: Float,
                          into heap: inout [(id: Int32, logit: Float)]) {
        heap.removeAll(keepingCapacity: true)
        guard k > 0 else { return }
        // heap[0] is the worst kept candidate.
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var worst = i
                if l < heap.count, before(heap[worst], heap[l]) { worst = l }
                if r < heap.count, before(heap[worst], heap[r]) { worst = r }
                if worst == i { return }
                heap.swapAt(i, worst)
                i = worst
            }
        }
        func siftUp(_ start: Int) {
            var i = start
            while i > 0 {
                let p = (i - 1) / 2
                guard before(heap[p], heap[i]) else { return }
                heap.swapAt(i, p)
                i = p
            }
        }
        for i in 0 ..< logits.count {
            let v = logits[i]
            guard v >= threshold, v > -Float.infinity else { continue }
            let c = (id: Int32(i), logit: v)
            if heap.count < k {
                heap.append(c)
                siftUp(heap.count - 1)
            } else if before(c, heap[0]) {
                heap[0] = c
                siftDown(0)
            }
        }
        heap.sort(by: before)
    }

    /// Log-probabilities of the raw distribution at one position: `token`'s (with its rank) and the
    /// `k` most likely (vLLM's default `raw_logprobs`).
    public static func logprobs(_ raw: UnsafeBufferPointer<Float>, token: Int32, k: Int,
                                scratch: SamplerScratch) -> PositionLogprobs {
        var maxLogit = -Float.infinity
        for v in raw where v > maxLogit { maxLogit = v }
        var sum = 0.0
        for v in raw { sum += exp(Double(v - maxLogit)) }
        let lse = Double(maxLogit) + log(sum)
        let chosen = raw[Int(token)]
        var rank = 1
        for v in raw where v > chosen { rank += 1 }
        var top: [TokenLogprob] = []
        if k > 0 {
            selectTop(raw, k: k, threshold: -.infinity, into: &scratch.candidates)
            top.reserveCapacity(scratch.candidates.count)
            for c in scratch.candidates { top.append(TokenLogprob(token: c.id, logprob: Float(Double(c.logit) - lse))) }
        }
        return PositionLogprobs(token: token, logprob: Float(Double(chosen) - lse), rank: rank, top: top)
    }
}
