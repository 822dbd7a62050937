/// How to choose each next token, as in vLLM's `SamplingParams` / llama.cpp's sampler chain.
public struct SamplingParams: Sendable, Equatable {
    /// 0 means greedy (argmax).
    public var temperature: Float = 0.8
    /// Keep only the k most likely tokens (0 = off).
    public var topK: Int = 40
    /// Keep the smallest set whose probability reaches p (1 = off).
    public var topP: Float = 0.95
    /// Drop tokens less likely than minP × the top token's probability (0 = off).
    public var minP: Float = 0.05
    /// Seed of the sampling random number generator (nil = random).
    public var seed: UInt64? = nil
    /// Most tokens to generate.
    public var maxTokens: Int = 256
    /// Stop at the model's end-of-generation tokens.
    public var stopAtEndOfGeneration = true

    public init() {}

    public static var greedy: SamplingParams {
        var p = SamplingParams()
        p.temperature = 0
        return p
    }

    /// Checks the values; the message says which one is impossible.
    public func validate() throws {
        func bad(_ m: String) -> SamplingError { SamplingError.invalidParameter(m) }
        guard temperature.isFinite, temperature >= 0 else { throw bad("temperature must be ≥ 0, got \(temperature)") }
        guard topK >= 0 else { throw bad("top_k must be ≥ 0, got \(topK)") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw bad("top_p must be in (0, 1], got \(topP)") }
        guard minP.isFinite, minP >= 0, minP <= 1 else { throw bad("min_p must be in [0, 1], got \(minP)") }
        guard maxTokens >= 0 else { throw bad("max_tokens must be ≥ 0, got \(maxTokens)") }
    }
}

public enum SamplingError: Error, CustomStringConvertible, Sendable {
    case invalidParameter(String)
    public var description: String {
        switch self { case let .invalidParameter(m): return "invalid sampling parameter: \(m)" }
    }
}
