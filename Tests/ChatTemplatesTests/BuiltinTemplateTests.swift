import ChatTemplates
import Foundation
import Testing

/// The built-in templates render as jinja2 renders the same text (the script reads it out of
/// BuiltinChatTemplates.swift), and the names and architectures map as documented.
@Suite struct BuiltinTemplateTests {
    @Test(arguments: BuiltinChatTemplates.names)
    func rendersAsJinja2(_ name: String) throws {
        let fixture = Fixtures.object(Fixtures.object(Fixtures.object(try Fixtures.json("builtin-renders.json"))?["templates"])?[name])
        let golden = try #require(fixture, "no golden for \(name): rerun scripts/gen_chat_template_fixtures.py")
        let source = try #require(BuiltinChatTemplates.named(name))
        #expect(Fixtures.string(golden["source"]) == source, "the golden was made from other text; rerun the script")
        let conversations = Fixtures.object(try Fixtures.json("conversations.json"))
        let template = try ChatTemplate(source: source)
        let renders = try #require(Fixtures.object(golden["renders"]))
        for conversation in renders.keys {
            let expected = try #require(Fixtures.object(renders[conversation]))
            let context = Fixtures.context(conversations?[conversation])
            if let output = Fixtures.string(expected["output"]) {
                #expect(try template.render(context, now: Fixtures.now) == output, "\(name) × \(conversation)")
            } else {
                let error = Fixtures.object(expected["error"])
                #expect(throws: ChatTemplateError.self, "\(name) × \(conversation)") {
                    try template.render(context, now: Fixtures.now)
                }
                if Fixtures.string(error?["type"]) == "TemplateError" {
                    do {
                        _ = try template.render(context, now: Fixtures.now)
                    } catch let e as ChatTemplateError {
                        #expect(e.message == Fixtures.string(error?["message"]))
                    }
                }
            }
        }
    }

    @Test func namesAndArchitectures() throws {
        #expect(BuiltinChatTemplates.names == ["chatml", "gemma", "llama3", "mistral", "phi3"])
        #expect(BuiltinChatTemplates.named("nope") == nil)
        #expect(BuiltinChatTemplates.named("ChatML") == BuiltinChatTemplates.named("chatml"))
        #expect(BuiltinChatTemplates.forArchitecture("gemma3") == BuiltinChatTemplates.named("gemma"))
        #expect(BuiltinChatTemplates.forArchitecture("gemma3_text") == BuiltinChatTemplates.named("gemma"))
        #expect(BuiltinChatTemplates.forArchitecture("llama") == BuiltinChatTemplates.named("chatml"))
        #expect(BuiltinChatTemplates.forArchitecture("phi3") == BuiltinChatTemplates.named("phi3"))
        let gemma = try ChatTemplate(source: try #require(BuiltinChatTemplates.forArchitecture("gemma3")))
        let prompt = try gemma.render([
            "messages": [["role": "system", "content": "Be terse."], ["role": "user", "content": "Hi"]],
            "add_generation_prompt": true, "bos_token": "<bos>",
        ])
        #expect(prompt == "<bos><start_of_turn>user\nBe terse.\n\nHi<end_of_turn>\n<start_of_turn>model\n")
    }
}
