/// What a request's output must match.
///
/// Every case compiles into the same grammar form (see ``GrammarCompiler``).
public enum Constraint: Sendable, Hashable {
    /// Any JSON object (OpenAI's `{"type": "json_object"}`).
    case jsonObject
    /// A JSON Schema, as JSON text (draft 2020-12 keywords, plus `definitions` and `nullable`).
    case jsonSchema(String)
    /// A regular expression the whole output must match (Python `re.fullmatch` semantics).
    case regex(String)
    /// Exactly one of these strings.
    case choice([String])
    /// A grammar: llama.cpp's GBNF (`root ::= …`) or the Lark-style EBNF vLLM accepts
    /// (`start: …`); which one is detected from the text.
    case grammar(String)

    /// A hash of the constraint that is the same in every process (FNV-1a 64 over a tagged
    /// serialization); the compile cache's key.
    public var stableHash: UInt64 {
        var h = StableHasher()
        switch self {
        case .jsonObject: h.add(tag: 1)
        case .jsonSchema(let s): h.add(tag: 2); h.add(s)
        case .regex(let s): h.add(tag: 3); h.add(s)
        case .choice(let list):
            h.add(tag: 4)
            h.add(UInt64(list.count))
            for s in list { h.add(s) }
        case .grammar(let s): h.add(tag: 5); h.add(s)
        }
        return h.value
    }
}

/// FNV-1a, 64 bits: stable across processes and runs (unlike Swift's `Hasher`).
struct StableHasher {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(byte: UInt8) {
        value ^= UInt64(byte)
        value = value &* 0x0000_0100_0000_01B3
    }

    mutating func add(tag: UInt8) { add(byte: tag) }

    mutating func add(_ v: UInt64) {
        for i in 0..<8 { add(byte: UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    mutating func add(_ s: String) {
        add(UInt64(s.utf8.count))
        for b in s.utf8 { add(byte: b) }
    }
}
