import Foundation
import GGUF
import Pagewise
import Testing
import Tokenization

/// llama.cpp goldens written by scripts/gen_tokenizer_fixtures.py.
struct Goldens: Decodable {
    struct Encode: Decodable { let text: String; let ids: [Int32] }
    struct Detok: Decodable { let ids: [Int32]; let keep_special: String; let skip_special: String }
    struct Piece: Decodable { let id: Int32; let special: String; let plain: String }
    struct Model: Decodable {
        let vocab_size: Int
        let bos: Int32
        let eos: Int32
        let eot: Int32
        let add_bos: Bool
        let add_eos: Bool
        let eog: [Int32]
        let encode: [Encode]
        let encode_no_parse_special: [Encode]
        let encode_no_add_special: [Encode]
        let detokenize: [Detok]
        let pieces: [Piece]
    }
    struct TinyVocab: Decodable {
        let model: String
        let pre: String?
        let tokens: [String]
        let token_types: [Int32]
        let scores: [Float]?
        let merges: [String]?
        let bos: Int
        let eos: Int
        let add_bos: Bool?
        let add_space_prefix: Bool?
        let encode: [Encode]
        let detokenize: [Detok]

        var config: TokenizerConfig {
            TokenizerConfig(model: model, pre: pre, tokens: tokens, scores: scores, tokenTypes: token_types,
                            merges: merges, bosId: bos, eosId: eos, addBOS: add_bos, addSpacePrefix: add_space_prefix)
        }
    }
    let generator: String
    let corpus_size: Int
    let models: [String: Model]
    let tiny_bpe: [String: TinyVocab]?

    static let shared: Goldens? = {
        guard let url = Bundle.module.url(forResource: "tokenizer-goldens", withExtension: "json", subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(Goldens.self, from: data)
    }()
}

extension String {
    /// Bytes from a lowercase hex string.
    var hexBytes: [UInt8] {
        var out: [UInt8] = []
        var it = utf8.makeIterator()
        while let a = it.next(), let b = it.next() {
            func v(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10 }
            out.append(v(a) << 4 | v(b))
        }
        return out
    }
}

/// The real models the tests read: fetched into the cache on first use (as `pagewise pull` does),
/// so a fresh machine runs these tests too.
enum TestModels {
    static let names = ["smollm2-135m-instruct", "gemma3-270m"]

    private static let fetched: [String: String] = {
        var out: [String: String] = [:]
        for n in names {
            if let m = NamedModel.named(n), let p = try? ModelStore().ensure(m) { out[n] = p }
        }
        return out
    }()

    static func path(_ name: String) -> String {
        fetched[name] ?? ModelStore().cachedPath(for: NamedModel.named(name)!)
    }

    static func available(_ name: String) -> Bool {
        fetched[name] != nil
    }

    static let anyAvailable = names.contains(where: available)

    private static let loaded: [String: Tokenizer] = {
        var out: [String: Tokenizer] = [:]
        for n in names where available(n) {
            if let f = try? GGUFFile(path: path(n)), let t = try? Tokenizer(gguf: f) {
                out[n] = t
            }
        }
        return out
    }()

    /// The tokenizer of model `name`, or nil (with a recorded issue) when the file is absent.
    static func tokenizer(_ name: String) -> Tokenizer? {
        guard available(name) else {
            Issue.record("model file \(path(name)) is absent; fetch it (pagewise pull) to run this test")
            return nil
        }
        guard let t = loaded[name] else {
            Issue.record("could not build the tokenizer of \(path(name))")
            return nil
        }
        return t
    }
}

func describe(_ s: String) -> String {
    let d = s.debugDescription
    return d.count > 120 ? String(d.prefix(117)) + "..." : d
}
