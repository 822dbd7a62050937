/// The acceptance rule of speculative sampling (Leviathan et al. 2023; Chen et al. 2023): a token
/// `x` drafted from the distribution `q` is kept with probability min(1, p(x)/q(x)); otherwise the
/// token is drawn from the residual normalize(max(0, p − q)). The kept-or-drawn token is then
/// distributed exactly as `p`, whatever `q` is.
///
/// Drafts from prompt lookup and suffix decoding (and a draft model drafting greedily) are point
/// masses: q(x) = 1, so x is kept with probability p(x) and the residual is p without x. For those
/// the engine uses the equivalent coupled form — draw t from p with the request's own stream, keep x
/// when t = x, else emit t — which spends exactly one draw per emitted token, so a seeded request
/// gives the same tokens with speculation on and off.
public enum RejectionSampling {
    /// Applies the rule at one position. `p` and `q` are probability vectors over the vocabulary
    /// (each summing to 1), `draft` was drawn from `q`; `uniform` yields numbers in [0, 1) (two
    /// calls at most: the acceptance test, then the residual draw). Returns the token to emit and
    /// whether it is the draft.
    public static func accept(p: [Double], q: [Double], draft: Int32, uniform: () -> Double) -> (token: Int32, accepted: Bool) {
        precondition(p.count == q.count && Int(draft) < p.count && draft >= 0, "p, q over one vocabulary; draft inside it")
        let px = p[Int(draft)], qx = q[Int(draft)]
        if qx > 0, uniform() * qx < px { return (draft, true) }
        var total = 0.0
        for i in 0 ..< p.count { total += max(0, p[i] - q[i]) }
        var r = uniform() * total
        var last = Int(draft)
        for i in 0 ..< p.count {
            let w = max(0, p[i] - q[i])
            guard w > 0 else { continue }
            last = i
            r -= w
            if r < 0 { break }
        }
        return (Int32(last), false)
    }
}
