/// Hands out the physical blocks of the paged KV pool and takes them back.
///
/// Free blocks are kept on a stack so allocation is O(1) and never fragments: a sequence's
/// only waste is the unfilled tail of its last block.
public final class BlockManager {
    public let blockSize: Int
    public let numBlocks: Int
    private var free: [Int32]

    public init(numBlocks: Int, blockSize: Int) {
        self.numBlocks = numBlocks
        self.blockSize = blockSize
        free = (0 ..< Int32(numBlocks)).reversed()
    }

    public var freeBlockCount: Int { free.count }

    /// Blocks needed to hold `tokens` positions.
    public func blocksNeeded(tokens: Int) -> Int { (tokens + blockSize - 1) / blockSize }

    /// Grows `table` so it covers `tokens` positions; false (and no change) if the pool is short.
    public func ensureCapacity(_ table: inout [Int32], tokens: Int) -> Bool {
        let need = blocksNeeded(tokens: tokens) - table.count
        guard need > 0 else { return true }
        guard need <= free.count else { return false }
        for _ in 0 ..< need { table.append(free.removeLast()) }
        return true
    }

    /// Returns a sequence's blocks to the pool.
    public func release(_ table: inout [Int32]) {
        free.append(contentsOf: table.reversed())
        table.removeAll()
    }
}
