/// Turns text into token ids and back, with the same results as llama.cpp for the same GGUF
/// vocabulary.
///
/// Two vocabulary kinds are supported:
/// - `tokenizer.ggml.model = "llama"`: SentencePiece-style BPE (Llama 2, Mistral, Gemma 3) —
///   score-ordered merges over UTF-8 characters, spaces as U+2581, byte-fallback tokens.
/// - `tokenizer.ggml.model = "gpt2"`: byte-level BPE (SmolLM, Llama 3, Qwen 2) — a pre-tokenizer
///   chosen by `tokenizer.ggml.pre`, the GPT-2 byte-to-character mapping, rank-ordered merges.
///
/// Control, user-defined and unknown tokens written in the text (for example `<|im_start|>`) are
/// matched before the main algorithm runs. A `Tokenizer` is immutable and safe to share.
public final class Tokenizer: Sendable {
    enum Algorithm: Sendable {
        case sentencePiece(SentencePieceEncoder)
        case bytePair(BytePairEncoder, PreTokenizerKind)
    }

    let algorithm: Algorithm
    let vocab: ByteStringTable
    let attributes: [TokenAttributes]
    let types: [TokenType]
    /// Rendered text of every token (special tokens shown), back to back.
    let pieceBytes: [UInt8]
    let pieceOffsets: [Int32]
    let matcher: SpecialTokenMatcher
    let endOfGeneration: Set<Int32>

    /// The number of tokens in the vocabulary.
    public let vocabSize: Int
    /// The beginning-of-sequence token, or -1 when the vocabulary has none.
    public let bosId: Int32
    /// The end-of-sequence token, or -1 when the vocabulary has none.
    public let eosId: Int32
    /// The end-of-turn token (`<|im_end|>`, `<end_of_turn>`, `<|eot_id|>` …), if any.
    public let eotId: Int32?
    /// The unknown token, if any.
    public let unkId: Int32?
    /// The padding token, if any.
    public let padId: Int32?
    /// Whether ``encode(_:addSpecial:parseSpecial:)`` puts BOS first when `addSpecial` is true.
    public let addBOS: Bool
    /// Whether ``encode(_:addSpecial:parseSpecial:)`` puts EOS last when `addSpecial` is true.
    public let addEOS: Bool
    /// Whether SentencePiece text gets a leading space (and detokenizing drops one).
    public let addSpacePrefix: Bool
    /// Whether detokenizing removes spaces before punctuation and contractions (" ." → ".").
    public let cleanSpaces: Bool
    /// `tokenizer.ggml.model` of the vocabulary (`"llama"` or `"gpt2"`).
    public let modelName: String
    /// `tokenizer.ggml.pre` of the vocabulary (nil for SentencePiece).
    public let preName: String?

    /// Every token that ends generation: EOS, EOT, EOM and the end-of-turn style control tokens
    /// llama.cpp recognizes by name (`<|im_end|>`, `<end_of_turn>`, `<|endoftext|>` …).
    public var endOfGenerationIds: Set<Int32> { endOfGeneration }

    /// Builds a tokenizer from vocabulary values.
    ///
    /// - Throws: ``TokenizerError/unsupportedModel(_:)`` for a `model` other than `llama`/`gpt2`,
    ///   ``TokenizerError/unsupportedPreTokenizer(_:)`` for an unknown `pre`, and
    ///   ``TokenizerError/invalidMetadata(_:)`` / ``TokenizerError/missingMetadata(_:)`` for
    ///   malformed or missing arrays.
    public init(config: TokenizerConfig) throws {
        let n = config.tokens.count
        guard n > 0 else { throw TokenizerError.missingMetadata("tokenizer.ggml.tokens") }
        if let s = config.scores, s.count < n {
            throw TokenizerError.invalidMetadata("tokenizer.ggml.scores has \(s.count) entries for \(n) tokens")
        }
        if let t = config.tokenTypes, t.count < n {
            throw TokenizerError.invalidMetadata("tokenizer.ggml.token_type has \(t.count) entries for \(n) tokens")
        }
        vocabSize = n
        modelName = config.model

        let isSPM: Bool
        var pre: PreTokenizerKind.Resolved? = nil
        var defaultBOS: Int32, defaultEOS: Int32, defaultUNK: Int32?
        var addBOS: Bool, addSpacePrefix: Bool, cleanSpaces: Bool
        switch config.model {
        case "llama":
            isSPM = true
            defaultBOS = 1; defaultEOS = 2; defaultUNK = 0
            addBOS = true; addSpacePrefix = true; cleanSpaces = false
            preName = nil
        case "gpt2":
            isSPM = false
            guard config.merges != nil else { throw TokenizerError.missingMetadata("tokenizer.ggml.merges") }
            let resolved = try PreTokenizerKind.resolve(config.pre)
            pre = resolved
            defaultBOS = 11; defaultEOS = 11; defaultUNK = nil
            addBOS = resolved.addBOSDefault; addSpacePrefix = false; cleanSpaces = resolved.cleanSpaces
            preName = config.pre ?? "default"
        default:
            throw TokenizerError.unsupportedModel(config.model)
        }
        if let v = config.addBOS { addBOS = v }
        let addEOS = config.addEOS ?? false
        if let v = config.addSpacePrefix { addSpacePrefix = v }

        // Token texts (empty ones get a placeholder, as llama.cpp does) and attributes.
        var texts: [[UInt8]] = []
        texts.reserveCapacity(n)
        var attrs: [TokenAttributes] = []
        attrs.reserveCapacity(n)
        var types: [TokenType] = []
        types.reserveCapacity(n)
        for i in 0..<n {
            var t = Array(config.tokens[i].utf8)
            if t.isEmpty { t = Array("[EMPTY_\(i)]".utf8) }
            texts.append(t)
            if let tt = config.tokenTypes {
                attrs.append(TokenAttributes(type: tt[i]))
                types.append(TokenType(rawValue: tt[i]) ?? .undefined)
            } else {
                attrs.append(.normal)
                types.append(.normal)
            }
        }
        let table = ByteStringTable(texts)
        vocab = table

        func valid(_ id: Int?, default d: Int32?) -> Int32? {
            var r = d
            if let x = r, x < 0 || Int(x) >= n { r = nil }
            if let id, id >= 0, id < n { r = Int32(id) }
            return r
        }
        let bos = valid(config.bosId, default: defaultBOS)
        let eos = valid(config.eosId, default: defaultEOS)
        var eot = valid(config.eotId, default: nil)
        var eom = valid(config.eomId, default: nil)
        let unk = valid(config.unkId, default: defaultUNK)
        let pad = valid(config.padId, default: nil)
        var fimPad = valid(config.fimPadId, default: nil)
        var fimRep = valid(config.fimRepId, default: nil)
        var fimSep = valid(config.fimSepId, default: nil)
        var fimPre = valid(config.fimPreId, default: nil)
        var fimSuf = valid(config.fimSufId, default: nil)
        var fimMid = valid(config.fimMidId, default: nil)

        // Name-based detection: the first token (lowest id) with a known text fills a missing id
        // and is marked control.
        func idOf(_ s: String) -> Int32? {
            let id = table.lookup(Array(s.utf8))
            return id >= 0 ? id : nil
        }
        func detect(_ slot: inout Int32?, _ names: [String]) {
            guard slot == nil else { return }
            let found = names.compactMap(idOf)
            if let b = found.min() {
                slot = b
                attrs[Int(b)].insert(.control)
            }
        }
        detect(&eot, KnownTokenNames.endOfTurn)
        detect(&eom, KnownTokenNames.endOfMessage)
        detect(&fimPre, KnownTokenNames.fimPrefix)
        detect(&fimSuf, KnownTokenNames.fimSuffix)
        detect(&fimMid, KnownTokenNames.fimMiddle)
        detect(&fimPad, KnownTokenNames.fimPad)
        detect(&fimRep, KnownTokenNames.fimRepo)
        detect(&fimSep, KnownTokenNames.fimSeparator)

        var eog = Set<Int32>()
        for id in [fimPad, fimRep, fimSep] { if let id { eog.insert(id) } }
        for name in KnownTokenNames.endOfGeneration {
            if let id = idOf(name) {
                eog.insert(id)
                attrs[Int(id)].insert(.control)
            }
        }
        for name in KnownTokenNames.alwaysRendered {
            if let id = idOf(name) { attrs[Int(id)] = .userDefined }
        }
        for id in [eos, eot, eom] { if let id { eog.insert(id) } }
        // gpt-oss / solar-open: "<|end|>" is not an end of generation when these exist.
        do {
            let eogTexts = Set(eog.map { String(decoding: texts[Int($0)], as: UTF8.self) })
            let hasReturn = eogTexts.contains("<|return|>")
            let hasCall = eogTexts.contains("<|call|>") || eogTexts.contains("<|calls|>")
            let hasFlush = eogTexts.contains("<|flush|>")
            if let endId = eog.first(where: { texts[Int($0)] == Array("<|end|>".utf8) }),
               (hasReturn && hasCall) || (hasCall && hasFlush) {
                eog.remove(endId)
                attrs[Int(endId)] = .userDefined
            }
            if eogTexts.contains("<|tool_response>") || eogTexts.contains("<|plamo:eos|>"),
               let sId = eog.first(where: { texts[Int($0)] == Array("</s>".utf8) }) {
                eog.remove(sId)
                attrs[Int(sId)] = .normal
            }
        }

        bosId = bos ?? -1
        eosId = eos ?? -1
        eotId = eot
        unkId = unk
        padId = pad
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.cleanSpaces = cleanSpaces
        endOfGeneration = eog
        attributes = attrs
        self.types = types

        var candidates: [(Int32, [UInt8])] = []
        for i in 0..<n where !attrs[i].isDisjoint(with: .matchable) {
            candidates.append((Int32(i), texts[i]))
        }
        matcher = SpecialTokenMatcher(candidates: candidates)

        if isSPM {
            let scores = config.scores.map { Array($0.prefix(n)) } ?? [Float](repeating: 0, count: n)
            algorithm = .sentencePiece(SentencePieceEncoder(vocab: table, scores: scores, unknownToken: unk ?? -1))
        } else {
            let bpe = BytePairEncoder(vocab: table, mergeStrings: config.merges ?? [],
                                      ignoreMerges: pre?.ignoreMerges ?? false)
            algorithm = .bytePair(bpe, pre?.kind ?? .standard)
        }

        // Rendered pieces.
        var pb: [UInt8] = []
        var po: [Int32] = [0]
        pb.reserveCapacity(table.bytes.count)
        po.reserveCapacity(n + 1)
        for i in 0..<n {
            Tokenizer.render(text: texts[i], attributes: attrs[i], sentencePiece: isSPM, into: &pb)
            po.append(Int32(pb.count))
        }
        pieceBytes = pb
        pieceOffsets = po
    }
}
