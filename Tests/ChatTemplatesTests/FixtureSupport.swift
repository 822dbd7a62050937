import ChatTemplates
import Foundation
import Testing

/// Reads the jinja2 goldens written by scripts/gen_chat_template_fixtures.py.
enum Fixtures {
    /// The moment the script's `strftime_now` reads (2024-07-26 12:00 UTC).
    static let now = Date(timeIntervalSince1970: 1_721_995_200)

    static func url(_ name: String) throws -> URL {
        guard let url = Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil) else {
            throw ChatTemplateError(message: "missing fixture \(name)")
        }
        return url
    }

    static func json(_ name: String) throws -> JinjaValue {
        switch name {
        case "renders.json": return try renders.get()
        case "conversations.json": return try conversations.get()
        default: return try JinjaValue(json: Data(contentsOf: url(name)))
        }
    }

    /// Parsed once: every parameterized case reads them.
    private static let renders = Result { try JinjaValue(json: Data(contentsOf: url("renders.json"))) }
    private static let conversations = Result { try JinjaValue(json: Data(contentsOf: url("conversations.json"))) }

    static func object(_ value: JinjaValue?) -> JinjaObject? {
        if case .object(let o) = value { return o }
        return nil
    }

    static func string(_ value: JinjaValue?) -> String? {
        if case .string(let s) = value { return s }
        return nil
    }

    static func context(_ value: JinjaValue?) -> [String: JinjaValue] {
        var context: [String: JinjaValue] = [:]
        for (k, v) in object(value)?.pairs ?? [] { context[k] = v }
        return context
    }

    static func templateSource(_ name: String) throws -> String {
        try String(contentsOf: url("templates/\(name).jinja"), encoding: .utf8)
    }

    /// Template names in renders.json.
    static let templateNames: [String] = {
        (try? object(object(json("renders.json"))?["templates"])?.keys) ?? []
    }()

    struct Snippet: Sendable, CustomTestStringConvertible {
        var index: Int
        var template: String
        var context: [String: JinjaValue]
        var output: String?
        var errorMessage: String?
        var errorType: String?
        var testDescription: String { "#\(index): \(template.prefix(60))" }
    }

    static let snippets: [Snippet] = {
        guard case .array(let cases)? = try? object(json("snippets.json"))?["cases"] else { return [] }
        return cases.enumerated().map { index, c in
            let o = object(c)
            let error = object(o?["error"])
            return Snippet(index: index, template: string(o?["template"]) ?? "", context: context(o?["context"]),
                           output: string(o?["output"]), errorMessage: string(error?["message"]), errorType: string(error?["type"]))
        }
    }()
}
