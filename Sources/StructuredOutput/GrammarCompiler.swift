/// Compiles constraints for one vocabulary, caching the results by the constraint's stable hash.
/// Thread-safe: compile from any thread (off the engine's step loop, since a large schema can take
/// milliseconds).
public final class GrammarCompiler: Sendable {
    /// The vocabulary every grammar of this compiler is matched against.
    public let vocabulary: TokenVocabulary
    /// The most grammars kept; the oldest is dropped beyond it.
    public let cacheCapacity: Int
    private let cache: Locked<(entries: [UInt64: (Constraint, CompiledGrammar)], order: [UInt64])>

    /// A compiler for `vocabulary` keeping up to `cacheCapacity` compiled grammars.
    public init(vocabulary: TokenVocabulary, cacheCapacity: Int = 256) {
        self.vocabulary = vocabulary
        self.cacheCapacity = max(1, cacheCapacity)
        cache = Locked((entries: [:], order: []))
    }

    /// The compiled form of `constraint` (from the cache when the same constraint was compiled
    /// before). With `precomputeTokenSets`, every position's context-independent token sets are
    /// computed now (milliseconds to a few hundred, by schema and vocabulary) so that no mask
    /// computation pays for them later; otherwise each is computed the first time a matcher
    /// needs it.
    ///
    /// - Throws: ``StructuredOutputError`` naming the unsupported keyword or feature, or the
    ///   offset of a syntax error.
    public func compile(_ constraint: Constraint, precomputeTokenSets: Bool) throws -> CompiledGrammar {
        let g = try compile(constraint)
        if precomputeTokenSets { g.precomputeAllPositions() }
        return g
    }

    /// The compiled form of `constraint` (from the cache when the same constraint was compiled
    /// before); token sets are computed as matchers first need them.
    ///
    /// - Throws: ``StructuredOutputError`` naming the unsupported keyword or feature, or the
    ///   offset of a syntax error.
    public func compile(_ constraint: Constraint) throws -> CompiledGrammar {
        let key = constraint.stableHash
        if let hit = cache.withLock({ c -> CompiledGrammar? in
            guard let e = c.entries[key], e.0 == constraint else { return nil }
            return e.1
        }) {
            return hit
        }
        let g = try GrammarCompiler.grammar(for: constraint)
        let compiled = CompiledGrammar(grammar: g, vocabulary: vocabulary, constraintHash: key)
        cache.withLock { c in
            if c.entries[key] == nil { c.order.append(key) }
            c.entries[key] = (constraint, compiled)
            while c.order.count > cacheCapacity {
                c.entries[c.order.removeFirst()] = nil
            }
        }
        return compiled
    }

    /// The number of grammars in the cache.
    public var cachedCount: Int { cache.withLock { $0.entries.count } }

    /// The vocabulary-independent grammar of `constraint`.
    static func grammar(for constraint: Constraint) throws -> FlatGrammar {
        switch constraint {
        case .jsonObject:
            return try JSONSchemaCompiler.compile(schemaText: #"{"type": "object"}"#)
        case .jsonSchema(let text):
            return try JSONSchemaCompiler.compile(schemaText: text)
        case .regex(let pattern):
            let e = try RegexParser.parse(pattern).expr(json: false)
            return try GrammarBuilder.build(rules: [("root", e)], start: "root")
        case .choice(let options):
            guard !options.isEmpty else {
                throw StructuredOutputError(.unsatisfiable, "choice needs at least one option")
            }
            return try GrammarBuilder.build(rules: [("root", .choice(options.map { .text($0) }))], start: "root")
        case .grammar(let text):
            if LarkParser.looksLikeLark(text) {
                return try LarkParser.parse(text)
            }
            return try GBNFParser.parse(text)
        }
    }
}
