/// One entry of the tensor directory. `dimensions[0]` is the fastest-varying (row length).
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let dimensions: [Int]
    public let type: GGMLType
    /// Offset of the data from the start of the data section.
    public let offset: Int
    /// Size of the data in bytes.
    public let byteCount: Int

    /// Number of values.
    public var elementCount: Int { dimensions.reduce(1, *) }
    /// Length of one row (`dimensions[0]`).
    public var rowLength: Int { dimensions.first ?? 1 }
    /// Number of rows (product of the other dimensions).
    public var rowCount: Int { dimensions.dropFirst().reduce(1, *) }
}
