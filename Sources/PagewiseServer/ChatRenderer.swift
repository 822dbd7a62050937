import Foundation

/// What a chat template is given: the request's messages and tools as JSON, and the flags.
public struct ChatRenderInput: Sendable {
    /// The request body, when the messages come from one (its key order is kept for templates).
    public var body: Data?
    /// `messages`, each an object with role, content (a string) and any tool fields.
    public var messages: [JSONValue]
    /// `tools`, if offered.
    public var tools: [JSONValue]?
    /// End the prompt with the assistant's turn header.
    public var addGenerationPrompt: Bool
    /// Leave the last (assistant) message open so the model continues it.
    public var continueFinalMessage: Bool
    /// Extra template variables (`chat_template_kwargs`).
    public var extra: [String: JSONValue]

    /// Makes an input.
    public init(body: Data? = nil, messages: [JSONValue], tools: [JSONValue]? = nil, addGenerationPrompt: Bool = true,
                continueFinalMessage: Bool = false, extra: [String: JSONValue] = [:]) {
        self.body = body
        self.messages = messages
        self.tools = tools
        self.addGenerationPrompt = addGenerationPrompt
        self.continueFinalMessage = continueFinalMessage
        self.extra = extra
    }
}

/// Turns a conversation into the prompt text the model was trained on.
public protocol ChatRenderer: Sendable {
    /// The prompt text (special tokens written as text; the server tokenizes it without adding BOS).
    func render(_ input: ChatRenderInput) throws -> String
}

/// Why a chat could not be rendered.
public struct ChatRenderError: Error, CustomStringConvertible, Sendable {
    /// What the template said.
    public let message: String
    /// Makes an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
