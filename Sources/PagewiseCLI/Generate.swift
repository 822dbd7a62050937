import ArgumentParser
import Foundation
import Pagewise
import Tokenization

/// The sampling parameters of `generate` (vLLM's names, kebab-cased).
struct SamplingOptions: ParsableArguments {
    @Option(name: .long, help: "Most tokens to generate.") var maxTokens: Int = 128
    @Option(name: .long, help: "End of generation and stop tokens are banned until this many tokens.") var minTokens: Int = 0
    @Option(name: .long, help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0.8
    @Option(name: .long, help: "Top-k cut (0 = off).") var topK: Int = 40
    @Option(name: .long, help: "Top-p (nucleus) cut (1 = off).") var topP: Float = 0.95
    @Option(name: .long, help: "Min-p cut (0 = off).") var minP: Float = 0.05
    @Option(name: .long, help: "Random seed for sampling.") var seed: UInt64?
    @Option(name: .long, help: "Repetition penalty over prompt and output tokens (1 = off).") var repetitionPenalty: Float = 1
    @Option(name: .long, help: "Presence penalty over output tokens (−2…2).") var presencePenalty: Float = 0
    @Option(name: .long, help: "Frequency penalty over output tokens (−2…2).") var frequencyPenalty: Float = 0
    @Option(name: .long, help: "TOKEN=BIAS added to a token's logit (repeatable; clamped to ±100).") var logitBias: [String] = []
    @Option(name: .long, help: "Comma-separated token ids: only these may be generated.") var allowedTokenIds: String?
    @Option(name: .long, help: "A word or phrase never to generate (repeatable).") var badWords: [String] = []
    @Option(name: .long, help: "A stop string (repeatable; excluded from the text).") var stop: [String] = []
    @Option(name: .long, help: "Comma-separated token ids that end generation.") var stopTokenIds: String?
    @Flag(name: .long, help: "Keep the matched stop string in the text.") var includeStopStrInOutput = false
    @Flag(name: .long, help: "Keep generating past end-of-generation tokens.") var ignoreEOS = false
    @Option(name: .long, help: "Log-probabilities of the k most likely tokens at each generated position (with --json).")
    var logprobs: Int?
    @Option(name: .long, help: "Log-probabilities of the k most likely tokens at each prompt position (with --json).")
    var promptLogprobs: Int?
    @Option(name: .customLong("n"), help: "Sequences to generate from the prompt (sharing its KV blocks).") var n: Int = 1
    @Option(name: .long, help: "Beam search with this many beams (0 = off).") var beamWidth: Int = 0
    @Option(name: .long, help: "Beam search: scores are cumulative log-probability / length^this.") var lengthPenalty: Float = 1
    @Option(name: .long, help: "Beam search: true (stop at W finished beams), false (when none can improve), never.")
    var earlyStopping: String = "false"

    func params() throws -> SamplingParams {
        var p = SamplingParams()
        p.maxTokens = maxTokens
        p.minTokens = minTokens
        p.temperature = temperature
        p.topK = topK
        p.topP = topP
        p.minP = minP
        p.seed = seed
        p.repetitionPenalty = repetitionPenalty
        p.presencePenalty = presencePenalty
        p.frequencyPenalty = frequencyPenalty
        for entry in logitBias {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let t = Int32(parts[0]), let b = Float(parts[1]) else {
                throw ValidationError("--logit-bias takes TOKEN=BIAS, e.g. 198=-5; got '\(entry)'")
            }
            p.logitBias[t] = b
        }
        p.allowedTokenIds = try allowedTokenIds.map { try Self.ids($0, "--allowed-token-ids") }
        p.badWords = badWords
        p.stop = stop
        p.stopTokenIds = try stopTokenIds.map { try Self.ids($0, "--stop-token-ids") } ?? []
        p.includeStopStrInOutput = includeStopStrInOutput
        p.ignoreEOS = ignoreEOS
        p.logprobs = logprobs
        p.promptLogprobs = promptLogprobs
        if beamWidth > 0 {
            guard let e = BeamSearchOptions.EarlyStopping(rawValue: earlyStopping) else {
                throw ValidationError("--early-stopping takes true, false or never")
            }
            p.beamSearch = BeamSearchOptions(width: beamWidth, lengthPenalty: lengthPenalty, earlyStopping: e)
        }
        try p.validate()
        guard n >= 1, n <= 128 else { throw ValidationError("--n must be 1–128") }
        return p
    }

    static func ids(_ s: String, _ flag: String) throws -> [Int32] {
        try s.split(separator: ",").map {
            guard let v = Int32($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("\(flag) takes comma-separated token ids") }
            return v
        }
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Continue a prompt, streaming the text (every vLLM sampling parameter, n > 1, beam search).")

    @OptionGroup var options: ModelOptions
    @OptionGroup var kvCache: KVCacheOptions
    @OptionGroup var sampling: SamplingOptions
    @Option(name: .long, help: "Context length (tokens) for this run.") var context: Int?
    @Flag(name: .long, help: "Print one JSON object instead of streaming text.") var json = false
    @Flag(name: .long, help: "Treat special-token text in the prompt as plain text.") var noParseSpecial = false
    @Argument(help: "The prompt.") var prompt: String

    /// One sequence's results, as `--json` prints them.
    struct Choice: Encodable {
        var index: Int
        var tokens: [Int32] = []
        var text = ""
        var finish_reason = ""
        var stop_reason: String?
        var cumulative_logprob: Double?
        var logprobs: [Position]?
    }

    struct Position: Encodable {
        let token: Int32
        let logprob: Float
        let rank: Int
        let top: [[String: Double]]

        init(_ p: PositionLogprobs) {
            token = p.token
            logprob = p.logprob
            rank = p.rank
            top = p.top.map { ["id": Double($0.token), "logprob": Double($0.logprob)] }
        }
    }

    func run() throws {
        try reportingErrors {
            let params = try sampling.params()
            if let c = context, c < 2 { throw ValidationError("--context must be at least 2") }
            let path = try options.resolvedPath()
            var config = EngineConfig(modelPath: path, threads: options.threads)
            config.kvCacheDType = kvCache.kvCacheDType
            config.maxModelLen = context
            let sequences = max(sampling.n, params.beamSearch?.width ?? 1)
            // Pages for every sequence at full length (+1 each for copy-on-write), nothing more.
            let longest = context ?? 4096
            config.numBlocks = sequences * ((longest + config.blockSize - 1) / config.blockSize + 2)
            config.maxNumSeqs = max(sequences, 1)
            let engine = try LLMEngine(config: config)
            let promptTokens = engine.tokenizer.encode(prompt, addSpecial: true, parseSpecial: !noParseSpecial)
            let streaming = !json && sequences == 1 && params.beamSearch == nil
            let out = FileHandle.standardOutput
            let box = ChoiceBox(count: sequences)
            try engine.addRequest(id: "generate", prompt: promptTokens, params: params, n: sampling.n) { result in
                box.receive(result, streamTo: streaming ? out : nil)
            }
            while engine.hasUnfinishedRequests { engine.step() }
            if let error = box.error { throw error }
            if json {
                struct Output: Encodable {
                    let prompt_tokens: [Int32]
                    let tokens: [Int32]
                    let text: String
                    let finish_reason: String
                    let stop_reason: String?
                    let logprobs: [Position]?
                    let prompt_logprobs: [Position?]?
                    let choices: [Choice]?
                    let beam_peak_shared_blocks: Int?
                }
                let first = box.choices[0]
                print(jsonLine(Output(prompt_tokens: promptTokens, tokens: first.tokens, text: first.text,
                                      finish_reason: first.finish_reason, stop_reason: first.stop_reason, logprobs: first.logprobs,
                                      prompt_logprobs: box.promptLogprobs?.map { $0.map(Position.init) },
                                      choices: sequences > 1 ? box.choices : nil,
                                      beam_peak_shared_blocks: params.beamSearch == nil ? nil : engine.statistics().beamPeakSharedBlocks)))
            } else if streaming {
                out.write(Data("\n".utf8))
            } else {
                for c in box.choices {
                    let score = c.cumulative_logprob.map { String(format: ", cumulative logprob %.4f", $0) } ?? ""
                    print("--- \(params.beamSearch == nil ? "sequence" : "beam") \(c.index) (\(c.finish_reason)\(score))")
                    print(c.text)
                }
                if params.beamSearch != nil {
                    Stderr.print("KV blocks shared by beams at once (peak): \(engine.statistics().beamPeakSharedBlocks)")
                }
            }
        }
    }
}

/// Collects the engine's outputs on the (single) calling thread.
private final class ChoiceBox: @unchecked Sendable {
    var choices: [Generate.Choice]
    var promptLogprobs: [PositionLogprobs?]?
    var error: (any Error)?

    init(count: Int) { choices = (0 ..< count).map { Generate.Choice(index: $0) } }

    func receive(_ result: Result<RequestOutput, any Error>, streamTo out: FileHandle?) {
        switch result {
        case let .failure(e):
            error = e
        case let .success(o):
            guard o.index < choices.count else { return }
            choices[o.index].tokens += o.newTokens
            choices[o.index].text += o.text
            if let lps = o.logprobs { choices[o.index].logprobs = (choices[o.index].logprobs ?? []) + lps.map(Generate.Position.init) }
            if let p = o.promptLogprobs { promptLogprobs = p }
            if let c = o.cumulativeLogprob { choices[o.index].cumulative_logprob = c }
            if let r = o.finishReason { choices[o.index].finish_reason = r.rawValue }
            switch o.stopReason {
            case let .string(s)?: choices[o.index].stop_reason = s
            case let .token(t)?: choices[o.index].stop_reason = String(t)
            case nil: break
            }
            if let out, !o.text.isEmpty { out.write(Data(o.text.utf8)) }
        }
    }
}
