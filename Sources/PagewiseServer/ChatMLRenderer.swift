/// ChatML (`<|im_start|>role\n…<|im_end|>\n`), the format of SmolLM2, Qwen and Hermes models,
/// written out in Swift: a fixed renderer for embedders and tests that want no template text.
public struct ChatMLRenderer: ChatRenderer {
    /// Makes the renderer.
    public init() {}

    public func render(_ input: ChatRenderInput) throws -> String {
        var out = ""
        for (i, m) in input.messages.enumerated() {
            guard case let .object(o) = m, let role = o["role"]?.stringValue else {
                throw ChatRenderError("message \(i) has no role")
            }
            let content = o["content"]?.stringValue ?? ""
            let isLast = i == input.messages.count - 1
            out += "<|im_start|>\(role)\n\(content)"
            if !(isLast && input.continueFinalMessage) { out += "<|im_end|>\n" }
        }
        if input.addGenerationPrompt && !input.continueFinalMessage { out += "<|im_start|>assistant\n" }
        return out
    }
}
