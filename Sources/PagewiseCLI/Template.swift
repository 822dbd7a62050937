import ArgumentParser
import Foundation
import GGUF
import Pagewise
import PagewiseServer
import Tokenization

/// `pagewise template render`: what the model actually sees for a conversation.
struct Template: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Chat templates.", subcommands: [Render.self])

    struct Render: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a conversation rendered through a chat template, exactly (no added newline).")

        @Option(name: .long, help: "A .gguf path or a model name whose template (and BOS/EOS) to use.") var model: String?
        @Option(name: .long, help: "A Jinja template file or a built-in template name (instead of --model's).") var template: String?
        @Option(name: .long, help: "A JSON file holding the messages array.") var messages: String
        @Option(name: .long, help: "A JSON file holding the tools array.") var tools: String?
        @Flag(name: .long, help: "Leave out the assistant turn header at the end.") var noGenerationPrompt = false
        @Option(name: .long, help: "The bos_token text (default: the model's).") var bosToken: String?
        @Option(name: .long, help: "The eos_token text (default: the model's).") var eosToken: String?

        func validate() throws {
            guard model != nil || template != nil else { throw ValidationError("give --model or --template") }
        }

        func run() throws {
            try reportingErrors {
                var tokenizer: Tokenizer?
                var source: String?
                if let model {
                    let path = try ModelStore().resolve(model) { Stderr.print($0) }
                    let file = try GGUFFile(path: path)
                    tokenizer = try Tokenizer(gguf: file)
                    source = try ChatTemplateSource.resolve(option: template, metadata: file.metadata, architecture: file.architecture)
                } else {
                    source = try ChatTemplateSource.resolve(option: template, metadata: GGUFMetadata(), architecture: nil)
                }
                guard let source else { throw ValidationError("the model has no chat template; give --template") }
                let renderer = try ChatTemplateSource.renderer(source: source, tokenizer: tokenizer, bosToken: bosToken, eosToken: eosToken)
                let messageData = try Data(contentsOf: URL(fileURLWithPath: messages))
                let list = try JSONDecoder().decode([JSONValue].self, from: messageData)
                var toolList: [JSONValue]?
                var body: Data?
                if let tools {
                    let toolData = try Data(contentsOf: URL(fileURLWithPath: tools))
                    toolList = try JSONDecoder().decode([JSONValue].self, from: toolData)
                    body = Data(#"{"tools":"#.utf8) + toolData + Data("}".utf8)
                }
                let text = try renderer.render(ChatRenderInput(body: body, messages: list, tools: toolList,
                                                               addGenerationPrompt: !noGenerationPrompt))
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}
