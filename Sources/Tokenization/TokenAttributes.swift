/// Per-token attributes, as llama.cpp derives them from the token types plus a few name-based rules.
struct TokenAttributes: OptionSet, Sendable {
    let rawValue: UInt16
    static let unknown = TokenAttributes(rawValue: 1 << 0)
    static let unused = TokenAttributes(rawValue: 1 << 1)
    static let normal = TokenAttributes(rawValue: 1 << 2)
    static let control = TokenAttributes(rawValue: 1 << 3)
    static let userDefined = TokenAttributes(rawValue: 1 << 4)
    static let byte = TokenAttributes(rawValue: 1 << 5)

    /// Attributes matched in text before tokenization (when allowed).
    static let matchable: TokenAttributes = [.control, .userDefined, .unknown]
    /// Attributes hidden when special tokens are not rendered or parsed.
    static let special: TokenAttributes = [.control, .unknown]

    init(rawValue: UInt16) { self.rawValue = rawValue }

    init(type: Int32) {
        switch type {
        case 1: self = .normal
        case 2: self = .unknown
        case 3: self = .control
        case 4: self = .userDefined
        case 5: self = .unused
        case 6: self = .byte
        default: self = []
        }
    }
}

/// Token texts llama.cpp recognizes by name (facts from its vocabulary loader).
enum KnownTokenNames {
    static let endOfTurn: [String] = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
        "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ]
    static let endOfMessage: [String] = ["<|eom_id|>"]
    static let fimPrefix: [String] = [
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>",
    ]
    static let fimSuffix: [String] = [
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>",
    ]
    static let fimMiddle: [String] = [
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>",
    ]
    static let fimPad: [String] = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]
    static let fimRepo: [String] = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]
    static let fimSeparator: [String] = ["<|file_sep|>"]
    /// Texts that end generation.
    static let endOfGeneration: [String] = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<｜end▁of▁sentence｜>", "[e~[",
    ]
    /// Always rendered as user-defined tokens (gpt-oss).
    static let alwaysRendered: [String] = ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"]
}
