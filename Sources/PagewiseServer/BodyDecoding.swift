import Foundation
import Hummingbird

/// Reads and decodes JSON request bodies, turning every failure into a 400 (or 413) that names
/// the field at fault.
enum BodyDecoding {
    /// Deepest nesting of arrays and objects accepted (real requests nest a handful of levels).
    static let maxDepth = 64

    /// Collects the body, at most `limit` bytes.
    static func collect(_ body: RequestBody, limit: Int) async throws -> Data {
        do {
            let buffer = try await body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch let e as any HTTPResponseError where e.status == .contentTooLarge {
            throw OpenAIError(status: .contentTooLarge, message: "the request body is larger than \(limit) bytes (--max-body-bytes)")
        }
    }

    /// Decodes `T` from a JSON body.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(OpenAIError) -> T {
        guard !data.isEmpty else { throw .badRequest("the request body is empty; send a JSON object") }
        guard String(validatingUTF8: data) != nil else {
            throw .badRequest("the request body is not valid UTF-8 JSON")
        }
        guard nestingDepth(data) <= maxDepth else {
            throw .badRequest("the request body nests deeper than \(maxDepth) levels")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let e as DecodingError {
            if case let .dataCorrupted(ctx) = e, ctx.codingPath.isEmpty, let field = badInteger(in: data) {
                // Foundation reports a number that does not fit an integer without its path.
                throw .badRequest("'\(field)' must be an integer that fits in 64 bits", param: field)
            }
            throw describe(e)
        } catch {
            throw .badRequest("malformed JSON body: \(error)")
        }
    }

    /// Fields that hold integers (or lists of them).
    static let integerFields = ["n", "best_of", "max_tokens", "max_completion_tokens", "seed", "top_k", "logprobs", "top_logprobs",
                                "min_tokens", "priority", "truncate_prompt_tokens", "prompt_logprobs", "prompt", "tokens",
                                "allowed_token_ids", "stop_token_ids"]

    /// The first integer field of a valid JSON object whose number is fractional or out of range.
    static func badInteger(in data: Data) -> String? {
        guard let object = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) as? [String: Any] else {
            return nil
        }
        func bad(_ v: Any) -> Bool {
            switch v {
            case let list as [Any]: return list.contains(where: bad)
            case let n as NSNumber:
                let d = n.doubleValue
                return !d.isFinite || d.rounded() != d || abs(d) >= 9.2e18
            default: return false
            }
        }
        return integerFields.first { key in object[key].map(bad) ?? false }
    }

    /// The dotted path of a coding path, e.g. `messages[0].content`.
    static func path(_ codingPath: [any CodingKey]) -> String? {
        var out = ""
        for key in codingPath {
            if let i = key.intValue, key.stringValue.hasPrefix("Index ") || key.stringValue == "\(i)" {
                out += "[\(i)]"
            } else {
                out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return out.isEmpty ? nil : out
    }

    static func describe(_ error: DecodingError) -> OpenAIError {
        switch error {
        case let .typeMismatch(type, ctx):
            guard let p = path(ctx.codingPath) else { return .badRequest("the request body must be a JSON object") }
            return .badRequest("'\(p)' has the wrong type (expected \(typeName(type))): \(ctx.debugDescription)", param: p)
        case let .valueNotFound(type, ctx):
            let p = path(ctx.codingPath)
            return .badRequest("'\(p ?? "body")' must not be null (expected \(typeName(type)))", param: p)
        case let .keyNotFound(key, ctx):
            let p = path(ctx.codingPath + [key]) ?? key.stringValue
            return .badRequest("'\(p)' is required", param: p)
        case let .dataCorrupted(ctx):
            guard let p = path(ctx.codingPath) else {
                return .badRequest("malformed JSON body: \(ctx.debugDescription)")
            }
            return .badRequest("'\(p)' has an invalid value: \(ctx.debugDescription)", param: p)
        @unknown default:
            return .badRequest("malformed JSON body")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int32.Type, is Int64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        default: String(describing: type)
        }
    }

    /// The deepest nesting of `[` and `{` outside strings (a cheap guard before the decoder recurses).
    static func nestingDepth(_ data: Data) -> Int {
        var depth = 0, deepest = 0
        var inString = false, escaped = false
        for b in data {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }
}

extension String {
    /// Nil when `data` is not valid UTF-8.
    init?(validatingUTF8 data: Data) {
        guard let s = String(bytes: data, encoding: .utf8) else { return nil }
        self = s
    }
}
