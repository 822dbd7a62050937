import Foundation
import GGUF
import StructuredOutput
import Testing
import Tokenization

/// A vocabulary of the 256 single bytes plus an end-of-generation token (id 256): matching it
/// is matching the text byte by byte.
let byteVocabulary = TokenVocabulary(tokenBytes: (0..<256).map { [UInt8($0)] } + [[]], endOfGeneration: [256])
let byteCompiler = GrammarCompiler(vocabulary: byteVocabulary)

/// Whether the whole of `text` is accepted and the grammar may end after it.
func fullMatch(_ g: CompiledGrammar, _ text: String) -> Bool {
    let m = GrammarMatcher(g)
    guard m.accept(bytes: Array(text.utf8)) else { return false }
    return m.canTerminate
}

func fullMatch(_ c: Constraint, _ text: String) throws -> Bool {
    fullMatch(try byteCompiler.compile(c), text)
}

func isSet(_ mask: [UInt32], _ t: Int32) -> Bool {
    mask[Int(t) >> 5] & (1 << UInt32(t & 31)) != 0
}

/// The real models' tokenizers, read from the model cache (`$PAGEWISE_CACHE`, default
/// `~/.cache/pagewise`); nil (with a recorded issue) when the file is absent.
enum RealVocabularies {
    static func path(_ name: String) -> String {
        let env = ProcessInfo.processInfo.environment["PAGEWISE_CACHE"]
        let dir = (env?.isEmpty == false ? env : nil) ?? (NSHomeDirectory() + "/.cache/pagewise")
        return "\(dir)/models/\(name).gguf"
    }

    private static let loaded: [String: Tokenizer] = {
        var out: [String: Tokenizer] = [:]
        for n in ["smollm2-135m-instruct", "gemma3-270m"] {
            if let f = try? GGUFFile(path: path(n)), let t = try? Tokenizer(gguf: f) { out[n] = t }
        }
        return out
    }()

    private static let vocabularies: [String: TokenVocabulary] = loaded.mapValues { TokenVocabulary(tokenizer: $0) }

    static func tokenizer(_ name: String) -> Tokenizer? {
        guard let t = loaded[name] else {
            Issue.record("model file \(path(name)) is absent or unreadable; fetch it (pagewise pull \(name))")
            return nil
        }
        return t
    }

    static func vocabulary(_ name: String) -> TokenVocabulary? {
        guard tokenizer(name) != nil else { return nil }
        return vocabularies[name]
    }
}

/// Fixture files written by scripts/gen_structured_fixtures.py.
enum Fixtures {
    struct Case: Decodable {
        let text: String
        let valid: Bool
        let policy: String?
        /// Whether our matcher must accept the text: valid by the reference and inside our output policy.
        var expected: Bool { valid && policy == nil }
    }

    struct SchemaEntry: Decodable {
        let name: String
        let schema: String
        let cases: [Case]
    }

    struct Unsupported: Decodable {
        let schema: String
        let keyword: String?
    }

    struct SchemaFile: Decodable {
        let schemas: [SchemaEntry]
        let unsupported: [Unsupported]
    }

    struct RegexEntry: Decodable {
        let pattern: String
        let cases: [Case]
    }

    struct GrammarEntry: Decodable {
        let name: String
        let kind: String
        let grammar: String
        let cases: [Case]
    }

    struct RegexFile: Decodable {
        let regex: [RegexEntry]
        let grammars: [GrammarEntry]
    }

    static func load<T: Decodable>(_ name: String, as: T.Type) throws -> T {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw StructuredOutputError(.invalidGrammar, "fixture \(name).json is missing; run scripts/gen_structured_fixtures.py")
        }
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    static let schemas: SchemaFile? = try? load("json_schema_cases", as: SchemaFile.self)
    static let regexes: RegexFile? = try? load("regex_grammar_cases", as: RegexFile.self)
}
