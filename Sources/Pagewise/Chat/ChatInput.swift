/// Gathers the lines a person types into one message, as Ollama does: a line ending with `\`
/// continues on the next line, and a line starting with `"""` opens a block that runs to the
/// next `"""`.
public struct ChatInputAccumulator: Sendable {
    private var lines: [String] = []
    private var inBlock = false

    /// An empty accumulator.
    public init() {}

    /// True while a message is half-typed (the prompt shows `...`).
    public var isContinuing: Bool { inBlock || !lines.isEmpty }

    /// Takes one line; returns the whole message once it is complete.
    public mutating func feed(_ line: String) -> String? {
        if inBlock {
            if let r = line.range(of: "\"\"\"") {
                lines.append(String(line[..<r.lowerBound]))
                inBlock = false
                return take()
            }
            lines.append(line)
            return nil
        }
        if lines.isEmpty, line.hasPrefix("\"\"\"") {
            let rest = String(line.dropFirst(3))
            if let r = rest.range(of: "\"\"\"") { return String(rest[..<r.lowerBound]) }
            inBlock = true
            if !rest.isEmpty { lines.append(rest) }
            return nil
        }
        if line.hasSuffix("\\") {
            lines.append(String(line.dropLast()))
            return nil
        }
        lines.append(line)
        return take()
    }

    /// Drops a half-typed message.
    public mutating func clear() {
        lines.removeAll()
        inBlock = false
    }

    private mutating func take() -> String {
        defer { lines.removeAll() }
        return lines.joined(separator: "\n")
    }
}

/// A line of chat input: a slash command or a message.
public enum ChatCommand: Equatable, Sendable {
    /// A message for the model.
    case message(String)
    /// `/system TEXT` (empty text clears it).
    case system(String)
    /// `/reset`: forget the history.
    case reset
    /// `/save FILE`: write the messages as JSON.
    case save(String)
    /// `/params name=value …` (no assignments: show them).
    case params(String)
    /// `/exit` or `/bye`.
    case exit
    /// `/help` or `/?`.
    case help
    /// A `/word` that is no command.
    case unknown(String)

    /// The help text.
    public static let helpText = """
    /system TEXT          set the system prompt (empty clears it)
    /reset                forget the conversation
    /save FILE            write the messages as JSON
    /params k=v ...       set sampling parameters (temperature, top_p, top_k, min_p, max_tokens, seed, \
    repetition_penalty, presence_penalty, frequency_penalty, min_tokens, stop); /params alone shows them
    /exit                 leave (or Ctrl-D)
    A line ending with \\ continues on the next line; \"\"\" opens and closes a block.
    Ctrl-C stops the answer being written.
    """

    /// Reads a complete message.
    public init(_ text: String) {
        guard text.hasPrefix("/") else {
            self = .message(text)
            return
        }
        let trimmed = text.drop { $0 == " " }
        let word = trimmed.prefix { !$0.isWhitespace }
        let rest = String(trimmed.dropFirst(word.count).drop(while: \.isWhitespace))
        switch word {
        case "/system", "/set-system": self = .system(rest)
        case "/reset", "/clear": self = .reset
        case "/save": self = .save(rest)
        case "/params", "/set": self = .params(rest)
        case "/exit", "/bye", "/quit": self = .exit
        case "/help", "/?": self = .help
        default: self = .unknown(String(word))
        }
    }
}
