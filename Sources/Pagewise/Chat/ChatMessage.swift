/// One turn of a conversation, as OpenAI and chat templates spell it.
public struct ChatMessage: Codable, Sendable, Equatable {
    /// `system`, `user` or `assistant`.
    public var role: String
    /// The text of the turn.
    public var content: String

    /// Makes a message.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}
