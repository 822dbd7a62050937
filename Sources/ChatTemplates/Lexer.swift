/// One token of template source, as jinja2's lexer makes them.
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case data(String)
        case blockBegin, blockEnd, variableBegin, variableEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
        case eof
    }

    var kind: Kind
    var line: Int
}

/// Splits template text into data and tag tokens with jinja2's whitespace rules as
/// transformers configures them: `trim_blocks=True`, `lstrip_blocks=True`, `{%-`/`-%}`
/// stripping, `{%+` opting out of lstrip, no trailing newline kept.
struct Lexer {
    private let src: [Unicode.Scalar]
    private var pos = 0
    private var line = 1
    private var lineCountedTo = 0
    private(set) var tokens: [Token] = []

    init(source: String) {
        src = Lexer.normalizeNewlines(source)
    }

    /// jinja2 turns `\r\n` and `\r` into `\n` and drops one trailing newline.
    static func normalizeNewlines(_ source: String) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(source.unicodeScalars.count)
        var previousCR = false
        for scalar in source.unicodeScalars {
            if scalar == "\r" {
                out.append("\n")
                previousCR = true
                continue
            }
            if scalar == "\n" && previousCR {
                previousCR = false
                continue
            }
            previousCR = false
            out.append(scalar)
        }
        if out.last == "\n" { out.removeLast() }
        return out
    }

    private mutating func lineAt(_ index: Int) -> Int {
        if index < lineCountedTo {
            // Rare: recount from the start.
            line = 1
            lineCountedTo = 0
        }
        while lineCountedTo < index && lineCountedTo < src.count {
            if src[lineCountedTo] == "\n" { line += 1 }
            lineCountedTo += 1
        }
        return line
    }

    private func error(_ message: String, _ line: Int) -> ChatTemplateError {
        ChatTemplateError(message: message, line: line, kind: "TemplateSyntaxError")
    }

    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x20, 0x1C...0x1F, 0x85, 0xA0: return true
        default: return s.properties.isWhitespace
        }
    }

    private func at(_ i: Int, _ c: Unicode.Scalar) -> Bool { i < src.count && src[i] == c }

    private func findTagStart(from start: Int) -> Int? {
        var i = start
        while i + 1 < src.count {
            if src[i] == "{" {
                let n = src[i + 1]
                if n == "{" || n == "%" || n == "#" { return i }
            }
            i += 1
        }
        return nil
    }

    /// Applies `{%-` (strip all whitespace) or lstrip_blocks to the data before a tag.
    private func stripBefore(_ text: [Unicode.Scalar], dataStart: Int, minus: Bool, lstrip: Bool) -> [Unicode.Scalar] {
        if minus {
            var end = text.count
            while end > 0 && Lexer.isSpace(text[end - 1]) { end -= 1 }
            return Array(text[0..<end])
        }
        guard lstrip else { return text }
        var lPos = 0
        if let nl = text.lastIndex(of: "\n") { lPos = nl + 1 }
        let lineStarting = dataStart == 0 || src[dataStart - 1] == "\n"
        guard lPos > 0 || lineStarting else { return text }
        for s in text[lPos...] where s != " " && s != "\t" { return text }
        return Array(text[0..<lPos])
    }

    private mutating func emitData(_ text: [Unicode.Scalar], at index: Int) {
        guard !text.isEmpty else { return }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: text)
        tokens.append(Token(kind: .data(String(s)), line: lineAt(index)))
    }

    /// Skips what follows a tag end: all whitespace after `-`, one newline after a block or comment.
    private mutating func afterTagEnd(_ index: Int, minus: Bool, trimNewline: Bool) -> Int {
        var i = index
        if minus {
            while i < src.count && Lexer.isSpace(src[i]) { i += 1 }
        } else if trimNewline && at(i, "\n") {
            i += 1
        }
        return i
    }

    mutating func tokenize() throws -> [Token] {
        while pos < src.count {
            guard let tag = findTagStart(from: pos) else {
                emitData(Array(src[pos...]), at: pos)
                pos = src.count
                break
            }
            let kindChar = src[tag + 1]
            var contentStart = tag + 2
            var minus = false
            var plus = false
            if at(contentStart, "-") {
                minus = true
                contentStart += 1
            } else if at(contentStart, "+") && kindChar != "{" {
                plus = true
                contentStart += 1
            }
            let data = Array(src[pos..<tag])
            emitData(stripBefore(data, dataStart: pos, minus: minus, lstrip: kindChar != "{" && !plus), at: pos)
            let tagLine = lineAt(tag)
            switch kindChar {
            case "#":
                var i = contentStart
                var found = false
                while i + 1 < src.count {
                    if src[i] == "#" && src[i + 1] == "}" { found = true; break }
                    i += 1
                }
                guard found else { throw error("Missing end of comment tag", tagLine) }
                let endMinus = i > contentStart && src[i - 1] == "-"
                pos = afterTagEnd(i + 2, minus: endMinus, trimNewline: true)
            case "%":
                tokens.append(Token(kind: .blockBegin, line: tagLine))
                let start = tokens.count
                let (end, endMinus) = try tokenizeExpression(from: contentStart, block: true)
                tokens.append(Token(kind: .blockEnd, line: lineAt(end)))
                pos = afterTagEnd(end, minus: endMinus, trimNewline: true)
                if tokens.count == start + 2, case .name("raw") = tokens[start].kind {
                    try lexRaw(tagLine: tagLine, rawBegin: start - 1)
                }
            default:
                tokens.append(Token(kind: .variableBegin, line: tagLine))
                let (end, endMinus) = try tokenizeExpression(from: contentStart, block: false)
                tokens.append(Token(kind: .variableEnd, line: lineAt(end)))
                pos = afterTagEnd(end, minus: endMinus, trimNewline: false)
            }
        }
        tokens.append(Token(kind: .eof, line: lineAt(src.count)))
        return tokens
    }

    /// `{% raw %}…{% endraw %}`: the body is data, untouched.
    private mutating func lexRaw(tagLine: Int, rawBegin: Int) throws {
        tokens.removeSubrange(rawBegin...)
        var i = pos
        while let tag = findTagStart(from: i) {
            guard src[tag + 1] == "%" else { i = tag + 1; continue }
            var j = tag + 2
            var minus = false
            var plus = false
            if at(j, "-") { minus = true; j += 1 } else if at(j, "+") { plus = true; j += 1 }
            while j < src.count && Lexer.isSpace(src[j]) { j += 1 }
            let word: [Unicode.Scalar] = ["e", "n", "d", "r", "a", "w"]
            guard j + word.count <= src.count, Array(src[j..<j + word.count]) == word else { i = tag + 1; continue }
            j += word.count
            while j < src.count && Lexer.isSpace(src[j]) { j += 1 }
            var endMinus = false
            if at(j, "-") { endMinus = true; j += 1 }
            guard at(j, "%"), at(j + 1, "}") else { i = tag + 1; continue }
            let data = Array(src[pos..<tag])
            emitData(stripBefore(data, dataStart: pos, minus: minus, lstrip: !plus), at: pos)
            pos = afterTagEnd(j + 2, minus: endMinus, trimNewline: true)
            return
        }
        throw error("Missing end of raw directive", tagLine)
    }

    /// Tokens of one tag's expression; returns the index after the closing `%}` / `}}` and
    /// whether it was written `-%}` / `-}}`.
    private mutating func tokenizeExpression(from start: Int, block: Bool) throws -> (Int, Bool) {
        var i = start
        var balance: [Unicode.Scalar] = []
        let closer: Unicode.Scalar = block ? "%" : "}"
        while true {
            while i < src.count && Lexer.isSpace(src[i]) { i += 1 }
            guard i < src.count else {
                throw error(block ? "Unexpected end of template inside a block tag" : "unexpected end of template inside a variable tag", lineAt(i))
            }
            if balance.isEmpty {
                if src[i] == "-" && at(i + 1, closer) && at(i + 2, "}") { return (i + 3, true) }
                if src[i] == closer && at(i + 1, "}") { return (i + 2, false) }
            }
            let c = src[i]
            let tokenLine = lineAt(i)
            if c == "_" || c.properties.isAlphabetic {
                var j = i + 1
                while j < src.count && (src[j] == "_" || src[j].properties.isAlphabetic || src[j].properties.numericType != nil) { j += 1 }
                tokens.append(Token(kind: .name(Lexer.string(src[i..<j])), line: tokenLine))
                i = j
            } else if ("0"..."9").contains(c) {
                i = try lexNumber(at: i, line: tokenLine)
            } else if c == "'" || c == "\"" {
                i = try lexString(at: i, quote: c, line: tokenLine)
            } else {
                let two = i + 1 < src.count ? Lexer.string(src[i...i + 1]) : ""
                if ["//", "**", "==", "!=", "<=", ">="].contains(two) {
                    tokens.append(Token(kind: .op(two), line: tokenLine))
                    i += 2
                    continue
                }
                guard "+-/*%~[](){}<>=.:|,;".unicodeScalars.contains(c) else {
                    throw error("unexpected char \(Lexer.pyRepr(String(c))) at \(i)", tokenLine)
                }
                switch c {
                case "(", "[", "{": balance.append(c)
                case ")", "]", "}":
                    let expected: Unicode.Scalar = c == ")" ? "(" : c == "]" ? "[" : "{"
                    guard let open = balance.popLast() else { throw error("unexpected '\(c)'", tokenLine) }
                    guard open == expected else { throw error("unexpected '\(c)', expected '\(open)'", tokenLine) }
                default: break
                }
                tokens.append(Token(kind: .op(String(c)), line: tokenLine))
                i += 1
            }
        }
    }

    static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    static func pyRepr(_ s: String) -> String {
        s.contains("'") && !s.contains("\"") ? "\"\(s)\"" : "'\(s)'"
    }

    private func digits(from start: Int) -> Int {
        var j = start
        while j < src.count && (("0"..."9").contains(src[j]) || (src[j] == "_" && j + 1 < src.count && ("0"..."9").contains(src[j + 1]))) { j += 1 }
        return j
    }

    private mutating func lexNumber(at start: Int, line: Int) throws -> Int {
        var j = digits(from: start)
        var isFloat = false
        let afterDot = start > 0 && src[start - 1] == "."
        if !afterDot && at(j, ".") && j + 1 < src.count && ("0"..."9").contains(src[j + 1]) {
            isFloat = true
            j = digits(from: j + 1)
        }
        if !afterDot && (at(j, "e") || at(j, "E")) {
            var k = j + 1
            if at(k, "+") || at(k, "-") { k += 1 }
            if k < src.count && ("0"..."9").contains(src[k]) {
                isFloat = true
                j = digits(from: k)
            }
        }
        let text = Lexer.string(src[start..<j]).replacingOccurrences(of: "_", with: "")
        if isFloat {
            guard let value = Double(text) else { throw error("bad number \(text)", line) }
            tokens.append(Token(kind: .float(value), line: line))
        } else {
            guard let value = Int(text) else { throw error("integer \(text) is too large", line) }
            tokens.append(Token(kind: .integer(value), line: line))
        }
        return j
    }

    private mutating func lexString(at start: Int, quote: Unicode.Scalar, line: Int) throws -> Int {
        var j = start + 1
        var out = String.UnicodeScalarView()
        while true {
            guard j < src.count else { throw error("unexpected char \(Lexer.pyRepr(String(quote))) at \(start)", line) }
            let c = src[j]
            if c == quote { j += 1; break }
            if c != "\\" { out.append(c); j += 1; continue }
            guard j + 1 < src.count else { throw error("unexpected char \(Lexer.pyRepr(String(quote))) at \(start)", line) }
            let e = src[j + 1]
            j += 2
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "v": out.append("\u{0B}")
            case "0"..."7":
                var value = e.value - 0x30
                var n = 1
                while n < 3, j < src.count, ("0"..."7").contains(src[j]) {
                    value = value * 8 + src[j].value - 0x30
                    j += 1
                    n += 1
                }
                out.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            case "x", "u", "U":
                let count = e == "x" ? 2 : e == "u" ? 4 : 8
                guard j + count <= src.count, let value = UInt32(Lexer.string(src[j..<j + count]), radix: 16),
                      let scalar = Unicode.Scalar(value)
                else { throw error("invalid \\\(e) escape in a string", line) }
                out.append(scalar)
                j += count
            case "\n": break
            default:
                out.append("\\")
                out.append(e)
            }
        }
        tokens.append(Token(kind: .string(String(out)), line: line))
        return j
    }
}
