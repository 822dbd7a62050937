import Foundation

/// Python's arithmetic and comparison operators as jinja2 applies them.
enum Operators {
    private static func unsupported(_ op: String, _ a: Value, _ b: Value, line: Int) -> ChatTemplateError {
        Interpreter.typeError("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'", line: line)
    }

    /// `markupsafe.escape` of a plain string.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// The text of a value inside Markup arithmetic: Markup stays, strings are escaped.
    private static func markupText(_ v: Value) -> String? {
        switch v {
        case .markup(let s): return s
        case .string(let s): return escape(s)
        default: return nil
        }
    }

    static func binary(_ op: String, _ a: Value, _ b: Value, line: Int) throws -> Value {
        try Interpreter.defined(a, line: line)
        try Interpreter.defined(b, line: line)
        switch op {
        case "+":
            if case .markup = a, let x = markupText(a), let y = markupText(b) { return .markup(x + y) }
            if case .markup = b, let x = markupText(a), let y = markupText(b) { return .markup(x + y) }
            if let x = a.stringValue {
                guard let y = b.stringValue else {
                    throw Interpreter.typeError("can only concatenate str (not \"\(b.typeName)\") to str", line: line)
                }
                return .string(x + y)
            }
            if case .array(let x) = a {
                guard case .array(let y) = b else {
                    throw Interpreter.typeError("can only concatenate list (not \"\(b.typeName)\") to list", line: line)
                }
                return .array(x + y)
            }
            if case .tuple(let x) = a, case .tuple(let y) = b { return .tuple(x + y) }
            return try arithmetic(op, a, b, line: line)
        case "-", "**", "//":
            return try arithmetic(op, a, b, line: line)
        case "*":
            if let s = a.stringValue, let n = b.intValue {
                try checkRepeat(s.utf8.count, n, line: line)
                return .string(String(repeating: s, count: max(0, n)))
            }
            if let n = a.intValue, let s = b.stringValue {
                try checkRepeat(s.utf8.count, n, line: line)
                return .string(String(repeating: s, count: max(0, n)))
            }
            if let items = a.listValue, let n = b.intValue {
                try checkRepeat(items.count, n, line: line)
                let repeated = Array([[Value]](repeating: items, count: max(0, n)).joined())
                if case .tuple = a { return .tuple(repeated) }
                return .array(repeated)
            }
            return try arithmetic(op, a, b, line: line)
        case "/":
            guard let x = a.numberValue, let y = b.numberValue else { throw unsupported("/", a, b, line: line) }
            guard y != 0 else { throw ChatTemplateError(message: "division by zero", line: line, kind: "ZeroDivisionError") }
            return .double(x / y)
        case "%":
            if let format = a.stringValue {
                let result = try PyFormat.percent(format, b)
                if case .markup = a { return .markup(result) }
                return .string(result)
            }
            return try arithmetic(op, a, b, line: line)
        default:
            throw ChatTemplateError(message: "unknown operator \(op)", line: line, kind: "TemplateSyntaxError")
        }
    }

    /// Refuses repetitions that would build more than 16 M elements (a memory bomb, not a prompt).
    private static func checkRepeat(_ size: Int, _ times: Int, line: Int) throws {
        let (total, overflow) = size.multipliedReportingOverflow(by: max(0, times))
        if overflow || total > 16 << 20 {
            throw ChatTemplateError(message: "repetition would build \(overflow ? "too many" : String(total)) elements", line: line, kind: "MemoryError")
        }
    }

    private static func arithmetic(_ op: String, _ a: Value, _ b: Value, line: Int) throws -> Value {
        guard let x = a.numberValue, let y = b.numberValue else { throw unsupported(op, a, b, line: line) }
        if let i = a.intValue, let j = b.intValue {
            let overflow = ChatTemplateError(message: "integer overflow", line: line, kind: "OverflowError")
            switch op {
            case "+":
                let (r, o) = i.addingReportingOverflow(j)
                if o { throw overflow }
                return .int(r)
            case "-":
                let (r, o) = i.subtractingReportingOverflow(j)
                if o { throw overflow }
                return .int(r)
            case "*":
                let (r, o) = i.multipliedReportingOverflow(by: j)
                if o { throw overflow }
                return .int(r)
            case "//", "%":
                guard j != 0 else {
                    throw ChatTemplateError(message: op == "%" ? "integer modulo by zero" : "integer division or modulo by zero", line: line, kind: "ZeroDivisionError")
                }
                if i == Int.min && j == -1 { throw overflow }
                var q = i / j
                var r = i % j
                if r != 0 && ((r < 0) != (j < 0)) {
                    q -= 1
                    r += j
                }
                return .int(op == "//" ? q : r)
            case "**":
                if j < 0 { return .double(pow(x, y)) }
                var result = 1
                var base = i
                var e = j
                while e > 0 {
                    if e & 1 == 1 {
                        let (r, o) = result.multipliedReportingOverflow(by: base)
                        if o { throw overflow }
                        result = r
                    }
                    e >>= 1
                    if e > 0 {
                        let (b2, o) = base.multipliedReportingOverflow(by: base)
                        if o { throw overflow }
                        base = b2
                    }
                }
                return .int(result)
            default: break
            }
        }
        switch op {
        case "+": return .double(x + y)
        case "-": return .double(x - y)
        case "*": return .double(x * y)
        case "**": return .double(pow(x, y))
        case "//", "%":
            guard y != 0 else { throw ChatTemplateError(message: "float modulo", line: line, kind: "ZeroDivisionError") }
            let m = x - y * (x / y).rounded(.down)
            return .double(op == "//" ? (x / y).rounded(.down) : m)
        default: throw unsupported(op, a, b, line: line)
        }
    }

    /// Python's `in`.
    static func contains(_ container: Value, _ item: Value, line: Int?) throws -> Bool {
        switch container {
        case .string(let s), .markup(let s):
            guard let needle = item.stringValue else {
                if item.isUndefined { try Interpreter.defined(item, line: line) }
                throw Interpreter.typeError("'in <string>' requires string as left operand, not \(item.typeName)", line: line)
            }
            return needle.isEmpty || s.contains(needle)
        case .array(let a), .tuple(let a): return a.contains { pyEquals($0, item) }
        case .dict(let d):
            guard let key = DictKey(item) else { return false }
            return d[key] != nil
        case .undefined: return false
        case .iterator(let box): return box.take().contains { pyEquals($0, item) }
        case .namespace(let n):
            guard let key = item.stringValue else { return false }
            return n.attributes[key] != nil
        default:
            throw Interpreter.typeError("argument of type '\(container.typeName)' is not iterable", line: line)
        }
    }

    static func compare(_ op: String, _ a: Value, _ b: Value, line: Int) throws -> Bool {
        switch op {
        case "==": return pyEquals(a, b)
        case "!=": return !pyEquals(a, b)
        case "in": return try contains(b, a, line: line)
        case "notin": return !(try contains(b, a, line: line))
        default:
            try Interpreter.defined(a, line: line)
            try Interpreter.defined(b, line: line)
            guard let c = pyCompare(a, b) else {
                throw Interpreter.typeError("'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'", line: line)
            }
            switch op {
            case "<": return c < 0
            case ">": return c > 0
            case "<=": return c <= 0
            default: return c >= 0
            }
        }
    }
}
