/// Byte-level scanning shared by the GBNF and Lark parsers.
struct GrammarTextScanner {
    let b: [UInt8]
    var i = 0
    let language: String

    init(_ text: String, language: String) {
        b = Array(text.utf8)
        self.language = language
    }

    var atEnd: Bool { i >= b.count }

    func peek(_ k: Int = 0) -> UInt8? { i + k < b.count ? b[i + k] : nil }

    func error(_ msg: String) -> StructuredOutputError {
        StructuredOutputError.syntax(language, at: i, msg)
    }

    static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
    }

    /// Skips spaces, tabs and `#` (`commentByte`) comments; newlines too when `newlines`.
    mutating func skipSpace(newlines: Bool, commentByte: UInt8 = 0x23, slashComments: Bool = false) {
        while let c = peek() {
            if c == 0x20 || c == 0x09 || c == 0x0D { i += 1 }
            else if c == 0x0A && newlines { i += 1 }
            else if c == commentByte || (slashComments && c == 0x2F && peek(1) == 0x2F) {
                while let d = peek(), d != 0x0A { i += 1 }
            } else { break }
        }
    }

    mutating func name(allowDot: Bool = false) -> String? {
        let start = i
        while let c = peek(), GrammarTextScanner.isNameByte(c) || (allowDot && c == 0x2E) { i += 1 }
        return i > start ? String(decoding: b[start..<i], as: UTF8.self) : nil
    }

    /// Decodes one UTF-8 scalar at the cursor.
    mutating func scalar() throws -> UInt32 {
        guard let c = peek() else { throw error("unexpected end") }
        let n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4
        guard i + n <= b.count, let s = String(decoding: b[i..<(i + n)], as: UTF8.self).unicodeScalars.first,
              s != "\u{FFFD}" || b[i] == 0xEF else {
            throw error("invalid UTF-8")
        }
        i += n
        return s.value
    }

    private mutating func hex(_ n: Int) throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<n {
            guard let c = peek() else { throw error("bad hex escape") }
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw error("bad hex escape")
            }
            v = v * 16 + d
            i += 1
        }
        guard v <= CharClass.maxScalar else { throw error("code point out of range") }
        return v
    }

    /// One character of a string literal or class, escapes decoded (after the cursor).
    mutating func char() throws -> UInt32 {
        guard let c = peek() else { throw error("unexpected end") }
        if c != 0x5C { return try scalar() }
        i += 1
        guard let e = peek() else { throw error("trailing backslash") }
        i += 1
        switch e {
        case 0x6E: return 0x0A
        case 0x72: return 0x0D
        case 0x74: return 0x09
        case 0x30: return 0
        case 0x78: return try hex(2)
        case 0x75: return try hex(4)
        case 0x55: return try hex(8)
        default: return UInt32(e)
        }
    }

    /// A `"…"` literal's scalars (cursor on the opening quote).
    mutating func stringLiteral() throws -> [UInt32] {
        i += 1
        var out: [UInt32] = []
        while true {
            guard let c = peek() else { throw error("unterminated string") }
            if c == 0x22 { i += 1; return out }
            if c == 0x0A { throw error("newline in string") }
            out.append(try char())
        }
    }

    /// A `[…]` class (cursor on `[`).
    mutating func charClass() throws -> CharClass {
        i += 1
        var negate = false
        if peek() == 0x5E { negate = true; i += 1 }
        var cls = CharClass()
        while true {
            guard let c = peek() else { throw error("unterminated character class") }
            if c == 0x5D { i += 1; break }
            let a = try char()
            if peek() == 0x2D, let n = peek(1), n != 0x5D {
                i += 1
                let z = try char()
                guard a <= z else { throw error("bad character range") }
                cls.insert(a...z)
            } else {
                cls.insert(a)
            }
        }
        return negate ? cls.inverted : cls
    }

    /// `{m}`, `{m,}`, `{m,n}` (cursor on `{`).
    mutating func braces() throws -> (Int, Int?) {
        i += 1
        func number() -> Int? {
            var v: Int? = nil
            while let c = peek(), c >= 0x30 && c <= 0x39 {
                v = min((v ?? 0) * 10 + Int(c - 0x30), 1_000_000)
                i += 1
            }
            return v
        }
        skipSpace(newlines: false)
        let m = number()
        skipSpace(newlines: false)
        if peek() == 0x7D {
            i += 1
            guard let m else { throw error("empty repetition braces") }
            return (m, m)
        }
        guard peek() == 0x2C else { throw error("expected ',' or '}' in repetition") }
        i += 1
        skipSpace(newlines: false)
        let n = number()
        skipSpace(newlines: false)
        guard peek() == 0x7D else { throw error("expected '}' in repetition") }
        i += 1
        return (m ?? 0, n)
    }

    static func quantified(_ e: GExpr, _ lo: Int, _ hi: Int?, at scanner: GrammarTextScanner) throws -> GExpr {
        if let hi, hi < lo { throw scanner.error("repetition max below min") }
        if lo > GrammarBuilder.maxRepeat || (hi ?? 0) > GrammarBuilder.maxRepeat {
            throw StructuredOutputError(.unsupportedFeature("repetition count"),
                                        "repetition count above \(GrammarBuilder.maxRepeat) at offset \(scanner.i)")
        }
        return .rep(e, min: lo, max: hi)
    }
}
