/// Row-major matrix of `rows` rows each of `cols` elements stored contiguously in `type`
/// blocks (GGUF layout: ne0 = cols is the fast dimension). The memory is not owned
/// (typically the mmapped model file) and must outlive every use of the matrix.
public struct WeightMatrix: @unchecked Sendable {
    public let data: UnsafeRawPointer
    public let type: QuantType
    public let rows: Int
    public let cols: Int

    /// - Precondition: `cols` is a multiple of `type.blockElements`.
    public init(data: UnsafeRawPointer, type: QuantType, rows: Int, cols: Int) {
        precondition(cols % type.blockElements == 0, "cols \(cols) is not a multiple of the \(type) block size")
        self.data = data
        self.type = type
        self.rows = rows
        self.cols = cols
    }

    /// Bytes of one row.
    public var rowBytes: Int { type.rowBytes(cols) }
    /// Bytes of the whole matrix.
    public var byteCount: Int { rowBytes * rows }
    /// Start of row `r`.
    public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }
}
