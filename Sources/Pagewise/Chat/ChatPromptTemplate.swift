import ChatTemplates
import Foundation
import GGUF
import Tokenization

/// Why a chat prompt could not be made.
public enum ChatPromptError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The model has no `tokenizer.chat_template` and no built-in template fits its architecture.
    case noTemplate(architecture: String?)
    /// `--chat-template` named neither a built-in template nor a readable file.
    case unknownTemplate(String)
    /// The template failed to parse or render.
    case template(String)

    public var description: String {
        switch self {
        case let .noTemplate(arch):
            return "the model (architecture \(arch ?? "unknown")) has no chat template; pass --chat-template with one of "
                + "\(BuiltinChatTemplates.names.joined(separator: ", ")) or a Jinja file"
        case let .unknownTemplate(name):
            return "chat template '\(name)' is neither a built-in template (\(BuiltinChatTemplates.names.joined(separator: ", "))) nor a file"
        case let .template(why):
            return "the chat template failed: \(why)"
        }
    }
}

/// A model's chat template with the context transformers' `apply_chat_template` gives
/// (messages, add_generation_prompt, bos_token, eos_token).
public struct ChatPromptTemplate: Sendable {
    private let template: ChatTemplate
    /// The Jinja source.
    public let source: String
    /// What `bos_token` renders as.
    public let bosToken: String
    /// What `eos_token` renders as.
    public let eosToken: String

    /// Parses `source`.
    public init(source: String, bosToken: String, eosToken: String) throws(ChatPromptError) {
        do { template = try ChatTemplate(source: source) } catch { throw .template("\(error)") }
        self.source = source
        self.bosToken = bosToken
        self.eosToken = eosToken
    }

    /// The template source for a model: `override` (a built-in name or a file), else the GGUF's
    /// `tokenizer.chat_template`, else the built-in template for its architecture.
    public static func source(metadata: GGUFMetadata, architecture: String?, override: String? = nil) throws(ChatPromptError) -> String {
        if let override {
            if let builtin = BuiltinChatTemplates.named(override) { return builtin }
            guard let text = try? String(contentsOfFile: override, encoding: .utf8) else { throw .unknownTemplate(override) }
            return text
        }
        if let t = metadata.string("tokenizer.chat_template"), !t.isEmpty { return t }
        guard let builtin = architecture.flatMap(BuiltinChatTemplates.forArchitecture) else {
            throw .noTemplate(architecture: architecture)
        }
        return builtin
    }

    /// The template of the model file at `path`, with its tokenizer's BOS and EOS texts.
    public static func forModel(at path: String, tokenizer: Tokenizer, override: String? = nil) throws -> ChatPromptTemplate {
        let file = try GGUFFile(path: path)
        let text = try source(metadata: file.metadata, architecture: file.architecture, override: override)
        return try ChatPromptTemplate(source: text, bosToken: tokenizer.tokenText(tokenizer.bosId) ?? "",
                                      eosToken: tokenizer.tokenText(tokenizer.eosId) ?? "")
    }

    /// The prompt text for `messages`, ending with the assistant's turn header when `addGenerationPrompt`.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws(ChatPromptError) -> String {
        let context: [String: JinjaValue] = [
            "messages": .array(messages.map { .object(JinjaObject([("role", .string($0.role)), ("content", .string($0.content))])) }),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
        ]
        do { return try template.render(context) } catch { throw .template("\(error)") }
    }
}
