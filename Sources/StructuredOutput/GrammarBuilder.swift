/// Lowers named ``GExpr`` rules into a ``FlatGrammar``: nested alternations and repetitions
/// become auxiliary rules (deduplicated), references are resolved, left recursion is rejected.
struct GrammarBuilder {
    /// Above this many elements a grammar is refused (a bound against hostile inputs).
    static let maxElements = 1_000_000
    static let maxRepeat = 10_000

    private var g = FlatGrammar()
    private var ruleIndex: [String: Int32] = [:]
    private var pendingBodies: [Int32: GExpr] = [:]
    private var auxRules: [GExpr: Int32] = [:]
    private var byteSetIndex: [ByteSet: Int32] = [:]
    private var bodies: [[[Element]]] = []

    /// Builds the grammar from `rules` (name → expression) starting at `start`.
    static func build(rules: [(String, GExpr)], start: String) throws -> FlatGrammar {
        var b = GrammarBuilder()
        for (name, _) in rules where b.ruleIndex[name] == nil {
            b.ruleIndex[name] = b.newRule(name)
        }
        guard let s = b.ruleIndex[start] else {
            throw StructuredOutputError(.invalidGrammar, "grammar has no start rule '\(start)'")
        }
        var defined = Set<String>()
        for (name, body) in rules {
            guard defined.insert(name).inserted else {
                throw StructuredOutputError(.invalidGrammar, "rule '\(name)' is defined twice")
            }
            guard let id = b.ruleIndex[name] else { continue }
            b.bodies[Int(id)] = try b.alternatives(body)
        }
        b.g.startRule = s
        b.distributeByteRules()
        try b.layout()
        try GrammarChecks.rejectLeftRecursion(b.g)
        return b.g
    }

    private mutating func newRule(_ name: String) -> Int32 {
        let id = Int32(bodies.count)
        bodies.append([])
        g.ruleNames.append(name)
        return id
    }

    private var elementCount = 0

    private mutating func count(_ n: Int) throws {
        elementCount += n
        if elementCount > GrammarBuilder.maxElements {
            throw StructuredOutputError(.invalidGrammar,
                                        "grammar is too large (more than \(GrammarBuilder.maxElements) elements)")
        }
    }

    private mutating func alternatives(_ e: GExpr) throws -> [[Element]] {
        if case .alt(let parts) = e {
            var out: [[Element]] = []
            for p in parts { out.append(try sequence(p)) }
            return out
        }
        return [try sequence(e)]
    }

    private mutating func sequence(_ e: GExpr) throws -> [Element] {
        var out: [Element] = []
        try append(e, to: &out)
        return out
    }

    private mutating func append(_ e: GExpr, to out: inout [Element]) throws {
        switch e {
        case .bytes(let set):
            try count(1)
            out.append(.bytes(byteSet(set)))
        case .seq(let parts):
            for p in parts { try append(p, to: &out) }
        case .alt(let parts):
            if parts.count == 1 {
                try append(parts[0], to: &out)
            } else {
                try count(1)
                out.append(.rule(try aux(e)))
            }
        case .ref(let name):
            guard let id = ruleIndex[name] else {
                throw StructuredOutputError(.invalidGrammar, "rule '\(name)' is used but not defined")
            }
            try count(1)
            out.append(.rule(id))
        case .rep(let x, let lo, let hi):
            if lo < 0 || (hi.map { $0 < lo } ?? false) {
                throw StructuredOutputError(.invalidGrammar, "repetition {\(lo),\(hi.map(String.init) ?? "")} is empty")
            }
            if lo > GrammarBuilder.maxRepeat || (hi ?? 0) > GrammarBuilder.maxRepeat {
                throw StructuredOutputError(.invalidGrammar,
                                            "repetition count above \(GrammarBuilder.maxRepeat) is not supported")
            }
            for _ in 0..<lo { try append(x, to: &out) }
            if let hi {
                if hi > lo {
                    try count(1)
                    out.append(.rule(try optionalChain(x, hi - lo)))
                }
            } else {
                // An unbounded loop over a nullable body would expand forever: loop over its
                // non-empty strings instead (same language).
                let body = x.isNullable ? x.nonEmpty : x
                try count(1)
                out.append(.rule(try aux(.rep(body, min: 0, max: nil))))
            }
        }
    }

    /// `x (x (x …)?)?` with `n` levels, as auxiliary rules.
    private mutating func optionalChain(_ x: GExpr, _ n: Int) throws -> Int32 {
        try aux(.rep(x, min: 0, max: n))
    }

    /// The auxiliary rule for `e` (an alternation or a `{0,n}` / `*` repetition).
    private mutating func aux(_ e: GExpr) throws -> Int32 {
        if let id = auxRules[e] { return id }
        let id = newRule("aux\(bodies.count)")
        auxRules[e] = id
        switch e {
        case .rep(let x, 0, nil):
            var first = try sequence(x)
            first.append(.rule(id))
            bodies[Int(id)] = [first, []]
        case .rep(let x, 0, let .some(n)) where n >= 1:
            var first = try sequence(x)
            if n > 1 { first.append(.rule(try aux(.rep(x, min: 0, max: n - 1)))) }
            bodies[Int(id)] = [first, []]
        default:
            bodies[Int(id)] = try alternatives(e)
        }
        return id
    }

    private mutating func byteSet(_ s: ByteSet) -> Int32 {
        if let i = byteSetIndex[s] { return i }
        let i = Int32(g.byteSets.count)
        g.byteSets.append(s)
        byteSetIndex[s] = i
        return i
    }

    /// Copies the alternatives of small byte-only rules (a UTF-8 character class, `char` of a JSON
    /// string) into the sequences that reference them. Then a token spanning several characters
    /// stays inside one rule, so its acceptance is decided once per position instead of on the
    /// parser stack at every step.
    private mutating func distributeByteRules() {
        let maxAlternatives = 64
        func byteOnly(_ r: Int) -> Bool {
            let alts = bodies[r]
            return !alts.isEmpty && alts.count <= 16 && alts.allSatisfy { alt in
                alt.count <= 8 && alt.allSatisfy { if case .bytes = $0 { return true } else { return false } }
            }
        }
        let candidates = (0..<bodies.count).map(byteOnly)
        for r in 0..<bodies.count where !candidates[r] {
            var alts = bodies[r]
            var changed = true
            while changed {
                changed = false
                var out: [[Element]] = []
                for (k, alt) in alts.enumerated() {
                    if let j = alt.firstIndex(where: { if case .rule(let t) = $0 { return candidates[Int(t)] } else { return false } }),
                       case .rule(let t) = alt[j],
                       out.count + bodies[Int(t)].count + (alts.count - k - 1) <= maxAlternatives {
                        for inner in bodies[Int(t)] {
                            out.append(Array(alt[..<j]) + inner + Array(alt[(j + 1)...]))
                        }
                        changed = true
                    } else {
                        out.append(alt)
                    }
                }
                alts = out
            }
            bodies[r] = alts
        }
    }

    private mutating func layout() throws {
        g.ruleStarts = Array(repeating: [], count: bodies.count)
        g.follows = Array(repeating: [], count: bodies.count)
        for (r, alts) in bodies.enumerated() {
            if alts.isEmpty {
                throw StructuredOutputError(.invalidGrammar, "rule '\(g.ruleNames[r])' has no alternatives")
            }
            for alt in alts {
                g.ruleStarts[r].append(Int32(g.elements.count))
                for el in alt {
                    if case .rule(let target) = el {
                        g.follows[Int(target)].append(Int32(g.elements.count + 1))
                    }
                    g.elements.append(el)
                    g.positionRule.append(Int32(r))
                }
                g.elements.append(.end)
                g.positionRule.append(Int32(r))
            }
        }
    }
}

enum GrammarChecks {
    /// Throws when a rule can reach itself without consuming a byte (the matcher would expand
    /// it forever).
    static func rejectLeftRecursion(_ g: FlatGrammar) throws {
        let n = g.ruleStarts.count
        var nullable = [Bool](repeating: false, count: n)
        var changed = true
        while changed {
            changed = false
            for r in 0..<n where !nullable[r] {
                for s in g.ruleStarts[r] where prefixNullable(g, from: Int(s), nullable) {
                    nullable[r] = true
                    changed = true
                    break
                }
            }
        }
        // Edges r -> t when t is referenced after a nullable prefix of an alternative of r.
        var edges = [[Int]](repeating: [], count: n)
        for r in 0..<n {
            for s in g.ruleStarts[r] {
                var p = Int(s)
                while true {
                    switch g.elements[p] {
                    case .end, .bytes: p = -1
                    case .rule(let t):
                        edges[r].append(Int(t))
                        p = nullable[Int(t)] ? p + 1 : -1
                    }
                    if p < 0 { break }
                }
            }
        }
        // Iterative DFS for cycles.
        var color = [UInt8](repeating: 0, count: n)
        for root in 0..<n where color[root] == 0 {
            var stack: [(Int, Int)] = [(root, 0)]
            color[root] = 1
            while let (v, i) = stack.last {
                if i < edges[v].count {
                    stack[stack.count - 1].1 += 1
                    let w = edges[v][i]
                    if color[w] == 1 {
                        throw StructuredOutputError(.invalidGrammar,
                                                    "rule '\(g.ruleNames[w])' is left-recursive; rewrite it with repetition")
                    }
                    if color[w] == 0 {
                        color[w] = 1
                        stack.append((w, 0))
                    }
                } else {
                    color[v] = 2
                    stack.removeLast()
                }
            }
        }
    }

    private static func prefixNullable(_ g: FlatGrammar, from s: Int, _ nullable: [Bool]) -> Bool {
        var p = s
        while true {
            switch g.elements[p] {
            case .end: return true
            case .bytes: return false
            case .rule(let t):
                if !nullable[Int(t)] { return false }
                p += 1
            }
        }
    }
}
