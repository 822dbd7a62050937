import Foundation
import Testing
import Tokenization

@Suite("tokenizer behaviour")
struct TokenizerBehaviorTests {
    @Test("unknown tokenizer model is a typed error naming it")
    func unknownModel() {
        #expect(throws: TokenizerError.unsupportedModel("t5")) {
            try Tokenizer(config: TokenizerConfig(model: "t5", tokens: ["a"]))
        }
        let e = TokenizerError.unsupportedModel("t5")
        #expect(e.description.contains("'t5'"))
    }

    @Test("unknown pre-tokenizer is a typed error naming it")
    func unknownPre() {
        #expect(throws: TokenizerError.unsupportedPreTokenizer("mystery-pre")) {
            try Tokenizer(config: TokenizerConfig(model: "gpt2", pre: "mystery-pre", tokens: ["a"], merges: []))
        }
        #expect(TokenizerError.unsupportedPreTokenizer("mystery-pre").description.contains("mystery-pre"))
    }

    @Test("special-token text is a token only when parseSpecial is on")
    func specialParsing() throws {
        guard let tok = TestModels.tokenizer("smollm2-135m-instruct") else { return }
        let on = tok.encode("<|im_start|>user\nhi<|im_end|>", addSpecial: false, parseSpecial: true)
        #expect(on.first == 1)
        #expect(on.last == 2)
        let off = tok.encode("<|im_start|>user\nhi<|im_end|>", addSpecial: false, parseSpecial: false)
        #expect(!off.contains(1) && !off.contains(2))
        #expect(tok.isEndOfGeneration(2))
        #expect(tok.decode(on, skipSpecial: true) == "user\nhi")
    }

    @Test("Gemma end of turn and BOS")
    func gemma() throws {
        guard let tok = TestModels.tokenizer("gemma3-270m") else { return }
        #expect(tok.eotId == 106)
        #expect(tok.isEndOfGeneration(106))
        #expect(tok.isEndOfGeneration(1))
        #expect(tok.addBOS)
        #expect(tok.encode("hi").first == 2)
    }

    /// A long text (over 10,000 tokens) encodes to ids that decode back to exactly the text.
    /// (Tokenizer speed is a benchmark matter, not a test's.)
    @Test("a 10k-token text round-trips", arguments: TestModels.names)
    func longTextRoundTrips(model: String) throws {
        guard let tok = TestModels.tokenizer(model) else { return }
        let g = try #require(Goldens.shared?.models[model])
        var text = ""
        for c in g.encode where !c.text.contains("<") { text += c.text + "\n" }
        var big = ""
        var ids: [Int32] = []
        while ids.count < 10_000 { big += text; ids = tok.encode(big, addSpecial: false) }
        #expect(tok.decode(ids) == big, "\(model): \(ids.count) tokens")
    }
}
