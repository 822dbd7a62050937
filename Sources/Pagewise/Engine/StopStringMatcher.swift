/// Finds a request's stop strings in its streamed text, across token boundaries.
///
/// Text that could be the start of a stop string is held back until it either completes one (then
/// generation stops and the text ends before it, or after it with `includeStopStrInOutput`) or can no
/// longer (then it is released). So streamed text never shows a partial stop string that later
/// completes, and the concatenated deltas equal the final text. Matching is on UTF-8 bytes; the text
/// fed in is always whole characters (the incremental detokenizer's), and a stop string starts on a
/// character boundary, so every cut is on one too.
public struct StopStringMatcher: Sendable {
    private let stops: [[UInt8]]
    private let include: Bool
    private var held: [UInt8] = []

    public init(stops: [String], includeInOutput: Bool) {
        self.stops = stops.map { Array($0.utf8) }
        include = includeInOutput
    }

    public var isEmpty: Bool { stops.isEmpty }

    /// Adds a text delta; returns what may be shown now, and the stop string if one completed.
    public mutating func feed(_ text: String) -> (text: String, matched: String?) {
        guard !stops.isEmpty, !text.isEmpty else { return (text, nil) }
        held.append(contentsOf: text.utf8)
        // The earliest complete match (the longest among those starting there).
        var best: (at: Int, stop: Int)?
        for (k, stop) in stops.enumerated() {
            guard let at = Self.firstIndex(of: stop, in: held) else { continue }
            if best == nil || at < best!.at || (at == best!.at && stop.count > stops[best!.stop].count) { best = (at, k) }
        }
        if let b = best {
            let end = include ? b.at + stops[b.stop].count : b.at
            let out = String(decoding: held[..<end], as: UTF8.self)
            held.removeAll()
            return (out, String(decoding: stops[b.stop], as: UTF8.self))
        }
        // Hold back the longest tail that is a proper prefix of some stop string.
        var keep = 0
        for stop in stops {
            var k = min(stop.count - 1, held.count)
            while k > keep {
                if held[(held.count - k)...].elementsEqual(stop[..<k]) { keep = k; break }
                k -= 1
            }
        }
        let out = String(decoding: held[..<(held.count - keep)], as: UTF8.self)
        held.removeFirst(held.count - keep)
        return (out, nil)
    }

    /// Releases what is held (the sequence ended another way).
    public mutating func flush() -> String {
        defer { held.removeAll() }
        return String(decoding: held, as: UTF8.self)
    }

    private static func firstIndex(of needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard needle.count <= hay.count else { return nil }
        for i in 0 ... hay.count - needle.count where hay[i] == needle[0] {
            if hay[i ..< i + needle.count].elementsEqual(needle) { return i }
        }
        return nil
    }
}
