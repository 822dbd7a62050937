/// The byte-level BPE pre-tokenizers Pagewise implements, named after the regular expressions
/// they reproduce (llama.cpp's `tokenizer.ggml.pre` groups).
///
/// Each one is a hand-written scanner over Unicode scalars; no regular-expression engine is used.
enum PreTokenizerKind: Sendable, Equatable {
    /// llama.cpp's fallback for BPE vocabularies with `pre = default`:
    /// `[\p{P}$+<=>^~|]+`, then the GPT-2 rule, then `\p{N}+`, then `[0-9][0-9][0-9]`.
    case standard
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// Every \p{N} codepoint on its own, then the GPT-2 rule (StarCoder, SmolLM, Command-R …).
    case digitsThenGPT2
    /// Llama 3: case-insensitive contractions, `[^\r\n\p{L}\p{N}]?\p{L}+`, `\p{N}{1,3}`,
    /// ` ?[^\s\p{L}\p{N}]+[\r\n]*`, `\s*[\r\n]+`, `\s+(?!\S)`, `\s+`.
    case llama3
    /// Qwen 2: as Llama 3 but with single digits (`\p{N}`).
    case qwen2

    /// How a `tokenizer.ggml.pre` name configures byte-level BPE.
    struct Resolved: Sendable {
        var kind: PreTokenizerKind
        /// A whole pre-token that is already a vocabulary entry skips merging.
        var ignoreMerges: Bool = false
        /// Whether detokenization tidies " ." / " 's" style spaces.
        var cleanSpaces: Bool = true
        /// The add-BOS default when the metadata does not say.
        var addBOSDefault: Bool = false
    }

    /// Names accepted in `tokenizer.ggml.pre` (grouped as llama.cpp groups them).
    static let supportedNames: [String] = [
        "default",
        "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano",
        "dbrx", "smaug-bpe",
        "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
        "modern-bert", "mpt", "olmo", "jais", "exaone4", "trillion", "granite-docling",
        "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2",
        "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open",
    ]

    /// Resolves a `tokenizer.ggml.pre` value (nil or empty means `default`).
    static func resolve(_ name: String?) throws -> Resolved {
        let n = name ?? ""
        switch n {
        case "", "default":
            return Resolved(kind: .standard)
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano":
            return Resolved(kind: .llama3, ignoreMerges: true, cleanSpaces: true, addBOSDefault: true)
        case "dbrx", "smaug-bpe":
            return Resolved(kind: .llama3)
        case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
             "modern-bert", "mpt", "olmo", "jais", "exaone4":
            return Resolved(kind: .gpt2)
        case "trillion", "granite-docling":
            return Resolved(kind: .gpt2, cleanSpaces: false)
        case "starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2":
            return Resolved(kind: .digitsThenGPT2)
        case "command-r", "smollm":
            return Resolved(kind: .digitsThenGPT2, cleanSpaces: false)
        case "megrez", "stablelm2":
            return Resolved(kind: .qwen2)
        case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open":
            return Resolved(kind: .qwen2, cleanSpaces: false)
        default:
            throw TokenizerError.unsupportedPreTokenizer(n)
        }
    }

    /// Splits `cps` into pre-tokens; returns their lengths in codepoints (summing to `cps.count`).
    func split(_ cps: [UInt32]) -> [Int] {
        if cps.isEmpty { return [] }
        return cps.withUnsafeBufferPointer { p in
            let s = Scanner(cps: p)
            var segs = [cps.count]
            switch self {
            case .gpt2:
                segs = s.apply(segs, s.gpt2)
            case .digitsThenGPT2:
                segs = s.apply(segs) { lo, hi, out in
                    s.isolateRuns(lo, hi, &out, single: true) { c, cls in cls.contains(.number) }
                }
                segs = s.apply(segs, s.gpt2)
            case .llama3:
                segs = s.apply(segs) { lo, hi, out in s.llama3(lo, hi, &out, digitGroup: 3) }
            case .qwen2:
                segs = s.apply(segs) { lo, hi, out in s.llama3(lo, hi, &out, digitGroup: 1) }
            case .standard:
                segs = s.apply(segs) { lo, hi, out in
                    s.isolateRuns(lo, hi, &out, single: false) { c, cls in
                        if cls.contains(.punctuation) { return true }
                        switch c {
                        case 0x24, 0x2B, 0x3C, 0x3D, 0x3E, 0x5E, 0x7E, 0x7C: return true  // $ + < = > ^ ~ |
                        default: return false
                        }
                    }
                }
                segs = s.apply(segs, s.gpt2)
                segs = s.apply(segs) { lo, hi, out in
                    s.isolateRuns(lo, hi, &out, single: false) { c, cls in cls.contains(.number) }
                }
                segs = s.apply(segs, s.asciiDigitTriples)
            }
            return segs
        }
    }
}

/// The codepoint scanners behind ``PreTokenizerKind``. Positions are absolute indices into `cps`;
/// each scanner works inside one segment `[lo, hi)` and treats positions outside it as absent.
private struct Scanner {
    let cps: UnsafeBufferPointer<UInt32>
    static let absent: UInt32 = 0xFFFF_FFFF

    @inline(__always) func cpt(_ pos: Int, _ lo: Int, _ hi: Int) -> UInt32 {
        (pos >= lo && pos < hi) ? cps[pos] : Scanner.absent
    }

    @inline(__always) func cls(_ pos: Int, _ lo: Int, _ hi: Int) -> CodepointClass {
        (pos >= lo && pos < hi) ? CodepointClass.of(cps[pos]) : []
    }

    func apply(_ segs: [Int], _ body: (Int, Int, inout [Int]) -> Void) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(segs.count * 2)
        var start = 0
        for len in segs {
            body(start, start + len, &out)
            start += len
        }
        return out
    }

    /// Isolates runs of codepoints matching `pred` (or single ones when `single`); the text
    /// between matches stays as its own segments.
    func isolateRuns(_ lo: Int, _ hi: Int, _ out: inout [Int], single: Bool,
                     _ pred: (UInt32, CodepointClass) -> Bool) {
        var gapStart = lo
        var pos = lo
        while pos < hi {
            let c = cps[pos]
            if pred(c, CodepointClass.of(c)) {
                if pos > gapStart { out.append(pos - gapStart) }
                var end = pos + 1
                if !single {
                    while end < hi, pred(cps[end], CodepointClass.of(cps[end])) { end += 1 }
                }
                out.append(end - pos)
                pos = end
                gapStart = end
            } else {
                pos += 1
            }
        }
        if hi > gapStart { out.append(hi - gapStart) }
    }

    /// Isolates non-overlapping runs of three ASCII digits, leftmost first.
    func asciiDigitTriples(_ lo: Int, _ hi: Int, _ out: inout [Int]) {
        @inline(__always) func digit(_ i: Int) -> Bool { cps[i] >= 0x30 && cps[i] <= 0x39 }
        var gapStart = lo
        var pos = lo
        while pos + 3 <= hi {
            if digit(pos) && digit(pos + 1) && digit(pos + 2) {
                if pos > gapStart { out.append(pos - gapStart) }
                out.append(3)
                pos += 3
                gapStart = pos
            } else {
                pos += 1
            }
        }
        if hi > gapStart { out.append(hi - gapStart) }
    }

    private static let letterOrNumberOrSpace: CodepointClass = [.whitespace, .letter, .number]

    /// The GPT-2 rule: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    func gpt2(_ lo: Int, _ hi: Int, _ out: inout [Int]) {
        var prevEnd = lo
        @inline(__always) func add(_ end: Int) -> Int {
            let len = end - prevEnd
            if len > 0 { out.append(len) }
            prevEnd = end
            return len
        }
        var pos = lo
        while pos < hi {
            let c = cps[pos]
            let f = CodepointClass.of(c)
            if c == 0x27, pos + 1 < hi {  // '
                let n = cps[pos + 1]
                if n == 0x73 || n == 0x74 || n == 0x6D || n == 0x64 {  // s t m d
                    pos += add(pos + 2)
                    continue
                }
                if pos + 2 < hi {
                    let nn = cps[pos + 2]
                    if (n == 0x72 && nn == 0x65) || (n == 0x76 && nn == 0x65) || (n == 0x6C && nn == 0x6C) {  // re ve ll
                        pos += add(pos + 3)
                        continue
                    }
                }
            }
            var f2 = c == 0x20 ? cls(pos + 1, lo, hi) : f
            if f2.contains(.letter) {
                if c == 0x20 { pos += 1 }
                while f2.contains(.letter) { pos += 1; f2 = cls(pos, lo, hi) }
                _ = add(pos)
                continue
            }
            if f2.contains(.number) {
                if c == 0x20 { pos += 1 }
                while f2.contains(.number) { pos += 1; f2 = cls(pos, lo, hi) }
                _ = add(pos)
                continue
            }
            if f2.isDisjoint(with: Scanner.letterOrNumberOrSpace) && !f2.isEmpty {
                if c == 0x20 { pos += 1 }
                while f2.isDisjoint(with: Scanner.letterOrNumberOrSpace) && !f2.isEmpty {
                    pos += 1
                    f2 = cls(pos, lo, hi)
                }
                _ = add(pos)
                continue
            }
            var n = 0
            while cls(pos + n, lo, hi).contains(.whitespace) { n += 1 }
            if n > 1 && cpt(pos + n, lo, hi) != Scanner.absent {
                pos += n - 1
                _ = add(pos)
                continue
            }
            if n > 0 {
                pos += n
                _ = add(pos)
                continue
            }
            pos += 1
            _ = add(pos)
        }
    }

    @inline(__always) private static func asciiLower(_ c: UInt32) -> UInt32 {
        (c >= 0x41 && c <= 0x5A) ? c + 0x20 : c
    }

    /// The Llama 3 rule (digitGroup 3) and the Qwen 2 rule (digitGroup 1).
    func llama3(_ lo: Int, _ hi: Int, _ out: inout [Int], digitGroup: Int) {
        var prevEnd = lo
        @inline(__always) func add(_ end: Int) -> Int {
            let len = end - prevEnd
            if len > 0 { out.append(len) }
            prevEnd = end
            return len
        }
        var pos = lo
        while pos < hi {
            let c = cps[pos]
            let f = CodepointClass.of(c)
            if c == 0x27, pos + 1 < hi {  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
                let n = Scanner.asciiLower(cps[pos + 1])
                if n == 0x73 || n == 0x74 || n == 0x6D || n == 0x64 {
                    pos += add(pos + 2)
                    continue
                }
                if pos + 2 < hi {
                    let nn = Scanner.asciiLower(cps[pos + 2])
                    if (n == 0x72 && nn == 0x65) || (n == 0x76 && nn == 0x65) || (n == 0x6C && nn == 0x6C) {
                        pos += add(pos + 3)
                        continue
                    }
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !(c == 0x0D || c == 0x0A || f.contains(.number)) {
                if f.contains(.letter) || cls(pos + 1, lo, hi).contains(.letter) {
                    pos += 1
                    while cls(pos, lo, hi).contains(.letter) { pos += 1 }
                    _ = add(pos)
                    continue
                }
            }
            // \p{N}{1,3} or \p{N}
            if f.contains(.number) {
                if digitGroup == 1 {
                    pos += 1
                    _ = add(pos)
                    continue
                }
                var ini = pos
                while cls(pos, lo, hi).contains(.number) {
                    pos += 1
                    if pos - ini >= digitGroup {
                        _ = add(pos)
                        ini = pos
                    }
                }
                _ = add(pos)
                continue
            }
            //  ?[^\s\p{L}\p{N}]+[\r\n]*
            var f2 = c == 0x20 ? cls(pos + 1, lo, hi) : f
            if f2.isDisjoint(with: Scanner.letterOrNumberOrSpace) && !f.isEmpty {
                if c == 0x20 { pos += 1 }
                while f2.isDisjoint(with: Scanner.letterOrNumberOrSpace) && !f2.isEmpty {
                    pos += 1
                    f2 = cls(pos, lo, hi)
                }
                var c2 = cpt(pos, lo, hi)
                while c2 == 0x0D || c2 == 0x0A {
                    pos += 1
                    c2 = cpt(pos, lo, hi)
                }
                _ = add(pos)
                continue
            }
            var n = 0
            var lastRN = 0
            while cls(pos + n, lo, hi).contains(.whitespace) {
                let c2 = cpt(pos + n, lo, hi)
                if c2 == 0x0D || c2 == 0x0A { lastRN = pos + n + 1 }
                n += 1
            }
            if lastRN > 0 {  // \s*[\r\n]+
                pos = lastRN
                _ = add(pos)
                continue
            }
            if n > 1 && cpt(pos + n, lo, hi) != Scanner.absent {  // \s+(?!\S)
                pos += n - 1
                _ = add(pos)
                continue
            }
            if n > 0 {  // \s+
                pos += n
                _ = add(pos)
                continue
            }
            pos += 1
            _ = add(pos)
        }
    }
}
