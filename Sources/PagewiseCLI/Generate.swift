import ArgumentParser
import Foundation
import Pagewise
import Tokenization

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Continue a prompt, streaming the text.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var kvCache: KVCacheOptions
    @Option(name: .long, help: "Most tokens to generate.") var maxTokens: Int = 128
    @Option(name: .long, help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0.8
    @Option(name: .long, help: "Top-k cut (0 = off).") var topK: Int = 40
    @Option(name: .long, help: "Top-p (nucleus) cut (1 = off).") var topP: Float = 0.95
    @Option(name: .long, help: "Min-p cut (0 = off).") var minP: Float = 0.05
    @Option(name: .long, help: "Random seed for sampling.") var seed: UInt64?
    @Option(name: .long, help: "Context length (tokens) for this run.") var context: Int?
    @Flag(name: .long, help: "Print one JSON object instead of streaming text.") var json = false
    @Flag(name: .long, help: "Treat special-token text in the prompt as plain text.") var noParseSpecial = false
    @Argument(help: "The prompt.") var prompt: String

    func run() throws {
        try reportingErrors {
            var params = SamplingParams()
            params.temperature = temperature
            params.topK = topK
            params.topP = topP
            params.minP = minP
            params.seed = seed
            params.maxTokens = maxTokens
            try params.validate()
            if let c = context, c < 1 { throw ValidationError("--context must be positive") }
            let session = try options.session(context: context, kvCacheDType: kvCache.kvCacheDType)
            let promptTokens = session.tokenizer.encode(prompt, addSpecial: true, parseSpecial: !noParseSpecial)
            var tokens: [Int32] = []
            var detok = IncrementalDetokenizer(tokenizer: session.tokenizer)
            let out = FileHandle.standardOutput
            let finish = try session.generate(prompt: promptTokens, params: params) { token in
                tokens.append(token)
                if !json, !session.tokenizer.isEndOfGeneration(token) {
                    let piece = detok.add(token)
                    if !piece.isEmpty { out.write(Data(piece.utf8)) }
                }
                return true
            }
            if json {
                let textTokens = tokens.filter { !session.tokenizer.isEndOfGeneration($0) }
                struct Output: Encodable {
                    let prompt_tokens: [Int32]
                    let tokens: [Int32]
                    let text: String
                    let finish_reason: String
                }
                print(jsonLine(Output(prompt_tokens: promptTokens, tokens: tokens,
                                      text: session.tokenizer.decode(textTokens), finish_reason: finish.rawValue)))
            } else {
                let rest = detok.flush()
                if !rest.isEmpty { out.write(Data(rest.utf8)) }
                out.write(Data("\n".utf8))
            }
        }
    }
}
