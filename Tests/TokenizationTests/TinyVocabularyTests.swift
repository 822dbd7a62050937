import Foundation
import Testing
import Tokenization

/// Small vocabularies written as GGUF by scripts/gen_tokenizer_fixtures.py and tokenized by
/// llama.cpp: they cover pre-tokenizers the real models do not use (llama-bpe, qwen2, gpt-2,
/// default) and a SentencePiece vocabulary with byte fallback and add_space_prefix.
@Suite("llama.cpp goldens on tiny vocabularies")
struct TinyVocabularyTests {
    static let names = ["bpe-llama-bpe", "bpe-qwen2", "bpe-gpt-2", "bpe-default", "spm-space-prefix"]

    @Test("encode and detokenize match llama.cpp", arguments: names)
    func goldens(name: String) throws {
        let v = try #require(Goldens.shared?.tiny_bpe?[name], "tiny vocabulary \(name) missing from the goldens")
        let tok = try Tokenizer(config: v.config)
        var bad: [String] = []
        var pass = 0
        for c in v.encode {
            let got = tok.encode(c.text)
            if got == c.ids {
                pass += 1
            } else {
                bad.append("\(describe(c.text)): expected \(c.ids.prefix(30)) got \(got.prefix(30))")
            }
        }
        #expect(bad.isEmpty, "\(name): \(bad.count)/\(v.encode.count) mismatches:\n\(bad.prefix(12).joined(separator: "\n"))")
        #expect(pass == v.encode.count)
        var badDetok: [String] = []
        for d in v.detokenize {
            if tok.decodeBytes(d.ids, skipSpecial: false) != d.keep_special.hexBytes { badDetok.append("keep \(d.ids.prefix(10))") }
            if tok.decodeBytes(d.ids, skipSpecial: true) != d.skip_special.hexBytes { badDetok.append("skip \(d.ids.prefix(10))") }
        }
        #expect(badDetok.isEmpty, "\(name): detokenize mismatches \(badDetok.prefix(10))")
    }

    @Test("incremental detokenizer agrees with decode()", arguments: names)
    func incremental(name: String) throws {
        let v = try #require(Goldens.shared?.tiny_bpe?[name])
        let tok = try Tokenizer(config: v.config)
        for c in v.encode {
            for skip in [false, true] {
                var d = IncrementalDetokenizer(tokenizer: tok, skipSpecial: skip)
                var out = ""
                for id in c.ids { out += d.add(id) }
                out += d.flush()
                #expect(out == tok.decode(c.ids, skipSpecial: skip), "\(describe(c.text)) skip=\(skip)")
            }
        }
    }
}
