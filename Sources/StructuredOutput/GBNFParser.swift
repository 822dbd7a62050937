/// Parses llama.cpp's GBNF: `name ::= alternatives` rules (start rule `root`), `"literals"`,
/// `[classes]`, `[^negated]`, `.`, groups, `|`, `* + ? {m} {m,} {m,n}`, `#` comments. A rule
/// continues on the next line unless that line starts a new `name ::=`.
struct GBNFParser {
    private var s: GrammarTextScanner
    private var depth = 0

    static func parse(_ text: String) throws -> FlatGrammar {
        var p = GBNFParser(s: GrammarTextScanner(text, language: "GBNF"))
        var rules: [(String, GExpr)] = []
        p.s.skipSpace(newlines: true)
        while !p.s.atEnd {
            guard let name = p.s.name() else { throw p.s.error("expected a rule name") }
            p.s.skipSpace(newlines: false)
            guard p.s.peek() == 0x3A, p.s.peek(1) == 0x3A, p.s.peek(2) == 0x3D else { throw p.s.error("expected '::='") }
            p.s.i += 3
            p.s.skipSpace(newlines: true)
            rules.append((name, try p.alternatives()))
            p.s.skipSpace(newlines: true)
        }
        if rules.isEmpty { throw StructuredOutputError(.invalidGrammar, "GBNF grammar has no rules") }
        return try GrammarBuilder.build(rules: rules, start: "root")
    }

    /// Whether the cursor (after whitespace) starts `name ::=`.
    private func atRuleStart() -> Bool {
        var t = s
        t.skipSpace(newlines: true)
        guard t.name() != nil else { return false }
        t.skipSpace(newlines: false)
        return t.peek() == 0x3A && t.peek(1) == 0x3A && t.peek(2) == 0x3D
    }

    private mutating func alternatives() throws -> GExpr {
        var alts = [try sequence()]
        while s.peek() == 0x7C {
            s.i += 1
            s.skipSpace(newlines: true)
            alts.append(try sequence())
        }
        return .choice(alts)
    }

    private mutating func sequence() throws -> GExpr {
        var items: [GExpr] = []
        while true {
            s.skipSpace(newlines: depth > 0)
            if s.peek() == 0x0A {
                if atRuleStart() { break }
                s.skipSpace(newlines: true)
                if s.atEnd { break }
                continue
            }
            guard let c = s.peek(), c != 0x7C, c != 0x29 else { break }
            var atom = try self.atom()
            while let q = s.peek() {
                if q == 0x2A { s.i += 1; atom = .rep(atom, min: 0, max: nil) }
                else if q == 0x2B { s.i += 1; atom = .rep(atom, min: 1, max: nil) }
                else if q == 0x3F { s.i += 1; atom = .rep(atom, min: 0, max: 1) }
                else if q == 0x7B {
                    let (lo, hi) = try s.braces()
                    atom = try GrammarTextScanner.quantified(atom, lo, hi, at: s)
                } else { break }
            }
            items.append(atom)
        }
        return .sequence(items)
    }

    private mutating func atom() throws -> GExpr {
        guard let c = s.peek() else { throw s.error("unexpected end") }
        switch c {
        case 0x22:
            let scalars = try s.stringLiteral()
            return .sequence(scalars.map { CharClass([$0...$0]).utf8Expr })
        case 0x5B:
            let cls = try s.charClass()
            if cls.isEmpty { throw s.error("empty character class") }
            return cls.utf8Expr
        case 0x2E:
            s.i += 1
            return CharClass.any.utf8Expr
        case 0x28:
            s.i += 1
            depth += 1
            if depth > 200 { throw s.error("groups nested deeper than 200") }
            s.skipSpace(newlines: true)
            let inner = try alternatives()
            s.skipSpace(newlines: true)
            guard s.peek() == 0x29 else { throw s.error("expected ')'") }
            s.i += 1
            depth -= 1
            return inner
        case 0x3C, 0x21:
            throw StructuredOutputError(.unsupportedFeature("token reference"),
                                        "GBNF token references ('<[id]>', '!') at offset \(s.i) are not supported")
        default:
            if GrammarTextScanner.isNameByte(c), let n = s.name() {
                if s.peek() == 0x3A {
                    throw s.error("unexpected ':' after '\(n)' (GBNF rules use '::=')")
                }
                return .ref(n)
            }
            throw s.error("unexpected character")
        }
    }
}
