import ArgumentParser
import Pagewise

/// `--speculative` and `--num-speculative-tokens` (vLLM's names), shared by `generate` and the
/// engine options of `bench` and `serve`.
struct SpeculativeOptions: ParsableArguments {
    @Option(name: .long, help: "Speculative decoding's draft source: ngram, suffix or model:PATH (a GGUF with the same vocabulary). Outputs do not change.")
    var speculative: String?
    @Option(name: .long, help: "Most draft tokens verified per sequence and step (1–16); adapts per request below it.")
    var numSpeculativeTokens: Int = 4

    /// Sets the speculative fields of `config`.
    func apply(to config: inout EngineConfig) throws {
        guard let s = speculative else { return }
        do {
            config.speculative = try SpeculativeMethod(parsing: s)
        } catch {
            throw ValidationError("--speculative: \(error)")
        }
        config.numSpeculativeTokens = numSpeculativeTokens
    }
}
