/// The tokens of one request with, for every token id, where it occurs: the index a suffix match
/// starts from (grown as the request's tokens grow).
final class SuffixIndex {
    private(set) var tokens: [Int32] = []
    private(set) var positions: [Int32: [Int32]] = [:]

    /// Indexes whatever `all` holds past what is indexed (`all` extends `tokens`).
    func extend(to all: [Int32]) {
        guard all.count > tokens.count else { return }
        for i in tokens.count ..< all.count { positions[all[i], default: []].append(Int32(i)) }
        tokens.append(contentsOf: all[tokens.count...])
    }
}

/// Suffix decoding (as Arctic Inference's): the request's own tokens and those of recently finished
/// requests are indexed; the longest suffix of the sequence (up to `maxDepth` tokens) that occurs
/// in them is found, and among all its occurrences the most frequent continuation is proposed,
/// token by token, while the share of occurrences that agree stays above `minProbability`.
/// Pays on repeated or templated outputs (agents, tool calls, edits), also across requests.
public final class SuffixProposer: DraftSource {
    /// Longest suffix matched, in tokens.
    public let maxDepth: Int
    /// A proposal stops when the share of matched occurrences that agree on it falls below this.
    public let minProbability: Double
    /// Finished requests kept for lookup (oldest dropped first).
    public let maxRecentRequests: Int
    /// Most recent occurrences of the last token examined per indexed request.
    public let maxCandidates: Int
    private var recent: [SuffixIndex] = []

    /// Arctic Inference's defaults, scaled to one engine: 32-token suffixes, 32 recent requests.
    public init(maxDepth: Int = 32, minProbability: Double = 0.1, maxRecentRequests: Int = 32, maxCandidates: Int = 256) {
        self.maxDepth = max(1, maxDepth)
        self.minProbability = minProbability
        self.maxRecentRequests = max(0, maxRecentRequests)
        self.maxCandidates = max(1, maxCandidates)
    }

    /// Requests kept for lookup besides the running ones.
    public var recentRequestCount: Int { recent.count }

    public func propose(_ tokens: [Int32], promptCount: Int, k: Int, state: inout AnyObject?) -> [Int32] {
        guard k > 0, let last = tokens.last else { return [] }
        let own = (state as? SuffixIndex) ?? SuffixIndex()
        state = own
        own.extend(to: tokens)
        // Occurrences (source, position of the matched last token) with their match length.
        var best = 0
        var matches: [(source: SuffixIndex, at: Int)] = []
        tokens.withUnsafeBufferPointer { t in
            for source in [own] + recent.reversed() {
                guard let occ = source.positions[last] else { continue }
                source.tokens.withUnsafeBufferPointer { e in
                    var seen = 0
                    for p in occ.reversed() {
                        let p = Int(p)
                        // A continuation must exist (the own sequence's last token has none yet).
                        guard p + 1 < e.count else { continue }
                        seen += 1
                        if seen > maxCandidates { break }
                        var m = 0
                        while m < maxDepth, p - m >= 0, t.count - 1 - m >= 0, e[p - m] == t[t.count - 1 - m] { m += 1 }
                        if m > best {
                            best = m
                            matches.removeAll(keepingCapacity: true)
                        }
                        if m == best { matches.append((source, p)) }
                    }
                }
            }
        }
        guard best > 0 else { return [] }
        // The most frequent continuation, one token at a time (ties: the most recent occurrence's).
        var out: [Int32] = []
        var probability = 1.0
        var live = matches
        for d in 1 ... k {
            var counts: [Int32: Int] = [:]
            var order: [Int32] = []
            var total = 0
            for m in live where m.at + d < m.source.tokens.count {
                let next = m.source.tokens[m.at + d]
                if counts[next] == nil { order.append(next) }
                counts[next, default: 0] += 1
                total += 1
            }
            guard total > 0 else { break }
            var choice = order[0]
            for c in order where counts[c, default: 0] > counts[choice, default: 0] { choice = c }
            probability *= Double(counts[choice, default: 0]) / Double(total)
            if probability < minProbability { break }
            out.append(choice)
            live = live.filter { $0.at + d < $0.source.tokens.count && $0.source.tokens[$0.at + d] == choice }
        }
        return out
    }

    public func forgetRecentRequests() { recent.removeAll() }

    public func retire(_ tokens: [Int32], promptCount: Int, state: inout AnyObject?) {
        guard maxRecentRequests > 0 else { return }
        let index = (state as? SuffixIndex) ?? SuffixIndex()
        index.extend(to: tokens)
        state = nil
        recent.append(index)
        if recent.count > maxRecentRequests { recent.removeFirst(recent.count - maxRecentRequests) }
    }
}
