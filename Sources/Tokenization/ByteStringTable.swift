/// An immutable set of byte strings stored back to back in one buffer, with an open-addressing
/// hash index, so that a token text can be looked up from any byte slice without allocating.
///
/// Entry `i` is the i-th string appended; duplicates keep every entry but the index maps a text
/// to the entry inserted last (the way llama.cpp's `token_to_id` map behaves).
struct ByteStringTable: Sendable {
    private(set) var bytes: [UInt8] = []
    private(set) var offsets: [Int32] = [0]
    private var slots: [Int32] = []
    private var mask: Int = 0

    var count: Int { offsets.count - 1 }

    init() {}

    /// Builds a table from `strings`; entry ids are the positions in `strings`.
    init(_ strings: [[UInt8]]) {
        var total = 0
        for s in strings { total += s.count }
        bytes.reserveCapacity(total)
        offsets.reserveCapacity(strings.count + 1)
        for s in strings {
            bytes.append(contentsOf: s)
            offsets.append(Int32(bytes.count))
        }
        rebuildIndex()
    }

    /// Appends one string and returns its entry id (index is updated).
    mutating func append(_ s: [UInt8]) -> Int32 {
        bytes.append(contentsOf: s)
        offsets.append(Int32(bytes.count))
        let id = Int32(count - 1)
        if count * 2 > slots.count {
            rebuildIndex()
        } else {
            insert(id)
        }
        return id
    }

    private mutating func rebuildIndex() {
        var cap = 16
        while cap < count * 2 { cap <<= 1 }
        slots = [Int32](repeating: -1, count: cap)
        mask = cap - 1
        for i in 0..<count { insert(Int32(i)) }
    }

    private mutating func insert(_ id: Int32) {
        let start = Int(offsets[Int(id)]), end = Int(offsets[Int(id) + 1])
        let h = bytes.withUnsafeBufferPointer { buf in
            ByteStringTable.hash(UnsafeBufferPointer(rebasing: buf[start..<end]))
        }
        var slot = h & mask
        while true {
            let cur = slots[slot]
            if cur < 0 { slots[slot] = id; return }
            if entryEquals(Int(cur), start: start, end: end) {
                slots[slot] = id  // later duplicates win
                return
            }
            slot = (slot + 1) & mask
        }
    }

    private func entryEquals(_ e: Int, start: Int, end: Int) -> Bool {
        let s = Int(offsets[e]), t = Int(offsets[e + 1])
        if t - s != end - start { return false }
        var i = 0
        while i < t - s {
            if bytes[s + i] != bytes[start + i] { return false }
            i += 1
        }
        return true
    }

    @inline(__always)
    static func hash(_ p: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in p {
            h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3
        }
        h ^= h >> 29
        return Int(truncatingIfNeeded: h)
    }

    /// The entry whose text equals `key`, or -1.
    func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int32 {
        if slots.isEmpty { return -1 }
        var slot = ByteStringTable.hash(key) & mask
        return bytes.withUnsafeBufferPointer { buf in
            offsets.withUnsafeBufferPointer { offs in
                slots.withUnsafeBufferPointer { sl in
                    while true {
                        let cur = sl[slot]
                        if cur < 0 { return -1 }
                        let s = Int(offs[Int(cur)]), t = Int(offs[Int(cur) + 1])
                        if t - s == key.count {
                            var eq = true
                            var i = 0
                            while i < key.count {
                                if buf[s + i] != key[i] { eq = false; break }
                                i += 1
                            }
                            if eq { return cur }
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    /// The entry whose text equals `key`, or -1.
    func lookup(_ key: [UInt8]) -> Int32 {
        key.withUnsafeBufferPointer { lookup($0) }
    }

    /// The text of entry `id`.
    func entry(_ id: Int) -> ArraySlice<UInt8> {
        bytes[Int(offsets[id])..<Int(offsets[id + 1])]
    }

    /// The byte length of entry `id`.
    func length(_ id: Int) -> Int {
        Int(offsets[id + 1] - offsets[id])
    }
}
