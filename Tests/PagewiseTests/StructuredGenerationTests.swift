import Foundation
import Pagewise
import StructuredOutput
import Testing
import TestSupport

/// Structured output inside the batched engine with the real default model: the grammar's mask is
/// applied after the other processors, end of generation only where the grammar accepts, and forced
/// text is appended without sampling (jump-forward).
@Suite(.serialized)
struct StructuredGenerationTests {
    typealias Streams = SamplingEngineTests.Streams

    static let schema = """
    {"type":"object","properties":{"name":{"type":"string","maxLength":20},"age":{"type":"integer","minimum":0,"maximum":150},\
    "city":{"enum":["Paris","London","Tokyo"]},"tags":{"type":"array","items":{"type":"string","maxLength":10},"maxItems":3}},\
    "required":["name","age","city","tags"],"additionalProperties":false}
    """

    static func chat(_ e: LLMEngine, _ user: String) -> [Int32] {
        e.tokenizer.encode("<|im_start|>user\n\(user)<|im_end|>\n<|im_start|>assistant\n")
    }

    /// The JSON every constrained output must be: parsed independently (Foundation) and checked
    /// against the schema's rules.
    static func checkPerson(_ text: String) -> String? {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return "not a JSON object: \(text)" }
        guard Set(obj.keys) == ["name", "age", "city", "tags"] else { return "keys \(obj.keys.sorted())" }
        guard let name = obj["name"] as? String, name.count <= 20 else { return "name" }
        guard let age = obj["age"] as? Int, (0 ... 150).contains(age), !(obj["age"] is Bool) else { return "age" }
        guard let city = obj["city"] as? String, ["Paris", "London", "Tokyo"].contains(city) else { return "city" }
        guard let tags = obj["tags"] as? [String], tags.count <= 3, tags.allSatisfy({ $0.count <= 10 }) else { return "tags" }
        return nil
    }

    @Test func jsonSchemaGreedyAndSampledWithJumpForward() throws {
        let e = try SamplingEngineTests.engine()
        let s = Streams()
        var p = SamplingParams.greedy
        p.maxTokens = 120
        p.constraint = .jsonSchema(Self.schema)
        let prompt = Self.chat(e, "Describe a person living in a big city as JSON.")
        try e.addRequest(id: "greedy", prompt: prompt, params: p, sink: s.sink("greedy"))
        var noJump = p
        noJump.jumpForward = false
        try e.addRequest(id: "nojump", prompt: prompt, params: noJump, sink: s.sink("nojump"))
        var sampled = p
        sampled.temperature = 1.0
        sampled.topK = 0
        sampled.topP = 1
        sampled.minP = 0
        sampled.seed = 3
        try e.addRequest(id: "sampled", prompt: prompt, params: sampled, n: 3, sink: s.sink("sampled"))
        // An unconstrained neighbour is untouched by the others' masks.
        var plain = SamplingParams.greedy
        plain.maxTokens = 20
        try e.addRequest(id: "plain", prompt: prompt, params: plain, sink: s.sink("plain"))
        SamplingEngineTests.run(e)
        for key in ["greedy", "nojump", "sampled", "sampled#1", "sampled#2"] {
            let r = s[key]
            #expect(r.error == nil, "\(key): \(String(describing: r.error))")
            #expect(r.finish == .stop, "\(key) ends where the grammar does: \(r.text)")
            #expect(Self.checkPerson(r.text) == nil, "\(key): \(Self.checkPerson(r.text) ?? "")")
        }
        #expect(e.statistics().jumpForwardTokens > 0)
        let ref = Streams()
        let e2 = try SamplingEngineTests.engine()
        try e2.addRequest(id: "plain", prompt: prompt, params: plain, sink: ref.sink("plain"))
        SamplingEngineTests.run(e2)
        #expect(s["plain"].tokens == ref["plain"].tokens)
        #expect(e.statistics().freeBlocks == e.blocks.numBlocks)
    }

    @Test func regexAndChoiceAndGrammar() throws {
        let e = try SamplingEngineTests.engine()
        let s = Streams()
        var p = SamplingParams.greedy
        p.maxTokens = 40
        p.constraint = .regex("[0-9]{3}-[0-9]{4}")
        try e.addRequest(id: "regex", prompt: Self.chat(e, "Give me a phone number."), params: p, sink: s.sink("regex"))
        p.constraint = .choice(["positive", "negative", "neutral"])
        try e.addRequest(id: "choice", prompt: Self.chat(e, "Sentiment of: I love this!"), params: p, sink: s.sink("choice"))
        p.constraint = .grammar("root ::= \"yes\" | \"no\" | \"maybe, \" [a-z]+")
        try e.addRequest(id: "gbnf", prompt: Self.chat(e, "Is the sky blue?"), params: p, sink: s.sink("gbnf"))
        SamplingEngineTests.run(e)
        #expect(s["regex"].text.range(of: "^[0-9]{3}-[0-9]{4}$", options: .regularExpression) != nil, "\(s["regex"].text)")
        #expect(["positive", "negative", "neutral"].contains(s["choice"].text), "\(s["choice"].text)")
        let g = s["gbnf"].text
        #expect(g == "yes" || g == "no" || g.range(of: "^maybe, [a-z]+$", options: .regularExpression) != nil, "\(g)")
        for k in ["regex", "choice", "gbnf"] { #expect(s[k].finish == .stop) }
    }

    /// A schema we cannot enforce is refused before the request enters the engine, naming the
    /// keyword; through AsyncEngine (compiled off the engine thread) the stream throws it.
    @Test func unsupportedSchemaIsAClearError() async throws {
        let e = try SamplingEngineTests.engine()
        var p = SamplingParams.greedy
        p.constraint = .jsonSchema(#"{"type":"object","patternProperties":{"^x":{"type":"string"}}}"#)
        #expect { try e.addRequest(id: "x", prompt: [1, 2, 3], params: p, sink: { _ in }) } throws: { "\($0)".contains("patternProperties") }

        var c = EngineConfig(modelPath: try TestModels.path("smollm2-135m-instruct"), threads: 2)
        c.numBlocks = 256
        let async = try AsyncEngine(config: c)
        defer { async.shutdown() }
        await #expect { for try await _ in async.generate(prompt: "hi", params: p) {} } throws: { "\($0)".contains("patternProperties") }
        var ok = SamplingParams.greedy
        ok.maxTokens = 8
        ok.constraint = .choice(["alpha", "beta"])
        var text = ""
        for try await out in async.generate(prompt: "Pick one:", params: ok) { text += out.text }
        #expect(text == "alpha" || text == "beta")
    }
}
