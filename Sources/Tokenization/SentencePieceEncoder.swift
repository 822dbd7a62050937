/// SentencePiece-style BPE (llama.cpp's "SPM" vocabularies: Llama 2, Mistral, Gemma): the text
/// (spaces already replaced by U+2581) is split into UTF-8 characters, and adjacent symbols whose
/// concatenation is a vocabulary entry are merged, highest score first (leftmost first among equal
/// scores). Characters that never form a token fall back to byte tokens `<0xXX>`.
struct SentencePieceEncoder: Sendable {
    let vocab: ByteStringTable
    let scores: [Float]
    /// Token for each byte value (`<0xXX>`, else the one-byte text), or -1.
    let byteToken: [Int32]
    let unknownToken: Int32

    init(vocab: ByteStringTable, scores: [Float], unknownToken: Int32) {
        self.vocab = vocab
        self.scores = scores
        self.unknownToken = unknownToken
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var bt = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            let name: [UInt8] = [0x3C, 0x30, 0x78, hex[b >> 4], hex[b & 15], 0x3E]  // <0xXX>
            var id = vocab.lookup(name)
            if id < 0 { id = vocab.lookup([UInt8(b)]) }
            bt[b] = id
        }
        byteToken = bt
    }

    fileprivate struct Bigram {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32
    }

    struct Scratch {
        var start: [Int32] = []
        var len: [Int32] = []
        var prev: [Int32] = []
        var next: [Int32] = []
        fileprivate var heap = BinaryHeap<Bigram>(before: { a, b in
            a.score > b.score || (a.score == b.score && a.left < b.left)
        })
    }

    @inline(__always)
    private static func utf8Length(_ b: UInt8) -> Int {
        switch b >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }

    /// Encodes `text` (already space-escaped) and appends token ids to `output`.
    func encode(_ text: UnsafeBufferPointer<UInt8>, scratch s: inout Scratch, output: inout [Int32]) {
        let total = text.count
        if total == 0 { return }
        s.start.removeAll(keepingCapacity: true)
        s.len.removeAll(keepingCapacity: true)
        s.prev.removeAll(keepingCapacity: true)
        s.next.removeAll(keepingCapacity: true)
        s.heap.removeAll()
        var off = 0
        var idx: Int32 = 0
        while off < total {
            let n = min(SentencePieceEncoder.utf8Length(text[off]), total - off)
            s.start.append(Int32(off))
            s.len.append(Int32(n))
            off += n
            s.prev.append(idx - 1)
            s.next.append(off == total ? -1 : idx + 1)
            idx += 1
        }
        let count = s.start.count

        func tryAdd(_ l: Int32, _ r: Int32, _ s: inout Scratch) {
            if l < 0 || r < 0 { return }
            let a = Int(s.start[Int(l)])
            let size = Int(s.len[Int(l)] + s.len[Int(r)])
            let id = vocab.lookup(UnsafeBufferPointer(rebasing: text[a..<(a + size)]))
            if id < 0 { return }
            s.heap.push(Bigram(score: scores[Int(id)], left: l, right: r, size: Int32(size)))
        }

        if count > 1 {
            for i in 1..<count { tryAdd(Int32(i - 1), Int32(i), &s) }
        }
        while let bg = s.heap.pop() {
            let l = Int(bg.left), r = Int(bg.right)
            if s.len[l] == 0 || s.len[r] == 0 || s.len[l] + s.len[r] != bg.size { continue }
            s.len[l] += s.len[r]
            s.len[r] = 0
            let rn = s.next[r]
            s.next[l] = rn
            if rn >= 0 { s.prev[Int(rn)] = bg.left }
            tryAdd(s.prev[l], bg.left, &s)
            tryAdd(bg.left, rn, &s)
        }
        var i: Int32 = 0
        while i >= 0 {
            let a = Int(s.start[Int(i)]), n = Int(s.len[Int(i)])
            let id = vocab.lookup(UnsafeBufferPointer(rebasing: text[a..<(a + n)]))
            if id >= 0 {
                output.append(id)
            } else {
                for k in a..<(a + n) {
                    let t = byteToken[Int(text[k])]
                    if t >= 0 {
                        output.append(t)
                    } else if unknownToken >= 0 {
                        output.append(unknownToken)
                    }
                }
            }
            i = s.next[Int(i)]
        }
    }
}
