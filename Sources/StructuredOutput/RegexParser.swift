/// A parsed regular expression over Unicode scalars.
indirect enum RegexNode: Hashable, Sendable {
    case chars(CharClass)
    case seq([RegexNode])
    case alt([RegexNode])
    case rep(RegexNode, min: Int, max: Int?)

    /// The expression over bytes: UTF-8 (`json == false`) or JSON string content, where `"`, `\`
    /// and control characters appear escaped (`json == true`).
    func expr(json: Bool) -> GExpr {
        switch self {
        case .chars(let c): return json ? c.jsonStringExpr : c.utf8Expr
        case .seq(let parts): return .sequence(parts.map { $0.expr(json: json) })
        case .alt(let parts): return .choice(parts.map { $0.expr(json: json) })
        case .rep(let x, let lo, let hi): return .rep(x.expr(json: json), min: lo, max: hi)
        }
    }
}

extension RegexNode {
    /// The fewest and most characters a match has (`max == nil`: unbounded).
    var lengthRange: (min: Int, max: Int?) {
        switch self {
        case .chars: return (1, 1)
        case .seq(let parts):
            var lo = 0
            var hi: Int? = 0
            for p in parts {
                let r = p.lengthRange
                lo += r.min
                hi = hi.flatMap { h in r.max.map { h + $0 } }
            }
            return (lo, hi)
        case .alt(let parts):
            guard !parts.isEmpty else { return (0, 0) }
            let rs = parts.map(\.lengthRange)
            let lo = rs.map(\.min).min() ?? 0
            let hi: Int? = rs.contains { $0.max == nil } ? nil : rs.compactMap(\.max).max()
            return (lo, hi)
        case .rep(let x, let lo, let hi):
            let r = x.lengthRange
            return (r.min * lo, hi.flatMap { h in r.max.map { $0 * h } })
        }
    }
}

extension ParsedRegex {
    /// The character counts of whole matches, when every branch is anchored at both ends.
    var anchoredLengthRange: (min: Int, max: Int?)? {
        guard branches.allSatisfy({ $0.anchoredStart && $0.anchoredEnd }) else { return nil }
        let rs = branches.map { $0.node.lengthRange }
        let lo = rs.map(\.min).min() ?? 0
        let hi: Int? = rs.contains { $0.max == nil } ? nil : rs.compactMap(\.max).max()
        return (lo, hi)
    }
}

/// A regular expression: its top-level alternatives, each with whether it was anchored by `^`
/// at its start and `$` at its end.
struct ParsedRegex: Sendable {
    var branches: [(node: RegexNode, anchoredStart: Bool, anchoredEnd: Bool)]

    /// The whole-match expression (anchors at the ends mean nothing more).
    func expr(json: Bool) -> GExpr {
        .choice(branches.map { $0.node.expr(json: json) })
    }

    /// The expression for a JSON Schema `pattern` (a search: unanchored ends match anything).
    func searchExpr(json: Bool) -> GExpr {
        let any = GExpr.rep(CharClass.any.jsonStringExprOr(json: json), min: 0, max: nil)
        return .choice(branches.map { b in
            .sequence([b.anchoredStart ? .empty : any, b.node.expr(json: json), b.anchoredEnd ? .empty : any])
        })
    }
}

extension CharClass {
    func jsonStringExprOr(json: Bool) -> GExpr { json ? jsonStringExpr : utf8Expr }
}

/// Parses Python/ECMAScript-style regular expressions: literals, `.`, classes (`[a-z]`,
/// `[^…]`, `\d \w \s` and negations), groups (`(…)`, `(?:…)`, `(?P<n>…)`, `(?<n>…)`),
/// alternation, quantifiers (`* + ? {m} {m,} {m,n} {,n}`, lazy forms), escapes (`\n \t \xhh
/// \uhhhh`), and `^`/`$` at the ends of top-level alternatives. Backreferences, lookaround,
/// word boundaries and inline flags are rejected.
struct RegexParser {
    private let s: [UInt32]
    private var i = 0
    private var depth = 0

    static func parse(_ pattern: String) throws -> ParsedRegex {
        var p = RegexParser(s: pattern.unicodeScalars.map(\.value))
        return try p.parseTop()
    }

    private init(s: [UInt32]) { self.s = s }

    private func error(_ msg: String) -> StructuredOutputError {
        StructuredOutputError.syntax("regex", at: i, msg)
    }

    private func unsupported(_ what: String) -> StructuredOutputError {
        StructuredOutputError(.unsupportedFeature(what), "regex feature \(what) at offset \(i) is not supported")
    }

    private var atEnd: Bool { i >= s.count }
    private func peek(_ k: Int = 0) -> UInt32? { i + k < s.count ? s[i + k] : nil }

    private mutating func parseTop() throws -> ParsedRegex {
        var branches: [(RegexNode, Bool, Bool)] = []
        while true {
            var start = false
            if peek() == 0x5E { start = true; i += 1 }  // ^
            let (node, end) = try parseSeq(topLevel: true)
            branches.append((node, start, end))
            if peek() == 0x7C { i += 1; continue }  // |
            break
        }
        if !atEnd { throw error("unbalanced ')'") }
        return ParsedRegex(branches: branches.map { (node: $0.0, anchoredStart: $0.1, anchoredEnd: $0.2) })
    }

    private mutating func parseAlt() throws -> RegexNode {
        var alts: [RegexNode] = [try parseSeq(topLevel: false).0]
        while peek() == 0x7C {
            i += 1
            alts.append(try parseSeq(topLevel: false).0)
        }
        return alts.count == 1 ? alts[0] : .alt(alts)
    }

    /// A sequence up to `|`, `)` or the end; with `topLevel`, a final `$` is read as the anchor.
    private mutating func parseSeq(topLevel: Bool) throws -> (RegexNode, Bool) {
        var items: [RegexNode] = []
        while let c = peek(), c != 0x7C, c != 0x29 {
            if c == 0x24 {  // $
                i += 1
                let next = peek()
                if topLevel && (next == nil || next == 0x7C) { return (.seq(items), true) }
                throw unsupported("'$' before the end")
            }
            if c == 0x5E { throw unsupported("'^' after the start") }
            var atom = try parseAtom()
            atom = try parseQuantifiers(atom)
            items.append(atom)
        }
        return (items.count == 1 ? items[0] : .seq(items), false)
    }

    private mutating func parseQuantifiers(_ atom: RegexNode) throws -> RegexNode {
        var a = atom
        while let c = peek() {
            var lo = 0, hi: Int? = nil
            if c == 0x2A { lo = 0; hi = nil; i += 1 }
            else if c == 0x2B { lo = 1; hi = nil; i += 1 }
            else if c == 0x3F { lo = 0; hi = 1; i += 1 }
            else if c == 0x7B, let (m, n, len) = braceQuantifier() {
                lo = m; hi = n; i += len
            } else { break }
            if let h = hi, h < lo { throw error("quantifier {\(lo),\(h)} has max below min") }
            if lo > GrammarBuilder.maxRepeat || (hi ?? 0) > GrammarBuilder.maxRepeat {
                throw unsupported("repetition count above \(GrammarBuilder.maxRepeat)")
            }
            if peek() == 0x3F { i += 1 }  // lazy: same language
            else if peek() == 0x2B { throw unsupported("possessive quantifier") }
            if case .rep = a { a = .seq([a]) }
            a = .rep(a, min: lo, max: hi)
        }
        return a
    }

    /// `{m}`, `{m,}`, `{m,n}`, `{,n}` at the current position: (min, max, length), or nil when the
    /// brace is a literal.
    private func braceQuantifier() -> (Int, Int?, Int)? {
        var k = i + 1
        func number() -> Int? {
            var v: Int? = nil
            while k < s.count, s[k] >= 0x30, s[k] <= 0x39 {
                v = min((v ?? 0) * 10 + Int(s[k] - 0x30), 1_000_000)
                k += 1
            }
            return v
        }
        let m = number()
        if k < s.count && s[k] == 0x7D {
            guard let m else { return nil }
            return (m, m, k + 1 - i)
        }
        guard k < s.count, s[k] == 0x2C else { return nil }
        k += 1
        let n = number()
        guard k < s.count, s[k] == 0x7D, m != nil || n != nil else { return nil }
        return (m ?? 0, n, k + 1 - i)
    }

    private mutating func parseAtom() throws -> RegexNode {
        guard let c = peek() else { throw error("unexpected end") }
        switch c {
        case 0x28:  // (
            i += 1
            if peek() == 0x3F {  // ?
                i += 1
                switch peek() {
                case 0x3A: i += 1  // (?:
                case 0x50:  // (?P<name>
                    i += 1
                    guard peek() == 0x3C else { throw unsupported("'(?P' other than a named group") }
                    try skipGroupName()
                case 0x3C:
                    if peek(1) == 0x3D || peek(1) == 0x21 { throw unsupported("lookbehind") }
                    try skipGroupName()
                case 0x3D, 0x21: throw unsupported("lookahead")
                default: throw unsupported("inline flags or group extension '(?'")
                }
            }
            depth += 1
            if depth > 200 { throw unsupported("groups nested deeper than 200") }
            let inner = try parseAlt()
            depth -= 1
            guard peek() == 0x29 else { throw error("missing ')'") }
            i += 1
            return inner
        case 0x29: throw error("unbalanced ')'")
        case 0x5B:
            i += 1
            return .chars(try parseClass())
        case 0x2E:
            i += 1
            return .chars(CharClass([0...0x09, 0x0B...CharClass.maxScalar]))
        case 0x5C:
            i += 1
            return .chars(try parseEscape(inClass: false))
        case 0x2A, 0x2B, 0x3F: throw error("nothing to repeat")
        default:
            i += 1
            return .chars(CharClass([c...c]))
        }
    }

    private mutating func skipGroupName() throws {
        // at '<'
        i += 1
        while let c = peek(), c != 0x3E { i += 1 }
        guard peek() == 0x3E else { throw error("unterminated group name") }
        i += 1
    }

    private mutating func parseClass() throws -> CharClass {
        var negate = false
        if peek() == 0x5E { negate = true; i += 1 }
        var cls = CharClass()
        var first = true
        while true {
            guard let c = peek() else { throw error("unterminated character class") }
            if c == 0x5D && !first { i += 1; break }
            first = false
            var lo: CharClass
            var single: UInt32? = nil
            if c == 0x5C {
                i += 1
                lo = try parseEscape(inClass: true)
                if lo.ranges.count == 1, lo.ranges[0].count == 1 { single = lo.ranges[0].lowerBound }
            } else if c == 0x5B && peek(1) == 0x3A {
                throw unsupported("POSIX class '[:'")
            } else {
                i += 1
                single = c
                lo = CharClass([c...c])
            }
            if let a = single, peek() == 0x2D, let n = peek(1), n != 0x5D {
                i += 1
                var b: UInt32
                if n == 0x5C {
                    i += 1
                    let e = try parseEscape(inClass: true)
                    guard e.ranges.count == 1, e.ranges[0].count == 1 else { throw error("bad range end") }
                    b = e.ranges[0].lowerBound
                } else {
                    i += 1
                    b = n
                }
                guard a <= b else { throw error("bad character range") }
                cls.insert(a...b)
            } else {
                cls.formUnion(lo)
            }
        }
        return negate ? cls.inverted : cls
    }

    private mutating func hex(_ n: Int) throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<n {
            guard let c = peek(), let d = hexDigit(c) else { throw error("bad hex escape") }
            v = v * 16 + d
            i += 1
        }
        guard v <= CharClass.maxScalar else { throw error("code point out of range") }
        return v
    }

    private func hexDigit(_ c: UInt32) -> UInt32? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    /// After a backslash.
    private mutating func parseEscape(inClass: Bool) throws -> CharClass {
        guard let c = peek() else { throw error("trailing backslash") }
        i += 1
        func one(_ v: UInt32) -> CharClass { CharClass([v...v]) }
        switch c {
        case 0x64: return .digit                      // d
        case 0x44: return CharClass.digit.inverted    // D
        case 0x77: return .word                       // w
        case 0x57: return CharClass.word.inverted     // W
        case 0x73: return .space                      // s
        case 0x53: return CharClass.space.inverted    // S
        case 0x6E: return one(0x0A)
        case 0x74: return one(0x09)
        case 0x72: return one(0x0D)
        case 0x66: return one(0x0C)
        case 0x76: return one(0x0B)
        case 0x61: return one(0x07)
        case 0x30: return one(0)
        case 0x62:
            if inClass { return one(0x08) }
            throw unsupported("word boundary \\b")
        case 0x78: return one(try hex(2))
        case 0x75: return one(try hex(4))
        case 0x55: return one(try hex(8))
        case 0x31...0x39: throw unsupported("backreference")
        case 0x42, 0x41, 0x5A, 0x7A, 0x47: throw unsupported("anchor or boundary escape")
        case 0x70, 0x50, 0x4E, 0x6B: throw unsupported("Unicode property or named escape")
        default:
            if (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) {
                throw error("unknown escape")
            }
            return one(c)
        }
    }
}
