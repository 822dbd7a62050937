import ArgumentParser
import Foundation
import Pagewise

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Prompt-processing and generation speed (like llama-bench pp/tg).")

    @OptionGroup var options: ModelOptions
    @Option(name: .long, help: "Prompt tokens for the pp test.") var promptTokens: Int = 512
    @Option(name: .long, help: "Tokens for the tg test.") var genTokens: Int = 128
    @Option(name: .long, help: "Timed repetitions of each test.") var repetitions: Int = 5
    @Flag(name: .long, help: "Print one JSON object.") var json = false

    func run() throws {
        try reportingErrors {
            guard promptTokens >= 0, genTokens >= 0, repetitions >= 1 else {
                throw ValidationError("token counts must be ≥ 0 and --repetitions ≥ 1")
            }
            let session = try options.session(context: max(promptTokens, genTokens, 16))
            let name = NamedModel.named(options.model)?.name ?? URL(fileURLWithPath: options.model).lastPathComponent
            let r = try session.benchmark(modelName: name, promptTokens: promptTokens, genTokens: genTokens, repetitions: repetitions)
            if json {
                print(jsonLine(r))
            } else {
                print("model \(r.model), \(r.threads) threads")
                print(String(format: "pp%d: %8.1f tok/s", r.ppTokens, r.ppTPS))
                print(String(format: "tg%d: %8.1f tok/s", r.tgTokens, r.tgTPS))
            }
        }
    }
}
