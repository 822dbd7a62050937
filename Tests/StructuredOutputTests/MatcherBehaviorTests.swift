import StructuredOutput
import Testing

@Suite struct MatcherBehaviorTests {
    /// A vocabulary with multi-byte tokens, for mask and jump-forward checks.
    static let words: [String] = ["{", "}", "\"", "\"name", "\":", " ", "\"a\"", "a", "ab", "b", "1", "12", ",", "\"}", "[", "]", "x\"}"]
    static let vocab = TokenVocabulary(tokenBytes: words.map { Array($0.utf8) } + [[]], endOfGeneration: [Int32(words.count)])

    func allowed(_ m: GrammarMatcher) -> [String] {
        let mask = m.nextTokenBitmask()
        return (0..<Self.words.count).filter { mask[$0 >> 5] & (1 << UInt32($0 & 31)) != 0 }.map { Self.words[$0] }
    }

    @Test func maskAndTermination() throws {
        let g = try GrammarCompiler(vocabulary: Self.vocab).compile(.regex("\"(a|b)+\"\\}"))
        let m = GrammarMatcher(g)
        #expect(Set(allowed(m)) == ["\"", "\"a\""])
        #expect(m.accept(2))  // "
        #expect(Set(allowed(m)) == ["a", "ab", "b"])
        #expect(!m.accept(10))  // 1 is not allowed; nothing changes
        #expect(m.accept(8))  // ab
        #expect(Set(allowed(m)) == ["\"", "\"}", "a", "ab", "b"])
        #expect(!m.canTerminate)
        #expect(m.accept(13))  // "}
        #expect(m.canTerminate)
        let mask = m.nextTokenBitmask()
        let eog = Self.words.count
        #expect(mask[eog >> 5] & (1 << UInt32(eog & 31)) != 0)
        #expect(m.accept(Int32(eog)))
        #expect(m.isTerminated)
        #expect(!m.accept(7))
    }

    @Test func rollbackRestoresStates() throws {
        let g = try GrammarCompiler(vocabulary: Self.vocab).compile(.regex("ab1"))
        let m = GrammarMatcher(g)
        #expect(m.accept(8))  // ab
        #expect(m.accept(10))  // 1
        #expect(m.canTerminate)
        m.rollback(1)
        #expect(!m.canTerminate)
        #expect(allowed(m) == ["1"])
        m.rollback(5)
        #expect(Set(allowed(m)) == ["a", "ab"])
    }

    @Test func forcedContinuationJumpsOverFixedText() throws {
        let schema = #"{"type":"object","properties":{"name":{"type":"string"},"id":{"const":12}},"required":["name","id"],"additionalProperties":false}"#
        let g = try byteCompiler.compile(.jsonSchema(schema))
        let m = GrammarMatcher(g)
        #expect(m.forcedContinuation() == Array("{".utf8))
        #expect(m.accept(bytes: Array("{".utf8)))
        // Optional whitespace is a choice: nothing forced.
        #expect(m.forcedContinuation() == [])
        #expect(m.accept(bytes: Array("\"".utf8)))
        #expect(m.forcedContinuation() == Array("name\"".utf8))
        #expect(m.accept(bytes: Array("name\": \"Al\",".utf8)))
        #expect(m.accept(bytes: Array(" ".utf8)))
        #expect(m.forcedContinuation() == Array("\"id\"".utf8))
        #expect(m.accept(bytes: Array("\"id\":".utf8)))
        #expect(m.accept(bytes: Array(" ".utf8)))
        #expect(m.forcedContinuation() == Array("12".utf8))
    }

    @Test func whitespaceIsBounded() throws {
        let g = try byteCompiler.compile(.jsonObject)
        #expect(fullMatch(g, "{\n  \"a\": 1\n}"))
        #expect(!fullMatch(g, "{  \"a\": 1}"))
        #expect(!fullMatch(g, "{\n" + String(repeating: " ", count: 21) + "\"a\": 1}"))
    }

    @Test func hostileInputsNeverCrash() {
        var rng = SplitMix64(state: 42)
        let alphabet = Array("{}[]()\"':,.*+?|\\^$-_/ab01 \n#=:<>!~%".utf8)
        for i in 0..<300 {
            let n = Int(rng.next() % 40)
            var bytes: [UInt8] = []
            for _ in 0..<n {
                bytes.append(rng.next() % 3 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))])
            }
            let s = String(decoding: bytes, as: UTF8.self)
            for c in [Constraint.jsonSchema(s), .regex(s), .grammar(s), .grammar("root ::= " + s), .grammar("start: " + s)] {
                if let g = try? byteCompiler.compile(c) {
                    let m = GrammarMatcher(g)
                    _ = m.nextTokenBitmask()
                    _ = m.accept(bytes: Array("ab".utf8))
                    _ = m.forcedContinuation()
                }
            }
            _ = i
        }
        // Pathological sizes are refused, not expanded.
        var defs: [String] = []
        let q = "\""
        for i in 0..<40 {
            let next = q + "#/$defs/a\(i + 1)" + q
            defs.append(q + "a\(i)" + q + ": {\"type\": \"object\", \"anyOf\": [{\"$ref\": \(next)}, {\"$ref\": \(next)}]}")
        }
        defs.append(q + "a40" + q + ": {\"type\": \"object\"}")
        let doubling = "{\"$defs\": {" + defs.joined(separator: ", ") + "}, \"$ref\": \"#/$defs/a0\"}"
        #expect(throws: StructuredOutputError.self) { try byteCompiler.compile(.jsonSchema(doubling)) }
        #expect(throws: StructuredOutputError.self) { try byteCompiler.compile(.regex("((a{1000}){1000}){1000}")) }
        #expect(throws: StructuredOutputError.self) { try byteCompiler.compile(.jsonSchema(String(repeating: #"{"items":"#, count: 100) + "{}" + String(repeating: "}", count: 100))) }
    }
}

@Suite struct ConcurrencyTests {
    /// Many threads compile the same constraints and fill masks at once: one grammar per
    /// constraint, and every thread sees the same masks.
    @Test func concurrentCompileAndMasks() async throws {
        let compiler = GrammarCompiler(vocabulary: byteVocabulary)
        let schema = #"{"type":"object","properties":{"a":{"type":"string","maxLength":5},"b":{"type":"array","items":{"type":"integer"}}},"required":["a","b"]}"#
        let reference: [[UInt32]] = try {
            let m = GrammarMatcher(try GrammarCompiler(vocabulary: byteVocabulary).compile(.jsonSchema(schema)))
            var out: [[UInt32]] = []
            for b in Array(#"{"a": "xy", "b": [1, 22]}"#.utf8) {
                out.append(m.nextTokenBitmask())
                #expect(m.accept(Int32(b)))
            }
            return out
        }()
        let results = try await withThrowingTaskGroup(of: [[UInt32]].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let m = GrammarMatcher(try compiler.compile(.jsonSchema(schema)))
                    var out: [[UInt32]] = []
                    for b in Array(#"{"a": "xy", "b": [1, 22]}"#.utf8) {
                        out.append(m.nextTokenBitmask())
                        _ = m.accept(Int32(b))
                    }
                    return out
                }
            }
            var all: [[[UInt32]]] = []
            for try await r in group { all.append(r) }
            return all
        }
        #expect(results.count == 8)
        let eager = try GrammarCompiler(vocabulary: byteVocabulary).compile(.jsonSchema(schema), precomputeTokenSets: true)
        let m = GrammarMatcher(eager)
        #expect(m.nextTokenBitmask() == reference[0])
        for r in results { #expect(r == reference) }
        #expect(compiler.cachedCount == 1)
    }
}

@Suite struct TokenBitmaskTests {
    @Test func applyMasksLogits() throws {
        let m = GrammarMatcher(try byteCompiler.compile(.regex("[ab]c")))
        let mask = m.nextTokenBitmask()
        var logits = [Float](repeating: 1, count: byteVocabulary.size)
        mask.withUnsafeBufferPointer { mk in logits.withUnsafeMutableBufferPointer { TokenBitmask.apply(mk, to: $0) } }
        let finite = logits.indices.filter { logits[$0].isFinite }
        #expect(finite == [0x61, 0x62])
        mask.withUnsafeBufferPointer { mk in
            #expect(TokenBitmask.count(mk) == 2)
            #expect(TokenBitmask.isAllowed(0x61, in: mk))
            #expect(!TokenBitmask.isAllowed(0x63, in: mk))
            #expect(!TokenBitmask.isAllowed(-1, in: mk))
        }
    }
}
