/// Helpers for the token bitmasks ``GrammarMatcher/fillNextTokenBitmask(_:)`` writes (bit
/// `i % 32` of word `i / 32` set = token `i` allowed).
public enum TokenBitmask {
    /// Sets the logits of the tokens the mask forbids to negative infinity (tokens beyond the
    /// mask's bits are forbidden too).
    public static func apply(_ mask: UnsafeBufferPointer<UInt32>, to logits: UnsafeMutableBufferPointer<Float>) {
        let n = logits.count
        var i = 0
        while i < n {
            let w = i >> 5
            let word = w < mask.count ? mask[w] : 0
            let end = min(i + 32, n)
            if word == 0xFFFF_FFFF {
                i = end
                continue
            }
            for t in i..<end where word & (1 << UInt32(t & 31)) == 0 {
                logits[t] = -.infinity
            }
            i = end
        }
    }

    /// Whether token `token` is allowed by `mask`.
    public static func isAllowed(_ token: Int32, in mask: UnsafeBufferPointer<UInt32>) -> Bool {
        let w = Int(token) >> 5
        return token >= 0 && w < mask.count && mask[w] & (1 << UInt32(token & 31)) != 0
    }

    /// The number of allowed tokens in `mask`.
    public static func count(_ mask: UnsafeBufferPointer<UInt32>) -> Int {
        mask.reduce(0) { $0 + $1.nonzeroBitCount }
    }
}
