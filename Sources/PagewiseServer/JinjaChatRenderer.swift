import ChatTemplates
import Foundation

/// A chat template run by our Jinja interpreter (the `ChatTemplates` target), with the context
/// transformers' `apply_chat_template` gives: messages, tools, add_generation_prompt, bos_token,
/// eos_token and any `chat_template_kwargs`.
public struct JinjaChatRenderer: ChatRenderer {
    private let template: ChatTemplate
    private let bosToken: String
    private let eosToken: String

    /// Parses `source`; throws with the template's line when it cannot.
    public init(source: String, bosToken: String, eosToken: String) throws {
        template = try ChatTemplate(source: source)
        self.bosToken = bosToken
        self.eosToken = eosToken
    }

    public func render(_ input: ChatRenderInput) throws -> String {
        var context: [String: JinjaValue] = [:]
        for (k, v) in input.extra { context[k] = v.jinja }
        context["messages"] = .array(input.messages.map(\.jinja))
        if let tools = Self.orderedTools(input) { context["tools"] = tools }
        context["add_generation_prompt"] = .bool(input.addGenerationPrompt && !input.continueFinalMessage)
        context["bos_token"] = .string(bosToken)
        context["eos_token"] = .string(eosToken)
        var text = try template.render(context)
        if input.continueFinalMessage, case let .object(last)? = input.messages.last,
           let content = last["content"]?.stringValue, !content.isEmpty,
           let range = text.range(of: content, options: .backwards) {
            // As transformers does: cut everything the template wrote after the final message.
            text = String(text[..<range.upperBound])
        }
        return text
    }

    /// The tools as the body wrote them (key order matters to `tojson`), else as decoded.
    private static func orderedTools(_ input: ChatRenderInput) -> JinjaValue? {
        guard let tools = input.tools else { return nil }
        if let body = input.body, case let .object(o)? = try? JinjaValue(json: body), let t = o["tools"], t != .none {
            return t
        }
        return .array(tools.map(\.jinja))
    }
}

extension JSONValue {
    /// The same value for templates (integral numbers become ints, as Python's json gives them).
    var jinja: JinjaValue {
        switch self {
        case .null: return .none
        case let .bool(b): return .bool(b)
        case let .number(d):
            if d.rounded() == d, abs(d) < 9.0e15 { return .int(Int(d)) }
            return .double(d)
        case let .string(s): return .string(s)
        case let .array(a): return .array(a.map(\.jinja))
        case let .object(o):
            return .object(JinjaObject(o.keys.sorted().map { ($0, o[$0]?.jinja ?? .none) }))
        }
    }
}
