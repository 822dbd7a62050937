import Foundation
import GGUF
import Tokenization
import ChatTemplates

/// Where a model's chat template comes from: `--chat-template NAME|FILE`, else the GGUF's
/// `tokenizer.chat_template`, else a built-in template chosen by architecture.
public enum ChatTemplateSource {
    /// The template text, or nil when the model has none and none was named.
    public static func resolve(option: String?, metadata: GGUFMetadata, architecture: String?) throws -> String? {
        if let option {
            if let builtin = BuiltinChatTemplates.named(option) { return builtin }
            guard FileManager.default.fileExists(atPath: option) else {
                throw ChatRenderError("chat template '\(option)' is neither a built-in template name (\(BuiltinChatTemplates.names.joined(separator: ", "))) nor a file")
            }
            return try String(contentsOfFile: option, encoding: .utf8)
        }
        if let t = metadata.string("tokenizer.chat_template"), !t.isEmpty { return t }
        return architecture.flatMap(BuiltinChatTemplates.forArchitecture)
    }

    /// A renderer of `source` with the tokenizer's BOS and EOS texts (or the given ones).
    public static func renderer(source: String, tokenizer: Tokenizer?, bosToken: String? = nil,
                                eosToken: String? = nil) throws -> any ChatRenderer {
        let bos = bosToken ?? tokenizer?.tokenText(tokenizer?.bosId ?? -1) ?? ""
        let eos = eosToken ?? tokenizer?.tokenText(tokenizer?.eosId ?? -1) ?? ""
        return try JinjaChatRenderer(source: source, bosToken: bos, eosToken: eos)
    }
}
