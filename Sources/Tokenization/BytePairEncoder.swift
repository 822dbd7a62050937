/// Byte-level BPE (GPT-2 style): every byte of a pre-token is first mapped to a printable
/// Unicode character, then adjacent symbols are merged by merge rank (lowest rank first,
/// leftmost first among equal ranks) until no ranked pair remains.
struct BytePairEncoder: Sendable {
    /// Token texts followed by merge-only strings that are not tokens ("symbols").
    let symbols: ByteStringTable
    /// The number of entries of `symbols` that are vocabulary tokens (ids `0..<vocabCount`).
    let vocabCount: Int
    /// Symbol id of each texts's lookup: token id when the text is a token.
    /// (left symbol << 32 | right symbol) -> (rank << 32 | merged symbol)
    let merges: [UInt64: UInt64]
    /// Symbol id of the printable character standing for each byte.
    let byteSymbol: [Int32]
    /// UTF-8 of the printable character standing for each byte.
    let byteEncoded: [[UInt8]]
    let ignoreMerges: Bool

    /// The GPT-2 byte-to-character table: printable Latin-1 bytes map to themselves, the other
    /// 68 bytes to U+0100 onwards in byte order.
    static let byteToCodepoint: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var assigned = [Bool](repeating: false, count: 256)
        for b in 0..<256 where (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
            table[b] = UInt32(b)
            assigned[b] = true
        }
        var n: UInt32 = 0
        for b in 0..<256 where !assigned[b] {
            table[b] = 256 + n
            n += 1
        }
        return table
    }()

    /// The inverse of ``byteToCodepoint``.
    static let codepointToByte: [UInt32: UInt8] = {
        var m: [UInt32: UInt8] = [:]
        for (b, c) in byteToCodepoint.enumerated() { m[c] = UInt8(b) }
        return m
    }()

    init(vocab: ByteStringTable, mergeStrings: [String], ignoreMerges: Bool) {
        var table = vocab
        vocabCount = vocab.count
        self.ignoreMerges = ignoreMerges
        func intern(_ s: [UInt8]) -> Int32 {
            let id = table.lookup(s)
            if id >= 0 { return id }
            return table.append(s)
        }
        var encoded: [[UInt8]] = []
        var bsym: [Int32] = []
        for b in 0..<256 {
            let bytes = Array(String(Character(Unicode.Scalar(BytePairEncoder.byteToCodepoint[b])!)).utf8)
            encoded.append(bytes)
            bsym.append(intern(bytes))
        }
        var m: [UInt64: UInt64] = [:]
        m.reserveCapacity(mergeStrings.count)
        for (rank, line) in mergeStrings.enumerated() {
            let u = Array(line.utf8)
            // split at the first space after the first byte
            guard u.count > 1, let sp = u[1...].firstIndex(of: 0x20) else { continue }
            let left = Array(u[..<sp]), right = Array(u[(sp + 1)...])
            if left.isEmpty || right.isEmpty { continue }
            let l = intern(left), r = intern(right), res = intern(left + right)
            let key = UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r))
            if m[key] == nil {
                m[key] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: res))
            }
        }
        symbols = table
        merges = m
        byteSymbol = bsym
        byteEncoded = encoded
    }

    fileprivate struct Pair {
        var rank: UInt32
        var left: Int32
        var right: Int32
        var leftSym: Int32
        var rightSym: Int32
    }

    /// Reusable buffers for one encode call.
    struct Scratch {
        var sym: [Int32] = []
        var prev: [Int32] = []
        var next: [Int32] = []
        var encoded: [UInt8] = []
        fileprivate var heap = BinaryHeap<Pair>(before: { a, b in
            a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
        })
    }

    @inline(__always)
    private func lookupMerge(_ l: Int32, _ r: Int32) -> UInt64? {
        merges[UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r))]
    }

    /// Encodes one pre-token (raw UTF-8 bytes) and appends token ids to `output`.
    func encodeWord(_ word: UnsafeBufferPointer<UInt8>, scratch s: inout Scratch, output: inout [Int32]) {
        let n = word.count
        if n == 0 { return }
        if ignoreMerges {
            s.encoded.removeAll(keepingCapacity: true)
            for b in word { s.encoded.append(contentsOf: byteEncoded[Int(b)]) }
            let id = s.encoded.withUnsafeBufferPointer { symbols.lookup($0) }
            if id >= 0 && Int(id) < vocabCount {
                output.append(id)
                return
            }
        }
        s.sym.removeAll(keepingCapacity: true)
        s.prev.removeAll(keepingCapacity: true)
        s.next.removeAll(keepingCapacity: true)
        s.heap.removeAll()
        for (i, b) in word.enumerated() {
            s.sym.append(byteSymbol[Int(b)])
            s.prev.append(Int32(i - 1))
            s.next.append(i + 1 < n ? Int32(i + 1) : -1)
        }
        if n > 1 {
            for i in 1..<n {
                if let m = lookupMerge(s.sym[i - 1], s.sym[i]) {
                    s.heap.push(Pair(rank: UInt32(m >> 32), left: Int32(i - 1), right: Int32(i),
                                     leftSym: s.sym[i - 1], rightSym: s.sym[i]))
                }
            }
        }
        while let p = s.heap.pop() {
            let l = Int(p.left), r = Int(p.right)
            if s.sym[l] != p.leftSym || s.sym[r] != p.rightSym || s.next[l] != p.right { continue }
            guard let m = lookupMerge(p.leftSym, p.rightSym) else { continue }
            s.sym[l] = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
            s.sym[r] = -1
            let rn = s.next[r]
            s.next[l] = rn
            if rn >= 0 { s.prev[Int(rn)] = p.left }
            let lp = s.prev[l]
            if lp >= 0, let mm = lookupMerge(s.sym[Int(lp)], s.sym[l]) {
                s.heap.push(Pair(rank: UInt32(mm >> 32), left: lp, right: p.left, leftSym: s.sym[Int(lp)], rightSym: s.sym[l]))
            }
            if rn >= 0, let mm = lookupMerge(s.sym[l], s.sym[Int(rn)]) {
                s.heap.push(Pair(rank: UInt32(mm >> 32), left: p.left, right: rn, leftSym: s.sym[l], rightSym: s.sym[Int(rn)]))
            }
        }
        var i: Int32 = 0
        while i >= 0 {
            let sy = s.sym[Int(i)]
            if Int(sy) < vocabCount {
                output.append(sy)
            } else {
                // Not a token: fall back to single-character tokens for each byte of its text.
                for b in symbols.entry(Int(sy)) {
                    let t = symbols.lookup([b])
                    if t >= 0 && Int(t) < vocabCount { output.append(t) }
                }
            }
            i = s.next[Int(i)]
        }
    }
}
