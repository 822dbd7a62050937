import CKernels

/// Row-major matrix of `rows` rows each of `cols` elements stored contiguously in `type`
/// blocks (GGUF layout: ne0 = cols is the fast dimension). The memory is not owned
/// (typically the mmapped model file) and must outlive every use of the matrix.
public struct WeightMatrix: @unchecked Sendable {
    public let data: UnsafeRawPointer
    public let type: QuantType
    public let rows: Int
    public let cols: Int
    /// Row-interleaved copy of the same values (`ck_interleave`: 16 rows per 64-byte load) that the
    /// batched kernels read; nil when there is none. Owned by `interleavedStorage`.
    public var interleaved: UnsafeRawPointer? { interleavedStorage.map { UnsafeRawPointer($0.pointer) } }
    private let interleavedStorage: InterleavedStorage?

    /// - Precondition: `cols` is a multiple of `type.blockElements`.
    public init(data: UnsafeRawPointer, type: QuantType, rows: Int, cols: Int) {
        precondition(cols % type.blockElements == 0, "cols \(cols) is not a multiple of the \(type) block size")
        self.data = data
        self.type = type
        self.rows = rows
        self.cols = cols
        self.interleavedStorage = nil
    }

    private init(_ m: WeightMatrix, interleaved: InterleavedStorage) {
        data = m.data
        type = m.type
        rows = m.rows
        cols = m.cols
        interleavedStorage = interleaved
    }

    /// Bytes of one row.
    public var rowBytes: Int { type.rowBytes(cols) }
    /// Bytes of the whole matrix.
    public var byteCount: Int { rowBytes * rows }
    /// Start of row `r`.
    public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }

    /// Bytes a row-interleaved copy takes for this matrix on this CPU (0: none is made).
    public var interleavedByteCount: Int { Self.interleavedByteCount(type: type, rows: rows, cols: cols) }

    /// Bytes `withInterleavedCopy()` allocates for a `rows` x `cols` matrix of `type` on this CPU
    /// (0 where no copy is made).
    public static func interleavedByteCount(type: QuantType, rows: Int, cols: Int) -> Int {
        // Read by the AVX2 and AVX-512 kernels; which types have a layout is ck_interleave_bytes's
        // (not Q6_K: its kernel on the stored rows is as fast, and with a copy a prefill read the
        // stored rows back in and held both).
        guard KernelDispatch.detected >= .avx2, rows > 0, cols > 0 else { return 0 }
        return ck_interleave_bytes(Int32(type.rawValue), Int32(rows), Int32(cols))
    }

    /// This matrix with a row-interleaved copy of its blocks (allocated here, `interleavedByteCount`
    /// bytes), which the batched kernels read for whole groups of 16 rows — one load then feeds 16
    /// (AVX-512) or 8 (AVX2) rows. Only made where such a kernel runs: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K,
    /// Q5_K with rows a multiple of 16 on AVX2 and AVX-512 CPUs (their copy holds the 6-bit scales unpacked: 2.8% / 2.3% larger).
    /// Otherwise, or if it already has one, the matrix itself. Results are unchanged.
    public func withInterleavedCopy() -> WeightMatrix {
        let bytes = interleavedByteCount
        guard bytes > 0, interleavedStorage == nil else { return self }
        let storage = InterleavedStorage(bytes: bytes)
        ck_interleave(Int32(type.rawValue), data, rowBytes, Int32(rows), Int32(cols), storage.pointer)
        return WeightMatrix(self, interleaved: storage)
    }
}

/// Owned, 64-byte aligned bytes of an interleaved weight copy.
final class InterleavedStorage: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(bytes: Int) { pointer = .allocate(byteCount: bytes, alignment: 64) }
    deinit { pointer.deallocate() }
}
