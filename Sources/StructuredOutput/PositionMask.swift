/// What a byte-set position allows regardless of the stack below it (XGrammar's
/// context-independent tokens): the tokens a path inside the position's rule consumes entirely
/// (`accepted`), and the tokens that need the real stack to decide (`uncertain`: they run past the
/// end of the rule into a context the follow sets say is possible). All other tokens are rejected.
struct PositionMask: Sendable {
    /// Accepted tokens as a bitmask (bit i = token i), or nil when ``acceptedList`` holds them.
    let acceptedBits: [UInt32]?
    let acceptedList: [Int32]
    let uncertain: [Int32]

    /// Walks the vocabulary trie once from position `pos`, with `store` (in follow mode; shared by
    /// the positions of one grammar, so their memoized transitions are reused).
    init(store: inout StackStore, position pos: Int32, vocabulary v: TokenVocabulary) {
        let start = store.intern(StackStore.StateKey(nodes: [store.node(pos: pos, parent: StackStore.exactRoot)], flags: 0))
        let trie = v.trie
        var stack = [Int32](repeating: 0, count: trie.maxDepth + 1)
        stack[0] = start
        var accepted: [Int32] = []
        var uncertain: [Int32] = []
        var i = 0
        let n = trie.nodeCount
        trie.byte.withUnsafeBufferPointer { bytes in
            trie.depth.withUnsafeBufferPointer { depth in
                trie.subtreeEnd.withUnsafeBufferPointer { ends in
                    while i < n {
                        let d = Int(depth[i])
                        let s = store.step(stack[d - 1], bytes[i])
                        if s == StackStore.dead {
                            i = Int(ends[i])
                            continue
                        }
                        stack[d] = s
                        let a = trie.tokenStart[i], b = trie.tokenStart[i + 1]
                        if a < b {
                            let ok = store.stateHasExact[Int(s)] || store.stateFlags[Int(s)] & StackStore.completedExact != 0
                            for k in Int(a)..<Int(b) {
                                if ok { accepted.append(trie.tokens[k]) } else { uncertain.append(trie.tokens[k]) }
                            }
                        }
                        i += 1
                    }
                }
            }
        }
        self.uncertain = uncertain
        if accepted.count * 32 > v.size {
            var bits = [UInt32](repeating: 0, count: v.maskWordCount)
            for t in accepted { bits[Int(t) >> 5] |= 1 << UInt32(t & 31) }
            acceptedBits = bits
            acceptedList = []
        } else {
            acceptedBits = nil
            acceptedList = accepted
        }
    }
}
