import Foundation

/// jinja2's builtin filters (with transformers' `tojson`).
enum Filters {
    /// Every filter jinja2 knows; a name outside this set fails when the template is parsed, as in jinja2.
    static let known: Set<String> = [
        "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
        "filesizeformat", "first", "float", "forceescape", "format", "groupby", "indent", "int", "items", "join",
        "last", "length", "list", "lower", "map", "max", "min", "pprint", "random", "reject", "rejectattr",
        "replace", "reverse", "round", "safe", "select", "selectattr", "slice", "sort", "string", "striptags",
        "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "urlencode", "urlize", "wordcount",
        "wordwrap", "xmlattr",
    ]

    static func isKnown(_ name: String) -> Bool { known.contains(name) }

    private static func arg(_ args: [Value], _ kwargs: [(String, Value)], _ index: Int, _ name: String) -> Value? {
        Methods.argument(args, kwargs, index, name)
    }

    private static func wrapLike(_ value: Value, _ s: String) -> Value {
        if case .markup = value { return .markup(s) }
        return .string(s)
    }

    /// Follows a dotted attribute path (`"function.name"`, `"0"`), as jinja2's attribute getters do.
    static func attribute(_ value: Value, _ path: Value) throws -> Value {
        guard let text = path.stringValue else { return try Attributes.item(value, path, line: 0) }
        var current = value
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            let key: Value = Int(part).map { .int($0) } ?? .string(String(part))
            current = try Attributes.item(current, key, line: 0)
        }
        return current
    }

    private static func sortKey(_ v: Value, caseSensitive: Bool) -> Value {
        if !caseSensitive, let s = v.stringValue { return .string(s.lowercased()) }
        return v
    }

    private static func sorted(_ items: [Value], key: (Value) throws -> Value, reverse: Bool) throws -> [Value] {
        let keyed = try items.map { (try key($0), $0) }
        var failure: ChatTemplateError?
        let result = keyed.enumerated().sorted { l, r in
            guard let c = pyCompare(l.element.0, r.element.0) else {
                failure = Interpreter.typeError("'<' not supported between instances of '\(l.element.0.typeName)' and '\(r.element.0.typeName)'")
                return l.offset < r.offset
            }
            if c == 0 { return l.offset < r.offset }
            return reverse ? c > 0 : c < 0
        }
        if let failure { throw failure }
        return result.map { $0.element.1 }
    }

    static func pyInt(_ value: Value, default fallback: Value, base: Int) -> Value {
        switch value {
        case .int, .bool: return .int(value.intValue ?? 0)
        case .double(let d):
            guard d.isFinite, abs(d) < 9.2e18 else { return fallback }
            return .int(Int(d.rounded(.towardZero)))
        case .string(let s), .markup(let s):
            var text = Methods.strip(s, nil, leading: true, trailing: true).replacingOccurrences(of: "_", with: "")
            var negative = false
            if text.hasPrefix("-") || text.hasPrefix("+") { negative = text.removeFirst() == "-" }
            var radix = base
            let lower = text.lowercased()
            for (prefix, r) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) && (base == r || base == 0) {
                text = String(text.dropFirst(2))
                radix = r
            }
            if radix == 0 { radix = 10 }
            if (2...36).contains(radix), !text.isEmpty, let i = Int(text, radix: radix) { return .int(negative ? -i : i) }
            if let d = Double(Methods.strip(s, nil, leading: true, trailing: true)), d.isFinite, abs(d) < 9.2e18 {
                return .int(Int(d.rounded(.towardZero)))
            }
            return fallback
        default: return fallback
        }
    }

    static func pyFloat(_ value: Value) -> Double? {
        switch value {
        case .int, .bool, .double: return value.numberValue
        case .string(let s), .markup(let s):
            let t = Methods.strip(s, nil, leading: true, trailing: true).lowercased().replacingOccurrences(of: "_", with: "")
            if ["inf", "+inf", "infinity", "+infinity"].contains(t) { return .infinity }
            if ["-inf", "-infinity"].contains(t) { return -.infinity }
            if ["nan", "+nan", "-nan"].contains(t) { return .nan }
            guard !t.isEmpty, t.allSatisfy({ "0123456789.e+-".contains($0) }) else { return nil }
            return Double(t)
        default: return nil
        }
    }

    static func length(_ value: Value) throws -> Int {
        switch value {
        case .undefined: return 0
        case .string(let s), .markup(let s): return s.unicodeScalars.count
        case .array(let a), .tuple(let a): return a.count
        case .dict(let d): return d.count
        case .iterator(let box) where box.isView: return box.peek.count
        default: throw Interpreter.typeError("object of type '\(value.typeName)' has no len()")
        }
    }

    private static func listOf(_ value: Value, _ interpreter: Interpreter) throws -> [Value] {
        try interpreter.iterate(value)
    }

    private static func jsonOptions(_ args: [Value], _ kwargs: [(String, Value)]) throws -> (ascii: Bool, indent: String?, separators: (String, String)?, sortKeys: Bool) {
        let ascii = arg(args, kwargs, 0, "ensure_ascii")?.truthy ?? false
        var indent: String?
        switch arg(args, kwargs, 1, "indent") {
        case .int(let n):
            try PyFormat.checkSize(n)
            indent = String(repeating: " ", count: max(0, n))
        case .string(let s), .markup(let s): indent = s
        default: indent = nil
        }
        var separators: (String, String)?
        if let sep = arg(args, kwargs, 2, "separators"), let items = sep.listValue {
            guard items.count == 2, let a = items[0].stringValue, let b = items[1].stringValue else {
                throw Interpreter.typeError("separators must be a pair of strings")
            }
            separators = (a, b)
        }
        let sortKeys = arg(args, kwargs, 3, "sort_keys")?.truthy ?? false
        return (ascii, indent, separators, sortKeys)
    }

    static func asciiEscape(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            if scalar.value < 0x80 {
                out.unicodeScalars.append(scalar)
            } else if scalar.value < 0x10000 {
                out += "\\u" + PyFormat.hex(scalar.value, 4)
            } else {
                let v = scalar.value - 0x10000
                out += "\\u" + PyFormat.hex(0xD800 + (v >> 10), 4) + "\\u" + PyFormat.hex(0xDC00 + (v & 0x3FF), 4)
            }
        }
        return out
    }

    /// jinja2's `indent` filter.
    static func indent(_ s: String, width: Value?, first: Bool, blank: Bool) -> String {
        let indention: String
        if let w = width?.stringValue { indention = w } else { indention = String(repeating: " ", count: max(0, width?.intValue ?? 4)) }
        let text = s + "\n"
        var lines: [String] = []
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).forEach { lines.append(String($0)) }
        lines.removeLast()
        var rv: String
        if blank {
            rv = lines.joined(separator: "\n" + indention)
        } else {
            rv = lines.isEmpty ? "" : lines.removeFirst()
            if !lines.isEmpty {
                rv += "\n" + lines.map { $0.isEmpty ? $0 : indention + $0 }.joined(separator: "\n")
            }
        }
        if first { rv = indention + rv }
        return rv
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    static func apply(_ name: String, _ value: Value, _ args: [Value], _ kwargs: [(String, Value)], _ interpreter: Interpreter) throws -> Value {
        switch name {
        case "default", "d":
            let fallback = arg(args, kwargs, 0, "default_value") ?? .string("")
            let boolean = arg(args, kwargs, 1, "boolean")?.truthy ?? false
            if value.isUndefined || (boolean && !value.truthy) { return fallback }
            return value
        case "length", "count":
            return .int(try length(value))
        case "string":
            if case .markup = value { return value }
            return .string(value.str)
        case "safe":
            return .markup(value.str)
        case "escape", "e", "forceescape":
            if case .markup = value, name != "forceescape" { return value }
            return .markup(Operators.escape(value.str))
        case "trim":
            let chars = try arg(args, kwargs, 0, "chars").flatMap { v -> String? in
                if case .none = v { return nil }
                guard let s = v.stringValue else { throw Interpreter.typeError("strip arg must be None or str") }
                return s
            }
            return wrapLike(value, Methods.strip(value.str, chars, leading: true, trailing: true))
        case "upper": return wrapLike(value, value.str.uppercased())
        case "lower": return wrapLike(value, value.str.lowercased())
        case "capitalize": return wrapLike(value, Methods.capitalize(value.str))
        case "title":
            var out = ""
            var atStart = true
            for c in value.str.unicodeScalars {
                if Lexer.isSpace(c) || "-([{<".unicodeScalars.contains(c) {
                    out.unicodeScalars.append(c)
                    atStart = true
                } else {
                    out += atStart ? String(c).uppercased() : String(c).lowercased()
                    atStart = false
                }
            }
            return wrapLike(value, out)
        case "replace":
            guard let old = arg(args, kwargs, 0, "old"), let new = arg(args, kwargs, 1, "new") else {
                throw Interpreter.typeError("replace() missing required arguments")
            }
            let count = arg(args, kwargs, 2, "count")?.intValue ?? -1
            return .string(Methods.replace(value.str, old.str, new.str, count: count))
        case "tojson":
            let options = try jsonOptions(args, kwargs)
            let text = try PyFormat.json(value, indent: options.indent, separators: options.separators, sortKeys: options.sortKeys)
            return .string(options.ascii ? asciiEscape(text) : text)
        case "join":
            let separator = arg(args, kwargs, 0, "d")?.str ?? ""
            var items = try listOf(value, interpreter)
            if let attr = arg(args, kwargs, 1, "attribute") { items = try items.map { try attribute($0, attr) } }
            return .string(items.map(\.str).joined(separator: separator))
        case "items":
            if value.isUndefined { return .array([]) }
            guard case .dict(let d) = value else {
                throw ChatTemplateError(message: "Can only get item pairs from a mapping.", kind: "TypeError")
            }
            return .generator(d.pairs.map { .tuple([$0.0.value, $0.1]) })
        case "list":
            return .array(try listOf(value, interpreter))
        case "first":
            if case .undefined = value { return .undefined("No first item, sequence was empty.") }
            return try listOf(value, interpreter).first ?? .undefined("No first item, sequence was empty.")
        case "last":
            if case .iterator(let box) = value, !box.isView { throw Interpreter.typeError("'\(box.kind)' object is not reversible") }
            return try listOf(value, interpreter).last ?? .undefined("No last item, sequence was empty.")
        case "reverse":
            if let s = value.stringValue { return wrapLike(value, String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            if case .iterator(let box) = value, !box.isView { throw Interpreter.typeError("'\(box.kind)' object is not reversible") }
            let kind: String
            switch value {
            case .dict: kind = "dict_reversekeyiterator"
            case .tuple: kind = "reversed"
            default: kind = "list_reverseiterator"
            }
            return .generator(try listOf(value, interpreter).reversed(), kind: kind)
        case "int":
            let fallback = arg(args, kwargs, 0, "default") ?? .int(0)
            return pyInt(value, default: fallback, base: arg(args, kwargs, 1, "base")?.intValue ?? 10)
        case "float":
            if let d = pyFloat(value) { return .double(d) }
            return arg(args, kwargs, 0, "default") ?? .double(0)
        case "abs":
            switch value {
            case .int(let i): return .int(i.magnitude > UInt(Int.max) ? i : abs(i))
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d): return .double(abs(d))
            default: throw Interpreter.typeError("bad operand type for abs(): '\(value.typeName)'")
            }
        case "round":
            let precision = arg(args, kwargs, 0, "precision")?.intValue ?? 0
            let method = arg(args, kwargs, 1, "method")?.stringValue ?? "common"
            guard let x = value.numberValue else { throw Interpreter.typeError("type \(value.typeName) doesn't define __round__ method") }
            let scale = pow(10.0, Double(precision))
            switch method {
            case "common":
                if case .int(let i) = value { return .int(i) }
                return .double((x * scale).rounded(.toNearestOrEven) / scale)
            case "ceil": return .double((x * scale).rounded(.up) / scale)
            case "floor": return .double((x * scale).rounded(.down) / scale)
            default: throw ChatTemplateError(message: "method must be common, ceil or floor", kind: "FilterArgumentError")
            }
        case "indent":
            let width = arg(args, kwargs, 0, "width")
            try PyFormat.checkSize(width?.intValue ?? 0)
            let first = arg(args, kwargs, 1, "first")?.truthy ?? false
            let blank = arg(args, kwargs, 2, "blank")?.truthy ?? false
            return wrapLike(value, indent(value.str, width: width, first: first, blank: blank))
        case "center":
            let width = arg(args, kwargs, 0, "width")?.intValue ?? 80
            return try interpreter.call(Methods.string(.string(value.str), "center") ?? .none, [.int(width)], [], line: nil)
        case "wordcount":
            var count = 0
            var inWord = false
            for c in value.str.unicodeScalars {
                let word = c == "_" || c.properties.isAlphabetic || c.properties.numericType != nil
                if word && !inWord { count += 1 }
                inWord = word
            }
            return .int(count)
        case "truncate":
            let s = Array(value.str.unicodeScalars)
            let length = arg(args, kwargs, 0, "length")?.intValue ?? 255
            let killwords = arg(args, kwargs, 1, "killwords")?.truthy ?? false
            let end = arg(args, kwargs, 2, "end")?.str ?? "..."
            let leeway = arg(args, kwargs, 3, "leeway")?.intValue ?? 5
            if s.count <= length + leeway { return .string(value.str) }
            let cut = Lexer.string(s.prefix(max(0, length - end.unicodeScalars.count)))
            if killwords { return .string(cut + end) }
            let head = try Methods.split(cut, " ", 1, fromRight: true).first ?? ""
            return .string(head + end)
        case "batch":
            guard let size = arg(args, kwargs, 0, "linecount")?.intValue, size > 0 else {
                throw ChatTemplateError(message: "batch size must be positive", kind: "ValueError")
            }
            let fill = arg(args, kwargs, 1, "fill_with")
            let items = try listOf(value, interpreter)
            var batches: [Value] = []
            var i = 0
            while i < items.count {
                var chunk = Array(items[i..<min(i + size, items.count)])
                if chunk.count < size, let fill, !(fill.isNone) {
                    chunk += Array(repeating: fill, count: size - chunk.count)
                }
                batches.append(.array(chunk))
                i += size
            }
            return .generator(batches)
        case "sort":
            let reverse = arg(args, kwargs, 0, "reverse")?.truthy ?? false
            let caseSensitive = arg(args, kwargs, 1, "case_sensitive")?.truthy ?? false
            let attr = arg(args, kwargs, 2, "attribute")
            let items = try listOf(value, interpreter)
            return .array(try sorted(items, key: { item in
                sortKey(try attr.map { try attribute(item, $0) } ?? item, caseSensitive: caseSensitive)
            }, reverse: reverse))
        case "dictsort":
            guard case .dict(let d) = value else {
                throw ChatTemplateError(message: "You can only sort by either \"key\" or \"value\"", kind: "FilterArgumentError")
            }
            let caseSensitive = arg(args, kwargs, 0, "case_sensitive")?.truthy ?? false
            let by = arg(args, kwargs, 1, "by")?.stringValue ?? "key"
            let reverse = arg(args, kwargs, 2, "reverse")?.truthy ?? false
            guard by == "key" || by == "value" else {
                throw ChatTemplateError(message: "You can only sort by either \"key\" or \"value\"", kind: "FilterArgumentError")
            }
            let pairs: [Value] = d.pairs.map { .tuple([$0.0.value, $0.1]) }
            return .array(try sorted(pairs, key: { pair in
                let parts = pair.listValue ?? []
                return sortKey(parts[by == "key" ? 0 : 1], caseSensitive: caseSensitive)
            }, reverse: reverse))
        case "unique":
            let caseSensitive = arg(args, kwargs, 0, "case_sensitive")?.truthy ?? false
            let attr = arg(args, kwargs, 1, "attribute")
            var seen: [Value] = []
            var out: [Value] = []
            for item in try listOf(value, interpreter) {
                let key = sortKey(try attr.map { try attribute(item, $0) } ?? item, caseSensitive: caseSensitive)
                if !seen.contains(where: { pyEquals($0, key) }) {
                    seen.append(key)
                    out.append(item)
                }
            }
            return .generator(out)
        case "min", "max":
            let caseSensitive = arg(args, kwargs, 0, "case_sensitive")?.truthy ?? false
            let attr = arg(args, kwargs, 1, "attribute")
            let items = try listOf(value, interpreter)
            guard !items.isEmpty else { return .undefined("No aggregated item, sequence was empty.") }
            let ordered = try sorted(items, key: { item in
                sortKey(try attr.map { try attribute(item, $0) } ?? item, caseSensitive: caseSensitive)
            }, reverse: false)
            return name == "min" ? ordered[0] : (ordered.last ?? .none)
        case "sum":
            let attr = arg(args, kwargs, 0, "attribute")
            var total = arg(args, kwargs, 1, "start") ?? .int(0)
            for item in try listOf(value, interpreter) {
                total = try Operators.binary("+", total, try attr.map { try attribute(item, $0) } ?? item, line: 0)
            }
            return total
        case "select", "reject", "selectattr", "rejectattr":
            let byAttribute = name.hasSuffix("attr")
            var rest = args
            var attr: Value?
            if byAttribute {
                guard !rest.isEmpty else { throw Interpreter.typeError("Missing parameter for attribute name") }
                attr = rest.removeFirst()
            }
            let testName = rest.isEmpty ? nil : rest.removeFirst().stringValue
            if let testName, !TestFunctions.isKnown(testName) {
                throw ChatTemplateError(message: "No test named '\(testName)'.", kind: "TemplateRuntimeError")
            }
            let wanted = name.hasPrefix("select")
            var out: [Value] = []
            for item in value.truthy ? try listOf(value, interpreter) : [] {
                let subject = try attr.map { try attribute(item, $0) } ?? item
                let passed = try testName.map { try TestFunctions.apply($0, subject, rest, kwargs, interpreter, line: nil) } ?? subject.truthy
                if passed == wanted { out.append(item) }
            }
            return .generator(out)
        case "map":
            let items = value.truthy ? try listOf(value, interpreter) : []
            if args.isEmpty, let attr = kwargs.first(where: { $0.0 == "attribute" })?.1 {
                let fallback = kwargs.first { $0.0 == "default" }?.1
                return .generator(try items.map { item in
                    let v = try attribute(item, attr)
                    if v.isUndefined, let fallback { return fallback }
                    return v
                })
            }
            guard let filterName = args.first?.stringValue else {
                throw ChatTemplateError(message: "map requires a filter argument", kind: "FilterArgumentError")
            }
            guard isKnown(filterName) else {
                throw ChatTemplateError(message: "No filter named '\(filterName)'.", kind: "TemplateRuntimeError")
            }
            let rest = Array(args.dropFirst())
            return .generator(try items.map { try apply(filterName, $0, rest, kwargs, interpreter) })
        case "groupby":
            guard let attr = arg(args, kwargs, 0, "attribute") else { throw Interpreter.typeError("groupby() missing attribute") }
            let fallback = arg(args, kwargs, 1, "default")
            let caseSensitive = arg(args, kwargs, 2, "case_sensitive")?.truthy ?? false
            func key(_ item: Value) throws -> Value {
                var v = try attribute(item, attr)
                if v.isUndefined, let fallback { v = fallback }
                return sortKey(v, caseSensitive: caseSensitive)
            }
            let items = try sorted(try listOf(value, interpreter), key: key, reverse: false)
            var groups: [Value] = []
            var currentKey: Value?
            var current: [Value] = []
            for item in items {
                let k = try key(item)
                if let ck = currentKey, pyEquals(ck, k) {
                    current.append(item)
                } else {
                    if let ck = currentKey { groups.append(.tuple([ck, .array(current)])) }
                    currentKey = k
                    current = [item]
                }
            }
            if let ck = currentKey { groups.append(.tuple([ck, .array(current)])) }
            return .array(groups)
        case "attr":
            guard let attrName = args.first?.stringValue else { return .undefined("attr requires a name") }
            if case .dict(let d) = value {
                if Attributes.dictMethods.contains(attrName) { return Methods.dict(d, attrName) }
                return .undefined("'dict object' has no attribute '\(attrName)'")
            }
            return try Attributes.get(value, attrName, line: 0)
        case "format":
            let format = value.str
            if !kwargs.isEmpty { return .string(try PyFormat.percent(format, .dict(OrderedDict(kwargs)))) }
            return .string(try PyFormat.percent(format, .tuple(args)))
        case "wordwrap":
            let width = arg(args, kwargs, 0, "width")?.intValue ?? 79
            let breakLong = arg(args, kwargs, 1, "break_long_words")?.truthy ?? true
            let wrapString = arg(args, kwargs, 2, "wrapstring")?.str ?? "\n"
            return .string(wordwrap(value.str, width: max(1, width), breakLongWords: breakLong, wrapString: wrapString))
        default:
            guard isKnown(name) else {
                throw ChatTemplateError(message: "No filter named '\(name)' found.", kind: "TemplateRuntimeError")
            }
            throw ChatTemplateError(message: "the '\(name)' filter is not supported by Pagewise's chat templates", kind: "TemplateError")
        }
    }
}

extension Filters {
    /// A greedy wrap in the manner of Python's `textwrap.wrap` (no hyphen splitting), line by line.
    static func wordwrap(_ text: String, width: Int, breakLongWords: Bool, wrapString: String) -> String {
        var out: [String] = []
        for line in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            var lines: [String] = []
            var current: [Unicode.Scalar] = []
            let words = line.split(whereSeparator: { Lexer.isSpace($0) })
            for wordSlice in words {
                var word = Array(wordSlice)
                let needed = current.isEmpty ? word.count : current.count + 1 + word.count
                if needed <= width {
                    if !current.isEmpty { current.append(" ") }
                    current += word
                    continue
                }
                if !current.isEmpty {
                    lines.append(Lexer.string(current[...]))
                    current = []
                }
                while breakLongWords && word.count > width {
                    lines.append(Lexer.string(word[0..<width]))
                    word = Array(word[width...])
                }
                current = word
            }
            if !current.isEmpty { lines.append(Lexer.string(current[...])) }
            out.append(lines.joined(separator: wrapString))
        }
        return out.joined(separator: wrapString)
    }
}

extension Value {
    var isNone: Bool {
        if case .none = self { return true }
        return false
    }
}
