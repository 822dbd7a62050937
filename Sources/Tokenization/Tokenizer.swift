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
            var best: Int32? = nil
            for name in names {
                if let id = idOf(name), best == nil || id < best! { best = id }
            }
            if let b = best {
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

    private static func render(text: [UInt8], attributes a: TokenAttributes, sentencePiece: Bool, into out: inout [UInt8]) {
        if !a.isDisjoint(with: [.unknown, .control, .userDefined]) {
            out.append(contentsOf: text)
        } else if a.contains(.normal) {
            if sentencePiece {
                var i = 0
                while i < text.count {
                    if i + 2 < text.count, text[i] == 0xE2, text[i + 1] == 0x96, text[i + 2] == 0x81 {
                        out.append(0x20)
                        i += 3
                    } else {
                        out.append(text[i])
                        i += 1
                    }
                }
            } else {
                let s = String(decoding: text, as: UTF8.self)
                for scalar in s.unicodeScalars {
                    if let b = BytePairEncoder.codepointToByte[scalar.value] {
                        out.append(b)
                    } else {
                        out.append(contentsOf: Array("[UNK_BYTE_0x".utf8))
                        for u in String(scalar).utf8 {
                            let hex = Array("0123456789abcdef".utf8)
                            out.append(hex[Int(u >> 4)])
                            out.append(hex[Int(u & 15)])
                        }
                        out.append(contentsOf: text)
                        out.append(0x5D)  // ]
                    }
                }
            }
        } else if a.contains(.byte) {
            if text.count >= 5, let v = UInt8(String(decoding: text[3..<5], as: UTF8.self), radix: 16) {
                out.append(v)
            }
        }
    }

    // MARK: - Encoding

    /// Turns `text` into token ids.
    ///
    /// - Parameters:
    ///   - addSpecial: add BOS / EOS as the vocabulary asks (``addBOS``, ``addEOS``).
    ///   - parseSpecial: text of control tokens (`<|im_start|>`, `<start_of_turn>` …) becomes those
    ///     tokens. User-defined tokens are matched either way; with `false`, control-token text is
    ///     tokenized as ordinary text.
    /// - Returns: the same ids llama.cpp's `llama_tokenize` returns.
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = true) -> [Int32] {
        var bytes = Array(text.utf8)
        var output: [Int32] = []
        output.reserveCapacity(bytes.count / 3 + 4)
        let fragments: [SpecialTokenMatcher.Fragment] = bytes.withUnsafeBufferPointer { p in
            matcher.partition(p) { id in
                parseSpecial || self.attributes[Int(id)].isDisjoint(with: .special)
            }
        }
        switch algorithm {
        case .sentencePiece(let spm):
            var scratch = SentencePieceEncoder.Scratch()
            var isPrevSpecial = true
            if addSpecial && addBOS && bosId >= 0 { output.append(bosId) }
            var buf: [UInt8] = []
            for f in fragments {
                switch f {
                case .text(let r):
                    buf.removeAll(keepingCapacity: true)
                    if addSpacePrefix && isPrevSpecial { buf.append(contentsOf: [0xE2, 0x96, 0x81]) }
                    for k in r {
                        let b = bytes[k]
                        if b == 0x20 { buf.append(contentsOf: [0xE2, 0x96, 0x81]) } else { buf.append(b) }
                    }
                    buf.withUnsafeBufferPointer { spm.encode($0, scratch: &scratch, output: &output) }
                    isPrevSpecial = false
                case .token(let id):
                    output.append(id)
                    isPrevSpecial = true
                }
            }
        case .bytePair(let bpe, let pre):
            var scratch = BytePairEncoder.Scratch()
            if addSpecial && addBOS && bosId >= 0 { output.append(bosId) }
            var cps: [UInt32] = []
            var starts: [Int] = []
            for f in fragments {
                switch f {
                case .text(let r):
                    Tokenizer.decodeScalars(bytes, r, &cps, &starts)
                    let segs = pre.split(cps)
                    bytes.withUnsafeMutableBufferPointer { p in
                        var cp = 0
                        for len in segs {
                            let a = starts[cp], b = starts[cp + len]
                            bpe.encodeWord(UnsafeBufferPointer(rebasing: p[a..<b]), scratch: &scratch, output: &output)
                            cp += len
                        }
                    }
                case .token(let id):
                    output.append(id)
                }
            }
        }
        if addSpecial && addEOS && eosId >= 0 { output.append(eosId) }
        return output
    }

    /// Decodes the UTF-8 in `bytes[r]` to scalars; `starts` gets each scalar's byte offset plus the end.
    private static func decodeScalars(_ bytes: [UInt8], _ r: Range<Int>, _ cps: inout [UInt32], _ starts: inout [Int]) {
        cps.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        var i = r.lowerBound
        let end = r.upperBound
        while i < end {
            let b0 = UInt32(bytes[i])
            starts.append(i)
            if b0 < 0x80 {
                cps.append(b0); i += 1
            } else if b0 < 0xE0, i + 1 < end {
                cps.append((b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)); i += 2
            } else if b0 < 0xF0, i + 2 < end {
                cps.append((b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)); i += 3
            } else if i + 3 < end {
                cps.append((b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
                           | UInt32(bytes[i + 3] & 0x3F)); i += 4
            } else {
                cps.append(0xFFFD); i += 1
            }
        }
        starts.append(end)
    }

    // MARK: - Decoding

    /// The type recorded for token `id` in the vocabulary (nil when out of range).
    public func tokenType(_ id: Int32) -> TokenType? {
        guard id >= 0 && Int(id) < vocabSize else { return nil }
        return types[Int(id)]
    }

    /// The vocabulary text of token `id` as stored in the GGUF file (nil when out of range).
    public func tokenText(_ id: Int32) -> String? {
        guard id >= 0 && Int(id) < vocabSize else { return nil }
        return String(decoding: vocab.entry(Int(id)), as: UTF8.self)
    }

    /// The token whose vocabulary text is exactly `text`, if any.
    public func tokenId(forText text: String) -> Int32? {
        let id = vocab.lookup(Array(text.utf8))
        return id >= 0 && Int(id) < vocabSize ? id : nil
    }

    /// Whether `id` is a control token (BOS, EOS, `<|im_start|>` …).
    public func isControl(_ id: Int32) -> Bool {
        guard id >= 0 && Int(id) < vocabSize else { return false }
        return attributes[Int(id)].contains(.control)
    }

    /// The bytes token `id` stands for (`llama_token_to_piece`). Control and unknown tokens render
    /// as their text when `special` is true and as nothing otherwise. Out-of-range ids give `[]`.
    public func tokenPiece(_ id: Int32, special: Bool = true) -> [UInt8] {
        guard id >= 0 && Int(id) < vocabSize else { return [] }
        if !special && !attributes[Int(id)].isDisjoint(with: .special) { return [] }
        return Array(pieceBytes[Int(pieceOffsets[Int(id)])..<Int(pieceOffsets[Int(id) + 1])])
    }

    func appendPiece(_ id: Int32, special: Bool, stripLeadingSpace: Bool, to out: inout [UInt8]) {
        guard id >= 0 && Int(id) < vocabSize else { return }
        if !special && !attributes[Int(id)].isDisjoint(with: .special) { return }
        var a = Int(pieceOffsets[Int(id)])
        let b = Int(pieceOffsets[Int(id) + 1])
        if stripLeadingSpace && a < b && pieceBytes[a] == 0x20 { a += 1 }
        out.append(contentsOf: pieceBytes[a..<b])
    }

    /// Whether generation should stop at `id` (EOS, EOT and the other end-of-generation tokens).
    public func isEndOfGeneration(_ id: Int32) -> Bool {
        endOfGeneration.contains(id)
    }

    /// The bytes of `ids` joined (`llama_detokenize`). With `skipSpecial`, a leading BOS and a
    /// trailing EOS are dropped and control tokens render as nothing; otherwise they render as
    /// their text. May end in an incomplete UTF-8 sequence.
    public func decodeBytes(_ ids: [Int32], skipSpecial: Bool = false) -> [UInt8] {
        var slice = ids[...]
        var removeSpace = addSpacePrefix
        if skipSpecial && addBOS, let f = slice.first, f == bosId {
            removeSpace = false
            slice = slice.dropFirst()
        }
        if skipSpecial && addEOS, let l = slice.last, l == eosId {
            slice = slice.dropLast()
        }
        var out: [UInt8] = []
        out.reserveCapacity(slice.count * 4)
        for id in slice {
            appendPiece(id, special: !skipSpecial, stripLeadingSpace: removeSpace, to: &out)
            removeSpace = false
        }
        if cleanSpaces { out = Tokenizer.cleanUpSpaces(out) }
        return out
    }

    /// The text of `ids` (see ``decodeBytes(_:skipSpecial:)``); invalid UTF-8 becomes U+FFFD.
    public func decode(_ ids: [Int32], skipSpecial: Bool = false) -> String {
        String(decoding: decodeBytes(ids, skipSpecial: skipSpecial), as: UTF8.self)
    }

    /// llama.cpp's detokenizer clean-up for BPE vocabularies that ask for it: drops the space
    /// before `?!.,`, around a lone `'`, and before `'s`, `'m`, `'re`, `'ve`.
    static func cleanUpSpaces(_ input: [UInt8]) -> [UInt8] {
        if input.isEmpty { return input }
        let space: UInt8 = 0x20, quote: UInt8 = 0x27
        // pass 1: " ?", " !", " .", " ,"
        var t = [input[0]]
        t.reserveCapacity(input.count)
        for i in 1..<input.count {
            let x = input[i]
            if input[i - 1] == space && (x == 0x3F || x == 0x21 || x == 0x2E || x == 0x2C) { t.removeLast() }
            t.append(x)
        }
        // pass 2: " ' " -> "'"
        var u = [t[0]]
        u.reserveCapacity(t.count)
        var i = 1
        while i < t.count {
            let x = t[i]
            if x == quote && i + 1 < t.count && t[i - 1] == space && t[i + 1] == space {
                u.removeLast()
                t[i + 1] = 0
                i += 1
            }
            u.append(x)
            i += 1
        }
        // pass 3: " 's", " 'm", " 're", " 've"
        var v = [u[0]]
        v.reserveCapacity(u.count)
        for i in 1..<u.count {
            let x = u[i]
            if u[i - 1] == space && x == quote && i + 1 < u.count {
                let x1 = u[i + 1]
                if x1 == 0x73 || x1 == 0x6D {
                    v.removeLast()
                } else if x1 != 0x74 && x1 != 0x64 && i + 2 < u.count {
                    let x2 = u[i + 2]
                    if (x1 == 0x72 && x2 == 0x65) || (x1 == 0x76 && x2 == 0x65) { v.removeLast() }
                }
            }
            v.append(x)
        }
        return v
    }
}
