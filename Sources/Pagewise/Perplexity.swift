import Foundation

/// Result of a perplexity run.
public struct PerplexityResult: Sendable, Codable {
    public var ppl: Double
    public var tokensScored: Int
    public var chunks: Int

    enum CodingKeys: String, CodingKey { case ppl, tokensScored = "tokens_scored", chunks }
}

extension InferenceSession {
    /// Perplexity the way llama-perplexity computes it: the text is tokenized once (BOS as the model
    /// says), cut into non-overlapping windows of `context` tokens, each evaluated from an empty
    /// cache (its first token replaced by BOS when the model adds one), and the second half of each
    /// window scored. `onPosition` sees every scored position: (index into `tokens`, log-softmax row).
    public func perplexity(tokens: [Int32], context: Int, maxChunks: Int? = nil,
                           onPosition: ((Int, UnsafeBufferPointer<Float>) throws -> Void)? = nil) throws -> PerplexityResult {
        guard context >= 4, context <= contextLength else { throw RequestError.promptTooLong(tokens: context, limit: contextLength) }
        var chunks = tokens.count / context
        if let m = maxChunks { chunks = min(chunks, m) }
        guard chunks > 0 else {
            throw RequestError.promptTooLong(tokens: tokens.count, limit: context) // too short: say how long a window is
        }
        let first = context / 2
        var nll = 0.0
        var scored = 0
        let vocab = config.vocabSize
        var logProbs = [Float](repeating: 0, count: vocab)
        for c in 0 ..< chunks {
            var window = Array(tokens[c * context ..< (c + 1) * context])
            if tokenizer.addBOS { window[0] = tokenizer.bosId }
            try evaluate(window, logitsFrom: first) { pos, logits in
                guard pos < context - 1 else { return }
                var maxv = -Float.infinity
                for v in logits where v > maxv { maxv = v }
                var sum = 0.0
                for v in logits { sum += Double(expf(v - maxv)) }
                let lse = Double(maxv) + log(sum)
                let next = Int(window[pos + 1])
                nll -= Double(logits[next]) - lse
                scored += 1
                if let onPosition {
                    for i in 0 ..< vocab { logProbs[i] = Float(Double(logits[i]) - lse) }
                    try logProbs.withUnsafeBufferPointer { try onPosition(c * context + pos, $0) }
                }
            }
        }
        return PerplexityResult(ppl: exp(nll / Double(scored)), tokensScored: scored, chunks: chunks)
    }
}
