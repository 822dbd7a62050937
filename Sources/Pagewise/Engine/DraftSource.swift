/// Where draft tokens come from: something that guesses the next few tokens of a sequence more
/// cheaply than the target model computes them. The engine verifies every guess with the target
/// model in one forward pass, so a source only affects speed, never the output.
///
/// A source is used from the engine's thread only.
public protocol DraftSource: AnyObject {
    /// Up to `k` tokens likely to follow `tokens` (the prompt followed by the output so far; the
    /// first `promptCount` are the prompt). `state` is this sequence's own slot for whatever the
    /// source keeps between calls (nil on the first call; dropped with the sequence).
    func propose(_ tokens: [Int32], promptCount: Int, k: Int, state: inout AnyObject?) -> [Int32]

    /// The sequence finished normally with these tokens (a source that learns from recent requests
    /// keeps them).
    func retire(_ tokens: [Int32], promptCount: Int, state: inout AnyObject?)

    /// Drops what was kept from earlier requests (a benchmark's first-time request).
    func forgetRecentRequests()
}

extension DraftSource {
    public func retire(_ tokens: [Int32], promptCount: Int, state: inout AnyObject?) {}
    public func forgetRecentRequests() {}
}

/// Prompt lookup (vLLM's `ngram`, llama.cpp's lookup decoding): the last n tokens (n from `maxN`
/// down to `minN`) are looked for earlier in the prompt and output; the tokens that followed their
/// most recent earlier occurrence are proposed. Pays when the output repeats its input (editing,
/// summarising with quotes, code completion). A match close to the end is copied the way LZ77
/// copies an overlapping match: the proposal continues with its own tokens, so an output that
/// repeats a short period (a token, a line) is drafted k tokens ahead, not only up to the end.
public final class NgramProposer: DraftSource {
    /// Shortest suffix looked up, in tokens.
    public let minN: Int
    /// Longest suffix looked up, in tokens.
    public let maxN: Int

    /// - Parameters: minN, maxN: the shortest and longest suffix to look up (1 ≤ minN ≤ maxN).
    public init(minN: Int = 2, maxN: Int = 4) {
        precondition(minN >= 1 && maxN >= minN, "ngram sizes: 1 ≤ minN ≤ maxN")
        self.minN = minN
        self.maxN = maxN
    }

    public func propose(_ tokens: [Int32], promptCount: Int, k: Int, state: inout AnyObject?) -> [Int32] {
        Self.lookup(tokens, minN: minN, maxN: maxN, k: k)
    }

    /// The longest suffix of `tokens` of `minN…maxN` tokens that occurred before, most recent
    /// occurrence: up to `k` tokens that followed it (empty when none).
    public static func lookup(_ tokens: [Int32], minN: Int, maxN: Int, k: Int) -> [Int32] {
        let count = tokens.count
        guard k > 0, count >= 2 else { return [] }
        return tokens.withUnsafeBufferPointer { t -> [Int32] in
            var n = min(maxN, count - 1)
            while n >= minN {
                let tail = count - n
                // Candidate starts s with s + n < count (a token follows), most recent first.
                var s = count - n - 1
                while s >= 0 {
                    var j = 0
                    while j < n, t[s + j] == t[tail + j] { j += 1 }
                    if j == n {
                        // Overlapping copy: past the end, the period (count - from) repeats.
                        let from = s + n
                        var out = [Int32]()
                        out.reserveCapacity(k)
                        for i in 0 ..< k { out.append(from + i < count ? t[from + i] : out[from + i - count]) }
                        return out
                    }
                    s -= 1
                }
                n -= 1
            }
            return []
        }
    }
}
