import Foundation
import GGUF
import Pagewise
import Testing
import TestSupport
import Tokenization

/// `ChatSession` on SmolLM2: the prompt jinja2 renders from the model's template, history kept
/// across turns and served again from the prefix cache, Ctrl-C (task cancellation) mid-answer.
@Suite(.serialized)
struct ChatSessionTests {
    struct Reference: Decodable {
        let messages: [ChatMessage]
        let prompt: String
        let first_user_only: String
    }

    static func reference() throws -> Reference {
        let url = try #require(Bundle.module.url(forResource: "chat-smollm2", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    @Test func templateMatchesJinja2() throws {
        let path = try TestModels.path("smollm2-135m-instruct")
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: path))
        let template = try ChatPromptTemplate.forModel(at: path, tokenizer: tokenizer)
        let ref = try Self.reference()
        #expect(try template.render(ref.messages) == ref.prompt)
        #expect(try template.render(Array(ref.messages[1 ... 1])) == ref.first_user_only)
    }

    @Test func builtinTemplateWhenTheModelHasNone() throws {
        #expect(try ChatPromptTemplate.source(metadata: GGUFMetadata(), architecture: "gemma3").contains("<start_of_turn>"))
        // Everything else falls back to ChatML, as llama.cpp and Ollama do; no architecture at all has none.
        #expect(try ChatPromptTemplate.source(metadata: GGUFMetadata(), architecture: "nonesuch").contains("<|im_start|>"))
        #expect(throws: ChatPromptError.noTemplate(architecture: nil)) { try ChatPromptTemplate.source(metadata: GGUFMetadata(), architecture: nil) }
        #expect(try ChatPromptTemplate.source(metadata: GGUFMetadata(), architecture: nil, override: "chatml").contains("<|im_start|>"))
        #expect(throws: ChatPromptError.unknownTemplate("/no/such/file.jinja")) {
            try ChatPromptTemplate.source(metadata: GGUFMetadata(), architecture: "llama", override: "/no/such/file.jinja")
        }
    }

    static func session(_ params: SamplingParams) throws -> (AsyncEngine, ChatSession) {
        let path = try TestModels.path("smollm2-135m-instruct")
        var c = EngineConfig(modelPath: path, threads: 2)
        c.numBlocks = 64
        c.maxModelLen = 512
        c.maxNumSeqs = 1
        let engine = try AsyncEngine(config: c)
        let template = try ChatPromptTemplate.forModel(at: path, tokenizer: engine.tokenizer)
        return (engine, ChatSession(engine: engine, template: template, params: params, systemPrompt: "You are terse."))
    }

    @Test func historyIsKeptAndServedFromThePrefixCache() async throws {
        var p = SamplingParams.greedy
        p.maxTokens = 2
        let (engine, session) = try Self.session(p)
        defer { engine.shutdown() }
        let first = try await session.respond(to: "Name a colour.") { _ in }
        #expect(first.completionTokens >= 1 && first.completionTokens <= 2)
        #expect(first.cachedPromptTokens == 0)
        let second = try await session.respond(to: "Another one.") { _ in }
        #expect(second.promptTokens > first.promptTokens)
        // Every full block of the first turn's prompt comes back from the cache.
        #expect(second.cachedPromptTokens >= first.promptTokens / 16 * 16)
        #expect(second.cachedPromptTokens > 0)
        let roles = await session.messages.map(\.role)
        #expect(roles == ["system", "user", "assistant", "user", "assistant"])
        let saved = try JSONDecoder().decode([ChatMessage].self, from: await session.exportJSON())
        #expect(saved == (await session.messages))
        await session.reset()
        #expect(await session.messages.map(\.role) == ["system"])
        await session.setSystemPrompt("")
        #expect(await session.messages.isEmpty)
    }

    @Test func cancellingTheTaskStopsTheAnswer() async throws {
        var p = SamplingParams.greedy
        p.maxTokens = 200
        p.ignoreEOS = true
        let (engine, session) = try Self.session(p)
        defer { engine.shutdown() }
        let task = Task {
            try await session.respond(to: "Count to one hundred.") { _ in
                // The first piece of text: "press Ctrl-C".
                withUnsafeCurrentTask { $0?.cancel() }
            }
        }
        let stats = try await task.value
        #expect(stats.interrupted)
        #expect(stats.completionTokens < 200)
        #expect(stats.finishReason == nil)
        #expect(await session.messages.last?.role == "assistant")
        // The engine is free for the next turn.
        try await session.setParams(SamplingParams.greedy.applying(assignments: "max_tokens=1"))
        let next = try await session.respond(to: "Hi.") { _ in }
        #expect(!next.interrupted && next.completionTokens == 1)
    }
}
