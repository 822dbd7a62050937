import Foundation

/// A dictionary key: Python's hashable scalars.
enum DictKey: Hashable {
    case string(String), int(Int), double(Double), bool(Bool), none

    /// The key for a value, or nil when Python would call it unhashable.
    init?(_ value: Value) {
        switch value {
        case .string(let s), .markup(let s): self = .string(s)
        case .int(let i): self = .int(i)
        case .bool(let b): self = .bool(b)
        case .double(let d): self = .double(d)
        case .none: self = .none
        default: return nil
        }
    }

    var value: Value {
        switch self {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .bool(let b): return .bool(b)
        case .none: return .none
        }
    }

    /// The key as `json.dumps` writes it.
    var jsonKey: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return PyFormat.float(d)
        case .bool(let b): return b ? "true" : "false"
        case .none: return "null"
        }
    }
}

/// An insertion-ordered dictionary of runtime values.
struct OrderedDict {
    private(set) var keys: [DictKey] = []
    private var storage: [DictKey: Value] = [:]

    init() {}

    init(_ pairs: [(String, Value)]) {
        for (k, v) in pairs { self[k] = v }
    }

    init(keyed pairs: [(DictKey, Value)]) {
        for (k, v) in pairs { self[k] = v }
    }

    subscript(key: DictKey) -> Value? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    subscript(key: String) -> Value? {
        get { self[DictKey.string(key)] }
        set { self[DictKey.string(key)] = newValue }
    }

    var keyValues: [Value] { keys.map(\.value) }
    var pairs: [(DictKey, Value)] { keys.map { ($0, storage[$0] ?? .none) } }
    var values: [Value] { keys.map { storage[$0] ?? .none } }
    var count: Int { keys.count }
}

/// A `namespace()` object: the one mutable value templates have.
final class Namespace {
    var attributes: OrderedDict
    init(_ attributes: OrderedDict) { self.attributes = attributes }
}

/// A macro bound to the scope it was defined in.
final class MacroValue {
    let definition: MacroDefinition
    let frame: Frame
    init(definition: MacroDefinition, frame: Frame) {
        self.definition = definition
        self.frame = frame
    }
}

/// A Python iterator or view: a generator from `select`/`map`/… (used up by one pass, no
/// length, not JSON) or a dict view from `.items()`/`.keys()`/`.values()` (reusable, sized).
final class IteratorBox {
    let kind: String
    private var items: [Value]
    let isView: Bool
    private var consumed = false

    init(kind: String, items: [Value], isView: Bool = false) {
        self.kind = kind
        self.items = items
        self.isView = isView
    }

    /// The items; a generator gives them once.
    func take() -> [Value] {
        if isView { return items }
        if consumed { return [] }
        consumed = true
        let all = items
        items = []
        return all
    }

    /// The items without using them up (for a view's length and repr).
    var peek: [Value] { items }
}

/// A function implemented in Swift (globals, bound methods, `loop.cycle`).
struct Builtin {
    var name: String
    var call: (Interpreter, [Value], [(String, Value)]) throws -> Value
}

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
        case .namespace, .macro, .builtin, .iterator: return true
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
