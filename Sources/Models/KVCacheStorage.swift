import Kernels

/// Element type of the paged K/V pool.
public enum KVCacheDType: String, Sendable, Codable, CaseIterable {
    /// IEEE binary32: K and V exactly as the model computes them.
    case f32
    /// IEEE binary16, rounded to nearest even when written (llama.cpp's `-ctk f16 -ctv f16`,
    /// vLLM's half-precision cache): half the memory, and half the bytes attention reads.
    case f16
    /// ggml's Q8_0 blocks (llama.cpp's `-ctk q8_0 -ctv q8_0`): each position's K (and V) row of
    /// one kv head, `headDim` values (a multiple of 32), as `headDim / 32` blocks of an F16 scale and
    /// 32 int8 values, quantized as ggml's `quantize_row_q8_0_ref` does: 34 bytes per 32 values,
    /// about half an F16 cache. Attention reads the dequantized values.
    case q8_0

    /// What an engine, a session and `pagewise plan` use when not told otherwise: F16, as
    /// llama.cpp and vLLM do (half the memory, so twice the tokens in a budget; the real-model
    /// fidelity tests hold with either).
    public static let `default` = KVCacheDType.f16

    /// Bytes that `count` stored values take (for Q8_0, `count` a multiple of 32: 34 bytes per 32).
    public func byteCount(values count: Int) -> Int {
        switch self {
        case .f32: return count * MemoryLayout<Float>.size
        case .f16: return count * MemoryLayout<UInt16>.size
        case .q8_0: return count / 32 * 34
        }
    }

    /// Whether a model with these K and V head dims can use this type (Q8_0 needs multiples of
    /// 32, as llama.cpp's quantized KV cache does; F32 and F16 take any).
    public func supports(keyDim: Int, valueDim: Int) -> Bool {
        self != .q8_0 || (keyDim % 32 == 0 && valueDim % 32 == 0)
    }

    /// Whether a model can use this type (`supports(keyDim:valueDim:)` for its head dims).
    public func supports(_ c: ModelConfig) -> Bool { supports(keyDim: c.headDim, valueDim: c.valueDim) }

    /// ggml's name of the type ("F32", "F16", "Q8_0"), as memory plans report it.
    public var name: String { rawValue.uppercased() }

    /// The same storage as the attention kernels name it.
    var paged: PagedKVType {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .q8_0: return .q8_0
        }
    }
}

/// A KV cache type the model cannot use.
public enum KVCacheError: Error, CustomStringConvertible, Equatable {
    /// Q8_0 needs head dims that are multiples of 32.
    case unsupportedHeadDim(dtype: KVCacheDType, keyDim: Int, valueDim: Int)

    public var description: String {
        switch self {
        case let .unsupportedHeadDim(dtype, k, v):
            return "a \(dtype.name) KV cache needs K and V head dims that are multiples of 32 (this model's are \(k) and \(v)); "
                + "use --kv-cache-dtype f16 or f32"
        }
    }
}

/// The paged K/V pool of one model: K and V arrays laid out as `[numBlocks][blockSize][kvHeads][dim]`
/// in `dtype` (F32, F16 bit patterns, or per (position, kv head) `dim / 32` Q8_0 blocks of 34 bytes),
/// one pair per member of a `layout` group (per layer with the `single` layout). A page (block) is
/// held by one group at a time: layer l reads and writes page p of array `memberOfLayer[l]` through
/// its group's block table. Which page belongs to which sequence and group is decided above (the
/// engine's BlockManager); the model only reads and writes through block tables.
public final class KVCacheStorage: @unchecked Sendable {
    public let numBlocks: Int
    public let blockSize: Int
    public let layerCount: Int
    public let kvHeads: Int
    public let keyDim: Int
    public let valueDim: Int
    /// Element type of K and V.
    public let dtype: KVCacheDType
    /// Which layers share a page, and which arrays they use.
    public let layout: KVLayout
    /// Per layout member (`layout.memberOfLayer`), bound to `Float` (F32), `UInt16` (F16) or `UInt8` (Q8_0 blocks) according to `dtype`.
    let keys: [UnsafeMutableRawPointer]
    let values: [UnsafeMutableRawPointer]

    /// Bytes of K+V for one token across all layers, stored as `dtype`.
    public static func bytesPerToken(_ c: ModelConfig, dtype: KVCacheDType = .default) -> Int {
        c.layerCount * (dtype.byteCount(values: c.kvHeadCount * c.headDim) + dtype.byteCount(values: c.kvHeadCount * c.valueDim))
    }

    public init(config c: ModelConfig, numBlocks: Int, blockSize: Int, dtype: KVCacheDType = .default,
                layout: KVLayout? = nil) {
        precondition(numBlocks > 0 && blockSize > 0)
        let layout = layout ?? .single(layers: c.layerCount)
        precondition(layout.layerCount == c.layerCount, "KVCacheStorage: the layout is for another layer count")
        self.layout = layout
        precondition(dtype.supports(c), "KVCacheStorage: \(dtype.name) needs head dims that are multiples of 32")
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
            let bytes = dtype.byteCount(values: count)
            let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            switch dtype {
            case .f32: p.bindMemory(to: Float.self, capacity: count)
            case .f16: p.bindMemory(to: UInt16.self, capacity: count)
            case .q8_0: p.bindMemory(to: UInt8.self, capacity: bytes)
            }
            return p
        }
        keys = (0 ..< layout.groupSize).map { _ in allocate(kCount) }
        values = (0 ..< layout.groupSize).map { _ in allocate(vCount) }
    }

    /// Layer l's K and V arrays.
    @inline(__always) func arrays(layer l: Int) -> (keys: UnsafeMutableRawPointer, values: UnsafeMutableRawPointer) {
        let m = layout.memberOfLayer[l]
        return (keys[m], values[m])
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    /// Total bytes held.
    public var byteCount: Int { numBlocks * bytesPerBlock }

    /// Bytes of one page: `blockSize` positions of K+V of the layers of one group.
    public var bytesPerBlock: Int { layout.groupSize * (pageBytes.k + pageBytes.v) }

    /// Bytes of one page in one K array and in one V array (`blockSize` positions).
    private var pageBytes: (k: Int, v: Int) {
        (blockSize * dtype.byteCount(values: kvHeads * keyDim), blockSize * dtype.byteCount(values: kvHeads * valueDim))
    }

    /// Bytes of one page of `layout` for a model: `blockSize` positions of K+V of `groupSize` layers.
    public static func bytesPerBlock(_ c: ModelConfig, dtype: KVCacheDType = .default, blockSize: Int, layout: KVLayout) -> Int {
        bytesPerToken(c, dtype: dtype) / c.layerCount * layout.groupSize * blockSize
    }

    /// Stores one token's K (`keyCount` floats) and V (`valueCount`) in one layer's K and V memory
    /// (`arrays(layer:)`) at `slot` (physical block * blockSize + offset), converted to `dtype`.
    @inline(__always)
    static func store(dtype: KVCacheDType, keys: UnsafeMutableRawPointer, values: UnsafeMutableRawPointer, slot: Int,
                      keyCount kDim: Int, valueCount vDim: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        switch dtype {
        case .f32:
            (keys.assumingMemoryBound(to: Float.self) + slot * kDim).update(from: key, count: kDim)
            (values.assumingMemoryBound(to: Float.self) + slot * vDim).update(from: value, count: vDim)
        case .f16:
            convertToF16(key, keys.assumingMemoryBound(to: UInt16.self) + slot * kDim, count: kDim)
            convertToF16(value, values.assumingMemoryBound(to: UInt16.self) + slot * vDim, count: vDim)
        case .q8_0:
            quantizeKVQ8_0(key, keys + slot * dtype.byteCount(values: kDim), count: kDim)
            quantizeKVQ8_0(value, values + slot * dtype.byteCount(values: vDim), count: vDim)
        }
    }

    /// Copies one page's K/V in every array (copy-on-write of a shared block; the page's group
    /// owns it in every array).
    public func copyBlock(from src: Int, to dst: Int) {
        let (kStride, vStride) = pageBytes
        for m in 0 ..< keys.count {
            (keys[m] + dst * kStride).copyMemory(from: keys[m] + src * kStride, byteCount: kStride)
            (values[m] + dst * vStride).copyMemory(from: values[m] + src * vStride, byteCount: vStride)
        }
    }

    /// Fills one page with `byte` in every array (tests: a page given back must never be read).
    public func fillBlock(_ block: Int, byte: UInt8) {
        let (kStride, vStride) = pageBytes
        for m in 0 ..< keys.count {
            (keys[m] + block * kStride).initializeMemory(as: UInt8.self, repeating: byte, count: kStride)
            (values[m] + block * vStride).initializeMemory(as: UInt8.self, repeating: byte, count: vStride)
        }
    }
}
