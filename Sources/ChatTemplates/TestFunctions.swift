/// jinja2's builtin tests (`is defined`, `is string`, …).
enum TestFunctions {
    static let known: Set<String> = [
        "odd", "even", "divisibleby", "defined", "undefined", "filter", "test", "none", "boolean", "false", "true",
        "integer", "float", "lower", "upper", "string", "mapping", "number", "sequence", "iterable", "callable",
        "sameas", "escaped", "in", "==", "eq", "equalto", "!=", "ne", ">", "gt", "greaterthan", "ge", ">=",
        "<", "lt", "lessthan", "<=", "le",
    ]

    static func isKnown(_ name: String) -> Bool { known.contains(name) }

    static func apply(_ name: String, _ value: Value, _ args: [Value], _ kwargs: [(String, Value)], _ interpreter: Interpreter, line: Int?) throws -> Bool {
        func other() throws -> Value {
            guard let o = args.first ?? kwargs.first?.1 else {
                throw Interpreter.typeError("test '\(name)' needs an argument", line: line)
            }
            return o
        }
        func compare(_ op: String) throws -> Bool {
            try Operators.compare(op, value, try other(), line: line ?? 0)
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": return value.isNone
        case "boolean":
            if case .bool = value { return true }
            return false
        case "true":
            if case .bool(true) = value { return true }
            return false
        case "false":
            if case .bool(false) = value { return true }
            return false
        case "integer":
            if case .int = value { return true }
            return false
        case "float":
            if case .double = value { return true }
            return false
        case "number": return value.numberValue != nil
        case "string": return value.stringValue != nil
        case "mapping":
            if case .dict = value { return true }
            return false
        case "sequence":
            switch value {
            case .string, .markup, .array, .tuple, .dict, .undefined: return true
            default: return false
            }
        case "iterable":
            switch value {
            case .string, .markup, .array, .tuple, .dict, .undefined, .iterator: return true
            default: return false
            }
        case "callable":
            switch value {
            case .macro, .builtin, .undefined: return true
            default: return false
            }
        case "escaped":
            if case .markup = value { return true }
            return false
        case "lower":
            let s = value.str
            return s.unicodeScalars.contains { $0.properties.isCased } && s == s.lowercased()
        case "upper":
            let s = value.str
            return s.unicodeScalars.contains { $0.properties.isCased } && s == s.uppercased()
        case "odd", "even":
            try Interpreter.defined(value, line: line)
            let r = try Operators.binary("%", value, .int(2), line: line ?? 0)
            return pyEquals(r, .int(name == "odd" ? 1 : 0))
        case "divisibleby":
            let r = try Operators.binary("%", value, try other(), line: line ?? 0)
            return pyEquals(r, .int(0))
        case "sameas":
            let o = try other()
            switch (value, o) {
            case (.none, .none): return true
            case let (.bool(a), .bool(b)): return a == b
            case let (.int(a), .int(b)): return a == b
            case let (.namespace(a), .namespace(b)): return a === b
            case let (.macro(a), .macro(b)): return a === b
            default: return false
            }
        case "in": return try Operators.contains(try other(), value, line: line)
        case "==", "eq", "equalto": return try compare("==")
        case "!=", "ne": return try compare("!=")
        case ">", "gt", "greaterthan": return try compare(">")
        case ">=", "ge": return try compare(">=")
        case "<", "lt", "lessthan": return try compare("<")
        case "<=", "le": return try compare("<=")
        case "filter": return Filters.isKnown(value.str)
        case "test": return isKnown(value.str)
        default:
            throw ChatTemplateError(message: "No test named '\(name)'.", line: line, kind: "TemplateRuntimeError")
        }
    }
}
