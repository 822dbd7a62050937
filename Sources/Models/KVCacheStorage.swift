import Kernels

/// Element type of the paged K/V pool.
public enum KVCacheDType: String, Sendable, Codable, CaseIterable {
    /// IEEE binary32: K and V exactly as the model computes them.
    case f32
    /// IEEE binary16, rounded to nearest even when written (llama.cpp's `-ctk f16 -ctv f16`,
    /// vLLM's half-precision cache): half the memory, and half the bytes attention reads.
    case f16

    /// What an engine, a session and `pagewise plan` use when not told otherwise: F16, as
    /// llama.cpp and vLLM do (half the memory, so twice the tokens in a budget; the real-model
    /// fidelity tests hold with either).
    public static let `default` = KVCacheDType.f16

    /// Bytes of one stored value.
    public var bytesPerElement: Int {
        switch self {
        case .f32: return MemoryLayout<Float>.size
        case .f16: return MemoryLayout<UInt16>.size
        }
    }

    /// ggml's name of the type ("F32", "F16"), as memory plans report it.
    public var name: String { rawValue.uppercased() }
}

/// The paged K/V pool of one model: per layer, K and V arrays laid out as
/// `[numBlocks][blockSize][kvHeads][dim]` in `dtype` (F32, or F16 bit patterns). Which block belongs
/// to which sequence is decided above (the engine's BlockManager); the model only reads and writes
/// through block tables.
public final class KVCacheStorage: @unchecked Sendable {
    public let numBlocks: Int
    public let blockSize: Int
    public let layerCount: Int
    public let kvHeads: Int
    public let keyDim: Int
    public let valueDim: Int
    /// Element type of K and V.
    public let dtype: KVCacheDType
    /// Per layer, bound to `Float` (F32) or `UInt16` (F16) according to `dtype`.
    let keys: [UnsafeMutableRawPointer]
    let values: [UnsafeMutableRawPointer]

    /// Bytes of K+V for one token across all layers, stored as `dtype`.
    public static func bytesPerToken(_ c: ModelConfig, dtype: KVCacheDType = .default) -> Int {
        c.layerCount * c.kvHeadCount * (c.headDim + c.valueDim) * dtype.bytesPerElement
    }

    public init(config c: ModelConfig, numBlocks: Int, blockSize: Int, dtype: KVCacheDType = .default) {
        precondition(numBlocks > 0 && blockSize > 0)
        self.numBlocks = numBlocks
        self.blockSize = blockSize
        self.dtype = dtype
        layerCount = c.layerCount
        kvHeads = c.kvHeadCount
        keyDim = c.headDim
        valueDim = c.valueDim
        let kCount = numBlocks * blockSize * kvHeads * keyDim
        let vCount = numBlocks * blockSize * kvHeads * valueDim
        // Left uninitialized: a slot is always written before attention reads it, and untouched
        // pages of a large pool cost no memory until first use.
        func allocate(_ count: Int) -> UnsafeMutableRawPointer {
            let p = UnsafeMutableRawPointer.allocate(byteCount: count * dtype.bytesPerElement, alignment: 64)
            switch dtype {
            case .f32: p.bindMemory(to: Float.self, capacity: count)
            case .f16: p.bindMemory(to: UInt16.self, capacity: count)
            }
            return p
        }
        keys = (0 ..< c.layerCount).map { _ in allocate(kCount) }
        values = (0 ..< c.layerCount).map { _ in allocate(vCount) }
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    /// Total bytes held.
    public var byteCount: Int { numBlocks * blockSize * kvHeads * (keyDim + valueDim) * layerCount * dtype.bytesPerElement }

    /// Stores one token's K (`kvHeads * keyDim` floats) and V (`kvHeads * valueDim`) of layer `l`
    /// at `slot` (physical block * blockSize + offset), converted to `dtype`.
    @inline(__always)
    func store(layer l: Int, slot: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        let kDim = kvHeads * keyDim, vDim = kvHeads * valueDim
        switch dtype {
        case .f32:
            (keys[l].assumingMemoryBound(to: Float.self) + slot * kDim).update(from: key, count: kDim)
            (values[l].assumingMemoryBound(to: Float.self) + slot * vDim).update(from: value, count: vDim)
        case .f16:
            convertToF16(key, keys[l].assumingMemoryBound(to: UInt16.self) + slot * kDim, count: kDim)
            convertToF16(value, values[l].assumingMemoryBound(to: UInt16.self) + slot * vDim, count: vDim)
        }
    }

    /// Copies one block's K/V in every layer (copy-on-write of a shared block).
    public func copyBlock(from src: Int, to dst: Int) {
        let kStride = blockSize * kvHeads * keyDim * dtype.bytesPerElement
        let vStride = blockSize * kvHeads * valueDim * dtype.bytesPerElement
        for l in 0 ..< layerCount {
            (keys[l] + dst * kStride).copyMemory(from: keys[l] + src * kStride, byteCount: kStride)
            (values[l] + dst * vStride).copyMemory(from: values[l] + src * vStride, byteCount: vStride)
        }
    }
}
