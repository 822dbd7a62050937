import Foundation

/// A value a chat template reads: what transformers passes as the render context
/// (messages, tools, flags, tokens), in JSON's shapes plus Jinja's `undefined`.
public indirect enum JinjaValue: Sendable, Equatable {
    /// Jinja's undefined: prints as "", is false, and fails when one reads an attribute of it.
    case undefined
    /// Python's `None` (JSON `null`).
    case none
    /// A boolean; renders as `True` / `False` as Python does.
    case bool(Bool)
    /// An integer.
    case int(Int)
    /// A floating-point number; renders as Python's `repr` (`1.0`, `1e-05`).
    case double(Double)
    /// A string.
    case string(String)
    /// A list.
    case array([JinjaValue])
    /// A string-keyed dictionary that keeps insertion order (as Python's `dict`).
    case object(JinjaObject)
}

/// An insertion-ordered, String-keyed dictionary (Python's `dict` as JSON gives it).
public struct JinjaObject: Sendable, Equatable {
    /// The keys, in insertion order.
    public private(set) var keys: [String]
    private var storage: [String: JinjaValue]

    /// Makes a dictionary from key–value pairs in order; a repeated key keeps its first
    /// position and its last value (as Python's `dict` does).
    public init(_ pairs: [(String, JinjaValue)]) {
        keys = []
        storage = [:]
        for (key, value) in pairs { self[key] = value }
    }

    /// The value for `key`; setting `nil` removes the key.
    public subscript(key: String) -> JinjaValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// The key–value pairs in insertion order.
    public var pairs: [(String, JinjaValue)] {
        keys.map { ($0, storage[$0] ?? .undefined) }
    }

    /// The number of keys.
    public var count: Int { keys.count }

    /// Equal when both hold the same keys with equal values, in any order (as Python's `dict`).
    public static func == (lhs: JinjaObject, rhs: JinjaObject) -> Bool {
        lhs.storage == rhs.storage
    }
}

extension JinjaValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    /// A string value.
    public init(stringLiteral value: String) { self = .string(value) }
    /// A boolean value.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer value.
    public init(integerLiteral value: Int) { self = .int(value) }
    /// A floating-point value.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A list value.
    public init(arrayLiteral elements: JinjaValue...) { self = .array(elements) }
    /// A dictionary value, keys in the literal's order.
    public init(dictionaryLiteral elements: (String, JinjaValue)...) { self = .object(JinjaObject(elements)) }
    /// `None`.
    public init(nilLiteral: ()) { self = .none }
}

extension JinjaValue {
    /// Parses JSON text, keeping the key order of every object (templates print tools in
    /// the order the client sent them). Integers without fraction or exponent stay integers.
    public init(json: Data) throws {
        var parser = OrderedJSONParser(bytes: [UInt8](json))
        self = try parser.parseDocument()
    }

    /// Converts the output of `JSONSerialization` (or plain Swift values of the same shapes).
    /// Dictionaries there carry no order, so their keys are sorted; anything that is not a
    /// JSON shape becomes its description as a string.
    public init(jsonObject: Any) {
        switch jsonObject {
        case let value as JinjaValue: self = value
        case is NSNull: self = .none
        case let value as String: self = .string(value)
        case let value as Bool where type(of: jsonObject) == Bool.self: self = .bool(value)
        case let value as Int where type(of: jsonObject) == Int.self: self = .int(value)
        case let value as Double where type(of: jsonObject) == Double.self: self = .double(value)
        case let number as NSNumber:
            let kind = String(cString: number.objCType)
            if kind == "c" || kind == "B" {
                self = .bool(number.boolValue)
            } else if kind == "d" || kind == "f" {
                self = .double(number.doubleValue)
            } else if let exact = Int(exactly: number.int64Value), number.doubleValue == Double(exact) || kind != "d" {
                self = .int(exact)
            } else {
                self = .double(number.doubleValue)
            }
        case let array as [Any]: self = .array(array.map { JinjaValue(jsonObject: $0) })
        case let dictionary as [String: Any]:
            self = .object(JinjaObject(dictionary.keys.sorted().map { ($0, JinjaValue(jsonObject: dictionary[$0] ?? NSNull())) }))
        default: self = .string(String(describing: jsonObject))
        }
    }
}
