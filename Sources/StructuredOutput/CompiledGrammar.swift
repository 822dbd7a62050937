/// A constraint compiled for one vocabulary: the grammar, and the per-position token sets,
/// computed on first use and shared by every matcher (thread-safe).
public final class CompiledGrammar: Sendable {
    /// The vocabulary the grammar was compiled for.
    public let vocabulary: TokenVocabulary
    /// The constraint's stable hash (``Constraint/stableHash``).
    public let constraintHash: UInt64
    let grammar: FlatGrammar
    private let masks: Locked<[Int32: PositionMask]>
    /// The follow-mode automaton the token sets are computed with (one at a time).
    private let precompute: Locked<StackStore>

    init(grammar: FlatGrammar, vocabulary: TokenVocabulary, constraintHash: UInt64) {
        self.grammar = grammar
        self.vocabulary = vocabulary
        self.constraintHash = constraintHash
        masks = Locked([:])
        precompute = Locked(StackStore(grammar: grammar, followMode: true))
    }

    /// The number of rules (auxiliary ones included).
    public var ruleCount: Int { grammar.ruleStarts.count }

    /// The number of grammar positions.
    public var positionCount: Int { grammar.elements.count }

    /// The context-independent token sets of byte-set position `pos` (computed once).
    func positionMask(_ pos: Int32) -> PositionMask {
        if let m = masks.withLock({ $0[pos] }) { return m }
        return precompute.withLock { store in
            if let m = masks.withLock({ $0[pos] }) { return m }
            let m = PositionMask(store: &store, position: pos, vocabulary: vocabulary)
            masks.withLock { $0[pos] = m }
            return m
        }
    }

    /// Computes the token sets of every position now (otherwise each is computed the first time a
    /// matcher reaches it). Call it off the engine's thread when first-token latency matters.
    public func precomputeAllPositions() {
        for (p, e) in grammar.elements.enumerated() {
            if case .bytes = e { _ = positionMask(Int32(p)) }
        }
    }
}
