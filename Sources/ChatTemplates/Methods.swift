/// Python's `str`, `dict` and `list` methods that templates call.
enum Methods {
    static func argument(_ args: [Value], _ kwargs: [(String, Value)], _ index: Int, _ name: String) -> Value? {
        if index < args.count { return args[index] }
        return kwargs.first { $0.0 == name }?.1
    }

    private static func method(_ name: String, _ body: @escaping ([Value], [(String, Value)]) throws -> Value) -> Value {
        .builtin(Builtin(name: name) { _, args, kwargs in try body(args, kwargs) })
    }

    private static func stringArgument(_ v: Value?, _ method: String) throws -> String? {
        guard let v else { return nil }
        if case .none = v { return nil }
        guard let s = v.stringValue else {
            throw Interpreter.typeError("\(method) arg must be None or str")
        }
        return s
    }

    // MARK: - Strings

    static func isSpace(_ s: Unicode.Scalar) -> Bool { Lexer.isSpace(s) }

    static func strip(_ s: String, _ chars: String?, leading: Bool, trailing: Bool) -> String {
        let scalars = Array(s.unicodeScalars)
        let set = chars.map { Set($0.unicodeScalars) }
        func strippable(_ c: Unicode.Scalar) -> Bool { set.map { $0.contains(c) } ?? isSpace(c) }
        var start = 0
        var end = scalars.count
        if leading { while start < end && strippable(scalars[start]) { start += 1 } }
        if trailing { while end > start && strippable(scalars[end - 1]) { end -= 1 } }
        return Lexer.string(scalars[start..<end])
    }

    static func split(_ s: String, _ separator: String?, _ maxSplit: Int, fromRight: Bool = false) throws -> [String] {
        let scalars = Array(s.unicodeScalars)
        if let separator {
            let sep = Array(separator.unicodeScalars)
            guard !sep.isEmpty else { throw ChatTemplateError(message: "empty separator", kind: "ValueError") }
            var parts: [String] = []
            if fromRight {
                var end = scalars.count
                var i = scalars.count - sep.count
                while i >= 0 && (maxSplit < 0 || parts.count < maxSplit) {
                    if Array(scalars[i..<i + sep.count]) == sep {
                        parts.insert(Lexer.string(scalars[(i + sep.count)..<end]), at: 0)
                        end = i
                        i -= sep.count
                    } else {
                        i -= 1
                    }
                }
                parts.insert(Lexer.string(scalars[0..<end]), at: 0)
                return parts
            }
            var start = 0
            var i = 0
            while i + sep.count <= scalars.count && (maxSplit < 0 || parts.count < maxSplit) {
                if Array(scalars[i..<i + sep.count]) == sep {
                    parts.append(Lexer.string(scalars[start..<i]))
                    i += sep.count
                    start = i
                } else {
                    i += 1
                }
            }
            parts.append(Lexer.string(scalars[start...]))
            return parts
        }
        // Runs of whitespace; leading/trailing whitespace ignored.
        var words: [String] = []
        var i = 0
        if fromRight {
            var end = scalars.count
            while end > 0 {
                while end > 0 && isSpace(scalars[end - 1]) { end -= 1 }
                if end == 0 { break }
                if maxSplit >= 0 && words.count == maxSplit {
                    words.insert(strip(Lexer.string(scalars[0..<end]), nil, leading: true, trailing: false), at: 0)
                    return words
                }
                var start = end
                while start > 0 && !isSpace(scalars[start - 1]) { start -= 1 }
                words.insert(Lexer.string(scalars[start..<end]), at: 0)
                end = start
            }
            return words
        }
        while i < scalars.count {
            while i < scalars.count && isSpace(scalars[i]) { i += 1 }
            if i == scalars.count { break }
            if maxSplit >= 0 && words.count == maxSplit {
                words.append(strip(Lexer.string(scalars[i...]), nil, leading: false, trailing: true))
                return words
            }
            let start = i
            while i < scalars.count && !isSpace(scalars[i]) { i += 1 }
            words.append(Lexer.string(scalars[start..<i]))
        }
        return words
    }

    /// Python's `str.title` (a letter after a non-letter is upper-cased).
    static func pyTitle(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s.unicodeScalars {
            let cased = c.properties.isCased
            out += previousCased ? String(c).lowercased() : String(c).uppercased()
            previousCased = cased
        }
        return out
    }

    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return String(first).uppercased() + Lexer.string(Array(s.unicodeScalars).dropFirst()[...]).lowercased()
    }

    static func find(_ haystack: String, _ needle: String, reverse: Bool) -> Int {
        let h = Array(haystack.unicodeScalars)
        let n = Array(needle.unicodeScalars)
        guard n.count <= h.count else { return -1 }
        let range = Array(0...(h.count - n.count))
        for i in reverse ? range.reversed() : range where Array(h[i..<i + n.count]) == n { return i }
        return -1
    }

    static func countOccurrences(_ haystack: String, _ needle: String) -> Int {
        let h = Array(haystack.unicodeScalars)
        let n = Array(needle.unicodeScalars)
        if n.isEmpty { return h.count + 1 }
        var count = 0
        var i = 0
        while i + n.count <= h.count {
            if Array(h[i..<i + n.count]) == n {
                count += 1
                i += n.count
            } else {
                i += 1
            }
        }
        return count
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
        if count < 0 { return old.isEmpty ? replaceEmpty(s, new, -1) : s.replacingOccurrencesScalarwise(of: old, with: new, limit: -1) }
        return old.isEmpty ? replaceEmpty(s, new, count) : s.replacingOccurrencesScalarwise(of: old, with: new, limit: count)
    }

    private static func replaceEmpty(_ s: String, _ new: String, _ limit: Int) -> String {
        var out = ""
        var done = 0
        for c in s.unicodeScalars {
            if limit < 0 || done < limit { out += new; done += 1 }
            out.unicodeScalars.append(c)
        }
        if limit < 0 || done < limit { out += new }
        return out
    }

    static func string(_ value: Value, _ name: String) -> Value? {
        guard let s = value.stringValue else { return nil }
        let isMarkup: Bool
        if case .markup = value { isMarkup = true } else { isMarkup = false }
        func wrap(_ r: String) -> Value { isMarkup ? .markup(r) : .string(r) }
        switch name {
        case "strip", "lstrip", "rstrip":
            return method(name) { args, _ in
                let chars = try stringArgument(args.first, name)
                return wrap(strip(s, chars, leading: name != "rstrip", trailing: name != "lstrip"))
            }
        case "split", "rsplit":
            return method(name) { args, kwargs in
                let sep = try stringArgument(argument(args, kwargs, 0, "sep"), name)
                let maxSplit = argument(args, kwargs, 1, "maxsplit")?.intValue ?? -1
                return .array(try split(s, sep, maxSplit, fromRight: name == "rsplit").map(wrap))
            }
        case "splitlines":
            return method(name) { args, kwargs in
                let keep = argument(args, kwargs, 0, "keepends")?.truthy ?? false
                var lines: [String] = []
                var current = ""
                var scalars = Array(s.unicodeScalars)[...]
                while let c = scalars.popFirst() {
                    if ["\n", "\r", "\u{0B}", "\u{0C}", "\u{1C}", "\u{1D}", "\u{1E}", "\u{85}", "\u{2028}", "\u{2029}"].contains(c) {
                        var ending = String(c)
                        if c == "\r", scalars.first == "\n" { scalars.removeFirst(); ending += "\n" }
                        lines.append(keep ? current + ending : current)
                        current = ""
                    } else {
                        current.unicodeScalars.append(c)
                    }
                }
                if !current.isEmpty { lines.append(current) }
                return .array(lines.map(wrap))
            }
        case "startswith", "endswith":
            return method(name) { args, _ in
                guard let prefix = args.first else { throw Interpreter.typeError("\(name)() takes at least 1 argument (0 given)") }
                let candidates: [Value] = prefix.listValue ?? [prefix]
                let scalars = Array(s.unicodeScalars)
                for candidate in candidates {
                    guard let p = candidate.stringValue else {
                        throw Interpreter.typeError("\(name) first arg must be str or a tuple of str, not \(candidate.typeName)")
                    }
                    let ps = Array(p.unicodeScalars)
                    if ps.count <= scalars.count {
                        let slice = name == "startswith" ? Array(scalars.prefix(ps.count)) : Array(scalars.suffix(ps.count))
                        if slice == ps { return .bool(true) }
                    }
                }
                return .bool(false)
            }
        case "upper": return method(name) { _, _ in wrap(s.uppercased()) }
        case "lower", "casefold": return method(name) { _, _ in wrap(s.lowercased()) }
        case "title": return method(name) { _, _ in wrap(pyTitle(s)) }
        case "capitalize": return method(name) { _, _ in wrap(capitalize(s)) }
        case "swapcase":
            return method(name) { _, _ in
                wrap(s.unicodeScalars.map { c in
                    let t = String(c)
                    return c.properties.isUppercase ? t.lowercased() : t.uppercased()
                }.joined())
            }
        case "replace":
            return method(name) { args, kwargs in
                guard let old = argument(args, kwargs, 0, "old")?.stringValue, let new = argument(args, kwargs, 1, "new")?.stringValue else {
                    throw Interpreter.typeError("replace() takes two string arguments")
                }
                let count = argument(args, kwargs, 2, "count")?.intValue ?? -1
                if isMarkup { return .markup(replace(s, Operators.escape(old), Operators.escape(new), count: count)) }
                return .string(replace(s, old, new, count: count))
            }
        case "find", "rfind", "index", "rindex":
            return method(name) { args, _ in
                guard let needle = args.first?.stringValue else { throw Interpreter.typeError("must be str") }
                let i = find(s, needle, reverse: name.hasPrefix("r"))
                if i < 0 && name.hasSuffix("index") { throw ChatTemplateError(message: "substring not found", kind: "ValueError") }
                return .int(i)
            }
        case "count":
            return method(name) { args, _ in
                guard let needle = args.first?.stringValue else { throw Interpreter.typeError("must be str") }
                return .int(countOccurrences(s, needle))
            }
        case "format":
            return method(name) { args, kwargs in
                if isMarkup {
                    let escapedArgs = args.map { v -> Value in v.stringValue.map { _ in Value.markup(markupEscape(v)) } ?? v }
                    return .markup(try PyFormat.format(s, escapedArgs, kwargs))
                }
                return .string(try PyFormat.format(s, args, kwargs))
            }
        case "join":
            return method(name) { args, _ in
                guard let items = args.first else { throw Interpreter.typeError("join() takes exactly one argument (0 given)") }
                let parts: [Value]
                switch items {
                case .array(let a), .tuple(let a): parts = a
                case .string(let t), .markup(let t): parts = t.unicodeScalars.map { .string(String($0)) }
                case .dict(let d): parts = d.keyValues
                default: throw Interpreter.typeError("can only join an iterable")
                }
                var strings: [String] = []
                for (i, p) in parts.enumerated() {
                    guard let t = p.stringValue else {
                        throw Interpreter.typeError("sequence item \(i): expected str instance, \(p.typeName) found")
                    }
                    strings.append(t)
                }
                return wrap(strings.joined(separator: s))
            }
        case "isdigit", "isdecimal", "isnumeric":
            return method(name) { _, _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil }) }
        case "isalpha":
            return method(name) { _, _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic }) }
        case "isalnum":
            return method(name) { _, _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil }) }
        case "isspace":
            return method(name) { _, _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(isSpace)) }
        case "isupper", "islower":
            return method(name) { _, _ in
                let cased = s.unicodeScalars.filter { $0.properties.isCased }
                guard !cased.isEmpty else { return .bool(false) }
                return .bool(name == "isupper" ? s == s.uppercased() : s == s.lowercased())
            }
        case "partition", "rpartition":
            return method(name) { args, _ in
                guard let sep = args.first?.stringValue, !sep.isEmpty else { throw ChatTemplateError(message: "empty separator", kind: "ValueError") }
                let i = find(s, sep, reverse: name == "rpartition")
                let scalars = Array(s.unicodeScalars)
                if i < 0 {
                    return name == "partition" ? .tuple([wrap(s), wrap(""), wrap("")]) : .tuple([wrap(""), wrap(""), wrap(s)])
                }
                let n = sep.unicodeScalars.count
                return .tuple([wrap(Lexer.string(scalars[0..<i])), wrap(sep), wrap(Lexer.string(scalars[(i + n)...]))])
            }
        case "zfill":
            return method(name) { args, _ in
                let width = args.first?.intValue ?? 0
                try PyFormat.checkSize(width)
                var body = s
                var sign = ""
                if body.hasPrefix("-") || body.hasPrefix("+") { sign = String(body.removeFirst()) }
                let pad = max(0, width - s.unicodeScalars.count)
                return wrap(sign + String(repeating: "0", count: pad) + body)
            }
        case "center", "ljust", "rjust":
            return method(name) { args, _ in
                let width = args.first?.intValue ?? 0
                try PyFormat.checkSize(width)
                let fill = args.count > 1 ? (args[1].stringValue ?? " ") : " "
                let n = max(0, width - s.unicodeScalars.count)
                switch name {
                case "ljust": return wrap(s + String(repeating: fill, count: n))
                case "rjust": return wrap(String(repeating: fill, count: n) + s)
                default:
                    let left = n / 2 + (n & width & 1)
                    return wrap(String(repeating: fill, count: left) + s + String(repeating: fill, count: n - left))
                }
            }
        case "removeprefix", "removesuffix":
            return method(name) { args, _ in
                guard let affix = args.first?.stringValue else { throw Interpreter.typeError("must be str") }
                if name == "removeprefix", s.unicodeScalars.starts(with: affix.unicodeScalars) {
                    return wrap(Lexer.string(Array(s.unicodeScalars).dropFirst(affix.unicodeScalars.count)[...]))
                }
                if name == "removesuffix", !affix.isEmpty, Array(s.unicodeScalars).suffix(affix.unicodeScalars.count) == Array(affix.unicodeScalars)[...] {
                    return wrap(Lexer.string(Array(s.unicodeScalars).dropLast(affix.unicodeScalars.count)[...]))
                }
                return wrap(s)
            }
        default:
            return nil
        }
    }

    static func markupEscape(_ v: Value) -> String {
        if case .markup(let m) = v { return m }
        return Operators.escape(v.str)
    }

    // MARK: - Dicts and lists

    static func dict(_ d: OrderedDict, _ name: String) -> Value {
        switch name {
        case "get":
            return method(name) { args, _ in
                guard let key = args.first else { throw Interpreter.typeError("get expected at least 1 argument, got 0") }
                if let k = DictKey(key), let v = d[k] { return v }
                return args.count > 1 ? args[1] : .none
            }
        case "items":
            return method(name) { _, _ in .iterator(IteratorBox(kind: "dict_items", items: d.pairs.map { .tuple([$0.0.value, $0.1]) }, isView: true)) }
        case "keys": return method(name) { _, _ in .iterator(IteratorBox(kind: "dict_keys", items: d.keyValues, isView: true)) }
        case "values": return method(name) { _, _ in .iterator(IteratorBox(kind: "dict_values", items: d.values, isView: true)) }
        default: return method(name) { _, _ in .dict(d) }
        }
    }

    static func list(_ items: [Value], _ name: String) -> Value? {
        switch name {
        case "count":
            return method(name) { args, _ in
                guard let x = args.first else { throw Interpreter.typeError("count() takes exactly one argument (0 given)") }
                return .int(items.filter { pyEquals($0, x) }.count)
            }
        case "index":
            return method(name) { args, _ in
                guard let x = args.first else { throw Interpreter.typeError("index expected at least 1 argument, got 0") }
                guard let i = items.firstIndex(where: { pyEquals($0, x) }) else {
                    throw ChatTemplateError(message: "\(x.repr) is not in list", kind: "ValueError")
                }
                return .int(i)
            }
        case "copy": return method(name) { _, _ in .array(items) }
        default: return nil
        }
    }
}

extension String {
    /// Replaces occurrences comparing Unicode scalars (as Python does), up to `limit` (-1: all).
    func replacingOccurrencesScalarwise(of old: String, with new: String, limit: Int) -> String {
        let h = Array(unicodeScalars)
        let o = Array(old.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        var done = 0
        while i < h.count {
            if (limit < 0 || done < limit), i + o.count <= h.count, h[i] == o[0], Array(h[i..<i + o.count]) == o {
                out.append(contentsOf: new.unicodeScalars)
                i += o.count
                done += 1
            } else {
                out.append(h[i])
                i += 1
            }
        }
        return String(out)
    }
}
