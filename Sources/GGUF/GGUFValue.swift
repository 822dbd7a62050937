/// One metadata value of a GGUF file. Arrays may nest.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool)
    case string(String)
    case array([GGUFValue])

    /// The value as an integer, if it is any integer type (or a bool).
    public var intValue: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return v <= UInt64(Int.max) ? Int(v) : nil
        case let .int64(v): return Int(v)
        case let .bool(v): return v ? 1 : 0
        default: return nil
        }
    }

    /// The value as a floating-point number, if it is numeric.
    public var doubleValue: Double? {
        switch self {
        case let .float32(v): return Double(v)
        case let .float64(v): return v
        default: return intValue.map(Double.init)
        }
    }

    public var stringValue: String? { if case let .string(s) = self { return s } else { return nil } }
    public var boolValue: Bool? {
        if case let .bool(b) = self { return b }
        return intValue.map { $0 != 0 }
    }
    public var arrayValue: [GGUFValue]? { if case let .array(a) = self { return a } else { return nil } }

    /// A short human-readable rendering (arrays are summarized).
    public var summary: String {
        switch self {
        case let .string(s): return s.count > 60 ? "\"\(s.prefix(57))...\"" : "\"\(s)\""
        case let .array(a): return "[\(a.count) values]"
        case let .bool(b): return String(b)
        case let .float32(f): return String(f)
        case let .float64(f): return String(f)
        default: return intValue.map(String.init) ?? "?"
        }
    }
}

/// The metadata key/value section of a GGUF file, in file order.
public struct GGUFMetadata: Sendable {
    public private(set) var keys: [String] = []
    private var values: [String: GGUFValue] = [:]

    public init() {}

    mutating func insert(_ key: String, _ value: GGUFValue) throws {
        guard values[key] == nil else { throw GGUFError.duplicateKey(key) }
        keys.append(key)
        values[key] = value
    }

    public subscript(key: String) -> GGUFValue? { values[key] }
    public func string(_ key: String) -> String? { values[key]?.stringValue }
    public func int(_ key: String) -> Int? { values[key]?.intValue }
    public func float(_ key: String) -> Float? { values[key]?.doubleValue.map { Float($0) } }
    public func bool(_ key: String) -> Bool? { values[key]?.boolValue }
    public func stringArray(_ key: String) -> [String]? {
        guard let a = values[key]?.arrayValue else { return nil }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for v in a { guard let s = v.stringValue else { return nil }; out.append(s) }
        return out
    }
    public func floatArray(_ key: String) -> [Float]? {
        guard let a = values[key]?.arrayValue else { return nil }
        var out: [Float] = []
        out.reserveCapacity(a.count)
        for v in a { guard let d = v.doubleValue else { return nil }; out.append(Float(d)) }
        return out
    }
    public func intArray(_ key: String) -> [Int]? {
        guard let a = values[key]?.arrayValue else { return nil }
        var out: [Int] = []
        out.reserveCapacity(a.count)
        for v in a { guard let i = v.intValue else { return nil }; out.append(i) }
        return out
    }
}
