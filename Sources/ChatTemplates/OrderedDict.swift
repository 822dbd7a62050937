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
