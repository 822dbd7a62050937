/// Finds special-token texts (control, user-defined and unknown tokens) in input text and splits
/// the text around them, with llama.cpp's precedence: longer texts first, and each token claims
/// its non-overlapping occurrences left to right inside text not yet claimed.
struct SpecialTokenMatcher: Sendable {
    /// Trie transitions: (node << 8 | byte) -> child node.
    private let edges: [UInt64: Int32]
    /// Per node: the token ending there (lowest priority rank wins), or -1.
    private let terminal: [Int32]
    /// Priority rank of each token id that can be matched (smaller first), -1 otherwise.
    private let rank: [Int32: Int32]
    private let lengths: [Int32: Int32]

    /// A piece of input: raw text (a byte range) or a matched token.
    enum Fragment: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    /// - Parameter candidates: (token id, text) of every matchable token.
    init(candidates: [(Int32, [UInt8])]) {
        let ordered = candidates.filter { !$0.1.isEmpty }.sorted { a, b in
            a.1.count != b.1.count ? a.1.count > b.1.count : a.0 < b.0
        }
        var edges: [UInt64: Int32] = [:]
        var terminal: [Int32] = [-1]
        var rank: [Int32: Int32] = [:]
        var lengths: [Int32: Int32] = [:]
        for (r, (id, text)) in ordered.enumerated() {
            var node: Int32 = 0
            for b in text {
                let key = UInt64(node) << 8 | UInt64(b)
                if let child = edges[key] {
                    node = child
                } else {
                    let child = Int32(terminal.count)
                    terminal.append(-1)
                    edges[key] = child
                    node = child
                }
            }
            if terminal[Int(node)] < 0 {
                terminal[Int(node)] = id
            }
            if rank[id] == nil { rank[id] = Int32(r) }
            lengths[id] = Int32(text.count)
        }
        self.edges = edges
        self.terminal = terminal
        self.rank = rank
        self.lengths = lengths
    }

    /// Splits `text` into raw-text fragments and special tokens; `allowed` filters which tokens
    /// may be matched. Empty raw fragments are never produced.
    func partition(_ text: UnsafeBufferPointer<UInt8>, allowed: (Int32) -> Bool) -> [Fragment] {
        let n = text.count
        if n == 0 { return [] }
        // (rank, position, id)
        var hits: [(Int32, Int, Int32)] = []
        if !edges.isEmpty {
            for i in 0..<n {
                var node: Int32 = 0
                var j = i
                while j < n, let child = edges[UInt64(node) << 8 | UInt64(text[j])] {
                    node = child
                    j += 1
                    let t = terminal[Int(node)]
                    if t >= 0, allowed(t), let r = rank[t] {
                        hits.append((r, i, t))
                    }
                }
            }
        }
        if hits.isEmpty { return [.text(0..<n)] }
        hits.sort { a, b in a.0 != b.0 ? a.0 < b.0 : a.1 < b.1 }
        var claimed = [Bool](repeating: false, count: n)
        var accepted: [(Int, Int, Int32)] = []  // (pos, len, id)
        for (_, pos, id) in hits {
            let len = Int(lengths[id] ?? 0)
            var free = true
            for k in pos..<(pos + len) where claimed[k] {
                free = false
                break
            }
            if !free { continue }
            for k in pos..<(pos + len) { claimed[k] = true }
            accepted.append((pos, len, id))
        }
        accepted.sort { $0.0 < $1.0 }
        var out: [Fragment] = []
        var cursor = 0
        for (pos, len, id) in accepted {
            if pos > cursor { out.append(.text(cursor..<pos)) }
            out.append(.token(id))
            cursor = pos + len
        }
        if cursor < n { out.append(.text(cursor..<n)) }
        return out
    }
}
