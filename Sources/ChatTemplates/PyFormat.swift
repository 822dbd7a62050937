import Foundation

/// Python's text forms of values: float repr, string repr, `json.dumps`, `%` and `str.format`.
enum PyFormat {
    /// Python's `repr(float)`: shortest round-trip digits, fixed notation for exponents -4..<16.
    static func float(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        let sign = d < 0 ? "-" : ""
        // Swift's description is also the shortest round-trip form; take its digits and exponent.
        let text = "\(abs(d))"
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits = ""
        var pointPos = 0
        if let dot = mantissa.firstIndex(of: ".") {
            let intPart = mantissa[..<dot]
            let fracPart = mantissa[mantissa.index(after: dot)...]
            digits = String(intPart) + String(fracPart)
            pointPos = intPart.count
        } else {
            digits = String(mantissa)
            pointPos = mantissa.count
        }
        // Normalise: strip leading zeros (adjusting the point) and trailing zeros.
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            pointPos -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        pointPos += exponent
        let sciExponent = pointPos - 1
        if sciExponent >= -4 && sciExponent < 16 {
            if pointPos <= 0 { return sign + "0." + String(repeating: "0", count: -pointPos) + digits }
            if pointPos >= digits.count { return sign + digits + String(repeating: "0", count: pointPos - digits.count) + ".0" }
            let cut = digits.index(digits.startIndex, offsetBy: pointPos)
            return sign + digits[..<cut] + "." + digits[cut...]
        }
        let first = digits.prefix(1)
        let rest = digits.dropFirst()
        let exp = abs(sciExponent) < 10 ? "0\(abs(sciExponent))" : "\(abs(sciExponent))"
        return sign + first + (rest.isEmpty ? "" : "." + rest) + "e" + (sciExponent < 0 ? "-" : "+") + exp
    }

    private static func isPrintable(_ s: Unicode.Scalar) -> Bool {
        if s == " " { return true }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default: return true
        }
    }

    /// Python's `repr(str)`.
    static func stringRepr(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(scalar) == quote {
                    out += "\\" + String(quote)
                } else if isPrintable(scalar) {
                    out.unicodeScalars.append(scalar)
                } else if scalar.value < 0x100 {
                    out += "\\x" + hex(scalar.value, 2)
                } else if scalar.value < 0x10000 {
                    out += "\\u" + hex(scalar.value, 4)
                } else {
                    out += "\\U" + hex(scalar.value, 8)
                }
            }
        }
        out.append(quote)
        return out
    }

    static func hex(_ v: UInt32, _ width: Int) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - h.count)) + h
    }

    /// `json.dumps(s, ensure_ascii=False)` of a string.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + hex(scalar.value, 4)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `json.dumps(value, ensure_ascii=False, indent=, separators=, sort_keys=)` as transformers' `tojson`.
    static func json(_ value: Value, indent: String?, separators: (String, String)?, sortKeys: Bool, depth: Int = 0) throws -> String {
        let (itemSep, keySep) = separators ?? (indent == nil ? (", ", ": ") : (",", ": "))
        guard depth < 200 else { throw ChatTemplateError(message: "maximum recursion depth exceeded in tojson", kind: "RecursionError") }
        func newline(_ level: Int) -> String {
            guard let indent else { return "" }
            return "\n" + String(repeating: indent, count: level)
        }
        switch value {
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
            return float(d)
        case .string(let s), .markup(let s): return jsonString(s)
        case .array(let items), .tuple(let items):
            if items.isEmpty { return "[]" }
            let parts = try items.map { try json($0, indent: indent, separators: separators, sortKeys: sortKeys, depth: depth + 1) }
            return "[" + newline(depth + 1) + parts.joined(separator: itemSep + newline(depth + 1)) + newline(depth) + "]"
        case .dict(let d):
            if d.count == 0 { return "{}" }
            var pairs = d.pairs
            if sortKeys { pairs.sort { pyCompare($0.0.value, $1.0.value) ?? 0 < 0 } }
            let parts = try pairs.map {
                jsonString($0.0.jsonKey) + keySep + (try json($0.1, indent: indent, separators: separators, sortKeys: sortKeys, depth: depth + 1))
            }
            return "{" + newline(depth + 1) + parts.joined(separator: itemSep + newline(depth + 1)) + newline(depth) + "}"
        default:
            throw ChatTemplateError(message: "Object of type \(value.typeName) is not JSON serializable", kind: "TypeError")
        }
    }

    // MARK: - Format specs shared by % and str.format

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

    static func formatValue(_ value: Value, _ spec: Spec, percent: Bool) throws -> String {
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
