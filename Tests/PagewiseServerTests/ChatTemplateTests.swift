import Foundation
import GGUF
import Hummingbird
import HummingbirdTesting
import Pagewise
@testable import PagewiseServer
import Testing
import TestSupport

/// The model's own chat template (SmolLM2's, from its GGUF) through the server and through
/// `pagewise template render`. The expected text is SmolLM2-Instruct's published ChatML format,
/// with its default system prompt when the conversation has none.
@Suite struct ChatTemplateTests {
    static let system = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"

    static func smolRenderer() throws -> any ChatRenderer {
        let file = try GGUFFile(path: TestModels.path("smollm2-135m-instruct"))
        let source = try #require(try ChatTemplateSource.resolve(option: nil, metadata: file.metadata, architecture: file.architecture))
        return try ChatTemplateSource.renderer(source: source, tokenizer: try ScriptedBackend.sharedTokenizer())
    }

    @Test func tokenizeMessagesThroughTheModelsTemplate() async throws {
        let backend = try ScriptedBackend()
        try await Harness.app(backend, renderer: try Self.smolRenderer()).test(.router) { client in
            let r = try Harness.object(try await Harness.post(client, "/tokenize", #"{"messages":[{"role":"user","content":"Hi"}]}"#))
            let expected = Self.system + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
            #expect((r["tokens"] as? [Int])?.map(Int32.init) == backend.tokenizer.encode(expected, addSpecial: false, parseSpecial: true))
            let own = try Harness.object(try await Harness.post(client, "/tokenize", #"""
            {"messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Yo"}],
             "add_generation_prompt":false}
            """#))
            let expectedOwn = "<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nYo<|im_end|>\n"
            #expect((own["tokens"] as? [Int])?.map(Int32.init) == backend.tokenizer.encode(expectedOwn, addSpecial: false, parseSpecial: true))
        }
    }

    @Test func builtinTemplatesByName() throws {
        let source = try #require(try ChatTemplateSource.resolve(option: "gemma", metadata: GGUFMetadata(), architecture: nil))
        let r = try ChatTemplateSource.renderer(source: source, tokenizer: nil, bosToken: "<bos>", eosToken: "<eos>")
        let text = try r.render(ChatRenderInput(messages: [.object(["role": .string("user"), "content": .string("Hi")])]))
        #expect(text == "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n")
        #expect(throws: ChatRenderError.self) {
            try ChatTemplateSource.resolve(option: "no-such-template", metadata: GGUFMetadata(), architecture: nil)
        }
    }

    @Test func templateRenderCommandPrintsExactly() throws {
        let binary = try #require(OpenAIClientScriptTests.binary, "pagewise is built next to the tests")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pw-template-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let messages = dir.appendingPathComponent("m.json")
        try Data(#"[{"role":"user","content":"Héllo 🙂"}]"#.utf8).write(to: messages)
        func run(_ args: [String]) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = binary
            p.arguments = args
            // Output to a file, not a pipe: Foundation's pipe reads trap on EINTR.
            let outURL = dir.appendingPathComponent("out-\(UUID().uuidString)")
            _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
            let out = try FileHandle(forWritingTo: outURL)
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            try out.close()
            return (p.terminationStatus, String(decoding: try Data(contentsOf: outURL), as: UTF8.self))
        }
        let (status, text) = try run(["template", "render", "--model", "smollm2-135m-instruct", "--messages", messages.path])
        #expect(status == 0)
        #expect(text == Self.system + "<|im_start|>user\nHéllo 🙂<|im_end|>\n<|im_start|>assistant\n")
        let (_, bare) = try run(["template", "render", "--template", "chatml", "--messages", messages.path, "--no-generation-prompt"])
        #expect(bare == "<|im_start|>user\nHéllo 🙂<|im_end|>\n")
        let (bad, _) = try run(["template", "render", "--template", "no-such", "--messages", messages.path])
        #expect(bad != 0)
    }
}
