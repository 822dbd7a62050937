import ChatTemplates
import Foundation
import Testing

/// Small templates exercising the lexer, parser, filters, tests and methods, each checked
/// against jinja2's output (or its error) from scripts/gen_chat_template_fixtures.py.
@Suite struct SnippetTests {
    @Test(arguments: Fixtures.snippets)
    func matchesJinja2(_ snippet: Fixtures.Snippet) {
        let result: Result<String, Error> = Result {
            try ChatTemplate(source: snippet.template).render(snippet.context, now: Fixtures.now)
        }
        switch (result, snippet.output) {
        case (.success(let rendered), let expected?):
            #expect(rendered == expected)
        case (.failure(let error), let expected?):
            Issue.record("threw \(error); jinja2 rendered \(expected.debugDescription)")
        case (.success(let rendered), nil):
            Issue.record("rendered \(rendered.debugDescription); jinja2 raised \(snippet.errorType ?? "") \(snippet.errorMessage ?? "")")
        case (.failure(let error), nil):
            let message = (error as? ChatTemplateError)?.message ?? ""
            if let tag = ["include", "extends"].first(where: { snippet.template.contains("{% \($0)") }) {
                // jinja2 fails for want of a loader; we refuse the tag itself, by name.
                #expect(message.contains("'\(tag)'") && message.contains("not supported"), "\(message)")
                return
            }
            #expect((error as? ChatTemplateError)?.kind == snippet.errorType, "\(error) vs \(snippet.errorMessage ?? "")")
            if snippet.errorType == "TemplateError" || snippet.errorType == "TemplateAssertionError" {
                #expect((error as? ChatTemplateError)?.message == snippet.errorMessage)
            }
        }
    }
}
