/// The state of one generation under a ``CompiledGrammar``: which tokens may come next, and the
/// state after each accepted token. One matcher per sequence; not shared between threads
/// (a reference type).
public final class GrammarMatcher {
    /// The grammar this matcher follows.
    public let grammar: CompiledGrammar
    private var store: StackStore
    /// States after 0, 1, 2 … accepted tokens (the last is the current one).
    private var history: [Int32]
    /// Whether an end-of-generation token was accepted.
    public private(set) var isTerminated = false
    private let eogSet: Set<Int32>

    /// A matcher at the start of `grammar`.
    public init(_ grammar: CompiledGrammar) {
        self.grammar = grammar
        var st = StackStore(grammar: grammar.grammar, followMode: false)
        let g = grammar.grammar
        let seeds = g.ruleStarts[Int(g.startRule)].map { st.node(pos: $0, parent: StackStore.exactRoot) }
        history = [st.closure(of: seeds)]
        store = st
        eogSet = Set(grammar.vocabulary.endOfGeneration)
    }

    private var current: Int32 { history[history.count - 1] }

    /// Whether the output may end here (an end-of-generation token is allowed).
    public var canTerminate: Bool {
        !isTerminated && store.stateFlags[Int(current)] & StackStore.completedExact != 0
    }

    /// Whether the grammar allows nothing but the end here (a finished output).
    public var mustTerminate: Bool {
        canTerminate && store.stateNodes[Int(current)].isEmpty
    }

    /// The number of tokens accepted so far (an accepted end-of-generation token included).
    public var acceptedTokenCount: Int { history.count - 1 + (isTerminated ? 1 : 0) }

    /// Accepts `token` if the grammar allows it; returns false (and changes nothing) otherwise.
    /// An end-of-generation token is accepted only where ``canTerminate`` is true.
    @discardableResult
    public func accept(_ token: Int32) -> Bool {
        if isTerminated { return false }
        if eogSet.contains(token) {
            guard canTerminate else { return false }
            isTerminated = true
            return true
        }
        let bytes = grammar.vocabulary.bytes(of: token)
        if bytes.isEmpty { return false }
        guard let s = run(bytes, from: current) else { return false }
        history.append(s)
        return true
    }

    /// Accepts raw bytes as if they were one token (for text the engine appends itself, such as
    /// a jump-forward continuation); returns false (and changes nothing) if the grammar rejects them.
    @discardableResult
    public func accept(bytes: [UInt8]) -> Bool {
        if isTerminated || bytes.isEmpty { return !isTerminated }
        guard let s = run(bytes, from: current) else { return false }
        history.append(s)
        return true
    }

    /// Whether the grammar allows `bytes` next, without accepting them.
    public func allows(bytes: [UInt8]) -> Bool {
        !isTerminated && run(bytes, from: current) != nil
    }

    private func run(_ bytes: [UInt8], from start: Int32) -> Int32? {
        var s = start
        for b in bytes {
            s = store.step(s, b)
            if s == StackStore.dead { return nil }
        }
        return s
    }

    /// Undoes the last `n` accepted tokens (or `accept(bytes:)` calls), for speculative decoding.
    public func rollback(_ n: Int) {
        var k = max(0, n)
        if k > 0 && isTerminated {
            isTerminated = false
            k -= 1
        }
        let drop = min(k, history.count - 1)
        history.removeLast(drop)
    }

    /// Resets to the start of the grammar.
    public func reset() {
        history.removeLast(history.count - 1)
        isTerminated = false
    }

    /// Writes the allowed next tokens into `mask` (bit `i % 32` of word `i / 32` set = token `i`
    /// allowed); the buffer needs ``TokenVocabulary/maskWordCount`` words (extra words are
    /// cleared). End-of-generation tokens are set exactly where ``canTerminate`` is true.
    public func fillNextTokenBitmask(_ mask: UnsafeMutableBufferPointer<UInt32>) {
        guard let base = mask.baseAddress else { return }
        let words = min(mask.count, grammar.vocabulary.maskWordCount)
        mask.update(repeating: 0)
        if isTerminated { return }
        let state = current
        let tops = store.stateNodes[Int(state)]
        var seenPositions = Set<Int32>()
        var pending: [(Int32, PositionMask)] = []
        for n in tops {
            let pos = store.nodes[Int(n)].pos
            let pm = grammar.positionMask(pos)
            if seenPositions.insert(pos).inserted {
                if let bits = pm.acceptedBits {
                    bits.withUnsafeBufferPointer { src in
                        for w in 0..<words { base[w] |= src[w] }
                    }
                } else {
                    for t in pm.acceptedList where Int(t) >> 5 < words {
                        base[Int(t) >> 5] |= 1 << UInt32(t & 31)
                    }
                }
            }
            if !pm.uncertain.isEmpty { pending.append((n, pm)) }
        }
        // Tokens that leave the position's rule: decide them on the real stack.
        let vocab = grammar.vocabulary
        for (n, pm) in pending {
            let single = store.intern(StackStore.StateKey(nodes: [n], flags: 0))
            for t in pm.uncertain {
                let w = Int(t) >> 5
                guard w < words else { continue }
                let bit: UInt32 = 1 << UInt32(t & 31)
                if base[w] & bit != 0 { continue }
                if run(vocab.tokenBytes[Int(t)], from: single) != nil { base[w] |= bit }
            }
        }
        if canTerminate {
            for t in vocab.endOfGeneration where Int(t) >> 5 < words {
                base[Int(t) >> 5] |= 1 << UInt32(t & 31)
            }
        }
    }

    /// The allowed next tokens as a new mask array.
    public func nextTokenBitmask() -> [UInt32] {
        var m = [UInt32](repeating: 0, count: grammar.vocabulary.maskWordCount)
        m.withUnsafeMutableBufferPointer { fillNextTokenBitmask($0) }
        return m
    }

    /// The bytes the grammar forces next — the only possible continuation, up to the first point
    /// with a choice (or where the output may end) — for jump-forward decoding; empty when the
    /// next byte is not forced. At most `limit` bytes.
    public func forcedContinuation(limit: Int = 256) -> [UInt8] {
        if isTerminated { return [] }
        var out: [UInt8] = []
        var s = current
        while out.count < limit {
            if store.stateFlags[Int(s)] & StackStore.completedExact != 0 { break }
            guard let b = store.allowedBytes(s).single else { break }
            let next = store.step(s, b)
            if next == StackStore.dead { break }
            out.append(b)
            s = next
        }
        return out
    }
}
