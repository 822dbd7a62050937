import Foundation

/// Any JSON value, for the request fields that clients fill freely (`tools`, `tool_calls`,
/// `chat_template_kwargs`, `response_format`). Objects keep their keys sorted (JSON does not
/// order them; the chat renderer reads the raw body when order matters).
public indirect enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(b): try c.encode(b)
        case let .number(d): try c.encode(d)
        case let .string(s): try c.encode(s)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        }
    }

    /// The string, if this is one.
    public var stringValue: String? { if case let .string(s) = self { s } else { nil } }
}

/// A field OpenAI lets be one string or a list of strings (`stop`).
struct StringOrList: Decodable, Sendable, Equatable {
    let values: [String]
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            values = []
        } else if let s = try? c.decode(String.self) {
            values = [s]
        } else {
            values = try c.decode([String].self)
        }
    }
}
