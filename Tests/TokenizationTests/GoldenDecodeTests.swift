import Foundation
import Testing
import Tokenization

/// Pieces and detokenized bytes must equal llama.cpp's `llama_token_to_piece` / `llama_detokenize`.
@Suite("llama.cpp decode goldens")
struct GoldenDecodeTests {
    static let models = TestModels.names

    @Test("token pieces, special shown and hidden", arguments: models)
    func pieces(model: String) throws {
        let g = try #require(Goldens.shared?.models[model])
        guard let tok = TestModels.tokenizer(model) else { return }
        var bad: [String] = []
        for p in g.pieces {
            if tok.tokenPiece(p.id, special: true) != p.special.hexBytes { bad.append("\(p.id) special") }
            if tok.tokenPiece(p.id, special: false) != p.plain.hexBytes { bad.append("\(p.id) plain") }
        }
        #expect(bad.isEmpty, "\(bad.count) piece mismatches: \(bad.prefix(20))")
    }

    @Test("detokenize id lists (keep and skip special)", arguments: models)
    func detokenize(model: String) throws {
        let g = try #require(Goldens.shared?.models[model])
        guard let tok = TestModels.tokenizer(model) else { return }
        var bad: [String] = []
        for d in g.detokenize {
            if tok.decodeBytes(d.ids, skipSpecial: false) != d.keep_special.hexBytes { bad.append("keep \(d.ids.prefix(12))") }
            if tok.decodeBytes(d.ids, skipSpecial: true) != d.skip_special.hexBytes { bad.append("skip \(d.ids.prefix(12))") }
        }
        #expect(bad.isEmpty, "\(bad.count)/\(2 * g.detokenize.count) detokenize mismatches: \(bad.prefix(10))")
    }

    @Test("encode then decode gives the text back", arguments: models)
    func roundTrip(model: String) throws {
        let g = try #require(Goldens.shared?.models[model])
        guard let tok = TestModels.tokenizer(model) else { return }
        var bad: [String] = []
        for c in g.encode {
            let ids = tok.encode(c.text, addSpecial: false, parseSpecial: true)
            if tok.decode(ids) != c.text { bad.append(describe(c.text)) }
        }
        #expect(bad.isEmpty, "\(bad.count) strings do not round-trip: \(bad.prefix(10))")
    }
}
