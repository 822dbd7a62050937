import StructuredOutput
import Testing

/// Regexes labelled by Python's `re.fullmatch`; GBNF and Lark grammars labelled by equivalent
/// Python recognizers (scripts/gen_structured_fixtures.py).
@Suite struct RegexGrammarFixtureTests {
    static let patterns: [String] = Fixtures.regexes?.regex.map(\.pattern) ?? []
    static let grammars: [String] = Fixtures.regexes?.grammars.map(\.name) ?? []

    @Test(arguments: patterns)
    func regexCases(_ pattern: String) throws {
        guard let entry = Fixtures.regexes?.regex.first(where: { $0.pattern == pattern }) else { return }
        let g = try byteCompiler.compile(.regex(pattern))
        for c in entry.cases {
            #expect(fullMatch(g, c.text) == c.expected, "/\(pattern)/: \(c.text.debugDescription)")
        }
    }

    @Test(arguments: grammars)
    func grammarCases(_ name: String) throws {
        guard let entry = Fixtures.regexes?.grammars.first(where: { $0.name == name }) else { return }
        let g = try byteCompiler.compile(.grammar(entry.grammar))
        for c in entry.cases {
            #expect(fullMatch(g, c.text) == c.expected, "\(entry.kind) \(name): \(c.text.debugDescription)")
        }
    }

    @Test func choiceMatchesExactly() throws {
        let g = try byteCompiler.compile(.choice(["positive", "negative", "neutral", "neg"]))
        for (t, ok) in [("positive", true), ("neg", true), ("negative", true), ("nega", false), ("", false), ("neutrals", false)] {
            #expect(fullMatch(g, t) == ok, "\(t)")
        }
        #expect(throws: StructuredOutputError.self) { try byteCompiler.compile(.choice([])) }
    }

    @Test func unsupportedRegexFeatures() {
        for p in ["(a)\\1", "(?=a)a", "(?<=a)b", "\\bword", "a(?i)b", "a$b", "[[:alpha:]]", "a++"] {
            do {
                _ = try byteCompiler.compile(.regex(p))
                Issue.record("regex \(p) compiled")
            } catch let e as StructuredOutputError {
                if case .unsupportedFeature = e.kind {} else { Issue.record("\(p): \(e.kind)") }
            } catch {
                Issue.record("\(error)")
            }
        }
        for p in ["(ab", "ab)", "[a-", "a{2,1}", "*a", "\\"] {
            #expect(throws: StructuredOutputError.self, "\(p)") { try byteCompiler.compile(.regex(p)) }
        }
    }

    @Test func grammarErrors() {
        let bad = [
            "root ::= foo",                  // undefined rule
            "root ::= root \"a\" | \"b\"",   // left recursion
            "root ::= \"a",                  // unterminated literal
            "start: missing",                // Lark undefined rule
            "item ::= \"a\"",                // no root
            "root ::= [b-a]",                // bad range
            "root ::= \"a\"{3,1}",
        ]
        for g in bad {
            #expect(throws: StructuredOutputError.self, "\(g)") { try byteCompiler.compile(.grammar(g)) }
        }
    }

    @Test func gbnfFeatures() throws {
        let g = try byteCompiler.compile(.grammar("""
            root ::= greeting " " name{1,2} # trailing comment
            greeting ::= ("hi" | "hello")
              | "hey"
            name ::= [A-Z] [a-z]* "."?
            """))
        #expect(fullMatch(g, "hi Ann"))
        #expect(fullMatch(g, "hey AnnBob."))
        #expect(!fullMatch(g, "hey ann"))
        #expect(!fullMatch(g, "hey AnnBobCal"))
        let dot = try byteCompiler.compile(.grammar(#"root ::= "é" . [^\n]"#))
        #expect(fullMatch(dot, "é€x"))
        #expect(!fullMatch(dot, "éx\n"))
    }
}
