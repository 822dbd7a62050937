/// The pages of the paged KV pool: reference counts, prefix caching and copy-on-write.
///
/// Every block is either in use (reference count > 0, held by one or more block tables) or free.
/// Free blocks sit on an LRU list; a free block may still hold a cached prefix (its hash stays in
/// the cache map) until it is reused, so a later request with the same prefix can take it back.
/// Full blocks are keyed by a stable hash of (parent block hash, token ids); the token ids are kept
/// and compared on a hit, so a hash collision can never hand out the wrong K/V.
public final class BlockManager {
    public let blockSize: Int
    public let numBlocks: Int
    public let prefixCaching: Bool

    private var refCount: [Int32]
    private var hashOf: [UInt64]
    private var hasHash: [Bool]
    private var tokensOf: [Int32] // numBlocks * blockSize, valid where hasHash
    private var cache: [UInt64: Int32] = [:]
    // Doubly linked LRU list of free blocks: evict from head, release to tail.
    private var prev: [Int32]
    private var next: [Int32]
    private var head: Int32 = -1
    private var tail: Int32 = -1
    public private(set) var freeBlockCount = 0

    /// Prefix-cache counters, in tokens.
    public private(set) var prefixQueryTokens = 0
    public private(set) var prefixHitTokens = 0

    public init(numBlocks: Int, blockSize: Int, prefixCaching: Bool = true) {
        precondition(numBlocks > 0 && blockSize > 0)
        self.numBlocks = numBlocks
        self.blockSize = blockSize
        self.prefixCaching = prefixCaching
        refCount = [Int32](repeating: 0, count: numBlocks)
        hashOf = [UInt64](repeating: 0, count: numBlocks)
        hasHash = [Bool](repeating: false, count: numBlocks)
        tokensOf = [Int32](repeating: 0, count: numBlocks * blockSize)
        prev = [Int32](repeating: -1, count: numBlocks)
        next = [Int32](repeating: -1, count: numBlocks)
        for b in 0 ..< Int32(numBlocks) { pushTail(b) }
    }

    // MARK: free list

    private func pushTail(_ b: Int32) {
        prev[Int(b)] = tail
        next[Int(b)] = -1
        if tail >= 0 { next[Int(tail)] = b } else { head = b }
        tail = b
        freeBlockCount += 1
    }

    private func unlink(_ b: Int32) {
        let p = prev[Int(b)], n = next[Int(b)]
        if p >= 0 { next[Int(p)] = n } else { head = n }
        if n >= 0 { prev[Int(n)] = p } else { tail = p }
        prev[Int(b)] = -1
        next[Int(b)] = -1
        freeBlockCount -= 1
    }

    /// Takes the least recently used free block, dropping any prefix it cached.
    private func popFree() -> Int32 {
        let b = head
        precondition(b >= 0, "free list empty")
        unlink(b)
        if hasHash[Int(b)] {
            if cache[hashOf[Int(b)]] == b { cache.removeValue(forKey: hashOf[Int(b)]) }
            hasHash[Int(b)] = false
        }
        refCount[Int(b)] = 1
        return b
    }

    // MARK: hashing

    /// Stable hash of a full block given its parent's hash (0 for the first block).
    public static func blockHash(parent: UInt64, tokens: ArraySlice<Int32>) -> UInt64 {
        var h = parent ^ 0x5047_5749_5345_0001 // "PGWISE" salt
        func mix(_ x: UInt64) -> UInt64 {
            var z = x &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        h = mix(h)
        for t in tokens { h = mix(h ^ UInt64(UInt32(bitPattern: t))) }
        return mix(h ^ UInt64(tokens.count))
    }

    // MARK: queries

    /// Blocks needed to hold `tokens` positions.
    public func blocksNeeded(tokens: Int) -> Int { (tokens + blockSize - 1) / blockSize }

    public func refCount(of block: Int32) -> Int { Int(refCount[Int(block)]) }
    public func isFree(_ block: Int32) -> Bool { refCount[Int(block)] == 0 }
    /// Number of distinct prefixes currently findable in the cache.
    public var cachedBlockCount: Int { cache.count }

    /// The longest run of cached full blocks that starts `tokens`, capped so that at least one token
    /// is left to compute (its logits are needed). Counts the query in the hit statistics.
    public func cachedPrefix(of tokens: [Int32], hashes: inout [UInt64]) -> [Int32] {
        guard prefixCaching else { return [] }
        let maxBlocks = (tokens.count - 1) / blockSize
        extendHashes(&hashes, tokens: tokens, fullBlocks: maxBlocks)
        var found: [Int32] = []
        for i in 0 ..< maxBlocks {
            guard let b = cache[hashes[i]], tokensMatch(b, tokens[i * blockSize ..< (i + 1) * blockSize]) else { break }
            found.append(b)
        }
        prefixQueryTokens += tokens.count
        prefixHitTokens += found.count * blockSize
        return found
    }

    private func tokensMatch(_ b: Int32, _ tokens: ArraySlice<Int32>) -> Bool {
        let base = Int(b) * blockSize
        var i = base
        for t in tokens {
            if tokensOf[i] != t { return false }
            i += 1
        }
        return true
    }

    private func extendHashes(_ hashes: inout [UInt64], tokens: [Int32], fullBlocks: Int) {
        while hashes.count < fullBlocks {
            let i = hashes.count
            let parent = i == 0 ? 0 : hashes[i - 1]
            hashes.append(Self.blockHash(parent: parent, tokens: tokens[i * blockSize ..< (i + 1) * blockSize]))
        }
    }

    // MARK: allocation

    /// Makes `table` cover `totalTokens` positions: first takes references on `computed` (cached
    /// prefix blocks, appended in order), then allocates fresh blocks. All or nothing: returns false
    /// and changes nothing if the pool is short.
    public func allocate(_ table: inout [Int32], totalTokens: Int, computed: [Int32] = []) -> Bool {
        let need = blocksNeeded(tokens: totalTokens) - table.count - computed.count
        let revived = computed.reduce(0) { $0 + (refCount[Int($1)] == 0 ? 1 : 0) }
        guard need <= freeBlockCount - revived else { return false }
        for b in computed {
            if refCount[Int(b)] == 0 { unlink(b) }
            refCount[Int(b)] += 1
            table.append(b)
        }
        if need > 0 { for _ in 0 ..< need { table.append(popFree()) } }
        return true
    }

    /// Registers every full block of `tokens` (those covered by the first `computedTokens`
    /// positions) in the prefix cache. Blocks already registered are left as they are.
    public func cacheFullBlocks(_ table: [Int32], tokens: [Int32], computedTokens: Int, hashes: inout [UInt64]) {
        guard prefixCaching else { return }
        let full = min(computedTokens, tokens.count) / blockSize
        guard full > 0 else { return }
        extendHashes(&hashes, tokens: tokens, fullBlocks: full)
        for i in 0 ..< min(full, table.count) {
            let b = table[i]
            if hasHash[Int(b)] { continue }
            let h = hashes[i]
            if cache[h] != nil { continue } // an identical block is cached already; keep that one
            hasHash[Int(b)] = true
            hashOf[Int(b)] = h
            let base = Int(b) * blockSize
            for (j, t) in tokens[i * blockSize ..< (i + 1) * blockSize].enumerated() { tokensOf[base + j] = t }
            cache[h] = b
        }
    }

    /// Makes `table` ready for writing positions `writeFrom ..< totalTokens`: if the block holding
    /// `writeFrom` is shared (a fork), the table gets its own copy (copy-on-write), then fresh blocks
    /// are added to cover `totalTokens`. All or nothing: returns nil and changes nothing if the pool
    /// is short; otherwise the K/V copy (source, destination) to perform, if any.
    public func reserve(_ table: inout [Int32], writeFrom: Int, totalTokens: Int) -> (copy: (Int32, Int32)?, ok: Bool) {
        let i = writeFrom / blockSize
        let cow = i < table.count && refCount[Int(table[i])] > 1
        let fresh = max(0, blocksNeeded(tokens: totalTokens) - table.count)
        guard fresh + (cow ? 1 : 0) <= freeBlockCount else { return (nil, false) }
        var copy: (Int32, Int32)? = nil
        if cow {
            let old = table[i]
            let b = popFree()
            refCount[Int(old)] -= 1
            table[i] = b
            copy = (old, b)
        }
        for _ in 0 ..< fresh { table.append(popFree()) }
        return (copy, true)
    }

    /// A second table sharing every block of `table` (fork for n > 1).
    public func fork(_ table: [Int32]) -> [Int32] {
        for b in table { refCount[Int(b)] += 1 }
        return table
    }

    /// Drops a table's references; blocks that reach zero go to the free list (most recently
    /// freed last, so they are evicted last). Later blocks of a sequence are freed first, so a
    /// prefix's head outlives its tail under eviction pressure.
    public func release(_ table: inout [Int32]) {
        for b in table.reversed() {
            precondition(refCount[Int(b)] > 0, "double free of block \(b)")
            refCount[Int(b)] -= 1
            if refCount[Int(b)] == 0 { pushTail(b) }
        }
        table.removeAll()
    }

    /// Grows `table` to cover `tokens` positions with fresh blocks (no prefix caching).
    public func ensureCapacity(_ table: inout [Int32], tokens: Int) -> Bool {
        allocate(&table, totalTokens: tokens)
    }

    /// Checks internal consistency against the tables that are alive; returns a description of the
    /// first problem found, or nil. For tests.
    public func checkInvariants(liveTables: [[Int32]]) -> String? {
        var refs = [Int32](repeating: 0, count: numBlocks)
        for t in liveTables { for b in t { refs[Int(b)] += 1 } }
        if refs != refCount { return "reference counts do not match the live tables" }
        var seen = 0
        var b = head
        var inList = [Bool](repeating: false, count: numBlocks)
        while b >= 0 {
            if inList[Int(b)] { return "free list has a cycle" }
            inList[Int(b)] = true
            if refCount[Int(b)] != 0 { return "block \(b) is on the free list with refcount \(refCount[Int(b)])" }
            seen += 1
            b = next[Int(b)]
        }
        if seen != freeBlockCount { return "free count \(freeBlockCount) but \(seen) blocks on the list" }
        for i in 0 ..< numBlocks where refCount[i] == 0 && !inList[i] { return "block \(i) is unreferenced but not free" }
        for (h, blk) in cache where !hasHash[Int(blk)] || hashOf[Int(blk)] != h { return "cache entry for block \(blk) is stale" }
        return nil
    }
}
