/// Why a template failed to parse or render. `raise_exception(msg)` in a template comes
/// through with `msg` verbatim as `message`.
public struct ChatTemplateError: Error, CustomStringConvertible, Sendable {
    /// What went wrong (for `raise_exception`, exactly the template's message).
    public var message: String
    /// The template line (1-based) where it went wrong, when known.
    public var line: Int?
    /// The kind of failure, named as jinja2 names it (`TemplateSyntaxError`, `UndefinedError`,
    /// `TypeError`, `TemplateError` for `raise_exception`, …).
    public var kind: String

    /// Makes an error.
    public init(message: String, line: Int? = nil, kind: String = "TemplateError") {
        self.message = message
        self.line = line
        self.kind = kind
    }

    /// The message, with the line when known.
    public var description: String {
        if let line { return "\(message) (template line \(line))" }
        return message
    }
}
