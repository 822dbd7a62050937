import GGUF

extension TokenizerConfig {
    /// Reads the `tokenizer.ggml.*` metadata of a GGUF file.
    ///
    /// - Throws: ``TokenizerError/missingMetadata(_:)`` when the file has no `tokenizer.ggml.model`
    ///   or no token list.
    public init(gguf metadata: GGUFMetadata) throws {
        guard let model = metadata.string("tokenizer.ggml.model") else {
            throw TokenizerError.missingMetadata("tokenizer.ggml.model")
        }
        guard let tokens = metadata.stringArray("tokenizer.ggml.tokens") else {
            throw TokenizerError.missingMetadata("tokenizer.ggml.tokens")
        }
        let k = "tokenizer.ggml."
        self.init(
            model: model,
            pre: metadata.string(k + "pre"),
            tokens: tokens,
            scores: metadata.floatArray(k + "scores"),
            tokenTypes: metadata.intArray(k + "token_type").map { $0.map { Int32(truncatingIfNeeded: $0) } },
            merges: metadata.stringArray(k + "merges"),
            bosId: metadata.int(k + "bos_token_id"),
            eosId: metadata.int(k + "eos_token_id"),
            eotId: metadata.int(k + "eot_token_id"),
            eomId: metadata.int(k + "eom_token_id"),
            unkId: metadata.int(k + "unknown_token_id"),
            sepId: metadata.int(k + "seperator_token_id"),
            padId: metadata.int(k + "padding_token_id"),
            maskId: metadata.int(k + "mask_token_id"),
            fimPreId: metadata.int(k + "fim_pre_token_id") ?? metadata.int(k + "prefix_token_id"),
            fimSufId: metadata.int(k + "fim_suf_token_id") ?? metadata.int(k + "suffix_token_id"),
            fimMidId: metadata.int(k + "fim_mid_token_id") ?? metadata.int(k + "middle_token_id"),
            fimPadId: metadata.int(k + "fim_pad_token_id"),
            fimRepId: metadata.int(k + "fim_rep_token_id"),
            fimSepId: metadata.int(k + "fim_sep_token_id"),
            addBOS: metadata.bool(k + "add_bos_token"),
            addEOS: metadata.bool(k + "add_eos_token"),
            addSpacePrefix: metadata.bool(k + "add_space_prefix")
        )
    }
}

extension Tokenizer {
    /// Builds the tokenizer stored in a GGUF file's `tokenizer.ggml.*` metadata.
    ///
    /// - Throws: ``TokenizerError`` when the file has no tokenizer or one Pagewise does not support
    ///   (the error names the unsupported `tokenizer.ggml.model` or `tokenizer.ggml.pre`).
    public convenience init(gguf file: GGUFFile) throws {
        try self.init(config: TokenizerConfig(gguf: file.metadata))
    }
}
