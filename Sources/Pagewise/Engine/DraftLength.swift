/// How many tokens to draft, from what a step costs on this machine and how often this sequence's
/// drafts are accepted.
///
/// A step that verifies k drafted tokens computes k + 1 tokens; where decode is memory-bound (a
/// large model, or a quiet host with more cores) that costs about what a 1-token step costs and
/// every accepted token is nearly free, but where it is compute-bound (a small model on 2 cores:
/// a 5-token step measured about twice a 1-token one) a rejected token costs real time. With a
/// per-token acceptance α, a step with k draft tokens yields 1 + α + … + α^k tokens on average;
/// the best k maximizes that over the step's cost relative to a plain step (plus the draft's own
/// cost per token, for a draft model), and k = 0 — no draft — wins when nothing beats 1.
struct DraftLength {
    /// Mean seconds of a forward pass of a lone decoding sequence computing n tokens (index n, 1…17),
    /// nil until seen; updated as an exponential moving average.
    private(set) var stepSeconds: [Double?] = Array(repeating: nil, count: 18)
    /// Mean seconds the draft source took per drafted token.
    private(set) var draftSecondsPerToken: Double?
    static let smoothing = 0.2

    mutating func recordStep(tokens n: Int, seconds: Double) {
        guard n >= 1, n < stepSeconds.count, seconds > 0 else { return }
        stepSeconds[n] = stepSeconds[n].map { $0 + Self.smoothing * (seconds - $0) } ?? seconds
    }

    mutating func recordDraft(tokens n: Int, seconds: Double) {
        guard n > 0, seconds >= 0 else { return }
        let per = seconds / Double(n)
        draftSecondsPerToken = draftSecondsPerToken.map { $0 + Self.smoothing * (per - $0) } ?? per
    }

    /// A line through the measured step times (least squares over the token counts seen): the cost
    /// of n tokens over the cost of 1, and the draft's cost per token over the cost of 1. Nil until
    /// two different token counts were measured.
    var relativeCosts: (step: (Int) -> Double, draftPerToken: Double)? {
        let seen = stepSeconds.indices.compactMap { n in stepSeconds[n].map { (Double(n), $0) } }
        guard seen.count >= 2 else { return nil }
        let mx = seen.reduce(0) { $0 + $1.0 } / Double(seen.count)
        let my = seen.reduce(0) { $0 + $1.1 } / Double(seen.count)
        let sxx = seen.reduce(0) { $0 + ($1.0 - mx) * ($1.0 - mx) }
        let slope = max(0, seen.reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / sxx)
        let one = max(1e-9, my + slope * (1 - mx))
        let draft = (draftSecondsPerToken ?? 0) / one
        return ({ n in max(1, (one + slope * Double(n - 1)) / one) }, draft)
    }

    /// The k in 0…maxK with the most tokens per unit of time: (1 + α + … + α^k) over
    /// (step(k + 1) + k · draftPerToken).
    static func best(acceptance alpha: Double, maxK: Int, step: (Int) -> Double, draftPerToken: Double) -> Int {
        var bestK = 0, bestRate = 1.0, expected = 1.0, power = 1.0
        for k in stride(from: 1, through: maxK, by: 1) {
            power *= alpha
            expected += power
            let rate = expected / (step(k + 1) + Double(k) * draftPerToken)
            if rate > bestRate * 1.02 {
                bestK = k
                bestRate = rate
            }
        }
        return bestK
    }
}
