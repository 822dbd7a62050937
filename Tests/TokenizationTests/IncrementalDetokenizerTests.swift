import Foundation
import Testing
import Tokenization

@Suite("incremental detokenizer")
struct IncrementalDetokenizerTests {
    static let models = TestModels.names

    /// Feeds ids one by one; every chunk must be whole characters and the chunks must add up to
    /// `decode` of all ids.
    private func stream(_ tok: Tokenizer, _ ids: [Int32], skipSpecial: Bool) -> [String] {
        var d = IncrementalDetokenizer(tokenizer: tok, skipSpecial: skipSpecial)
        var chunks = ids.map { d.add($0) }
        chunks.append(d.flush())
        return chunks
    }

    @Test("chunks add up to decode() for the whole corpus", arguments: models)
    func corpus(model: String) throws {
        let g = try #require(Goldens.shared?.models[model])
        guard let tok = TestModels.tokenizer(model) else { return }
        var bad: [String] = []
        for c in g.encode {
            for skip in [false, true] {
                let chunks = stream(tok, c.ids, skipSpecial: skip)
                let whole = tok.decode(c.ids, skipSpecial: skip)
                if chunks.joined() != whole { bad.append("\(describe(c.text)) skip=\(skip)") }
                if !whole.contains("\u{FFFD}") && chunks.contains(where: { $0.contains("\u{FFFD}") }) {
                    bad.append("\(describe(c.text)) emitted a broken character")
                }
            }
        }
        #expect(bad.isEmpty, "\(bad.count) mismatches: \(bad.prefix(10))")
    }

    @Test("an emoji split over several tokens comes out whole", arguments: models)
    func emojiSplit(model: String) throws {
        guard let tok = TestModels.tokenizer(model) else { return }
        for text in ["😀", "👨‍👩‍👧‍👦", "a🍕b", "🇺🇸"] {
            let ids = tok.encode(text, addSpecial: false)
            let chunks = stream(tok, ids, skipSpecial: true)
            #expect(chunks.joined() == text)
            for chunk in chunks {
                #expect(!chunk.contains("\u{FFFD}"), "chunk \(describe(chunk)) of \(text) is a broken character")
            }
        }
        // A single four-byte emoji that needs more than one token must not appear before its last byte.
        let ids = tok.encode("😀", addSpecial: false)
        if ids.count > 1 {
            var d = IncrementalDetokenizer(tokenizer: tok)
            for id in ids.dropLast() { #expect(d.add(id) == "") }
            #expect(d.add(ids.last!) == "😀")
        }
    }

    @Test("byte-fallback tokens are held until the character is complete")
    func byteFallback() throws {
        guard let tok = TestModels.tokenizer("gemma3-270m") else { return }
        // "€" is E2 82 AC: feed it as three byte tokens.
        let bytes: [UInt8] = [0xE2, 0x82, 0xAC]
        let ids = bytes.map { tok.tokenId(forText: String(format: "<0x%02X>", $0))! }
        var d = IncrementalDetokenizer(tokenizer: tok)
        #expect(d.add(ids[0]) == "")
        #expect(d.add(ids[1]) == "")
        #expect(d.add(ids[2]) == "€")
        // An unfinished character at the end is flushed as U+FFFD.
        #expect(d.add(ids[0]) == "")
        #expect(d.flush() == "\u{FFFD}")
    }

    @Test("SentencePiece leading space is dropped only for the first token")
    func leadingSpace() throws {
        // A tiny SentencePiece vocabulary with add_space_prefix on (as Llama 2).
        let pieces = ["▁", "H", "e", "l", "o", "w", "r", "d", "!", "▁H", "▁He", "▁Hel", "▁Hell", "▁Hello",
                      "▁w", "▁wo", "▁wor", "▁worl", "▁world"]
        let tokens = ["<unk>", "<s>", "</s>"] + pieces
        let scores: [Float] = [0, 0, 0] + pieces.indices.map { Float($0) }
        let types: [Int32] = [2, 3, 3] + pieces.map { _ in 1 }
        let config = TokenizerConfig(model: "llama", tokens: tokens, scores: scores, tokenTypes: types, addSpacePrefix: true)
        let tok = try Tokenizer(config: config)
        let ids = tok.encode("Hello world!")
        #expect(ids == [1, 16, 21, 11])
        // As llama_detokenize: the space is dropped only when the first token is the word itself;
        // a removed BOS keeps it, a rendered BOS absorbs the strip.
        #expect(tok.decode(Array(ids.dropFirst())) == "Hello world!")
        #expect(tok.decode(ids, skipSpecial: true) == " Hello world!")
        #expect(tok.decode(ids, skipSpecial: false) == "<s> Hello world!")
        var d = IncrementalDetokenizer(tokenizer: tok, skipSpecial: true)
        #expect(d.add(Array(ids.dropFirst())) + d.flush() == "Hello world!")
        var withBOS = IncrementalDetokenizer(tokenizer: tok, skipSpecial: true)
        #expect(withBOS.add(ids) + withBOS.flush() == " Hello world!")
        var cont = IncrementalDetokenizer(tokenizer: tok, skipSpecial: true, isStartOfText: false)
        #expect(cont.add([16, 21]) == " Hello world")
    }

    @Test("clean-up of spaces streams the same text as decode()")
    func cleanSpacesStreaming() throws {
        // Byte-level BPE vocabulary whose pre-tokenizer asks for the clean-up (gpt-2).
        // GPT-2's byte-to-character table: printable bytes map to themselves, the rest to U+0100 onward.
        var next: UInt32 = 256
        let chars = (0 ..< 256).map { (b: Int) -> String in
            let printable = (33 ... 126).contains(b) || (161 ... 172).contains(b) || (174 ... 255).contains(b)
            let cp: UInt32
            if printable { cp = UInt32(b) } else { cp = next; next += 1 }
            return String(Character(Unicode.Scalar(cp)!))
        }
        let tok = try Tokenizer(config: TokenizerConfig(model: "gpt2", pre: "gpt-2", tokens: chars, merges: []))
        #expect(tok.cleanSpaces)
        for text in ["hello , world . it 's ok ' yes ' ", "a ?\nb !\n ' s", "don 't", "x 're y 've z 'm"] {
            let ids = tok.encode(text, addSpecial: false)
            var d = IncrementalDetokenizer(tokenizer: tok)
            var out = ""
            for id in ids { out += d.add(id) }
            out += d.flush()
            #expect(out == tok.decode(ids))
        }
        #expect(tok.decode(tok.encode("hello , world .", addSpecial: false)) == "hello, world.")
    }
}
