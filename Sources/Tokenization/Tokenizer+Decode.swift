extension Tokenizer {
    /// Appends the bytes token text `text` stands for, as `llama_token_to_piece` renders it.
    static func render(text: [UInt8], attributes a: TokenAttributes, sentencePiece: Bool, into out: inout [UInt8]) {
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
