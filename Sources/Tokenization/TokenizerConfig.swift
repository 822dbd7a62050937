/// The kind of a token as stored in GGUF `tokenizer.ggml.token_type`.
///
/// The raw values are the ones GGUF writers use (the `gguf` Python package's `TokenType`).
public enum TokenType: Int32, Sendable, Hashable {
    /// No type recorded; the token never renders and never takes part in special matching.
    case undefined = 0
    /// An ordinary vocabulary entry.
    case normal = 1
    /// The unknown-token placeholder (`<unk>`).
    case unknown = 2
    /// A control token (BOS, EOS, `<|im_start|>` …): matched in text only when special parsing is on.
    case control = 3
    /// A user-defined token: always matched in text before the main tokenizer runs.
    case userDefined = 4
    /// A reserved, unused entry.
    case unused = 5
    /// A byte-fallback token such as `<0x0A>`.
    case byte = 6
}

/// Everything a ``Tokenizer`` is built from, as plain Swift values.
///
/// The field names follow the GGUF `tokenizer.ggml.*` metadata keys. Optional ids and flags that are
/// `nil` mean "absent from the metadata": the tokenizer then applies the same defaults as llama.cpp
/// (for example BOS 1 / EOS 2 / UNK 0 for SentencePiece vocabularies).
public struct TokenizerConfig: Sendable {
    /// `tokenizer.ggml.model`: `"llama"` (SentencePiece-style BPE) or `"gpt2"` (byte-level BPE).
    public var model: String
    /// `tokenizer.ggml.pre`: the pre-tokenizer name for byte-level BPE (`"smollm"`, `"llama-bpe"`, `"qwen2"`, …).
    public var pre: String?
    /// `tokenizer.ggml.tokens`: token texts, indexed by id.
    public var tokens: [String]
    /// `tokenizer.ggml.scores`: SentencePiece merge scores, indexed by id (absent: all 0).
    public var scores: [Float]?
    /// `tokenizer.ggml.token_type`: raw token types, indexed by id (absent: all normal).
    public var tokenTypes: [Int32]?
    /// `tokenizer.ggml.merges`: byte-level BPE merges `"left right"`, highest priority first.
    public var merges: [String]?

    /// `tokenizer.ggml.bos_token_id`.
    public var bosId: Int?
    /// `tokenizer.ggml.eos_token_id`.
    public var eosId: Int?
    /// `tokenizer.ggml.eot_token_id` (end of turn).
    public var eotId: Int?
    /// `tokenizer.ggml.eom_token_id` (end of message).
    public var eomId: Int?
    /// `tokenizer.ggml.unknown_token_id`.
    public var unkId: Int?
    /// `tokenizer.ggml.seperator_token_id`.
    public var sepId: Int?
    /// `tokenizer.ggml.padding_token_id`.
    public var padId: Int?
    /// `tokenizer.ggml.mask_token_id`.
    public var maskId: Int?
    /// `tokenizer.ggml.fim_pre_token_id`.
    public var fimPreId: Int?
    /// `tokenizer.ggml.fim_suf_token_id`.
    public var fimSufId: Int?
    /// `tokenizer.ggml.fim_mid_token_id`.
    public var fimMidId: Int?
    /// `tokenizer.ggml.fim_pad_token_id`.
    public var fimPadId: Int?
    /// `tokenizer.ggml.fim_rep_token_id`.
    public var fimRepId: Int?
    /// `tokenizer.ggml.fim_sep_token_id`.
    public var fimSepId: Int?

    /// `tokenizer.ggml.add_bos_token`.
    public var addBOS: Bool?
    /// `tokenizer.ggml.add_eos_token`.
    public var addEOS: Bool?
    /// `tokenizer.ggml.add_space_prefix`.
    public var addSpacePrefix: Bool?

    /// Creates a configuration; every optional field defaults to "absent from the metadata".
    public init(
        model: String,
        pre: String? = nil,
        tokens: [String],
        scores: [Float]? = nil,
        tokenTypes: [Int32]? = nil,
        merges: [String]? = nil,
        bosId: Int? = nil,
        eosId: Int? = nil,
        eotId: Int? = nil,
        eomId: Int? = nil,
        unkId: Int? = nil,
        sepId: Int? = nil,
        padId: Int? = nil,
        maskId: Int? = nil,
        fimPreId: Int? = nil,
        fimSufId: Int? = nil,
        fimMidId: Int? = nil,
        fimPadId: Int? = nil,
        fimRepId: Int? = nil,
        fimSepId: Int? = nil,
        addBOS: Bool? = nil,
        addEOS: Bool? = nil,
        addSpacePrefix: Bool? = nil
    ) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.scores = scores
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.bosId = bosId
        self.eosId = eosId
        self.eotId = eotId
        self.eomId = eomId
        self.unkId = unkId
        self.sepId = sepId
        self.padId = padId
        self.maskId = maskId
        self.fimPreId = fimPreId
        self.fimSufId = fimSufId
        self.fimMidId = fimMidId
        self.fimPadId = fimPadId
        self.fimRepId = fimRepId
        self.fimSepId = fimSepId
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
    }
}
