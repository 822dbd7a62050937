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
}
