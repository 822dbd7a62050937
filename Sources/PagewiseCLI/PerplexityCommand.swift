import ArgumentParser
import Foundation
import Pagewise

struct Perplexity: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "perplexity", abstract: "Perplexity of a text file, as llama-perplexity computes it.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var kvCache: KVCacheOptions
    @Option(name: .long, help: "Window length in tokens.") var context: Int = 512
    @Option(name: .long, help: "Score at most this many windows.") var chunks: Int?
    @Flag(name: .long, help: "Print {\"ppl\":…,\"tokens_scored\":…} on the last line.") var json = false
    @Argument(help: "A text file.") var file: String

    func run() throws {
        try reportingErrors {
            guard context >= 4 else { throw ValidationError("--context must be at least 4") }
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("cannot read '\(file)' as UTF-8 text")
            }
            let session = try options.session(context: context, kvCacheDType: kvCache.kvCacheDType)
            let tokens = session.tokenizer.encode(text, addSpecial: true, parseSpecial: false)
            Stderr.print("\(tokens.count) tokens, \(tokens.count / context) windows of \(context)")
            let r = try session.perplexity(tokens: tokens, context: context, maxChunks: chunks)
            if json {
                print(jsonLine(r))
            } else {
                print(String(format: "perplexity %.4f over %d tokens (%d windows of %d)", r.ppl, r.tokensScored, r.chunks, context))
            }
        }
    }
}
