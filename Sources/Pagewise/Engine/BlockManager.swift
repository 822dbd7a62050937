import Models

/// The pages of the paged KV pool: reference counts, prefix caching and copy-on-write.
///
/// Every block is either in use (reference count > 0, held by one or more block tables) or free.
/// Free blocks sit on an LRU list; a free block may still hold a cached prefix (its hash stays in
/// the cache map) until it is reused, so a later request with the same prefix can take it back.
/// Full blocks are keyed by a stable hash of (parent block hash, token ids); the token ids are kept
/// and compared on a hit, so a hash collision can never hand out the wrong K/V.
///
/// A sequence holds one block table per KV group (`KVLayout`; one for most models). All groups
/// draw on the one pool. A sliding-window group's table gives back the pages no later query can
/// read (entries become -1), and its prefix hits need only the pages the first computed token's
/// window reaches. Each group has its own prefix cache: the same tokens give different K/V in
/// different groups' layers.
public final class BlockManager {
    public let blockSize: Int
    public let numBlocks: Int
    public let prefixCaching: Bool
    /// Sliding window of each KV group's layers in tokens (0: full attention): one block table per
    /// group in every sequence.
    public let groupWindows: [Int]
    public var groupCount: Int { groupWindows.count }

    private var refCount: [Int32]
    private var hashOf: [UInt64]
    private var hasHash: [Bool]
    private var groupOf: [Int32] // the group whose prefix cache holds the block, where hasHash
    private var tokensOf: [Int32] // numBlocks * blockSize, valid where hasHash
    private var cache: [[UInt64: Int32]] // per group
    // Doubly linked LRU list of free blocks: evict from head, release to tail.
    private var prev: [Int32]
    private var next: [Int32]
    private var head: Int32 = -1
    private var tail: Int32 = -1
    public private(set) var freeBlockCount = 0

    /// Prefix-cache counters, in tokens.
    public private(set) var prefixQueryTokens = 0
    public private(set) var prefixHitTokens = 0

    public init(numBlocks: Int, blockSize: Int, prefixCaching: Bool = true, groupWindows: [Int] = [0]) {
        precondition(numBlocks > 0 && blockSize > 0 && !groupWindows.isEmpty)
        self.numBlocks = numBlocks
        self.blockSize = blockSize
        self.prefixCaching = prefixCaching
        self.groupWindows = groupWindows
        refCount = [Int32](repeating: 0, count: numBlocks)
        hashOf = [UInt64](repeating: 0, count: numBlocks)
        hasHash = [Bool](repeating: false, count: numBlocks)
        groupOf = [Int32](repeating: 0, count: numBlocks)
        tokensOf = [Int32](repeating: 0, count: numBlocks * blockSize)
        cache = [[UInt64: Int32]](repeating: [:], count: groupWindows.count)
        prev = [Int32](repeating: -1, count: numBlocks)
        next = [Int32](repeating: -1, count: numBlocks)
        for b in 0 ..< Int32(numBlocks) { pushTail(b) }
    }

    /// The block tables of a sequence that holds nothing yet: one empty table per group.
    public var emptyTables: [[Int32]] { [[Int32]](repeating: [], count: groupCount) }

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
            let g = Int(groupOf[Int(b)])
            if cache[g][hashOf[Int(b)]] == b { cache[g].removeValue(forKey: hashOf[Int(b)]) }
            hasHash[Int(b)] = false
        }
        refCount[Int(b)] = 1
        return b
    }

    /// Drops one reference; a block that reaches zero goes to the tail of the free list.
    private func drop(_ b: Int32) {
        precondition(refCount[Int(b)] > 0, "double free of block \(b)")
        refCount[Int(b)] -= 1
        if refCount[Int(b)] == 0 { pushTail(b) }
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

    /// Logical index of the first block a query at `position` reads in group `g`.
    @inline(__always) private func firstLiveBlock(group g: Int, position: Int) -> Int {
        KVLayout.windowStart(position: position, window: groupWindows[g]) / blockSize
    }

    public func refCount(of block: Int32) -> Int { Int(refCount[Int(block)]) }
    public func isFree(_ block: Int32) -> Bool { refCount[Int(block)] == 0 }
    /// Number of distinct prefixes currently findable in the cache (over all groups).
    public var cachedBlockCount: Int { cache.reduce(0) { $0 + $1.count } }

    /// The longest run of cached full blocks that starts `tokens`, capped so that at least one token
    /// is left to compute (its logits are needed), as one table per group: a full-attention group
    /// needs every block of the run; a sliding-window group only those the first token after the
    /// run can read (earlier entries are -1). Counts the query in the hit statistics.
    public func cachedPrefix(of tokens: [Int32], hashes: inout [UInt64]) -> [[Int32]] {
        guard prefixCaching else { return emptyTables }
        let maxBlocks = (tokens.count - 1) / blockSize
        extendHashes(&hashes, tokens: tokens, fullBlocks: maxBlocks)
        func cached(_ g: Int, _ i: Int) -> Int32? {
            guard let b = cache[g][hashes[i]], tokensMatch(b, tokens[i * blockSize ..< (i + 1) * blockSize]) else { return nil }
            return b
        }
        var k = maxBlocks
        for g in 0 ..< groupCount where groupWindows[g] == 0 {
            var i = 0
            while i < k, cached(g, i) != nil { i += 1 }
            k = i
        }
        // Sliding groups: the longest run whose last window is cached (not a prefix property, so
        // tried from the longest down).
        func windowCached(_ k: Int) -> Bool {
            (0 ..< groupCount).allSatisfy { g in
                groupWindows[g] == 0 || (firstLiveBlock(group: g, position: k * blockSize) ..< k).allSatisfy { cached(g, $0) != nil }
            }
        }
        while k > 0, !windowCached(k) { k -= 1 }
        var found = emptyTables
        for g in 0 ..< groupCount {
            let first = groupWindows[g] == 0 ? 0 : firstLiveBlock(group: g, position: k * blockSize)
            found[g] = (0 ..< k).map { $0 < first ? -1 : cached(g, $0)! }
        }
        prefixQueryTokens += tokens.count
        prefixHitTokens += k * blockSize
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

    /// Makes `tables` (one per group) cover `totalTokens` positions: first takes references on
    /// `computed` (a `cachedPrefix` result, appended in order; -1 entries stay -1), then allocates
    /// fresh blocks. All or nothing: returns false and changes nothing if the pool is short.
    public func allocate(_ tables: inout [[Int32]], totalTokens: Int, computed: [[Int32]]? = nil) -> Bool {
        if tables.isEmpty { tables = emptyTables }
        let computed = computed ?? emptyTables
        precondition(tables.count == groupCount && computed.count == groupCount, "one block table per KV group")
        var need = 0, revived = 0
        for g in 0 ..< groupCount {
            need += max(0, blocksNeeded(tokens: totalTokens) - tables[g].count - computed[g].count)
            revived += computed[g].reduce(0) { $0 + ($1 >= 0 && refCount[Int($1)] == 0 ? 1 : 0) }
        }
        guard need <= freeBlockCount - revived else { return false }
        for g in 0 ..< groupCount {
            for b in computed[g] {
                if b >= 0 {
                    if refCount[Int(b)] == 0 { unlink(b) }
                    refCount[Int(b)] += 1
                }
                tables[g].append(b)
            }
            while tables[g].count < blocksNeeded(tokens: totalTokens) { tables[g].append(popFree()) }
        }
        return true
    }

    /// Registers every full block of `tokens` (those covered by the first `computedTokens`
    /// positions) in its group's prefix cache. Blocks already registered are left as they are.
    public func cacheFullBlocks(_ tables: [[Int32]], tokens: [Int32], computedTokens: Int, hashes: inout [UInt64]) {
        guard prefixCaching else { return }
        let full = min(computedTokens, tokens.count) / blockSize
        guard full > 0 else { return }
        extendHashes(&hashes, tokens: tokens, fullBlocks: full)
        for (g, table) in tables.enumerated() {
            for i in 0 ..< min(full, table.count) {
                let b = table[i]
                if b < 0 || hasHash[Int(b)] { continue }
                let h = hashes[i]
                if cache[g][h] != nil { continue } // an identical block is cached already; keep that one
                hasHash[Int(b)] = true
                hashOf[Int(b)] = h
                groupOf[Int(b)] = Int32(g)
                let base = Int(b) * blockSize
                for (j, t) in tokens[i * blockSize ..< (i + 1) * blockSize].enumerated() { tokensOf[base + j] = t }
                cache[g][h] = b
            }
        }
    }

    /// Makes `tables` ready for writing positions `writeFrom ..< totalTokens`. First, each
    /// sliding-window group gives back the blocks that lie wholly before the window of position
    /// `writeFrom` (no query of this sequence reads them again; their entries become -1). Then, in
    /// each group, if the block holding `writeFrom` is shared (a fork) the table gets its own copy
    /// (copy-on-write), and fresh blocks are added to cover `totalTokens`. That second part is all
    /// or nothing: returns ok false and takes nothing if the pool is short; otherwise the K/V copies
    /// (source, destination) to perform.
    public func reserve(_ tables: inout [[Int32]], writeFrom: Int, totalTokens: Int) -> (copies: [(Int32, Int32)], ok: Bool) {
        precondition(tables.count == groupCount, "one block table per KV group")
        trimWindows(&tables, position: writeFrom)
        let i = writeFrom / blockSize
        var need = 0
        for t in tables {
            let cow = i < t.count && t[i] >= 0 && refCount[Int(t[i])] > 1
            need += max(0, blocksNeeded(tokens: totalTokens) - t.count) + (cow ? 1 : 0)
        }
        guard need <= freeBlockCount else { return ([], false) }
        var copies: [(Int32, Int32)] = []
        for g in 0 ..< groupCount {
            if i < tables[g].count, tables[g][i] >= 0, refCount[Int(tables[g][i])] > 1 {
                let old = tables[g][i]
                let b = popFree()
                refCount[Int(old)] -= 1
                tables[g][i] = b
                copies.append((old, b))
            }
            while tables[g].count < blocksNeeded(tokens: totalTokens) { tables[g].append(popFree()) }
        }
        return (copies, true)
    }

    /// Gives back every sliding-window group's blocks that lie wholly before the window of a query
    /// at `position` (entries become -1).
    public func trimWindows(_ tables: inout [[Int32]], position: Int) {
        for g in 0 ..< min(groupCount, tables.count) where groupWindows[g] > 0 {
            let first = min(firstLiveBlock(group: g, position: position), tables[g].count)
            for j in 0 ..< first where tables[g][j] >= 0 {
                drop(tables[g][j])
                tables[g][j] = -1
            }
        }
    }

    /// Drops the blocks of `tables` past those covering the first `tokens` positions (speculative
    /// decoding's rollback of rejected draft positions: those blocks were never hashed).
    public func truncate(_ tables: inout [[Int32]], tokens: Int) {
        let keep = blocksNeeded(tokens: tokens)
        for g in 0 ..< tables.count {
            while tables[g].count > keep, let b = tables[g].popLast() {
                if b >= 0 { drop(b) }
            }
        }
    }

    /// Second tables sharing every block of `tables` (fork for n > 1).
    public func fork(_ tables: [[Int32]]) -> [[Int32]] {
        for t in tables { for b in t where b >= 0 { refCount[Int(b)] += 1 } }
        return tables
    }

    /// Drops the tables' references; blocks that reach zero go to the free list (most recently
    /// freed last, so they are evicted last). Later blocks of a sequence are freed first, so a
    /// prefix's head outlives its tail under eviction pressure. The tables become empty.
    public func release(_ tables: inout [[Int32]]) {
        for t in tables { for b in t.reversed() where b >= 0 { drop(b) } }
        tables = emptyTables
    }

    /// Drops a single-group `table`'s references (`release` of one table).
    public func release(_ table: inout [Int32]) {
        var tables = [table]
        release(&tables)
        table = []
    }

    /// Grows a single-group `table` to cover `tokens` positions with fresh blocks (no prefix caching).
    public func ensureCapacity(_ table: inout [Int32], tokens: Int) -> Bool {
        precondition(groupCount == 1, "ensureCapacity: a pool of one KV group")
        var tables = [table]
        guard allocate(&tables, totalTokens: tokens) else { return false }
        table = tables[0]
        return true
    }

    /// Checks internal consistency against the tables that are alive (every group's table of
    /// every live sequence; -1 entries hold nothing); returns a description of the first problem
    /// found, or nil. For tests.
    public func checkInvariants(liveTables: [[Int32]]) -> String? {
        var refs = [Int32](repeating: 0, count: numBlocks)
        for t in liveTables { for b in t where b >= 0 { refs[Int(b)] += 1 } }
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
        for (g, map) in cache.enumerated() {
            for (h, blk) in map where !hasHash[Int(blk)] || hashOf[Int(blk)] != h || groupOf[Int(blk)] != g {
                return "cache entry for block \(blk) of group \(g) is stale"
            }
        }
        return nil
    }
}
