import Foundation
import StructuredOutput
import Testing
import Tokenization

/// A small deterministic generator (SplitMix64) for the random walks.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Masks over the real vocabularies of SmolLM2 (49,152 tokens, byte-level BPE) and Gemma 3
/// (262,144 tokens, SentencePiece with byte fallback).
@Suite(.serialized) struct VocabularyMaskTests {
    static let models = ["smollm2-135m-instruct", "gemma3-270m"]

    static let weatherSchema = #"""
        {"type": "object", "properties": {
          "location": {"type": "string", "maxLength": 40},
          "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
          "days": {"type": "integer", "minimum": 1, "maximum": 14},
          "hourly": {"type": "boolean"},
          "tags": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 3}},
         "required": ["location", "unit", "days"], "additionalProperties": false}
        """#
    static let weatherText = #"{"location": "Paris, France", "unit": "celsius", "days": 3, "hourly": false, "tags": ["rain", "wind"]}"#

    static func isSet(_ m: [UInt32], _ t: Int) -> Bool { m[t >> 5] & (1 << UInt32(t & 31)) != 0 }

    @Test(arguments: models)
    func vocabularyExcludesSpecialTokens(_ model: String) throws {
        guard let tok = RealVocabularies.tokenizer(model), let v = RealVocabularies.vocabulary(model) else { return }
        #expect(v.size == tok.vocabSize)
        #expect(!v.endOfGeneration.isEmpty)
        for id in v.endOfGeneration { #expect(v.bytes(of: id).isEmpty) }
        if tok.bosId >= 0 { #expect(v.bytes(of: tok.bosId).isEmpty) }
        // Ordinary tokens decode to their bytes.
        let ids = tok.encode("Hello, world! {\"a\": 1}", addSpecial: false)
        #expect(ids.flatMap { v.bytes(of: $0) } == Array("Hello, world! {\"a\": 1}".utf8) || tok.addSpacePrefix)
    }

    /// The mask equals the brute-force answer (each token's bytes tried on the matcher), at
    /// states along a tokenized valid output.
    @Test(arguments: models)
    func maskEqualsBruteForce(_ model: String) throws {
        guard let tok = RealVocabularies.tokenizer(model), let v = RealVocabularies.vocabulary(model) else { return }
        let compiler = GrammarCompiler(vocabulary: v)
        let g = try compiler.compile(.jsonSchema(Self.weatherSchema))
        let ids = tok.encode(Self.weatherText, addSpecial: false)
        let m = GrammarMatcher(g)
        let checkAt = Set(model.hasPrefix("gemma") ? [0, 3, ids.count] : [0, 1, 2, 4, 6, 9, 14, ids.count - 1, ids.count])
        for step in 0...ids.count {
            if checkAt.contains(step) {
                let mask = m.nextTokenBitmask()
                var mismatches: [Int] = []
                for t in 0..<v.size {
                    let bytes = v.bytes(of: Int32(t))
                    let want = v.endOfGeneration.contains(Int32(t)) ? m.canTerminate : (!bytes.isEmpty && m.allows(bytes: bytes))
                    if Self.isSet(mask, t) != want { mismatches.append(t) }
                }
                #expect(mismatches.isEmpty, "\(model) step \(step): \(mismatches.count) tokens differ, first \(mismatches.prefix(5).map { String(decoding: v.bytes(of: Int32($0)), as: UTF8.self) })")
            }
            if step < ids.count {
                let mask = m.nextTokenBitmask()
                #expect(Self.isSet(mask, Int(ids[step])), "\(model): token \(step) of the valid text is masked out")
                #expect(m.accept(ids[step]))
            }
        }
        #expect(m.canTerminate)
        if let eog = v.endOfGeneration.first { #expect(m.accept(eog)) }
        #expect(m.isTerminated)
    }

    /// The same brute-force check for a regex, a GBNF grammar, a Lark grammar and a choice (SmolLM2).
    @Test func otherConstraintsEqualBruteForce() throws {
        let model = "smollm2-135m-instruct"
        guard let tok = RealVocabularies.tokenizer(model), let v = RealVocabularies.vocabulary(model) else { return }
        let compiler = GrammarCompiler(vocabulary: v)
        let cases: [(Constraint, String)] = [
            (.regex("[A-Z][a-z]+ \\d{2,4}(, [A-Z][a-z]+ \\d{2,4})*"), "Alice 42, Bob 1990"),
            (.grammar("root ::= expr\nexpr ::= term ((\"+\" | \"-\") term)*\nterm ::= [0-9]+ | \"(\" expr \")\""), "(12+3)-45"),
            (.grammar("start: \"SELECT \" NAME (\", \" NAME)* \" FROM \" NAME\nNAME: /[a-z_]+/"), "SELECT id, name FROM users"),
            (.choice(["positive", "negative", "neutral"]), "negative"),
        ]
        for (c, text) in cases {
            let g = try compiler.compile(c)
            let m = GrammarMatcher(g)
            let ids = tok.encode(text, addSpecial: false)
            for step in 0...ids.count {
                if step == 0 || step == ids.count / 2 || step == ids.count {
                    let mask = m.nextTokenBitmask()
                    var differ = 0
                    for t in 0..<v.size {
                        let bytes = v.bytes(of: Int32(t))
                        let want = v.endOfGeneration.contains(Int32(t)) ? m.canTerminate : (!bytes.isEmpty && m.allows(bytes: bytes))
                        if Self.isSet(mask, t) != want { differ += 1 }
                    }
                    #expect(differ == 0, "\(c) step \(step): \(differ) tokens differ")
                }
                if step < ids.count { #expect(m.accept(ids[step]), "\(c): token \(step)") }
            }
            #expect(m.canTerminate, "\(c)")
        }
    }

    /// Valid fixture outputs, tokenized by the real tokenizer, pass token by token.
    @Test(arguments: models)
    func fixtureOutputsPassTokenByToken(_ model: String) throws {
        guard let tok = RealVocabularies.tokenizer(model), let v = RealVocabularies.vocabulary(model) else { return }
        let compiler = GrammarCompiler(vocabulary: v)
        var checked = 0
        for entry in Fixtures.schemas?.schemas ?? [] {
            // (A schema refused as unsatisfiable has no valid cases; JSONSchemaFixtureTests checks it.)
            guard let g = try? compiler.compile(.jsonSchema(entry.schema)) else { continue }
            for c in entry.cases where c.expected {
                let m = GrammarMatcher(g)
                let ids = tok.encode(c.text, addSpecial: false)
                guard ids.flatMap({ v.bytes(of: $0) }) == Array(c.text.utf8) else { continue }
                var ok = true
                for id in ids where !m.accept(id) { ok = false; break }
                #expect(ok && m.canTerminate, "\(model) \(entry.name): \(c.text)")
                checked += 1
            }
        }
        #expect(checked > 100)
    }

    /// Random walks: pick allowed tokens until the grammar may end; the text parses
    /// (JSONSerialization) and meets the schema's constraints.
    @Test(arguments: models)
    func randomWalksProduceValidJSON(_ model: String) throws {
        guard let v = RealVocabularies.vocabulary(model) else { return }
        let g = try GrammarCompiler(vocabulary: v).compile(.jsonSchema(Self.weatherSchema))
        let seeds: [UInt64] = model.hasPrefix("gemma") ? Array(1...4) : Array(1...12)
        var finished = 0
        for seed in seeds {
            var rng = SplitMix64(state: seed)
            let m = GrammarMatcher(g)
            var out: [UInt8] = []
            for _ in 0..<400 {
                if m.canTerminate { break }
                let mask = m.nextTokenBitmask()
                var allowed: [Int32] = []
                var closing: [Int32] = []
                for t in 0..<v.size where Self.isSet(mask, t) {
                    allowed.append(Int32(t))
                    if v.bytes(of: Int32(t)).contains(where: { $0 == 0x22 || $0 == 0x7D || $0 == 0x5D || $0 == 0x2C }) {
                        closing.append(Int32(t))
                    }
                }
                guard !allowed.isEmpty else { Issue.record("\(model) seed \(seed): empty mask before the end"); break }
                let pool = (!closing.isEmpty && Bool.random(using: &rng)) ? closing : allowed
                let t = pool[Int(rng.next() % UInt64(pool.count))]
                #expect(m.accept(t))
                out += v.bytes(of: t)
            }
            guard m.canTerminate else { continue }
            finished += 1
            let obj = try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any]
            guard let obj else { Issue.record("\(model) seed \(seed): not an object: \(String(decoding: out, as: UTF8.self))"); continue }
            #expect((obj["location"] as? String).map { $0.count <= 40 } == true)
            #expect(["celsius", "fahrenheit"].contains(obj["unit"] as? String ?? ""))
            let days = obj["days"] as? Int ?? 0
            #expect((1...14).contains(days))
            if let h = obj["hourly"] { #expect(h is Bool) }
            if let tags = obj["tags"] { #expect((tags as? [String]).map { $0.count <= 3 && $0.allSatisfy { $0.count <= 12 } } == true) }
            #expect(Set(obj.keys).isSubset(of: ["location", "unit", "days", "hourly", "tags"]))
        }
        #expect(finished >= seeds.count / 2, "\(model): \(finished) of \(seeds.count) walks finished")
    }

    /// Mask time along a tokenized output (the second pass, once each position's token sets exist).
    @Test(arguments: models)
    func maskTiming(_ model: String) throws {
        guard let tok = RealVocabularies.tokenizer(model), let v = RealVocabularies.vocabulary(model) else { return }
        let clock = ContinuousClock()
        let compileStart = clock.now
        let g = try GrammarCompiler(vocabulary: v).compile(.jsonSchema(Self.weatherSchema))
        let compileTime = clock.now - compileStart
        let ids = tok.encode(Self.weatherText, addSpecial: false)
        var mask = [UInt32](repeating: 0, count: v.maskWordCount)
        let firstStart = clock.now
        do {
            let m = GrammarMatcher(g)
            for id in ids {
                mask.withUnsafeMutableBufferPointer { m.fillNextTokenBitmask($0) }
                m.accept(id)
            }
        }
        let firstPass = clock.now - firstStart
        var times: [Double] = []
        for _ in 0..<3 {
            let m = GrammarMatcher(g)
            for id in ids {
                let t0 = clock.now
                mask.withUnsafeMutableBufferPointer { m.fillNextTokenBitmask($0) }
                times.append(Double((clock.now - t0).components.attoseconds) / 1e12 + Double((clock.now - t0).components.seconds) * 1e6)
                m.accept(id)
            }
        }
        times.sort()
        let p50 = times[times.count / 2], p99 = times[min(times.count - 1, times.count * 99 / 100)]
        print("mask timing \(model) (\(v.size) tokens, \(ids.count) steps): p50 \(String(format: "%.1f", p50)) µs, p99 \(String(format: "%.1f", p99)) µs, max \(String(format: "%.1f", times.last ?? 0)) µs; compile \(compileTime); first pass (token sets computed) \(firstPass)")
        #expect(p50 > 0)
    }
}
