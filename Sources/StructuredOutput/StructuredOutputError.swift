/// Why a constraint cannot be compiled: an unsupported keyword or feature (named), or a syntax
/// error (with its byte offset in the source text).
public struct StructuredOutputError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kind of problem.
    public enum Kind: Sendable, Equatable {
        /// A JSON Schema keyword or value we cannot enforce; the keyword is named.
        case unsupportedKeyword(String)
        /// A feature of a regex or grammar we cannot enforce (backreferences, lookaround …).
        case unsupportedFeature(String)
        /// The text does not parse; `offset` is the byte offset of the problem.
        case syntax(offset: Int)
        /// The constraint is well formed but no output can satisfy it (`false` schema, empty choice …).
        case unsatisfiable
        /// The grammar is well formed but cannot be used (undefined rule, left recursion, too large).
        case invalidGrammar
    }

    /// The kind of problem.
    public let kind: Kind
    /// A sentence saying what is wrong and, where it helps, what to do.
    public let message: String

    /// Creates an error of `kind` with `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message.
    public var description: String { message }

    static func unsupported(_ keyword: String, _ detail: String = "") -> StructuredOutputError {
        StructuredOutputError(.unsupportedKeyword(keyword),
                              "JSON Schema keyword '\(keyword)' is not supported\(detail.isEmpty ? "" : ": " + detail)")
    }

    static func syntax(_ what: String, at offset: Int, _ detail: String) -> StructuredOutputError {
        StructuredOutputError(.syntax(offset: offset), "\(what) syntax error at offset \(offset): \(detail)")
    }
}
