/// Turns a stream of token ids into text as it is generated.
///
/// Feed ids one at a time with ``add(_:)``; each call returns the text completed by that token.
/// Bytes of a UTF-8 character split across tokens (byte-fallback tokens, byte-level BPE pieces of an
/// emoji) are held back until the character is complete, so no call ever returns half a character.
/// The concatenation of everything returned (including ``flush()``) equals
/// ``Tokenizer/decode(_:skipSpecial:)`` of all the ids, including the SentencePiece rule that drops
/// the leading space of the first token and the clean-up of spaces some BPE vocabularies ask for.
public struct IncrementalDetokenizer: Sendable {
    /// The tokenizer whose pieces are joined.
    public let tokenizer: Tokenizer
    /// Whether control tokens render as nothing (and a leading BOS is dropped).
    public let skipSpecial: Bool

    private var count = 0
    private var stripNext: Bool
    /// Raw bytes not yet final: since the last emitted newline in clean-up mode, else the
    /// incomplete UTF-8 tail.
    private var window: [UInt8] = []
    /// How many bytes of the (cleaned) window were already returned.
    private var emitted = 0

    /// - Parameters:
    ///   - tokenizer: the vocabulary.
    ///   - skipSpecial: render control tokens as nothing (as `decode(_, skipSpecial: true)`).
    ///   - isStartOfText: the first id starts the text, so a SentencePiece leading space is dropped
    ///     as in ``Tokenizer/decode(_:skipSpecial:)``. Pass `false` when continuing after a prompt.
    public init(tokenizer: Tokenizer, skipSpecial: Bool = false, isStartOfText: Bool = true) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
        self.stripNext = isStartOfText && tokenizer.addSpacePrefix
        if !isStartOfText { count = 1 }
    }

    /// Adds one token and returns the text it completes (possibly empty).
    public mutating func add(_ id: Int32) -> String {
        if count == 0 && skipSpecial && tokenizer.addBOS && id == tokenizer.bosId {
            count += 1
            stripNext = false
            return ""
        }
        count += 1
        tokenizer.appendPiece(id, special: !skipSpecial, stripLeadingSpace: stripNext, to: &window)
        stripNext = false
        return take(final: false)
    }

    /// Adds several tokens and returns the text they complete.
    public mutating func add(_ ids: [Int32]) -> String {
        var s = ""
        for id in ids { s += add(id) }
        return s
    }

    /// Returns whatever is still held back (an incomplete character becomes U+FFFD) and resets
    /// the hold-back buffer.
    public mutating func flush() -> String {
        let s = take(final: true)
        window.removeAll()
        emitted = 0
        return s
    }

    private mutating func take(final: Bool) -> String {
        if tokenizer.cleanSpaces {
            let cleaned = Tokenizer.cleanUpSpaces(window)
            var end = final ? cleaned.count : max(emitted, cleaned.count - 8)
            if !final { end = IncrementalDetokenizer.completeUTF8Prefix(cleaned, upTo: end, from: emitted) }
            guard end > emitted else { return "" }
            let out = String(decoding: cleaned[emitted..<end], as: UTF8.self)
            emitted = end
            // Restart the window at the last newline already returned: text before a newline
            // never changes what the clean-up does after it.
            if let nl = cleaned[..<emitted].lastIndex(of: 0x0A) {
                let newlinesBefore = cleaned[..<nl].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                var seen = 0
                var rawIndex = 0
                for (i, b) in window.enumerated() where b == 0x0A {
                    if seen == newlinesBefore { rawIndex = i; break }
                    seen += 1
                }
                window.removeFirst(rawIndex)
                emitted -= nl
            }
            return out
        }
        let end = final ? window.count : IncrementalDetokenizer.completeUTF8Prefix(window, upTo: window.count, from: 0)
        guard end > 0 else { return "" }
        let out = String(decoding: window[..<end], as: UTF8.self)
        window.removeFirst(end)
        return out
    }

    /// The largest `k <= upTo` (and `>= from`) such that `bytes[..<k]` does not end inside an
    /// unfinished UTF-8 sequence.
    static func completeUTF8Prefix(_ bytes: [UInt8], upTo: Int, from: Int) -> Int {
        var k = upTo
        // look back at most 3 bytes for a lead byte whose sequence is not complete
        var i = upTo - 1
        var back = 0
        while i >= from && back < 4 {
            let b = bytes[i]
            if b & 0xC0 == 0x80 {  // continuation
                i -= 1
                back += 1
                continue
            }
            let need: Int
            switch b {
            case 0xC0...0xDF: need = 2
            case 0xE0...0xEF: need = 3
            case 0xF0...0xF7: need = 4
            default: need = 1
            }
            if upTo - i < need { k = i }
            break
        }
        return max(k, from)
    }
}
