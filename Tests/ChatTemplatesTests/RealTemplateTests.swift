import ChatTemplates
import Foundation
import Testing

/// Every real template × every conversation renders byte for byte as jinja2 renders it in
/// transformers' environment; where jinja2 raises, we raise (with the same message for
/// `raise_exception`).
@Suite struct RealTemplateTests {
    @Test(arguments: Fixtures.templateNames)
    func rendersAsJinja2(_ name: String) throws {
        let renders = Fixtures.object(Fixtures.object(try Fixtures.json("renders.json"))?["templates"])
        let conversations = Fixtures.object(try Fixtures.json("conversations.json"))
        let expected = try #require(Fixtures.object(renders?[name]))
        let source = try Fixtures.templateSource(name)
        let template: ChatTemplate
        do {
            template = try ChatTemplate(source: source)
        } catch {
            Issue.record("\(name) failed to parse: \(error)")
            return
        }
        for conversation in expected.keys {
            let golden = try #require(Fixtures.object(expected[conversation]))
            let context = Fixtures.context(conversations?[conversation])
            if let output = Fixtures.string(golden["output"]) {
                do {
                    let rendered = try template.render(context, now: Fixtures.now)
                    #expect(rendered == output, "\(name) × \(conversation)")
                } catch {
                    Issue.record("\(name) × \(conversation) threw: \(error)")
                }
            } else {
                let error = try #require(Fixtures.object(golden["error"]))
                let message = Fixtures.string(error["message"])
                let kind = Fixtures.string(error["type"])
                do {
                    let rendered = try template.render(context, now: Fixtures.now)
                    Issue.record("\(name) × \(conversation) rendered but jinja2 raised \(kind ?? "") \(message ?? ""): \(rendered.prefix(200))")
                } catch let error as ChatTemplateError {
                    #expect(error.kind == kind, "\(name) × \(conversation): \(error.message) vs \(message ?? "")")
                    if kind == "TemplateError" {
                        #expect(error.message == message, "\(name) × \(conversation)")
                    }
                }
            }
        }
    }
}
