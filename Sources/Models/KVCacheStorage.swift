import Kernels

/// The paged K/V pool of one model: per layer, K and V arrays laid out as
/// `[numBlocks][blockSize][kvHeads][dim]` in F32. Which block belongs to which sequence is
/// decided above (the engine's BlockManager); the model only reads and writes through block tables.
public final class KVCacheStorage: @unchecked Sendable {
    public let numBlocks: Int
    public let blockSize: Int
    public let layerCount: Int
    public let kvHeads: Int
    public let keyDim: Int
    public let valueDim: Int
    let keys: [UnsafeMutablePointer<Float>]
    let values: [UnsafeMutablePointer<Float>]

    /// Bytes of K+V for one token across all layers.
    public static func bytesPerToken(_ c: ModelConfig) -> Int {
        c.layerCount * c.kvHeadCount * (c.headDim + c.valueDim) * MemoryLayout<Float>.size
    }

    public init(config c: ModelConfig, numBlocks: Int, blockSize: Int) {
        precondition(numBlocks > 0 && blockSize > 0)
        self.numBlocks = numBlocks
        self.blockSize = blockSize
        layerCount = c.layerCount
        kvHeads = c.kvHeadCount
        keyDim = c.headDim
        valueDim = c.valueDim
        let kCount = numBlocks * blockSize * kvHeads * keyDim
        let vCount = numBlocks * blockSize * kvHeads * valueDim
        // Left uninitialized: a slot is always written before attention reads it, and untouched
        // pages of a large pool cost no memory until first use.
        keys = (0 ..< c.layerCount).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: kCount) }
        values = (0 ..< c.layerCount).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: vCount) }
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    /// Total bytes held.
    public var byteCount: Int { numBlocks * blockSize * kvHeads * (keyDim + valueDim) * layerCount * MemoryLayout<Float>.size }

    /// Copies one block's K/V in every layer (copy-on-write of a shared block).
    public func copyBlock(from src: Int, to dst: Int) {
        let kStride = blockSize * kvHeads * keyDim
        let vStride = blockSize * kvHeads * valueDim
        for l in 0 ..< layerCount {
            (keys[l] + dst * kStride).update(from: keys[l] + src * kStride, count: kStride)
            (values[l] + dst * vStride).update(from: values[l] + src * vStride, count: vStride)
        }
    }
}
