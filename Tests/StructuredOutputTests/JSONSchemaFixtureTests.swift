import StructuredOutput
import Testing

/// Candidate outputs labelled by Python's `jsonschema` (scripts/gen_structured_fixtures.py): the
/// matcher, fed byte by byte, accepts exactly the valid ones inside our output policy.
@Suite struct JSONSchemaFixtureTests {
    static let names: [String] = Fixtures.schemas?.schemas.map(\.name) ?? []

    @Test func fixturesPresent() {
        #expect(Fixtures.schemas != nil)
        #expect((Fixtures.schemas?.schemas.count ?? 0) >= 40)
    }

    @Test(arguments: names)
    func schemaCases(_ name: String) throws {
        guard let entry = Fixtures.schemas?.schemas.first(where: { $0.name == name }) else { return }
        let g: CompiledGrammar
        do {
            g = try byteCompiler.compile(.jsonSchema(entry.schema))
        } catch let e as StructuredOutputError where e.kind == .unsatisfiable {
            // Refusing an unsatisfiable schema is right when the reference accepts nothing.
            let anyExpected = entry.cases.contains { $0.expected }
            #expect(!anyExpected, "\(name): \(e.message)")
            return
        }
        for c in entry.cases {
            #expect(fullMatch(g, c.text) == c.expected, "schema \(name): \(c.text.debugDescription) should be \(c.expected ? "accepted" : "rejected")")
        }
    }

    @Test func unsupportedKeywordsAreNamed() {
        for u in Fixtures.schemas?.unsupported ?? [] {
            do {
                _ = try byteCompiler.compile(.jsonSchema(u.schema))
                Issue.record("schema \(u.schema) compiled; expected an error naming \(u.keyword ?? "a feature")")
            } catch let e as StructuredOutputError {
                if let k = u.keyword {
                    #expect(e.kind == .unsupportedKeyword(k), "\(u.schema): \(e.message)")
                    #expect(e.message.contains("'\(k)'"))
                }
            } catch {
                Issue.record("unexpected error type \(error)")
            }
        }
    }

    @Test func invalidSchemasThrow() {
        for s in ["{", "[]", "3", #"{"type": "strng"}"#, "false", ##"{"$ref": "#/$defs/missing"}"##,
                  #"{"type": "integer", "minimum": 5, "maximum": 1}"#, ##"{"$ref": "#"}"##,
                  #"{"type": "array", "minItems": 3, "maxItems": 1}"#] {
            #expect(throws: StructuredOutputError.self, "\(s)") { try byteCompiler.compile(.jsonSchema(s)) }
        }
    }

    @Test func jsonObjectConstraint() throws {
        let g = try byteCompiler.compile(.jsonObject)
        #expect(fullMatch(g, #"{"a": [1, {"b": "c"}], "d": null}"#))
        #expect(fullMatch(g, "{}"))
        #expect(!fullMatch(g, "[]"))
        #expect(!fullMatch(g, #"{"a": 1"#))
        #expect(!fullMatch(g, #"{"a":   1}"#), "runs of spaces are not allowed")
    }

    @Test func compileCacheIsByConstraint() throws {
        let c = GrammarCompiler(vocabulary: byteVocabulary)
        let a = try c.compile(.regex("ab+"))
        let b = try c.compile(.regex("ab+"))
        #expect(a === b)
        #expect(c.cachedCount == 1)
        #expect(Constraint.regex("ab+").stableHash == Constraint.regex("ab+").stableHash)
        #expect(Constraint.regex("ab+").stableHash != Constraint.grammar("ab+").stableHash)
        // FNV-1a 64 of the tag byte 1 (computed in Python), fixed across processes.
        #expect(Constraint.jsonObject.stableHash == 0xAF63_BC4C_8601_B62C)
    }
}
