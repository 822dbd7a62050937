import Foundation
import Testing
import Tokenization

/// Every corpus string must encode to exactly llama.cpp's ids.
@Suite("llama.cpp encode goldens")
struct GoldenEncodeTests {
    static let models = TestModels.names

    @Test("metadata: vocab size, BOS/EOS/EOT, add-BOS, end-of-generation set", arguments: models)
    func metadata(model: String) throws {
        let g = try #require(Goldens.shared?.models[model], "goldens for \(model) missing")
        guard let tok = TestModels.tokenizer(model) else { return }
        #expect(tok.vocabSize == g.vocab_size)
        #expect(tok.bosId == g.bos)
        #expect(tok.eosId == g.eos)
        #expect((tok.eotId ?? -1) == g.eot)
        #expect(tok.addBOS == g.add_bos)
        #expect(tok.addEOS == g.add_eos)
        #expect(tok.endOfGenerationIds == Set(g.eog))
        for id in g.eog { #expect(tok.isEndOfGeneration(id)) }
    }

    private func check(_ cases: [Goldens.Encode], _ label: String, _ body: (String) -> [Int32]) -> Int {
        var failures: [String] = []
        var pass = 0
        for c in cases {
            let got = body(c.text)
            if got == c.ids {
                pass += 1
            } else {
                failures.append("\(describe(c.text)): expected \(c.ids.prefix(40)) got \(got.prefix(40))")
            }
        }
        #expect(failures.isEmpty, "\(label): \(failures.count)/\(cases.count) mismatches:\n\(failures.prefix(15).joined(separator: "\n"))")
        #expect(pass == cases.count)
        return pass
    }

    @Test("addSpecial + parseSpecial (the whole corpus)", arguments: models)
    func encodeAll(model: String) throws {
        let g = try #require(Goldens.shared?.models[model])
        guard let tok = TestModels.tokenizer(model) else { return }
        #expect(g.encode.count >= 200)
        _ = check(g.encode, "\(model) encode") { tok.encode($0, addSpecial: true, parseSpecial: true) }
    }

    @Test("parseSpecial = false", arguments: models)
    func encodeNoParseSpecial(model: String) throws {
        let g = try #require(Goldens.shared?.models[model])
        guard let tok = TestModels.tokenizer(model) else { return }
        _ = check(g.encode_no_parse_special, "\(model) no-parse-special") { tok.encode($0, addSpecial: true, parseSpecial: false) }
    }

    @Test("addSpecial = false", arguments: models)
    func encodeNoAddSpecial(model: String) throws {
        let g = try #require(Goldens.shared?.models[model])
        guard let tok = TestModels.tokenizer(model) else { return }
        _ = check(g.encode_no_add_special, "\(model) no-add-special") { tok.encode($0, addSpecial: false, parseSpecial: true) }
    }
}
