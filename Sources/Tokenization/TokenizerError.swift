/// Why a ``Tokenizer`` could not be built.
public enum TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `tokenizer.ggml.model` names a tokenizer Pagewise does not implement.
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a byte-level BPE pre-tokenizer Pagewise does not implement.
    case unsupportedPreTokenizer(String)
    /// A required metadata entry is missing (for example `tokenizer.ggml.tokens`).
    case missingMetadata(String)
    /// A metadata entry is present but malformed (wrong length, bad value).
    case invalidMetadata(String)

    public var description: String {
        switch self {
        case .unsupportedModel(let name):
            return "tokenizer model '\(name)' is not supported; Pagewise reads 'llama' (SentencePiece BPE) and 'gpt2' (byte-level BPE)"
        case .unsupportedPreTokenizer(let name):
            return "byte-level BPE pre-tokenizer '\(name)' is not supported; supported: \(PreTokenizerKind.supportedNames.joined(separator: ", "))"
        case .missingMetadata(let key):
            return "GGUF metadata '\(key)' is missing; the file has no usable tokenizer"
        case .invalidMetadata(let what):
            return "GGUF tokenizer metadata is invalid: \(what)"
        }
    }
}
