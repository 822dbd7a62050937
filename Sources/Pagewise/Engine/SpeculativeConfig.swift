/// Which draft source speculative decoding uses (`--speculative`).
public enum SpeculativeMethod: Sendable, Equatable, CustomStringConvertible {
    /// Prompt lookup: continue the latest earlier occurrence of the last few tokens.
    case ngram
    /// Suffix decoding over this request's and recent requests' tokens.
    case suffix
    /// A smaller model with the same vocabulary (a GGUF file) drafting greedily.
    case draftModel(path: String)

    /// Reads `ngram`, `suffix` or `model:PATH`.
    public init(parsing text: String) throws {
        switch text {
        case "ngram": self = .ngram
        case "suffix": self = .suffix
        default:
            guard text.hasPrefix("model:"), text.count > 6 else {
                throw SpeculativeError.unknownMethod(text)
            }
            self = .draftModel(path: String(text.dropFirst(6)))
        }
    }

    public var description: String {
        switch self {
        case .ngram: return "ngram"
        case .suffix: return "suffix"
        case let .draftModel(path): return "model:\(path)"
        }
    }
}

/// Why speculative decoding cannot be set up as asked.
public enum SpeculativeError: Error, CustomStringConvertible, Sendable {
    case unknownMethod(String)
    /// The draft model's vocabulary differs from the target's: its token ids mean other things.
    case vocabularyMismatch(draft: String, detail: String)
    public var description: String {
        switch self {
        case let .unknownMethod(m):
            return "unknown speculative method '\(m)': use ngram, suffix or model:PATH"
        case let .vocabularyMismatch(draft, detail):
            return "draft model \(draft) has another vocabulary than the target model (\(detail)); a draft model must share the target's tokenizer"
        }
    }
}
