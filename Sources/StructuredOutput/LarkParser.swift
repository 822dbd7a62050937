/// Parses the Lark-style EBNF vLLM accepts: `name: alternatives` rules (start rule `start`, or
/// `root`), `?`/`!` rule prefixes, `NAME: …` terminals, `"literals"` (with an `i` flag),
/// `/regex/` terminals (flag `i`), `"a".."z"` ranges, `( )`, `[ ]` optional, `? * +`, `~ n` and
/// `~ n..m`, `->` aliases (ignored), `//` comments, `%import common.X` for Lark's common
/// terminals, and `%ignore` (allowed between the items of rules).
struct LarkParser {
    private var s: GrammarTextScanner
    private var depth = 0
    private var currentIsRule = false
    private var hasIgnore = false

    /// Whether `text` reads as Lark rather than GBNF (it has no `::=`).
    static func looksLikeLark(_ text: String) -> Bool {
        !text.contains("::=")
    }

    static let common: [String: String] = [
        "DIGIT": "[0-9]", "HEXDIGIT": "[0-9a-fA-F]", "INT": "[0-9]+", "SIGNED_INT": "[+-]?[0-9]+",
        "DECIMAL": "([0-9]+\\.[0-9]*|\\.[0-9]+)",
        "FLOAT": "([0-9]+[eE][+-]?[0-9]+|([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?)",
        "SIGNED_FLOAT": "[+-]?([0-9]+[eE][+-]?[0-9]+|([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?)",
        "NUMBER": "([0-9]+[eE][+-]?[0-9]+|([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+)",
        "SIGNED_NUMBER": "[+-]?([0-9]+[eE][+-]?[0-9]+|([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+)",
        "ESCAPED_STRING": "\"([^\"\\\\\\n]|\\\\.)*\"",
        "LCASE_LETTER": "[a-z]", "UCASE_LETTER": "[A-Z]", "LETTER": "[a-zA-Z]", "WORD": "[a-zA-Z]+",
        "CNAME": "[_a-zA-Z][_a-zA-Z0-9]*", "WS_INLINE": "[ \\t]+", "WS": "[ \\t\\f\\r\\n]+",
        "CR": "\\r", "LF": "\\n", "NEWLINE": "(\\r?\\n)+",
    ]

    static func parse(_ text: String) throws -> FlatGrammar {
        var p = LarkParser(s: GrammarTextScanner(text, language: "Lark grammar"))
        p.hasIgnore = text.contains("%ignore")
        var rules: [(String, GExpr)] = []
        var ignores: [GExpr] = []
        var names = Set<String>()
        while true {
            p.s.skipSpace(newlines: true, commentByte: 0, slashComments: true)
            if p.s.atEnd { break }
            if p.s.peek() == 0x25 {  // %
                p.s.i += 1
                guard let directive = p.s.name() else { throw p.s.error("expected a directive") }
                p.s.skipSpace(newlines: false, commentByte: 0, slashComments: true)
                switch directive {
                case "import":
                    for (name, alias) in try p.importList() {
                        guard let re = common[name] else {
                            throw StructuredOutputError(.unsupportedFeature("%import"),
                                                        "Lark import '\(name)' is not supported (only common.* terminals)")
                        }
                        if names.insert(alias).inserted {
                            rules.append((alias, try RegexParser.parse(re).expr(json: false)))
                        }
                    }
                case "ignore":
                    p.currentIsRule = false
                    ignores.append(try p.alternatives())
                default:
                    throw StructuredOutputError(.unsupportedFeature("%\(directive)"),
                                                "Lark directive '%\(directive)' is not supported")
                }
                continue
            }
            if p.s.peek() == 0x3F || p.s.peek() == 0x21 { p.s.i += 1 }
            guard let name = p.s.name() else { throw p.s.error("expected a rule name") }
            if p.s.peek() == 0x2E, let d = p.s.peek(1), d >= 0x30 && d <= 0x39 || d == 0x2D {  // priority
                p.s.i += 1
                if p.s.peek() == 0x2D { p.s.i += 1 }
                while let c = p.s.peek(), c >= 0x30 && c <= 0x39 { p.s.i += 1 }
            }
            p.s.skipSpace(newlines: false, commentByte: 0, slashComments: true)
            guard p.s.peek() == 0x3A else { throw p.s.error("expected ':' after '\(name)'") }
            p.s.i += 1
            p.currentIsRule = name.first.map { $0.isLowercase || $0 == "_" } ?? false
            let body = try p.alternatives()
            guard names.insert(name).inserted else {
                throw StructuredOutputError(.invalidGrammar, "rule '\(name)' is defined twice")
            }
            rules.append((name, body))
        }
        if rules.isEmpty { throw StructuredOutputError(.invalidGrammar, "Lark grammar has no rules") }
        let start = names.contains("start") ? "start" : names.contains("root") ? "root" : rules[0].0
        if p.hasIgnore {
            if ignores.isEmpty { throw StructuredOutputError(.invalidGrammar, "%ignore without a pattern") }
            rules.append(("__ignore", .choice(ignores)))
            let ign = GExpr.rep(.ref("__ignore"), min: 0, max: nil)
            rules.append(("__start", .sequence([ign, .ref(start), ign])))
            return try GrammarBuilder.build(rules: rules, start: "__start")
        }
        return try GrammarBuilder.build(rules: rules, start: start)
    }

    /// `common.X`, `common.X -> Y`, `common (X, Y)`.
    private mutating func importList() throws -> [(String, String)] {
        guard let path = s.name(allowDot: true) else { throw s.error("expected an import path") }
        s.skipSpace(newlines: false, commentByte: 0, slashComments: true)
        if path == "common" && s.peek() == 0x28 {
            s.i += 1
            var out: [(String, String)] = []
            while true {
                s.skipSpace(newlines: true, commentByte: 0, slashComments: true)
                guard let n = s.name() else { throw s.error("expected a name") }
                out.append((n, n))
                s.skipSpace(newlines: true, commentByte: 0, slashComments: true)
                if s.peek() == 0x2C { s.i += 1; continue }
                guard s.peek() == 0x29 else { throw s.error("expected ')'") }
                s.i += 1
                return out
            }
        }
        guard path.hasPrefix("common.") else {
            throw StructuredOutputError(.unsupportedFeature("%import"), "Lark import '\(path)' is not supported (only common.*)")
        }
        let n = String(path.dropFirst("common.".count))
        var alias = n
        if s.peek() == 0x2D && s.peek(1) == 0x3E {
            s.i += 2
            s.skipSpace(newlines: false, commentByte: 0, slashComments: true)
            guard let a = s.name() else { throw s.error("expected an alias") }
            alias = a
        }
        return [(n, alias)]
    }

    /// Whether the next line continues the rule (starts with `|`).
    private func continuesOnNextLine() -> Bool {
        var t = s
        t.skipSpace(newlines: true, commentByte: 0, slashComments: true)
        return t.peek() == 0x7C
    }

    private mutating func alternatives() throws -> GExpr {
        var alts = [try sequence()]
        while true {
            s.skipSpace(newlines: depth > 0, commentByte: 0, slashComments: true)
            if s.peek() == 0x0A && continuesOnNextLine() {
                s.skipSpace(newlines: true, commentByte: 0, slashComments: true)
            }
            guard s.peek() == 0x7C else { break }
            s.i += 1
            alts.append(try sequence())
        }
        return .choice(alts)
    }

    private mutating func sequence() throws -> GExpr {
        var items: [GExpr] = []
        while true {
            s.skipSpace(newlines: depth > 0, commentByte: 0, slashComments: true)
            guard let c = s.peek(), c != 0x7C, c != 0x29, c != 0x5D, c != 0x0A else { break }
            if c == 0x2D && s.peek(1) == 0x3E {  // -> alias
                s.i += 2
                s.skipSpace(newlines: false, commentByte: 0, slashComments: true)
                _ = s.name()
                continue
            }
            var atom = try self.atom()
            while let q = s.peek() {
                if q == 0x2A { s.i += 1; atom = .rep(atom, min: 0, max: nil) }
                else if q == 0x2B { s.i += 1; atom = .rep(atom, min: 1, max: nil) }
                else if q == 0x3F { s.i += 1; atom = .rep(atom, min: 0, max: 1) }
                else if q == 0x7E {
                    s.i += 1
                    s.skipSpace(newlines: false, commentByte: 0, slashComments: true)
                    let lo = number() ?? -1
                    var hi = lo
                    if s.peek() == 0x2E && s.peek(1) == 0x2E {
                        s.i += 2
                        hi = number() ?? -1
                    }
                    guard lo >= 0, hi >= 0 else { throw s.error("expected a count after '~'") }
                    atom = try GrammarTextScanner.quantified(atom, lo, hi, at: s)
                } else { break }
            }
            items.append(atom)
        }
        if currentIsRule && hasIgnore && items.count > 1 {
            let ign = GExpr.rep(.ref("__ignore"), min: 0, max: nil)
            var out: [GExpr] = []
            for (k, x) in items.enumerated() {
                if k > 0 { out.append(ign) }
                out.append(x)
            }
            return .sequence(out)
        }
        return .sequence(items)
    }

    private mutating func number() -> Int? {
        var v: Int? = nil
        while let c = s.peek(), c >= 0x30 && c <= 0x39 {
            v = min((v ?? 0) * 10 + Int(c - 0x30), 1_000_000)
            s.i += 1
        }
        return v
    }

    private mutating func atom() throws -> GExpr {
        guard let c = s.peek() else { throw s.error("unexpected end") }
        switch c {
        case 0x22:
            let a = try s.stringLiteral()
            if s.peek() == 0x2E && s.peek(1) == 0x2E {  // "a".."z"
                s.i += 2
                s.skipSpace(newlines: false, commentByte: 0, slashComments: true)
                guard s.peek() == 0x22 else { throw s.error("expected a string after '..'") }
                let z = try s.stringLiteral()
                guard a.count == 1, z.count == 1, a[0] <= z[0] else { throw s.error("bad character range") }
                return CharClass([a[0]...z[0]]).utf8Expr
            }
            let fold = s.peek() == 0x69 && !(s.peek(1).map(GrammarTextScanner.isNameByte) ?? false)
            if fold { s.i += 1 }
            return .sequence(a.map { fold ? CharClass([$0...$0]).caseFolded.utf8Expr : CharClass([$0...$0]).utf8Expr })
        case 0x2F:
            return try regexTerminal()
        case 0x28, 0x5B:
            s.i += 1
            depth += 1
            if depth > 200 { throw s.error("groups nested deeper than 200") }
            let inner = try alternatives()
            s.skipSpace(newlines: true, commentByte: 0, slashComments: true)
            let close: UInt8 = c == 0x28 ? 0x29 : 0x5D
            guard s.peek() == close else { throw s.error("expected '\(c == 0x28 ? ")" : "]")'") }
            s.i += 1
            depth -= 1
            return c == 0x28 ? inner : .optional(inner)
        default:
            if GrammarTextScanner.isNameByte(c), let n = s.name() { return .ref(n) }
            throw s.error("unexpected character")
        }
    }

    /// `/…/flags` (cursor on the first slash).
    private mutating func regexTerminal() throws -> GExpr {
        let start = s.i
        s.i += 1
        var body: [UInt8] = []
        while true {
            guard let c = s.peek(), c != 0x0A else { throw s.error("unterminated regular expression") }
            s.i += 1
            if c == 0x5C, let n = s.peek() {
                if n == 0x2F { body.append(0x2F) } else { body.append(c); body.append(n) }
                s.i += 1
                continue
            }
            if c == 0x2F { break }
            body.append(c)
        }
        var fold = false
        while let f = s.peek(), f >= 0x61 && f <= 0x7A {
            s.i += 1
            if f == 0x69 { fold = true } else {
                throw StructuredOutputError(.unsupportedFeature("regex flag"),
                                            "Lark regex flag '\(Character(Unicode.Scalar(f)))' at offset \(s.i) is not supported")
            }
        }
        do {
            let parsed = try RegexParser.parse(String(decoding: body, as: UTF8.self))
            let node: RegexNode = .alt(parsed.branches.map(\.node))
            return (fold ? node.caseFolded : node).expr(json: false)
        } catch let e as StructuredOutputError {
            throw StructuredOutputError(e.kind, "Lark regex at offset \(start): \(e.message)")
        }
    }
}

extension RegexNode {
    var caseFolded: RegexNode {
        switch self {
        case .chars(let c): return .chars(c.caseFolded)
        case .seq(let p): return .seq(p.map(\.caseFolded))
        case .alt(let p): return .alt(p.map(\.caseFolded))
        case .rep(let x, let lo, let hi): return .rep(x.caseFolded, min: lo, max: hi)
        }
    }
}
