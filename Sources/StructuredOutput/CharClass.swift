/// A set of Unicode scalar values as sorted, disjoint, non-adjacent closed ranges; lowered to
/// alternatives of UTF-8 byte-range sequences.
struct CharClass: Hashable, Sendable {
    private(set) var ranges: [ClosedRange<UInt32>] = []

    static let maxScalar: UInt32 = 0x10FFFF

    init() {}

    init(_ r: [ClosedRange<UInt32>]) {
        for x in r { insert(x) }
    }

    static let any = CharClass([0...maxScalar])
    static let digit = CharClass([0x30...0x39])
    static let word = CharClass([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
    static let space = CharClass([0x09...0x0D, 0x20...0x20])

    mutating func insert(_ r: ClosedRange<UInt32>) {
        var all = ranges + [r]
        all.sort { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt32>] = []
        for x in all {
            if let last = merged.last, x.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, x.upperBound)
            } else {
                merged.append(x)
            }
        }
        ranges = merged
    }

    mutating func insert(_ c: UInt32) { insert(c...c) }

    mutating func formUnion(_ o: CharClass) {
        for r in o.ranges { insert(r) }
    }

    var inverted: CharClass {
        var out = CharClass()
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { out.ranges.append(next...(r.lowerBound - 1)) }
            next = r.upperBound &+ 1
            if r.upperBound >= CharClass.maxScalar { return out }
        }
        if next <= CharClass.maxScalar { out.ranges.append(next...CharClass.maxScalar) }
        return out
    }

    func subtracting(_ o: CharClass) -> CharClass {
        var inv = inverted
        inv.formUnion(o)
        return inv.inverted
    }

    func contains(_ c: UInt32) -> Bool { ranges.contains { $0.contains(c) } }

    var isEmpty: Bool { ranges.isEmpty }

    /// Adds the other case of every ASCII letter in the class.
    var caseFolded: CharClass {
        var out = self
        for r in ranges {
            let lo = max(r.lowerBound, 0x41), hi = min(r.upperBound, 0x5A)
            if lo <= hi { out.insert((lo + 32)...(hi + 32)) }
            let lo2 = max(r.lowerBound, 0x61), hi2 = min(r.upperBound, 0x7A)
            if lo2 <= hi2 { out.insert((lo2 - 32)...(hi2 - 32)) }
        }
        return out
    }

    /// The UTF-8 encodings of the class's scalars (surrogates excluded) as a grammar expression.
    var utf8Expr: GExpr {
        var seqs: [[ClosedRange<UInt8>]] = []
        for r in ranges { CharClass.split(r.lowerBound, r.upperBound, into: &seqs) }
        // Merge single-byte sequences into one byte set.
        var single = ByteSet()
        var alts: [GExpr] = []
        for s in seqs {
            if s.count == 1 {
                single.insert(s[0])
            } else {
                alts.append(.seq(s.map { .bytes(ByteSet($0)) }))
            }
        }
        if !single.isEmpty { alts.insert(.bytes(single), at: 0) }
        if alts.isEmpty { return .alt([]) }
        return alts.count == 1 ? alts[0] : .alt(alts)
    }

    /// The class as JSON string content: raw UTF-8 for ordinary characters, escapes for `"`,
    /// `\` and control characters.
    var jsonStringExpr: GExpr {
        let special = CharClass([0x00...0x1F, 0x22...0x22, 0x5C...0x5C])
        let raw = subtracting(special)
        var alts: [GExpr] = []
        if !raw.isEmpty { alts.append(raw.utf8Expr) }
        for r in ranges {
            for c in r.clamped(to: 0...0x5C) where special.contains(c) {
                alts.append(.text(CharClass.jsonEscape(c)))
            }
        }
        if alts.isEmpty { return .alt([]) }
        return GExpr.choice(alts)
    }

    static func jsonEscape(_ c: UInt32) -> String {
        switch c {
        case 0x22: return "\\\""
        case 0x5C: return "\\\\"
        case 0x0A: return "\\n"
        case 0x09: return "\\t"
        case 0x0D: return "\\r"
        case 0x08: return "\\b"
        case 0x0C: return "\\f"
        default:
            let hex = Array("0123456789abcdef")
            return "\\u00" + String(hex[Int(c >> 4)]) + String(hex[Int(c & 15)])
        }
    }

    private static func encode(_ c: UInt32) -> [UInt8] {
        switch c {
        case 0..<0x80: return [UInt8(c)]
        case 0x80..<0x800: return [UInt8(0xC0 | (c >> 6)), UInt8(0x80 | (c & 0x3F))]
        case 0x800..<0x10000:
            return [UInt8(0xE0 | (c >> 12)), UInt8(0x80 | ((c >> 6) & 0x3F)), UInt8(0x80 | (c & 0x3F))]
        default:
            return [UInt8(0xF0 | (c >> 18)), UInt8(0x80 | ((c >> 12) & 0x3F)),
                    UInt8(0x80 | ((c >> 6) & 0x3F)), UInt8(0x80 | (c & 0x3F))]
        }
    }

    private static func length(_ c: UInt32) -> Int {
        c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4
    }

    /// Splits `lo...hi` into ranges whose UTF-8 encodings are byte-wise ranges (as Rust's
    /// `regex-syntax` utf8 module does).
    private static func split(_ lo: UInt32, _ hi: UInt32, into out: inout [[ClosedRange<UInt8>]]) {
        if lo > hi { return }
        if lo <= 0xDFFF && hi >= 0xD800 {
            if lo < 0xD800 { split(lo, 0xD7FF, into: &out) }
            if hi > 0xDFFF { split(0xE000, hi, into: &out) }
            return
        }
        for boundary: UInt32 in [0x7F, 0x7FF, 0xFFFF] where lo <= boundary && hi > boundary {
            split(lo, boundary, into: &out)
            split(boundary + 1, hi, into: &out)
            return
        }
        if hi < 0x80 {
            out.append([UInt8(lo)...UInt8(hi)])
            return
        }
        let n = length(lo)
        for i in 1..<n {
            let m: UInt32 = (1 << (6 * UInt32(i))) - 1
            if lo & ~m != hi & ~m {
                if lo & m != 0 {
                    split(lo, lo | m, into: &out)
                    split((lo | m) + 1, hi, into: &out)
                    return
                }
                if hi & m != m {
                    split(lo, (hi & ~m) - 1, into: &out)
                    split(hi & ~m, hi, into: &out)
                    return
                }
            }
        }
        let a = encode(lo), b = encode(hi)
        out.append((0..<a.count).map { a[$0]...b[$0] })
    }
}
