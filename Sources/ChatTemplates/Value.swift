import Foundation

/// A runtime value: JSON's shapes plus Python's tuple, jinja2's Markup and undefined, and callables.
indirect enum Value {
    /// Undefined, with the message jinja2 gives when something is done with it.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// jinja2's `Markup` (macro output, `safe`): adding a plain string to it escapes that string.
    case markup(String)
    case array([Value])
    case tuple([Value])
    case dict(OrderedDict)
    case namespace(Namespace)
    case macro(MacroValue)
    case builtin(Builtin)
    case iterator(IteratorBox)
    case loop(LoopInfo)

    /// A single-use generator over `items`.
    static func generator(_ items: [Value], kind: String = "generator") -> Value {
        .iterator(IteratorBox(kind: kind, items: items))
    }

    init(_ value: JinjaValue) {
        switch value {
        case .undefined: self = .undefined("value is undefined")
        case .none: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(Value.init))
        case .object(let o): self = .dict(OrderedDict(o.pairs.map { ($0.0, Value($0.1)) }))
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// The string content of a string or Markup.
    var stringValue: String? {
        switch self {
        case .string(let s), .markup(let s): return s
        default: return nil
        }
    }

    /// Items of a list or tuple.
    var listValue: [Value]? {
        switch self {
        case .array(let a), .tuple(let a): return a
        default: return nil
        }
    }

    /// Python truthiness.
    var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s), .markup(let s): return !s.isEmpty
        case .array(let a), .tuple(let a): return !a.isEmpty
        case .dict(let d): return d.count > 0
        case .namespace, .macro, .builtin, .iterator, .loop: return true
        }
    }

    /// A number as Double (bools count as 0/1), else nil.
    var numberValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// An integer (bools count), else nil.
    var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Python's type name, for error messages.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .markup: return "Markup"
        case .array: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .macro: return "Macro"
        case .builtin: return "builtin_function_or_method"
        case .iterator(let box): return box.kind
        case .loop: return "LoopContext"
        }
    }

    /// jinja2's `object_type_repr`, used in undefined messages.
    var objectTypeRepr: String {
        switch self {
        case .none: return "None"
        default: return "\(typeName) object"
        }
    }

    /// Python's `str()`.
    var str: String {
        switch self {
        case .undefined: return ""
        case .string(let s), .markup(let s): return s
        default: return repr
        }
    }

    /// Python's `repr()`.
    var repr: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return PyFormat.float(d)
        case .string(let s): return PyFormat.stringRepr(s)
        case .markup(let s): return "Markup(\(PyFormat.stringRepr(s)))"
        case .array(let a): return "[" + a.map(\.repr).joined(separator: ", ") + "]"
        case .tuple(let a):
            if a.count == 1 { return "(" + a[0].repr + ",)" }
            return "(" + a.map(\.repr).joined(separator: ", ") + ")"
        case .dict(let d):
            return "{" + d.pairs.map { $0.0.value.repr + ": " + $0.1.repr }.joined(separator: ", ") + "}"
        case .namespace(let n):
            return "<Namespace " + n.attributes.pairs.map { $0.0.value.repr + ": " + $0.1.repr }.joined(separator: ", ") + ">"
        case .macro(let m): return "<Macro '\(m.definition.name)'>"
        case .builtin(let b): return "<built-in function \(b.name)>"
        case .iterator(let box):
            if box.isView {
                let items = box.peek.map(\.repr).joined(separator: ", ")
                return "\(box.kind)([\(items)])"
            }
            return "<\(box.kind) object>"
        case .loop(let info): return "<LoopContext \(info.index + 1)/\(info.items.count)>"
        }
    }
}

/// Python's equality (`1 == 1.0 == True`, lists and dicts by content).
func pyEquals(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.undefined, .undefined), (.none, .none): return true
    case (.undefined, _), (_, .undefined), (.none, _), (_, .none): return false
    case let (.int(x), .int(y)): return x == y
    case let (x, y) where x.numberValue != nil && y.numberValue != nil:
        return x.numberValue == y.numberValue
    case let (x, y) where x.stringValue != nil && y.stringValue != nil:
        return x.stringValue.map { Array($0.unicodeScalars) } == y.stringValue.map { Array($0.unicodeScalars) }
    case let (.array(x), .array(y)), let (.tuple(x), .tuple(y)):
        return x.count == y.count && zip(x, y).allSatisfy { pyEquals($0, $1) }
    case let (.dict(x), .dict(y)):
        return x.count == y.count && x.pairs.allSatisfy { k, v in y[k].map { pyEquals(v, $0) } ?? false }
    case let (.namespace(x), .namespace(y)): return x === y
    case let (.macro(x), .macro(y)): return x === y
    default: return false
    }
}

/// Python's ordering; nil when the two cannot be ordered (a TypeError in Python).
func pyCompare(_ a: Value, _ b: Value) -> Int? {
    if let x = a.numberValue, let y = b.numberValue {
        if case .int(let i) = a, case .int(let j) = b { return i < j ? -1 : i > j ? 1 : 0 }
        return x < y ? -1 : x > y ? 1 : 0
    }
    if let x = a.stringValue, let y = b.stringValue {
        let xs = x.unicodeScalars, ys = y.unicodeScalars
        for (p, q) in zip(xs, ys) where p != q { return p.value < q.value ? -1 : 1 }
        return xs.count < ys.count ? -1 : xs.count > ys.count ? 1 : 0
    }
    switch (a, b) {
    case let (.array(x), .array(y)), let (.tuple(x), .tuple(y)):
        for (p, q) in zip(x, y) where !pyEquals(p, q) { return pyCompare(p, q) }
        return x.count < y.count ? -1 : x.count > y.count ? 1 : 0
    default: return nil
    }
}
