import Foundation

/// Python's `%` formatting and `str.format`, with the format specs they share.
extension PyFormat {

    struct Spec {
        var fill: Character = " "
        var align: Character? = nil
        var sign: Character? = nil
        var zero = false
        var width = 0
        var precision: Int? = nil
        var type: Character? = nil
        var leftAdjust = false
    }

    static func pad(_ body: String, _ spec: Spec, numeric: Bool) -> String {
        let length = body.unicodeScalars.count
        guard spec.width > length else { return body }
        let n = spec.width - length
        let align = spec.align ?? (spec.leftAdjust ? "<" : (numeric ? ">" : "<"))
        if spec.zero && numeric && spec.align == nil && !spec.leftAdjust {
            var b = body
            var sign = ""
            if b.hasPrefix("-") || b.hasPrefix("+") { sign = String(b.removeFirst()) }
            return sign + String(repeating: "0", count: n) + b
        }
        let fill = String(spec.fill)
        switch align {
        case "<": return body + String(repeating: fill, count: n)
        case "^": return String(repeating: fill, count: n / 2) + body + String(repeating: fill, count: n - n / 2)
        default: return String(repeating: fill, count: n) + body
        }
    }

    /// Refuses paddings and widths that would build strings of more than 16 M characters.
    static func checkSize(_ n: Int) throws {
        if n > 16 << 20 {
            throw ChatTemplateError(message: "width \(n) is too large", kind: "MemoryError")
        }
    }

    static func formatValue(_ value: Value, _ spec: Spec, percent: Bool) throws -> String {
        try checkSize(spec.width)
        try checkSize(spec.precision ?? 0)
        let type = spec.type
        func typeError() -> ChatTemplateError {
            ChatTemplateError(message: "unsupported format character '\(type.map(String.init) ?? "")' for \(value.typeName)", kind: "TypeError")
        }
        switch type {
        case nil, "s":
            var s = value.str
            if let p = spec.precision { s = String(String.UnicodeScalarView(s.unicodeScalars.prefix(p))) }
            return pad(s, spec, numeric: type == nil && value.numberValue != nil && !percent)
        case "r", "a":
            return pad(value.repr, spec, numeric: false)
        case "d", "i":
            guard let n = value.numberValue else { throw typeError() }
            var s = value.intValue.map(String.init) ?? String(Int(n.rounded(.towardZero)))
            if let sign = spec.sign, !s.hasPrefix("-") { s = String(sign) + s }
            return pad(s, spec, numeric: true)
        case "f", "F", "e", "E", "g", "G", "%":
            guard var n = value.numberValue else { throw typeError() }
            let precision = spec.precision ?? 6
            var suffix = ""
            var letter = String(type ?? "f")
            if letter == "%" { n *= 100; suffix = "%"; letter = "f" }
            var s = String(format: "%.\(precision)\(letter)", n)
            if let sign = spec.sign, n >= 0 { s = String(sign) + s }
            return pad(s + suffix, spec, numeric: true)
        case "x", "X", "o", "b":
            guard let n = value.intValue else { throw typeError() }
            let radix = type == "o" ? 8 : type == "b" ? 2 : 16
            var s = String(n, radix: radix)
            if type == "X" { s = s.uppercased() }
            return pad(s, spec, numeric: true)
        case "c":
            if let n = value.intValue, let scalar = Unicode.Scalar(UInt32(clamping: n)) { return pad(String(scalar), spec, numeric: false) }
            return pad(value.str, spec, numeric: false)
        default:
            throw typeError()
        }
    }

    /// `fmt % args` (printf-style).
    static func percent(_ format: String, _ argument: Value) throws -> String {
        var args: [Value]
        var mapping: OrderedDict?
        switch argument {
        case .tuple(let items): args = items
        case .dict(let d): args = [argument]; mapping = d
        default: args = [argument]
        }
        var out = ""
        let chars = Array(format)
        var i = 0
        var next = 0
        while i < chars.count {
            let c = chars[i]
            i += 1
            guard c == "%" else { out.append(c); continue }
            guard i < chars.count else { throw ChatTemplateError(message: "incomplete format", kind: "ValueError") }
            if chars[i] == "%" { out.append("%"); i += 1; continue }
            var spec = Spec()
            var key: String?
            if chars[i] == "(" {
                guard let close = chars[i...].firstIndex(of: ")") else { throw ChatTemplateError(message: "incomplete format key", kind: "ValueError") }
                key = String(chars[(i + 1)..<close])
                i = close + 1
            }
            while i < chars.count, "-+ 0#".contains(chars[i]) {
                switch chars[i] {
                case "-": spec.leftAdjust = true
                case "0": spec.zero = true
                case "+", " ": spec.sign = chars[i]
                default: break
                }
                i += 1
            }
            var width = ""
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { width.append(chars[i]); i += 1 }
            spec.width = Int(width) ?? 0
            if i < chars.count, chars[i] == "." {
                i += 1
                var p = ""
                while i < chars.count, chars[i].isASCII, chars[i].isNumber { p.append(chars[i]); i += 1 }
                spec.precision = Int(p) ?? 0
            }
            guard i < chars.count else { throw ChatTemplateError(message: "incomplete format", kind: "ValueError") }
            spec.type = chars[i]
            i += 1
            let value: Value
            if let key {
                guard let mapping, let v = mapping[key] else { throw ChatTemplateError(message: "'\(key)'", kind: "KeyError") }
                value = v
            } else {
                guard next < args.count else {
                    throw ChatTemplateError(message: "not enough arguments for format string", kind: "TypeError")
                }
                value = args[next]
                next += 1
            }
            out += try formatValue(value, spec, percent: true)
        }
        if mapping == nil && next < args.count {
            throw ChatTemplateError(message: "not all arguments converted during string formatting", kind: "TypeError")
        }
        return out
    }

    static func parseFormatSpec(_ text: String) -> Spec {
        var spec = Spec()
        var chars = Array(text)
        if chars.count >= 2, "<>^=".contains(chars[1]) {
            spec.fill = chars[0]
            spec.align = chars[1]
            chars.removeFirst(2)
        } else if let first = chars.first, "<>^=".contains(first) {
            spec.align = first
            chars.removeFirst()
        }
        if let first = chars.first, "+- ".contains(first) {
            spec.sign = first == "-" ? nil : first
            chars.removeFirst()
        }
        if chars.first == "0" {
            spec.zero = true
            chars.removeFirst()
        }
        var width = ""
        while let c = chars.first, c.isASCII, c.isNumber { width.append(c); chars.removeFirst() }
        spec.width = Int(width) ?? 0
        if chars.first == "." {
            chars.removeFirst()
            var p = ""
            while let c = chars.first, c.isASCII, c.isNumber { p.append(c); chars.removeFirst() }
            spec.precision = Int(p)
        }
        spec.type = chars.first
        return spec
    }

    /// `str.format(*args, **kwargs)`.
    static func format(_ format: String, _ args: [Value], _ kwargs: [(String, Value)]) throws -> String {
        var out = ""
        let chars = Array(format)
        var i = 0
        var auto = 0
        while i < chars.count {
            let c = chars[i]
            if c == "}" {
                guard i + 1 < chars.count, chars[i + 1] == "}" else {
                    throw ChatTemplateError(message: "Single '}' encountered in format string", kind: "ValueError")
                }
                out.append("}")
                i += 2
                continue
            }
            guard c == "{" else { out.append(c); i += 1; continue }
            if i + 1 < chars.count, chars[i + 1] == "{" { out.append("{"); i += 2; continue }
            guard let close = chars[i...].firstIndex(of: "}") else {
                throw ChatTemplateError(message: "Single '{' encountered in format string", kind: "ValueError")
            }
            let field = String(chars[(i + 1)..<close])
            i = close + 1
            var name = field
            var specText = ""
            if let colon = field.firstIndex(of: ":") {
                name = String(field[..<colon])
                specText = String(field[field.index(after: colon)...])
            }
            var conversion: Character?
            if let bang = name.firstIndex(of: "!") {
                conversion = name[name.index(after: bang)...].first
                name = String(name[..<bang])
            }
            let value: Value
            if name.isEmpty {
                guard auto < args.count else {
                    throw ChatTemplateError(message: "Replacement index \(auto) out of range for positional args tuple", kind: "IndexError")
                }
                value = args[auto]
                auto += 1
            } else if let n = Int(name) {
                guard n >= 0, n < args.count else {
                    throw ChatTemplateError(message: "Replacement index \(n) out of range for positional args tuple", kind: "IndexError")
                }
                value = args[n]
            } else if let v = kwargs.first(where: { $0.0 == name })?.1 {
                value = v
            } else {
                throw ChatTemplateError(message: "'\(name)'", kind: "KeyError")
            }
            let converted: Value = conversion == "r" ? .string(value.repr) : conversion == "s" ? .string(value.str) : value
            out += try formatValue(converted, parseFormatSpec(specText), percent: false)
        }
        return out
    }
}
